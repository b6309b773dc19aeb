/*
 * NAME
 *	authfilter -- DKIM, SPF and DMARC milter
 * SYNOPSIS
 *	authfilter [-c FILE] [-f] [-t | -n | -V | -h]
 *	authfilter report | status | doctor ...
 * DESCRIPTION
 *	Reads the configuration, opens the milter socket, drops privileges
 *	and serves until SIGTERM.  SIGHUP builds a new state from the file
 *	and swaps it in only when it is valid.  SIGTERM or SIGINT stops
 *	accepting, waits up to drain_timeout for messages in progress,
 *	and exits 0.  Started as root, it builds its state again as `user`
 *	after switching (selfcheck.c), as -t does in a child.  Under systemd
 *	it reports READY, RELOADING, STOPPING and STATUS (notify.c).  See
 *	authfilter(8).
 * DIAGNOSTICS
 *	-t prints "FILE:LINE: problem" for each problem and exits 1.
 *	Start-up failures exit 1 with a message on stderr (and syslog).
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "milter/callbacks.h"
#include "lib/config.h"
#include "milter/daemon.h"
#include "doctor/doctor.h"
#include "milter/keyproc.h"
#include "milter/listen.h"
#include "milter/metrics_http.h"
#include "milter/notify.h"
#include "lib/log.h"
#include "milter/pubkey_cache.h"
#include "report/report.h"
#include "milter/runloop.h"
#include "milter/rua_writer.h"
#include "milter/selfcheck.h"
#include "milter/server.h"
#include "milter/session.h"
#include "milter/state.h"
#include "milter/status.h"
#include "milter/version.h"
#include "policy/overrides.h"

#define DEFAULT_CONFIG AF_CONFDIR "/authfilter.conf"
/* How often the STATUS= line (sessions served) is brought up to date. */
#define STATUS_INTERVAL_MS 10000
/* At exit, the report writer's last rows: a few batches' worth. */
#define WRITER_STOP_MS 5000

static void usage(FILE *, int) __attribute__((noreturn));

/* --help: on stdout, exit 0; a usage error: on stderr, exit 2. */
static void
usage(FILE *fp, int rc)
{
	fprintf(fp, "usage: authfilter [-c FILE] [-f] [-t | -n | -V | -h]\n"
	    "       authfilter report [-c FILE] [--since WHEN] [--html FILE] "
	    "LOGFILE...\n"
	    "       authfilter status [-c FILE] [--json]\n"
	    "       authfilter doctor [-c FILE] [--json] [DOMAIN...]\n"
	    "  -c FILE  configuration (default " DEFAULT_CONFIG ")\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -t       check the configuration and exit\n"
	    "  -n       print settings that differ from their defaults\n"
	    "  -V       print versions and exit\n"
	    "  -h, --help  print this and exit\n"
	    "See authfilter(8) and authfilter.conf(5).\n");
	exit(rc);
}

static void
print_errors(struct config_errors *errs, int to_log)
{
	for (size_t i = 0; i < errs->n; i++) {
		if (to_log)
			log_msg(LOG_ERR, "%s", errs->msg[i]);
		else
			fprintf(stderr, "%s\n", errs->msg[i]);
	}
}

/* What a state's files allow but probably do not mean. */
static void
print_warnings(const struct af_state *st, int to_log)
{
	for (size_t i = 0; i < st->warnings.n; i++) {
		if (to_log)
			log_msg(LOG_WARNING, "%s", st->warnings.msg[i]);
		else
			fprintf(stderr, "warning: %s\n", st->warnings.msg[i]);
	}
}

enum notify_what { NOTIFY_READY, NOTIFY_STATUS };

/* READY=1 or a new STATUS= for the state now serving. */
static void
notify_current(enum notify_what what)
{
	struct af_state *st = state_acquire();

	if (what == NOTIFY_READY)
		notify_ready(server_sessions(), st->generation);
	else
		notify_status(server_sessions(), st->generation);
	state_release(st);
}

/* Settings a reload reads but cannot apply: said by name. */
static void
restart_only(const struct config *old, const struct config *new)
{
	char names[160] = "";
	size_t len = 0;
	const struct {
		const char *name;
		int changed;
	} s[] = {
		{ "milter_socket", strcmp(old->milter_socket,
		    new->milter_socket) != 0 },
		{ "milter_socket_mode", old->milter_socket_mode !=
		    new->milter_socket_mode },
		{ "user", strcmp(old->user, new->user) != 0 },
		{ "pid_file", strcmp(old->pid_file, new->pid_file) != 0 },
		{ "metrics_listen", strcmp(old->metrics_listen,
		    new->metrics_listen) != 0 },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (s[i].changed && len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len,
			    "%s%s", len > 0 ? ", " : "", s[i].name);
	if (len > 0)
		log_msg(LOG_WARNING, "changed, but kept until a restart: %s "
		    "(they take effect only at restart)", names);
}

static void
reload(const char *path)
{
	struct config_errors errs = { 0 };
	struct af_state *st, *old;

	log_msg(LOG_INFO, "SIGHUP: reloading %s", path);
	notify_reloading();
	if ((st = state_build(path, &errs)) == NULL) {
		print_errors(&errs, 1);
		log_msg(LOG_ERR, "reload failed; still serving with the "
		    "previous configuration");
		status_reloaded(0, &errs);
		config_errors_clear(&errs);
		notify_current(NOTIFY_READY);
		return;
	}
	if ((old = state_acquire()) != NULL) {
		restart_only(old->cfg, st->cfg);
		state_release(old);
	}
	server_set_limits(&(struct server_limits){
	    daemon_session_cap(st->cfg->max_sessions), st->cfg->milter_timeout,
	    st->cfg->milter_max_command });
	print_warnings(st, 1);
	state_install(st);
	rua_writer_configure(st->cfg->report_db, st->cfg->report_queue);
	status_reloaded(1, NULL);
	log_set_format(st->cfg->log_format);
	log_msg(LOG_INFO, "reloaded %s (generation %lu)", path,
	    st->generation);
	notify_current(NOTIFY_READY);
}

/*
 * Refuse new sessions and messages (451) and let messages in progress
 * finish, bounded by drain_timeout.  Then the process exits: sessions
 * still open (idle between messages) see the connection close, and the
 * MTA applies its milter_default_action to what it sends next.
 */
static void
drain(unsigned timeout)
{
	unsigned waited_ms = 0;
	enum runloop_event ev;
	int interrupted = 0;

	session_start_draining();
	while (message_in_progress() > 0 && waited_ms < timeout * 1000u) {
		ev = runloop_wait(100);
		if (ev == RL_STOP) {
			log_msg(LOG_WARNING, "second stop signal: not waiting "
			    "for %u message(s)", message_in_progress());
			interrupted = 1;
			break;
		}
		if (ev == RL_TICK)
			waited_ms += 100;
	}
	if (!interrupted && message_in_progress() > 0)
		log_msg(LOG_WARNING, "drain_timeout: %u message(s) still in "
		    "progress; the MTA will retry them", message_in_progress());
}

/* SIGCHLD: has the signer process ended?  Then nothing can be signed
 * any more: stop (exit 1), and systemd starts us again. */
static int
signer_ended(void)
{
	pid_t pid = keyproc_pid();
	int status;

	if (pid == 0 || waitpid(pid, &status, WNOHANG) != pid)
		return 0;
	log_msg(LOG_ERR, "the signer process (pid %ld) %s %d: stopping, as "
	    "no message can be signed", (long)pid, WIFSIGNALED(status) ?
	    "was killed by signal" : "exited with status", WIFSIGNALED(status) ?
	    WTERMSIG(status) : WEXITSTATUS(status));
	return 1;
}

/* Before any thread: the signer process, which loads every key store
 * (keyproc.c).  It switches to `user` itself. */
static int
start_signer(const char *path, int background)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_load(path, &errs);
	char err[512];
	int rc = 0, saved = -1, devnull;

	if (cfg == NULL) {
		print_errors(&errs, 0);
		config_errors_clear(&errs);
		return -1;
	}
	/* In the background, stderr is the starting terminal until
	 * daemon_ready(): the signer (which outlives that) gets none. */
	if (background && (devnull = open("/dev/null", O_WRONLY)) >= 0) {
		saved = dup(2);
		dup2(devnull, 2);
		close(devnull);
	}
	rc = keyproc_start(cfg->user, cfg->key_dir, err, sizeof(err));
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		rc = -1;
	}
	config_free(cfg);
	return rc;
}

static int
serve(const char *path, int foreground)
{
	/* Our own reference: a reload may replace the current state, but
	 * the socket and pid file stay those we started with. */
	struct af_state *boot = state_acquire();
	const struct config *cfg = boot->cfg;
	struct server_limits lim = { 0, cfg->milter_timeout,
	    cfg->milter_max_command };
	char err[512];
	int stale, lfd = -1, mfd = -1, rc = 1, was_root = geteuid() == 0;
	unsigned long hits, lookups;

	if (daemon_check_socket(cfg->milter_socket, &stale, err,
	    sizeof(err)) != 0 ||
	    (lfd = listen_open(cfg->milter_socket, stale, err,
	    sizeof(err))) < 0 ||
	    (*cfg->metrics_listen != '\0' && (mfd = metrics_http_bind(
	    cfg->metrics_listen, err, sizeof(err))) < 0) ||
	    daemon_socket_perms(cfg->milter_socket, cfg->milter_socket_mode,
	    cfg->user, err, sizeof(err)) != 0 ||
	    daemon_write_pidfile(cfg->pid_file, err, sizeof(err)) != 0 ||
	    daemon_drop_privileges(cfg->user, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		goto out;
	}
	/* What root could read, `user` must too: every reload reads it. */
	if (was_root && selfcheck_start(path, cfg) != 0)
		goto cleanup;
	lim.max_sessions = daemon_session_cap(cfg->max_sessions);
	status_started(path);
	if (rua_writer_start(cfg->report_db,
	    cfg->report_queue, err, sizeof(err)) != 0 ||
	    server_start(lfd, listen_is_inet(
	    cfg->milter_socket), &callbacks_hooks, &lim, err,
	    sizeof(err)) != 0 ||
	    (mfd >= 0 && metrics_http_start(mfd, err, sizeof(err)) != 0)) {
		log_msg(LOG_ERR, "%s", err);
		goto cleanup;
	}
	log_msg(LOG_INFO, "%s %s listening on %s", PACKAGE_NAME,
	    PACKAGE_VERSION, cfg->milter_socket);
	if (!foreground) {
		log_echo_stderr(0);
		daemon_ready();
	}
	notify_current(NOTIFY_READY);
	for (;;) {
		enum runloop_event ev = runloop_wait(STATUS_INTERVAL_MS);
		if (ev == RL_TICK)
			notify_current(NOTIFY_STATUS);
		else if (ev == RL_RELOAD)
			reload(path);
		else if (ev == RL_STOP || (ev == RL_CHILD && signer_ended())) {
			struct af_state *st = state_acquire();
			unsigned timeout = st->cfg->drain_timeout;
			state_release(st);
			notify_stopping(message_in_progress());
			log_msg(LOG_INFO, "stopping: new sessions get 451; "
			    "waiting up to %us for %u message(s)", timeout,
			    message_in_progress());
			drain(timeout);
			rc = ev == RL_STOP ? 0 : 1;
			break;
		}
	}
cleanup:
	metrics_http_stop();
	/* After the drain: the last messages' rows too. */
	rua_writer_stop(WRITER_STOP_MS);
	if (*cfg->pid_file != '\0')
		unlink(cfg->pid_file);
	daemon_remove_socket(cfg->milter_socket);
	if (rc != 0)
		goto out;
	pubkey_cache_counts(&hits, &lookups);
	log_msg(LOG_INFO, "pubkey_cache: %lu of %lu key decodes answered from "
	    "the cache", hits, lookups);
	log_msg(LOG_INFO, "stopped");
out:
	state_release(boot);
	return rc;
}

/*
 * -t: the state built, then built again as `user` in a child
 * (selfcheck.c).  The child is forked only once this process has no
 * thread but its own (the state's resolver has one): a fork of a
 * threaded process may copy a lock another thread holds.
 */
static int
test_as_user(const char *path, struct af_state *st)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_load(path, &errs);
	char *expired = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&expired, &len);
	int rc;

	print_warnings(st, 0);
	/* Expired lines are not errors: they just stopped. */
	if (fp != NULL) {
		overrides_report_expired(st->overrides, time(NULL), fp);
		fclose(fp);
	}
	state_release(st);		/* its resolver's thread ends here */
	config_errors_clear(&errs);
	rc = cfg == NULL || selfcheck_test(path, cfg) != 0;
	if (rc == 0) {
		printf("%s: OK\n", path);
		if (expired != NULL)
			fputs(expired, stdout);
	}
	free(expired);
	config_free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	int foreground = 0, test = 0, nondefault = 0, ch, rc;
	static char abs_path[PATH_MAX];
	struct config_errors errs = { 0 };
	struct af_state *st;

	if (argc >= 2 && strcmp(argv[1], "report") == 0)
		return report_main(argc - 2, argv + 2, stdout);
	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return status_main(argc - 2, argv + 2, DEFAULT_CONFIG);
	if (argc >= 2 && strcmp(argv[1], "doctor") == 0)
		return doctor_main(argc - 2, argv + 2, DEFAULT_CONFIG);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		usage(stdout, 0);
	while ((ch = getopt(argc, argv, "c:fntV")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': nondefault = 1; break;
		case 't': test = 1; break;
		case 'V': version_print(stdout); return 0;
		default: usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	/* To the background first: the resolver's thread and the signer
	 * process would not follow a fork.  Reloads read the config file
	 * after daemon_ready()'s chdir /: by its absolute path. */
	if (!test && !nondefault && !foreground) {
		char err[512];
		if (*path != '/' && realpath(path, abs_path) != NULL)
			path = abs_path;
		if (daemon_background(err, sizeof(err)) != 0) {
			fprintf(stderr, "authfilter: %s\n", err);
			return 1;
		}
	}
	/* From here the main loop takes HUP, TERM, INT and CHLD (runloop.c):
	 * a SIGHUP while starting (authfilter-keys through the pid file,
	 * logrotate) ended the process by its default action, and systemd
	 * took that for a clean exit.  The signer unblocks them. */
	if (!test && !nondefault && runloop_block() != 0)
		return 1;
	if (!test && !nondefault && start_signer(path, !foreground) != 0)
		return 1;
	if ((st = state_build(path, &errs)) == NULL) {
		print_errors(&errs, 0);
		config_errors_clear(&errs);
		return 1;
	}
	if (nondefault) {
		config_print_nondefault(st->cfg, stdout);
		state_release(st);
		return 0;
	}
	if (test)
		return test_as_user(path, st);
	log_init("authfilter", foreground, st->cfg->log_format);
	log_echo_stderr(!foreground);
	if (keyproc_unconfined())
		log_msg(LOG_WARNING, "no Landlock (the kernel has none, or a "
		    "system call filter forbids it): the signer process, "
		    "which holds the private keys, is not confined to "
		    "key_dir");
	print_warnings(st, 1);
	state_install(st);
	rc = serve(path, foreground);
	state_shutdown();
	/*
	 * Worker threads may still be in sessions (idle between messages)
	 * or in accept(): leave without running at-exit destructors under
	 * them; test builds run the leak check first.
	 */
#if defined(__SANITIZE_ADDRESS__)
	__lsan_do_leak_check();
#endif
	fflush(stdout);
	fflush(stderr);
	_exit(rc);
}
