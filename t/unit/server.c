/* Unit tests for milter/server.c: out of file descriptors, accept()
 * waits for a session to end instead of spinning, says so once, and
 * serves again.  (The daemon caps its sessions below its limit of open
 * files, so this happens only when something else takes descriptors;
 * here the test lowers its own limit under the running server.) */
#include "buildconf.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "milter/engine.h"
#include "lib/log.h"
#include "milter/server.h"
#include "t/tap.h"

static const struct milter_hooks hooks;	/* no hooks: continue always */

static size_t
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n - 3;		/* ".", "..", and the directory's own */
}

static int
client(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Negotiate on a new connection: 1 when the server answered. */
static int
served(int port)
{
	static const unsigned char o[17] = { 0, 0, 0, 13, 'O', 0, 0, 0, 6,
	    0, 0, 1, 0xff, 0, 0x1f, 0xff, 0xff };
	unsigned char r[64];
	struct timeval tv = { 10, 0 };
	int fd = client(port), ok;

	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ok = write(fd, o, sizeof(o)) == sizeof(o) && read(fd, r, sizeof(r)) >=
	    17 && r[4] == 'O';
	close(fd);
	return ok;
}

/* Lines of the log (our stderr, a file) that contain s. */
static int
log_count(FILE *log, const char *s)
{
	char line[512];
	int n = 0;

	rewind(log);
	while (fgets(line, sizeof(line), log) != NULL)
		n += strstr(line, s) != NULL;
	return n;
}

static int
wait_log(FILE *log, const char *s)
{
	for (int i = 0; i < 1000; i++) {	/* 10 s */
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		if (log_count(log, s) > 0)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

int
main(void)
{
	struct server_limits lim = { 100, 10, 65536 };
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct rlimit rl, low;
	char err[256], path[] = "/tmp/af-server-log-XXXXXX";
	int lfd, port, fds[40], n = 0, logfd;
	FILE *log;

	/* The log goes to stderr: make that a file to read back. */
	if ((logfd = mkstemp(path)) < 0 || dup2(logfd, 2) < 0)
		return 1;
	unlink(path);
	log = fdopen(logfd, "r");
	log_init("server-test", 1, LOG_FORMAT_SYSLOG);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 128) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) != 0)
		return 1;
	port = ntohs(sin.sin_port);
	ok(server_start(lfd, 1, &hooks, &lim, err, sizeof(err)) == 0,
	    "server started");
	ok(served(port), "a connection is served");

	/* Room for 20 more descriptors: 15 clients, so the server gets
	 * EMFILE after accepting about 5. */
	getrlimit(RLIMIT_NOFILE, &rl);
	low = rl;
	low.rlim_cur = open_fds() + 20;
	setrlimit(RLIMIT_NOFILE, &low);
	while (n < 15 && (fds[n] = client(port)) >= 0)
		n++;
	is_int(n, 15, "15 clients connected");
	ok(wait_log(log, "cannot accept milter connections: Too many open "
	    "files"), "out of descriptors: the log says so");
	ok(server_sessions() > 0 && server_sessions() < 15,
	    "out of descriptors: some sessions open, not all 15");
	while (n > 0)
		close(fds[--n]);
	setrlimit(RLIMIT_NOFILE, &rl);
	ok(served(port), "served again once connections closed");
	is_int(log_count(log, "cannot accept milter connections"), 1,
	    "said once for the shortage");
	return done_testing();
}
