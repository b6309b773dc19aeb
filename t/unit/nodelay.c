/* Unit test for milter/milter_nodelay.c: connections accepted on an inet
 * listening socket carry TCP_NODELAY and are marked for quick ACKs (what
 * libmilter's sockets get); unix sockets are not. */
#include "buildconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <unistd.h>

#include "milter/milter_nodelay.h"
#include "t/tap.h"

static int
nodelay(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len);
	return v != 0;
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
	ok(ua >= 0 && !milter_fd_quickack(ua),
	    "a unix connection is not marked");
	close(ua);
	close(uc);
	unlink(sun.sun_path);
	close(u);
	close(c);
	close(l);
	return done_testing();
}
