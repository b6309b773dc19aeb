/*
 * NAME
 *	selfcheck -- what start-up and "authfilter -t" check beyond the file
 * SYNOPSIS
 *	rc = selfcheck_test(path, cfg);		authfilter -t
 *	rc = selfcheck_start(path, cfg);	after switching to `user`
 * DESCRIPTION
 *	A file that parses can still fail the daemon later.  Started as
 *	root, it reads the key store, binds the socket and writes the pid
 *	file as root, then switches to `user`; every SIGHUP reload reads
 *	the configuration and keys again as that user, and at exit it
 *	removes the socket and pid file as that user.  So a key_dir only
 *	root can read passed -t and start, and then every reload failed: a
 *	rotated key never took effect.
 *
 *	Both entry points therefore build the whole state again (the same
 *	state_build() as a reload) with the credentials of `user`: -t in a
 *	child that switches to it, start-up right after the switch.  They
 *	also check the directories of a unix milter_socket and of pid_file:
 *	missing or not writable by whoever creates the file is a problem;
 *	not writable by `user` is a warning (the file stays behind at
 *	exit; a stale socket file is reused at the next start).
 * DIAGNOSTICS
 *	"as user authfilter: /etc/authfilter/keys: Permission denied";
 *	"pid_file /run/authfilter/authfilter.pid: directory /run/authfilter
 *	does not exist".
 */
#include "buildconf.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "milter/daemon.h"
#include "milter/listen.h"
#include "milter/selfcheck.h"
#include "milter/state.h"

enum report { TO_STDERR, TO_LOG };

static void say(enum report, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(enum report to, int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (to == TO_LOG)
		log_msg(prio, "%s", line);
	else
		fprintf(stderr, "%s%s\n", prio == LOG_WARNING ? "warning: " : "",
		    line);
}

static const char *
socket_file(const struct config *cfg)
{
	if (strncmp(cfg->milter_socket, "unix:", 5) == 0)
		return cfg->milter_socket + 5;
	if (strncmp(cfg->milter_socket, "local:", 6) == 0)
		return cfg->milter_socket + 6;
	return NULL;
}

/* Can we create (creator) or remove (!creator) the socket and pid file?
 * Returns the number of problems (warnings are not counted). */
static int
check_dirs(const struct config *cfg, int creator, enum report to)
{
	const char *files[2] = { socket_file(cfg), cfg->pid_file };
	const char *names[2] = { "milter_socket", "pid_file" };
	char why[600];
	int problems = 0;

	for (int i = 0; i < 2; i++) {
		if (files[i] == NULL || *files[i] == '\0' ||
		    listen_dir_problem(files[i], why, sizeof(why)) == 0)
			continue;
		if (creator) {
			say(to, LOG_ERR, "%s: %s", names[i], why);
			problems++;
		} else
			say(to, LOG_WARNING, "%s: %s cannot be removed at "
			    "exit: %s", names[i], files[i], why);
	}
	return problems;
}

/* Build the state as a reload would, with our current credentials. */
static int
check_state(const char *path, const char *who, enum report to)
{
	struct config_errors errs = { 0 };
	struct af_state *st = state_build(path, &errs);
	size_t n = errs.n;

	for (size_t i = 0; i < errs.n; i++)
		say(to, LOG_ERR, "as user %s: %s", who, errs.msg[i]);
	if (n > 0)
		say(to, LOG_ERR, "every reload (SIGHUP) reads the configuration "
		    "and key_dir as user %s: they must be readable by it", who);
	config_errors_clear(&errs);
	if (st != NULL)
		state_release(st);
	return st == NULL ? (n > 0 ? (int)n : 1) : 0;
}

int
selfcheck_test(const char *path, const struct config *cfg)
{
	char err[512];
	int problems, status;
	pid_t pid;

	/* This process creates the files when the daemon starts as we run. */
	problems = check_dirs(cfg, 1, TO_STDERR);
	if (geteuid() != 0 || *cfg->user == '\0') {
		struct passwd *pw = *cfg->user != '\0' ?
		    getpwnam(cfg->user) : NULL;
		if (pw != NULL && pw->pw_uid != geteuid())
			say(TO_STDERR, LOG_WARNING, "not run as root or as %s: "
			    "the key store and directories were not checked as "
			    "%s", cfg->user, cfg->user);
		return problems > 0;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (daemon_drop_privileges(cfg->user, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			_exit(1);
		}
		/* Missing directories were said above. */
		if (problems == 0)
			check_dirs(cfg, 0, TO_STDERR);
		problems = check_state(path, cfg->user, TO_STDERR);
		fflush(stderr);
		_exit(problems > 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		problems++;
	return problems > 0;
}

int
selfcheck_start(const char *path, const struct config *cfg)
{
	int problems;

	check_dirs(cfg, 0, TO_LOG);
	if ((problems = check_state(path, cfg->user, TO_LOG)) > 0)
		log_msg(LOG_ERR, "not starting: a reload would fail");
	return problems > 0 ? -1 : 0;
}
