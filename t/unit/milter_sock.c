/* Unit test for milter/milter_sock.c: connections accepted on an inet
 * listening socket carry TCP_NODELAY and are marked for quick ACKs (what
 * libmilter's sockets get), unix ones are not; reads of an accepted
 * connection are read ahead, and poll() counts what is held as
 * readable. */
#include "buildconf.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "milter/milter_sock.h"
#include "t/tap.h"

static int
nodelay(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len);
	return v != 0;
}

/* Bytes waiting in the kernel's queue of fd, without taking them. */
static int
kernel_has_data(int fd)
{
	char b;

	return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

/* a: an accepted connection, c: its peer. */
static void
read_ahead(int a, int c)
{
	char got[64] = "", big[20000];
	struct pollfd p[2];
	int other[2];

	ok(write(c, "HEAD1body-one", 13) == 13, "peer sends two commands");
	ok(read(a, got, 5) == 5 && memcmp(got, "HEAD1", 5) == 0,
	    "read() hands out the first 5 bytes");
	ok(!kernel_has_data(a), "the rest was read ahead out of the kernel");
	ok(milter_fd_unread(a) == 8, "and is held: 8 bytes");
	p[0] = (struct pollfd){ .fd = a, .events = POLLIN };
	ok(poll(p, 1, 5000) == 1 && (p[0].revents & POLLIN) != 0,
	    "poll() calls the connection readable");
	socketpair(AF_UNIX, SOCK_STREAM, 0, other);
	p[1] = (struct pollfd){ .fd = other[0], .events = POLLIN };
	p[0].revents = p[1].revents = -1;
	ok(poll(p, 2, 5000) == 1 && p[0].revents == POLLIN &&
	    p[1].revents == 0,
	    "poll() of several fds: the held one readable, an idle one not, "
	    "without waiting");
	ok(write(other[1], "x", 1) == 1 && poll(p, 2, 5000) == 2 &&
	    p[1].revents == POLLIN, "and the other one when it has data");
	close(other[0]);
	close(other[1]);
	memset(got, 0, sizeof(got));
	ok(read(a, got, 4) == 4 && strcmp(got, "body") == 0 &&
	    read(a, got + 4, 60) == 4 && strcmp(got, "body-one") == 0,
	    "the held bytes come out in order, a short read at the end");
	ok(milter_fd_unread(a) == 0, "nothing held now");
	p[0].revents = 0;
	ok(poll(p, 1, 0) == 0, "and poll() asks the kernel again: not readable");

	/* a large read with the buffer empty goes straight to the caller */
	memset(big, 'b', sizeof(big));
	ok(write(c, big, 10000) == 10000, "peer sends 10000 bytes");
	size_t n = 0;
	ssize_t r;
	while (n < 10000 && (r = read(a, big + 10000, 10000)) > 0)
		n += (size_t)r;
	ok(n == 10000 && milter_fd_unread(a) == 0,
	    "a read larger than the buffer is not held back");

	shutdown(c, SHUT_WR);
	ok(read(a, got, 5) == 0, "end of file comes through as 0");
}

/* A reply as libmilter's mi_wr_cmd() writes it: 4-byte length and
 * command in one iovec, the data in a second. */
static ssize_t
reply_n(int fd, char cmd, const char *data, size_t len)
{
	uint32_t nl = htonl((uint32_t)len + 1);
	char hdr[5];
	struct iovec v[2] = { { hdr, 5 }, { (void *)data, len } };

	memcpy(hdr, &nl, 4);
	hdr[4] = cmd;
	return writev(fd, v, len > 0 ? 2 : 1);
}

static ssize_t
reply(int fd, char cmd, const char *data)
{
	return reply_n(fd, cmd, data, strlen(data));
}

/* a: an accepted connection, c: its peer. */
static void
holding(int a, int c)
{
	char got[8192], big[6000];
	struct pollfd p = { .fd = a, .events = POLLIN };

	ok(reply_n(a, 'h', "X-One\0v1", 8) == 5 + 8, "a header change is "
	    "written, as far as libmilter can tell");
	ok(!kernel_has_data(c) && milter_fd_replies_held(a) == 13,
	    "but held: the MTA has nothing yet");
	ok(reply(a, 'i', "X-Two") == 10 && milter_fd_replies_held(a) == 23,
	    "a second change is held too");
	ok(reply(a, 'c', "") == 5 && milter_fd_replies_held(a) == 0,
	    "the verdict sends them all");
	ok(recv(c, got, sizeof(got), MSG_DONTWAIT) == 28 &&
	    got[4] == 'h' && memcmp(got + 5, "X-One\0v1", 8) == 0 &&
	    got[17] == 'i' && got[27] == 'c',
	    "in one piece, in the order written");

	ok(reply(a, 'q', "held") == 9 && !kernel_has_data(c),
	    "a quarantine is held");
	ok(poll(&p, 1, 0) == 0 && milter_fd_replies_held(a) == 0 &&
	    recv(c, got, sizeof(got), MSG_DONTWAIT) == 9 && got[4] == 'q',
	    "and sent before libmilter polls for the next command");
	ok(reply(a, 'm', "AR") == 7 && !kernel_has_data(c),
	    "a header change is held");
	ok(write(c, "x", 1) == 1 && read(a, got, 1) == 1 &&
	    recv(c, got, sizeof(got), MSG_DONTWAIT) == 7 && got[4] == 'm',
	    "and sent before libmilter reads");

	ok(reply(a, 'p', "") == 5 && recv(c, got, sizeof(got),
	    MSG_DONTWAIT) == 5 && got[4] == 'p',
	    "a progress reply goes out at once");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(reply(a, 'h', "small") == 10 && reply(a, 'h', big) ==
	    (ssize_t)(5 + sizeof(big) - 1), "a change larger than what "
	    "is held goes out at once");
	size_t n = 0;
	ssize_t r;
	while (n < 10 + 5 + sizeof(big) - 1 &&
	    (r = recv(c, got, sizeof(got), MSG_DONTWAIT)) > 0) {
		if (n == 0)
			ok(got[4] == 'h' && memcmp(got + 5, "small", 5) == 0 &&
			    got[14] == 'h', "after the one held before it");
		n += (size_t)r;
	}
	ok(n == 10 + 5 + sizeof(big) - 1 && milter_fd_replies_held(a) == 0,
	    "all of it");

	/* what is not a whole reply is not held, whatever its 5th byte */
	char odd[9] = { 0, 0, 0, 99, 'h', 'x', 'y', 'z', 'w' };
	struct iovec v[2] = { { odd, 5 }, { odd + 5, 4 } };
	ok(writev(a, v, 2) == 9 && milter_fd_replies_held(a) == 0 &&
	    recv(c, got, sizeof(got), MSG_DONTWAIT) == 9,
	    "a length that does not match: sent at once");
}

/* A held reply the kernel takes in part before the socket is full: the
 * rest stays held and goes out once, in order (a retry must not send
 * the first part again).  a is made non-blocking for this. */
static void
partial(int a, int c)
{
	static char junk[1000], body[3000], got[200000];
	size_t n = 0, want;
	ssize_t r;
	struct iovec j = { junk, sizeof(junk) };

	memset(junk, 'J', sizeof(junk));
	memset(body, 'B', sizeof(body) - 1);
	fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK);
	/* the smallest send buffer: the kernel cuts the held reply into
	 * pieces smaller than it */
	int tiny = 1;
	setsockopt(a, SOL_SOCKET, SO_SNDBUF, &tiny, sizeof(tiny));
	size_t junks = 0;
	while (writev(a, &j, 1) == (ssize_t)sizeof(junk))
		junks++;
	ok(junks > 0 && errno == EAGAIN, "the socket is full of other bytes");
	ok(reply(a, 'h', body) == 5 + 2999, "a large header change is held");
	/* room for some of it, not all */
	ok(recv(c, got, sizeof(junk), 0) == (ssize_t)sizeof(junk),
	    "the MTA reads a little");
	r = reply(a, 'c', "");
	int some = milter_fd_replies_held(a) > 0 &&
	    milter_fd_replies_held(a) < 5 + 2999;
	ok(r == -1 && errno == EAGAIN && some, "the verdict cannot go out: "
	    "part of the held reply went, the rest is still held");
	while ((r = recv(c, got + n, sizeof(got) - n, MSG_DONTWAIT)) > 0)
		n += (size_t)r;
	r = reply(a, 'c', "");	/* libmilter's retry */
	ok(r == 5 && milter_fd_replies_held(a) == 0, "the retry sends the rest "
	    "and the verdict");
	while ((r = recv(c, got + n, sizeof(got) - n, MSG_DONTWAIT)) > 0)
		n += (size_t)r;
	want = (junks - 1) * sizeof(junk) + 5 + 2999 + 5;
	size_t at = (junks - 1) * sizeof(junk);
	ok(n == want && got[at + 4] == 'h' && got[at + 5] == 'B' &&
	    got[at + 5 + 2998] == 'B' && got[at + 5 + 2999 + 4] == 'c',
	    "the MTA got every byte once, in order");
	fcntl(a, F_SETFL, fcntl(a, F_GETFL) & ~O_NONBLOCK);
}

int
main(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0), c, a;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ok(bind(l, (struct sockaddr *)&sin, sizeof(sin)) == 0, "bind");
	ok(!nodelay(l), "a new socket has Nagle on");
	ok(listen(l, 5) == 0, "listen() through the interposer");
	ok(nodelay(l), "the listening socket has TCP_NODELAY");
	getsockname(l, (struct sockaddr *)&sin, &len);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ok(connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0, "connect");
	a = accept(l, NULL, NULL);
	ok(a >= 0 && nodelay(a), "the accepted connection has TCP_NODELAY");
	ok(milter_fd_quickack(a), "and is marked for TCP_QUICKACK");
	ok(!milter_fd_quickack(c), "the connecting side is not");
	char byte = 'x', got = 0;
	ok(write(c, &byte, 1) == 1 && read(a, &got, 1) == 1 && got == 'x',
	    "read() through the interposer returns the data");
	close(a);
	ok(!milter_fd_quickack(a), "close() clears the mark");

	/* unix sockets are left alone (and have no such option). */
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/af-nodelay-%d",
	    (int)getpid());
	unlink(sun.sun_path);
	bind(u, (struct sockaddr *)&sun, sizeof(sun));
	ok(listen(u, 5) == 0, "listen() on a unix socket still works");
	int uc = socket(AF_UNIX, SOCK_STREAM, 0);
	connect(uc, (struct sockaddr *)&sun, sizeof(sun));
	int ua = accept(u, NULL, NULL);
	char got5[8];
	ok(ua >= 0 && !milter_fd_quickack(ua),
	    "a unix connection is not marked for quick ACKs");
	read_ahead(ua, uc);
	close(ua);
	close(uc);
	uc = socket(AF_UNIX, SOCK_STREAM, 0);
	connect(uc, (struct sockaddr *)&sun, sizeof(sun));
	ua = accept(u, NULL, NULL);
	holding(ua, uc);
	partial(ua, uc);

	/* bytes read ahead on a connection that is closed do not make the
	 * next fd with its number readable */
	ok(write(uc, "HEAD1rest", 9) == 9 && read(ua, got5, 5) == 5 &&
	    milter_fd_unread(ua) == 4, "4 bytes held");
	int num = ua;
	close(ua);
	int pf[2];
	ok(pipe(pf) == 0, "a pipe");
	struct pollfd pp = { .fd = pf[0], .events = POLLIN };
	ok(pf[0] != num || (milter_fd_unread(pf[0]) == 0 &&
	    poll(&pp, 1, 0) == 0), "the fd number reused: not readable, "
	    "nothing held");
	close(pf[0]);
	close(pf[1]);
	close(uc);
	unlink(sun.sun_path);
	close(u);
	close(c);
	close(l);
	return done_testing();
}
