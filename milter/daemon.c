/*
 * NAME
 *	daemon -- process set-up: socket file, privileges, pid file
 * DESCRIPTION
 *	Small steps main() takes in order: go to the background unless
 *	running in the foreground (first of all, before any thread or the
 *	signer process exists), check the socket path (listen.c opens it),
 *	set its mode and owner, write the pid file, drop privileges, raise
 *	the limit of open files to what max_sessions needs (or serve fewer
 *	sessions, keeping descriptors for DNS), and once listening tell the
 *	process that started us (daemon_ready).
 *
 *	In the background, the command that started the daemon waits: it
 *	exits 0 when the daemon is ready and 1 when the daemon exited before
 *	(the reason is on stderr, which stays the starting terminal until
 *	then).  So an init script's exit status means what it says.
 *
 *	A unix socket path that a live process listens on is never
 *	removed (bad-input C5): we connect to it first; only a refused
 *	connection marks the file stale.  The daemon never serves as
 *	root: as root it needs `user` and switches to it after binding.
 * DIAGNOSTICS
 *	Every function fills err with what failed and where.
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sys/prctl.h>
#endif

#include "milter/daemon.h"
#include "milter/listen.h"
#include "lib/log.h"

static const char *
unix_path(const char *conn)
{
	if (strncmp(conn, "unix:", 5) == 0)
		return conn + 5;
	if (strncmp(conn, "local:", 6) == 0)
		return conn + 6;
	return NULL;
}

int
daemon_check_socket(const char *conn, int *stale, char *err, size_t errsz)
{
	const char *path = unix_path(conn);
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc;

	*stale = 0;
	if (path == NULL)
		return 0;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsz, "%s: socket path too long", path);
		return -1;
	}
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : (snprintf(err, errsz, "%s: %s",
		    path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errsz, "%s: exists and is not a socket; "
		    "refusing to remove it", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(err, errsz, "%s: another process is listening on "
		    "this socket (is authfilter already running?)", path);
		return -1;
	}
	*stale = errno == ECONNREFUSED;
	if (!*stale) {
		snprintf(err, errsz, "%s: cannot check socket: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
daemon_socket_perms(const char *conn, unsigned mode, const char *user,
    char *err, size_t errsz)
{
	const char *path = unix_path(conn);
	struct passwd *pw;

	if (path == NULL)
		return 0;
	if (chmod(path, (mode_t)mode) != 0) {
		snprintf(err, errsz, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	if (*user == '\0' || geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsz, "no such user \"%s\"", user);
		return -1;
	}
	if (chown(path, pw->pw_uid, pw->pw_gid) != 0) {
		snprintf(err, errsz, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void
daemon_remove_socket(const char *conn)
{
	const char *path = unix_path(conn);

	if (path != NULL)
		(void)unlink(path);
}

int
daemon_drop_privileges(const char *user, char *err, size_t errsz)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		if (*user == '\0')
			return 0;
		pw = getpwnam(user);
		if (pw != NULL && pw->pw_uid == geteuid())
			return 0;
		snprintf(err, errsz, "user = %s, but not started as root "
		    "(cannot switch user)", user);
		return -1;
	}
	if (*user == '\0') {
		snprintf(err, errsz, "refusing to run as root: set user = NAME "
		    "(e.g. authfilter) in the configuration");
		return -1;
	}
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsz, "no such user \"%s\"", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		snprintf(err, errsz, "cannot switch to user %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errsz, "could regain root after switching to "
		    "%s; refusing to run", user);
		return -1;
	}
#if defined(__SANITIZE_ADDRESS__)
	/* Test builds only: LeakSanitizer inspects the process through
	 * ptrace, which the kernel forbids after a uid change unless the
	 * process is marked dumpable.  Release builds stay non-dumpable. */
	prctl(PR_SET_DUMPABLE, 1);
#endif
	return 0;
}

/* The pipe's write end in the background daemon until daemon_ready(). */
static int ready_fd = -1;

int
daemon_background(char *err, size_t errsz)
{
	int fds[2];
	pid_t pid;
	ssize_t n;
	char c;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		/* The starting process: one byte means up; end of file
		 * means the daemon exited (its reason went to stderr). */
		close(fds[1]);
		do
			n = read(fds[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() < 0) {
		snprintf(err, errsz, "setsid: %s", strerror(errno));
		return -1;
	}
	/* Not a session leader: opening a terminal cannot make it ours. */
	if ((pid = fork()) < 0) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	ready_fd = fds[1];
	return 0;
}

void
daemon_ready(void)
{
	int fd;

	if (ready_fd < 0)
		return;
	if (chdir("/") != 0)
		log_msg(LOG_WARNING, "chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (write(ready_fd, "", 1) != 1)
		log_msg(LOG_WARNING, "telling the starting process we are up: "
		    "%s", strerror(errno));
	close(ready_fd);
	ready_fd = -1;
}

int
daemon_write_pidfile(const char *path, char *err, size_t errsz)
{
	FILE *fp;

	if (*path == '\0')
		return 0;
	if ((fp = fopen(path, "w")) == NULL) {
		char why[512];
		int e = errno;

		if (listen_dir_problem(path, why, sizeof(why)) == 0)
			snprintf(why, sizeof(why), "%s", strerror(e));
		snprintf(err, errsz, "pid_file %s: %s", path, why);
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Each session holds one descriptor; the rest are the resolver's
 * sockets (libunbound opens one per query in flight, and its event base
 * cannot be made without a few: libevent then ends the process), the
 * log, and files read at reload. */
#define NOFILE_SPARE 256

size_t
daemon_session_cap(size_t max_sessions)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_sessions + NOFILE_SPARE, spare;
	size_t cap;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return max_sessions;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY &&
		    rl.rlim_max < want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= want)
		return max_sessions;
	spare = rl.rlim_cur / 2 < NOFILE_SPARE ? rl.rlim_cur / 2 : NOFILE_SPARE;
	cap = rl.rlim_cur - spare > 0 ? (size_t)(rl.rlim_cur - spare) : 1;
	log_msg(LOG_WARNING, "open files limited to %lu: serving at most %zu "
	    "sessions, not max_sessions (%zu); raise LimitNOFILE to %lu",
	    (unsigned long)rl.rlim_cur, cap, max_sessions,
	    (unsigned long)want);
	return cap;
}
