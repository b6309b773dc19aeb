/*
 * NAME
 *	server -- milter sessions: accept, read, answer, in threads of ours
 * SYNOPSIS
 *	server_start(lfd, inet, &hooks, &limits, err, errsz);
 * DESCRIPTION
 *	A pool of worker threads serves the connections of the MTA, one
 *	connection per thread from its accept() to its close(), with
 *	blocking I/O: a read takes whatever commands the MTA has sent (a
 *	whole small message with the no-reply stages), engine.c answers
 *	them, and whatever replies are owed go out in one write before the
 *	next read.  No thread hands a connection to another.
 *
 *	Idle workers wait in accept() on the listening socket, so the
 *	kernel gives each new connection to one of them.  The worker that
 *	takes the last idle place starts another worker, up to
 *	max_sessions; then new connections wait in the listen backlog
 *	until a session ends, and the log says so once.  A worker idle for
 *	a minute ends while there are spares.
 *
 *	When accept() runs out of file descriptors (EMFILE and the like)
 *	the workers wait for a session to end, or a second, instead of
 *	retrying at once; the log says so once per shortage.
 *
 *	Each connection has milter_timeout for every read and write (an
 *	MTA that sends nothing that long is gone), and a command that came
 *	in part must be complete within milter_timeout too, so that a
 *	trickle of bytes cannot hold a session.  Over inet sockets every
 *	connection gets TCP_NODELAY, and TCP_QUICKACK after each read: the
 *	MTA writes several commands in a row without waiting for a reply,
 *	and a delayed ACK here would hold its next packet back (listen.c).
 * DIAGNOSTICS
 *	One log line per connection that ends abnormally: what was wrong
 *	and who the peer was (address and port, or pid and uid of a unix
 *	socket's peer).  Nothing of one connection affects another.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "milter/engine.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "milter/server.h"

/* Workers kept waiting in accept() when there is no work. */
#define SPARE_WORKERS	2
/* How long an idle worker waits in accept() before it may end. */
#define IDLE_SECONDS	60
/* Stack of a worker: the deepest path (DKIM, SPF, DNS through
 * libunbound) needs far less; sanitizers make frames larger. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WORKER_STACK	(4 * 1024 * 1024)
#else
#define WORKER_STACK	(1024 * 1024)
#endif

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 freed;		/* a session ended */
	int		 lfd, inet;
	const struct milter_hooks *hooks;
	struct server_limits lim;
	size_t		 threads;	/* workers alive */
	size_t		 idle;		/* of them, waiting in accept() */
	size_t		 busy;		/* of them, serving a connection */
	int		 full_said, fds_said;
} srv = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.freed = PTHREAD_COND_INITIALIZER,
};

static void	*worker(void *);
static void	 spawn(void);

size_t
server_sessions(void)
{
	size_t n;

	pthread_mutex_lock(&srv.lock);
	n = srv.busy;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

void
server_set_limits(const struct server_limits *lim)
{
	int more = 0;

	pthread_mutex_lock(&srv.lock);
	srv.lim = *lim;
	/* Every worker busy at the old limit: none waits in accept() to
	 * start another, so a raised limit needs one started here. */
	if (srv.threads > 0 && srv.idle == 0 &&
	    srv.threads < srv.lim.max_sessions) {
		srv.threads++;
		srv.idle++;
		more = 1;
	}
	pthread_mutex_unlock(&srv.lock);
	if (more)
		spawn();
}

/* Start a worker counted as idle by the caller; undo that if it fails. */
static void
spawn(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	rc = pthread_create(&tid, &attr, worker, NULL);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return;
	pthread_mutex_lock(&srv.lock);
	srv.threads--;
	srv.idle--;
	pthread_mutex_unlock(&srv.lock);
	log_msg(LOG_ERR, "cannot start a milter worker thread: %s",
	    strerror(rc));
}

/* A connection was accepted: one idle worker fewer, maybe one more. */
static struct server_limits
took(void)
{
	struct server_limits lim;
	int more = 0, full = 0;

	pthread_mutex_lock(&srv.lock);
	srv.idle--;
	srv.busy++;
	srv.fds_said = 0;
	if (srv.idle == 0 && srv.threads < srv.lim.max_sessions) {
		srv.threads++;
		srv.idle++;
		more = 1;
	} else if (srv.idle == 0 && !srv.full_said)
		srv.full_said = full = 1;
	lim = srv.lim;
	pthread_mutex_unlock(&srv.lock);
	if (full)
		log_msg(LOG_WARNING, "max_sessions (%zu) reached: new milter "
		    "connections wait until a session ends", lim.max_sessions);
	if (more)
		spawn();
	return lim;
}

/* A session ended; 1 when this worker should end too. */
static int
released(void)
{
	int retire = 0;

	pthread_mutex_lock(&srv.lock);
	srv.busy--;
	if (srv.threads > srv.lim.max_sessions) {
		srv.threads--;
		retire = 1;
	} else
		srv.idle++;
	if (srv.busy + 1 < srv.lim.max_sessions)
		srv.full_said = 0;
	pthread_cond_broadcast(&srv.freed);
	pthread_mutex_unlock(&srv.lock);
	return retire;
}

/* accept() failed with err; 1 when this worker should end. */
static int
accept_failed(int err)
{
	struct timespec until;
	int retire = 0, say;

	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return 0;	/* that connection is gone; the next one */
	case EAGAIN:
		/* IDLE_SECONDS without a connection */
		pthread_mutex_lock(&srv.lock);
		if (srv.idle > SPARE_WORKERS) {
			srv.idle--;
			srv.threads--;
			retire = 1;
		}
		pthread_mutex_unlock(&srv.lock);
		return retire;
	}
	pthread_mutex_lock(&srv.lock);
	say = !srv.fds_said;
	srv.fds_said = 1;
	pthread_mutex_unlock(&srv.lock);
	if (say)
		log_msg(LOG_ERR, "cannot accept milter connections: %s; "
		    "waiting for sessions to end%s", strerror(err),
		    err == EMFILE ? " (raise LimitNOFILE, or lower "
		    "max_sessions)" : "");
	pthread_mutex_lock(&srv.lock);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_cond_timedwait(&srv.freed, &srv.lock, &until);
	pthread_mutex_unlock(&srv.lock);
	return 0;
}

/* Who is at the other end, for log lines. */
static void
peer_name(int fd, char *buf, size_t bufsz)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		ss.ss_family = AF_UNSPEC;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
	}
	if (port != 0)
		snprintf(buf, bufsz, "%s port %u", ip, port);
	else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		snprintf(buf, bufsz, "pid %ld uid %ld", (long)cred.pid,
		    (long)cred.uid);
	else
		snprintf(buf, bufsz, "an unknown peer");
}

static int
send_all(void *arg, const unsigned char *p, size_t len)
{
	int fd = *(int *)arg;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static time_t
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* Read, answer, repeat; the reason the connection ended, "" if the MTA
 * ended it as it should. */
static const char *
converse(int fd, struct milter_conn *mc, const struct server_limits *lim,
    char *why, size_t whysz)
{
	const unsigned char *out;
	unsigned char *p;
	size_t olen, room;
	time_t part_since = 0;
	int one = 1;
	ssize_t n;

	for (;;) {
		milter_conn_output(mc, &out, &olen);
		if (olen > 0) {
			if (send_all(&fd, out, olen) != 0)
				return snprintf(why, whysz, "cannot send a "
				    "reply: %s", errno == EAGAIN ? "timed out" :
				    strerror(errno)), why;
			milter_conn_sent(mc, olen);
		}
		if (milter_conn_space(mc, &p, &room) != 0)
			return "out of memory for a command";
		if ((n = read(fd, p, room)) < 0 && errno == EINTR)
			continue;
		if (n == 0 && milter_conn_partial(mc))
			return "the MTA closed the connection in the middle "
			    "of a command";
		if (n == 0)
			return "";
		if (n < 0 && errno == EAGAIN)
			return snprintf(why, whysz, "%s for %us "
			    "(milter_timeout)", milter_conn_partial(mc) ?
			    "the rest of a command did not come" : "no command",
			    lim->timeout), why;
		if (n < 0)
			return snprintf(why, whysz, "read: %s",
			    strerror(errno)), why;
		if (srv.inet)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
			    sizeof(one));
		if (milter_conn_input(mc, (size_t)n) == MC_CLOSE) {
			milter_conn_output(mc, &out, &olen);
			if (olen > 0)
				(void)send_all(&fd, out, olen);
			return milter_conn_error(mc);
		}
		if (!milter_conn_partial(mc))
			part_since = 0;
		else if (part_since == 0)
			part_since = now();
		else if (now() - part_since > (time_t)lim->timeout)
			return snprintf(why, whysz, "a command came in part "
			    "and not whole within %us (milter_timeout)",
			    lim->timeout), why;
	}
}

static void
serve(int fd, const struct server_limits *lim)
{
	struct timeval tv = { (time_t)lim->timeout, 0 };
	struct milter_conn *mc;
	char why[200], peer[80];
	const char *end;
	int one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (srv.inet)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	if ((mc = milter_conn_new(srv.hooks, lim->max_command)) == NULL) {
		log_msg(LOG_ERR, "out of memory for a milter connection");
		return;
	}
	milter_conn_set_send(mc, send_all, &fd);
	metrics_count("authfilter_sessions_total", 1, NULL);
	end = converse(fd, mc, lim, why, sizeof(why));
	if (*end != '\0') {
		metrics_count("authfilter_protocol_errors_total", 1, NULL);
		peer_name(fd, peer, sizeof(peer));
		log_msg(LOG_WARNING, "milter connection from %s closed: %s",
		    peer, end);
	}
	milter_conn_free(mc);
}

static void *
worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct server_limits lim;
		int fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (accept_failed(errno))
				return NULL;
			continue;
		}
		lim = took();
		serve(fd, &lim);
		close(fd);
		if (released())
			return NULL;
	}
}

int
server_start(int lfd, int inet, const struct milter_hooks *hooks,
    const struct server_limits *lim, char *err, size_t errsz)
{
	struct timeval idle = { IDLE_SECONDS, 0 };
	size_t started;

	/* accept() returns EAGAIN after this, so spare workers can end. */
	if (setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle)) != 0) {
		snprintf(err, errsz, "milter socket: %s", strerror(errno));
		return -1;
	}
	srv.lfd = lfd;
	srv.inet = inet;
	srv.hooks = hooks;
	server_set_limits(lim);
	for (size_t i = 0; i < SPARE_WORKERS && i < lim->max_sessions; i++) {
		pthread_mutex_lock(&srv.lock);
		srv.threads++;
		srv.idle++;
		pthread_mutex_unlock(&srv.lock);
		spawn();
	}
	pthread_mutex_lock(&srv.lock);
	started = srv.threads;
	pthread_mutex_unlock(&srv.lock);
	if (started == 0) {
		snprintf(err, errsz, "cannot start the milter workers");
		return -1;
	}
	return 0;
}
