/*
 * NAME
 *	milter_nodelay -- no Nagle, no delayed ACKs on libmilter's inet sockets
 * DESCRIPTION
 *	Over an inet: socket a milter conversation is small packets, and two
 *	TCP defaults stall it by ~40 ms at a time:
 *
 *	1. libmilter's replies meet Nagle's algorithm on our side and delayed
 *	   ACKs on the MTA's (bench/miltergen measured ~44 ms per message, 23
 *	   msgs/s on one session).  So TCP_NODELAY on our side: libmilter
 *	   never sets it, and offers no hook to its sockets, so this listen()
 *	   in the executable interposes on libmilter's call (the only
 *	   listen() in the daemon) and sets it on the listening socket;
 *	   Linux copies it to every accepted connection.
 *
 *	2. The MTA's commands meet Nagle on the MTA's side (Postfix sets no
 *	   TCP_NODELAY) and delayed ACKs on ours.  With the no-reply stages
 *	   (callbacks.c) the MTA sends several commands in a row; its second
 *	   small packet waits for our ACK of the first, which Linux delays
 *	   up to 40 ms: Postfix end to end fell to 22 messages/s on one
 *	   session.  So our side acknowledges at once: TCP_QUICKACK on each
 *	   accepted inet connection after every read (Linux clears it on its
 *	   own, so once is not enough).  accept(), read() and close() are
 *	   interposed like listen(): an fd accepted on one of our inet
 *	   listening sockets is marked, and only marked fds pay the extra
 *	   setsockopt(); unix sockets and every other fd are untouched.
 *
 *	t/unit/nodelay.c checks that accepted sockets carry TCP_NODELAY and
 *	are marked for quick ACKs; bench/run measures both through Postfix.
 */
#include "buildconf.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "milter/milter_nodelay.h"

/* fds below this are tracked; others are left to TCP's defaults. */
#define TRACKED_FDS 65536

enum { FD_OTHER, FD_LISTENER, FD_QUICKACK };
static _Atomic unsigned char fd_kind[TRACKED_FDS];

/* The functions interposed on, found once for all threads. */
static int (*next_listen)(int, int);
static int (*next_accept)(int, struct sockaddr *, socklen_t *);
static ssize_t (*next_read)(int, void *, size_t);
static int (*next_close)(int);
static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static void
resolve(void)
{
	*(void **)&next_listen = dlsym(RTLD_NEXT, "listen");
	*(void **)&next_accept = dlsym(RTLD_NEXT, "accept");
	*(void **)&next_read = dlsym(RTLD_NEXT, "read");
	*(void **)&next_close = dlsym(RTLD_NEXT, "close");
}

static void
mark(int fd, unsigned char kind)
{
	if (fd >= 0 && fd < TRACKED_FDS)
		atomic_store_explicit(&fd_kind[fd], kind, memory_order_relaxed);
}

static unsigned char
kind_of(int fd)
{
	return fd >= 0 && fd < TRACKED_FDS ? atomic_load_explicit(&fd_kind[fd],
	    memory_order_relaxed) : FD_OTHER;
}

static void
quickack(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

int
milter_fd_quickack(int fd)
{
	return kind_of(fd) == FD_QUICKACK;
}

int
listen(int fd, int backlog)
{
	int domain = 0, type = 0, one = 1;
	socklen_t len = sizeof(domain);

	pthread_once(&resolved, resolve);
	if (next_listen == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	    (domain == AF_INET || domain == AF_INET6)) {
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
		    type == SOCK_STREAM) {
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			mark(fd, FD_LISTENER);
		}
	}
	return next_listen(fd, backlog);
}

int
accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	int c;

	pthread_once(&resolved, resolve);
	if (next_accept == NULL) {
		errno = ENOSYS;
		return -1;
	}
	c = next_accept(fd, addr, addrlen);
	if (c >= 0) {
		mark(c, kind_of(fd) == FD_LISTENER ? FD_QUICKACK : FD_OTHER);
		if (kind_of(c) == FD_QUICKACK)
			quickack(c);
	}
	return c;
}

ssize_t
read(int fd, void *buf, size_t n)
{
	ssize_t r;

	pthread_once(&resolved, resolve);
	if (next_read == NULL) {
		errno = ENOSYS;
		return -1;
	}
	r = next_read(fd, buf, n);
	if (r > 0 && kind_of(fd) == FD_QUICKACK) {
		int saved = errno;
		quickack(fd);
		errno = saved;
	}
	return r;
}

int
close(int fd)
{
	pthread_once(&resolved, resolve);
	if (next_close == NULL) {
		errno = ENOSYS;
		return -1;
	}
	mark(fd, FD_OTHER);
	return next_close(fd);
}
