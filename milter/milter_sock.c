/*
 * NAME
 *	milter_sock -- what we do to libmilter's sockets: TCP options,
 *	reading ahead, one write per verdict
 * SYNOPSIS
 *	Interposes on listen(), accept(), read(), poll(), writev() and
 *	close().
 * DESCRIPTION
 *	libmilter opens, reads and closes its sockets itself and offers no
 *	hook to them, so these definitions in the executable interpose on
 *	its calls (the dynamic linker finds the executable's symbols
 *	first).  listen() is the only one in the daemon, so its socket is
 *	the milter socket; every connection accepted on it is marked, and
 *	only marked fds are treated differently.  Every other fd goes
 *	straight to the C library.
 *
 *	1. Over an inet: socket a milter conversation is small packets, and
 *	   two TCP defaults stall it by ~40 ms at a time.  libmilter's
 *	   replies meet Nagle's algorithm on our side and delayed ACKs on
 *	   the MTA's (bench/miltergen measured 23 msgs/s on one session), so
 *	   the listening socket gets TCP_NODELAY, which Linux copies to
 *	   every accepted connection.  The MTA's commands meet Nagle on its
 *	   side (Postfix sets no TCP_NODELAY) and delayed ACKs on ours: with
 *	   the no-reply stages (callbacks.c) it sends several commands in a
 *	   row, and its second small packet waits for our ACK of the first.
 *	   Postfix end to end fell to 22 msgs/s on one session.  So after
 *	   every read of an inet connection from the kernel we set
 *	   TCP_QUICKACK again (Linux clears it on its own).
 *
 *	2. libmilter reads a command as poll(), read() of its 5-byte
 *	   header, poll() and read() of its body, and asks poll() once more
 *	   whether another command is waiting before it gives the session
 *	   back to its worker pool: five system calls per command, and
 *	   with the no-reply stages a message is a dozen commands in a row.
 *	   So a read() of a connection takes up to READAHEAD bytes at once
 *	   and hands them out from a per-connection buffer; poll() reports a
 *	   connection with bytes in that buffer as readable without asking
 *	   the kernel.  The bytes read ahead were in the kernel's queue a
 *	   moment before, so libmilter sees the same stream; a hangup or
 *	   error shows once they are handed out, so every command the
 *	   MTA sent before it closed is processed.
 *	   A read() of READAHEAD bytes or more with the buffer empty (a body
 *	   chunk) goes straight into the caller's buffer.  bench/run
 *	   measures the effect; t/unit/milter_sock.c checks the semantics.
 *
 *	3. At end of message libmilter writes every header change as its
 *	   own reply and then the verdict, each in its own writev(): the
 *	   MTA is woken once per reply.  So a header change, quarantine or
 *	   recipient change (replies that libmilter only sends from
 *	   xxfi_eom, which a verdict always follows) is held, up to HOLD
 *	   bytes, and goes out in one writev() with the next reply of any
 *	   other kind.  The order of replies is kept.  Held replies are also
 *	   sent before libmilter waits for a command (its poll() or read()
 *	   of the connection), so nothing the MTA waits for is ever held
 *	   back.  Only a reply laid out as libmilter's mi_wr_cmd() writes it
 *	   (5 bytes of length and command, then the data; the length
 *	   matching) is held, never the rest of a reply the kernel took in
 *	   part.  A write error on a held reply shows at the verdict, which
 *	   then fails the same way: libmilter ends the session.
 *
 *	A connection is used by one libmilter thread at a time (its worker
 *	pool hands sessions over under a mutex).  Its controller thread
 *	polls idle sessions, several fds at once, and may still poll an fd
 *	number closed and accepted again meanwhile (after its sweep of
 *	timed-out sessions); so held replies are flushed only by a poll()
 *	of one fd (the worker's), fill levels are atomic, and a buffer,
 *	once allocated for an fd number, is emptied on accept() and kept,
 *	never freed under a poll().  That is at most 12 KiB per connection
 *	open at once.
 * DIAGNOSTICS
 *	When the buffer cannot be allocated the connection is read
 *	directly, as libmilter would.
 */
#include "buildconf.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "milter/milter_sock.h"

/* fds below this are tracked; others are left alone. */
#define TRACKED_FDS 65536

/* Bytes read ahead per connection.  Postfix sends everything from MAIL
 * to end of headers as small commands (a few KiB together) and body
 * chunks of up to 64 KiB, which bypass the buffer.  With HOLD, 12 KiB
 * per session is 6 MiB at 500 sessions. */
#define READAHEAD 8192

/* Reply bytes held per connection: a DKIM-Signature for each key and
 * an Authentication-Results field are well below it.  A larger change
 * goes out at once. */
#define HOLD 4096

/* A milter reply starts with its length (4 bytes) and its command. */
#define REPLY_CMD_AT 4

/* iovecs of one writev() sent together with the held replies
 * (libmilter writes 1 or 2). */
#define MAX_IOV 8

enum { FD_OTHER, FD_LISTEN_UNIX, FD_LISTEN_INET, FD_CONN_UNIX, FD_CONN_INET };

struct connbuf {
	_Atomic size_t	pos, len;	/* data[pos..len) not yet handed out */
	_Atomic size_t	held;		/* reply bytes in out[] not yet sent */
	unsigned char	data[READAHEAD];
	unsigned char	out[HOLD];
};

static _Atomic unsigned char fd_kind[TRACKED_FDS];
static struct connbuf *_Atomic fd_ra[TRACKED_FDS];

/* The functions interposed on, found once for all threads. */
static int (*next_listen)(int, int);
static int (*next_accept)(int, struct sockaddr *, socklen_t *);
static ssize_t (*next_read)(int, void *, size_t);
static ssize_t (*next_writev)(int, const struct iovec *, int);
static int (*next_poll)(struct pollfd *, nfds_t, int);
static int (*next_close)(int);
static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static void
resolve(void)
{
	*(void **)&next_listen = dlsym(RTLD_NEXT, "listen");
	*(void **)&next_accept = dlsym(RTLD_NEXT, "accept");
	*(void **)&next_read = dlsym(RTLD_NEXT, "read");
	*(void **)&next_writev = dlsym(RTLD_NEXT, "writev");
	*(void **)&next_poll = dlsym(RTLD_NEXT, "poll");
	*(void **)&next_close = dlsym(RTLD_NEXT, "close");
}

/* Whether the C library's function *fn was found (errno ENOSYS if
 * not), resolving all of them on first use. */
static int
resolved_fn(void **fn)
{
	pthread_once(&resolved, resolve);
	if (*fn == NULL) {
		errno = ENOSYS;
		return 0;
	}
	return 1;
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

static struct connbuf *
ra_of(int fd)
{
	return fd >= 0 && fd < TRACKED_FDS ? atomic_load_explicit(&fd_ra[fd],
	    memory_order_acquire) : NULL;
}

/* fd's buffer if fd is a milter connection now, else NULL. */
static struct connbuf *
conn_ra(int fd)
{
	unsigned char kind = kind_of(fd);

	return kind == FD_CONN_UNIX || kind == FD_CONN_INET ? ra_of(fd) : NULL;
}

static void
ra_empty(struct connbuf *ra)
{
	atomic_store_explicit(&ra->pos, 0, memory_order_relaxed);
	atomic_store_explicit(&ra->len, 0, memory_order_relaxed);
	atomic_store_explicit(&ra->held, 0, memory_order_relaxed);
}

/* Bytes read ahead and not yet handed out. */
static size_t
ra_unread(const struct connbuf *ra)
{
	if (ra == NULL)
		return 0;
	return atomic_load_explicit(&ra->len, memory_order_relaxed) -
	    atomic_load_explicit(&ra->pos, memory_order_relaxed);
}

static void
quickack(int fd)
{
	int one = 1, saved = errno;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	errno = saved;
}

int
milter_fd_quickack(int fd)
{
	return kind_of(fd) == FD_CONN_INET;
}

size_t
milter_fd_unread(int fd)
{
	return ra_unread(conn_ra(fd));
}

size_t
milter_fd_replies_held(int fd)
{
	struct connbuf *ra = conn_ra(fd);

	return ra == NULL ? 0 : atomic_load_explicit(&ra->held,
	    memory_order_relaxed);
}

/* Replies libmilter sends only from xxfi_eom, always before a verdict
 * (libmilter/mfdef.h: SMFIR_ADDRCPT, _DELRCPT, _ADDRCPT_PAR, _CHGFROM,
 * _ADDHEADER, _INSHEADER, _CHGHEADER, _QUARANTINE). */
static int
reply_can_wait(unsigned char cmd)
{
	return cmd == '+' || cmd == '-' || cmd == '2' || cmd == 'e' ||
	    cmd == 'h' || cmd == 'i' || cmd == 'm' || cmd == 'q';
}

/* Keep what the kernel has not taken: out[off..held) moves to the
 * front, so a retry sends each byte once. */
static void
keep_unsent(struct connbuf *ra, size_t off, size_t held)
{
	if (off > 0)
		memmove(ra->out, ra->out + off, held - off);
	atomic_store_explicit(&ra->held, held - off, memory_order_relaxed);
}

/* Write the held replies, then iov[0..cnt) (none if cnt is 0), in one
 * writev() where the kernel takes it all.  Returns the bytes of iov
 * written, or -1 (errno set; what was held and not sent stays held). */
static ssize_t
write_with_held(int fd, struct connbuf *ra, const struct iovec *iov,
    int cnt)
{
	struct iovec v[1 + MAX_IOV];
	size_t held = atomic_load_explicit(&ra->held, memory_order_relaxed);
	size_t off = 0;
	ssize_t n;

	while (off < held) {
		v[0].iov_base = ra->out + off;
		v[0].iov_len = held - off;
		if (cnt > 0)
			memcpy(v + 1, iov, (size_t)cnt * sizeof(*iov));
		n = next_writev(fd, v, 1 + cnt);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* a socket never takes 0 */
			keep_unsent(ra, off, held);
			return -1;
		}
		if ((size_t)n >= held - off) {
			atomic_store_explicit(&ra->held, 0, memory_order_relaxed);
			return n - (ssize_t)(held - off);
		}
		off += (size_t)n;
	}
	atomic_store_explicit(&ra->held, 0, memory_order_relaxed);
	return cnt > 0 ? next_writev(fd, iov, cnt) : 0;
}

/* Send what is held before libmilter waits for the MTA. */
static void
flush_held(int fd, struct connbuf *ra)
{
	int saved = errno;

	if (ra != NULL && atomic_load_explicit(&ra->held,
	    memory_order_relaxed) > 0)
		(void)write_with_held(fd, ra, NULL, 0);
	errno = saved;
}

/* Whether iov is one whole reply as mi_wr_cmd() lays it out: 4 bytes
 * of length (of the command and its data), the command, then the data
 * in a second iovec.  The rest of a reply the kernel took in part is
 * not (its length would not match). */
static int
whole_reply(const struct iovec *iov, int cnt, size_t total)
{
	const unsigned char *h = iov[0].iov_base;
	uint32_t len;

	if (cnt < 1 || cnt > 2 || iov[0].iov_len != REPLY_CMD_AT + 1)
		return 0;
	len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
	return (size_t)len + REPLY_CMD_AT == total;
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	struct connbuf *ra;
	size_t total = 0, held;
	int i;

	if (!resolved_fn((void **)&next_writev))
		return -1;
	if ((ra = conn_ra(fd)) == NULL)
		return next_writev(fd, iov, cnt);
	for (i = 0; i < cnt && i < MAX_IOV; i++)
		total += iov[i].iov_len;
	held = atomic_load_explicit(&ra->held, memory_order_relaxed);
	if (whole_reply(iov, cnt, total) && reply_can_wait(((const unsigned
	    char *)iov[0].iov_base)[REPLY_CMD_AT]) && total <= HOLD - held) {
		for (i = 0; i < cnt; i++) {
			memcpy(ra->out + held, iov[i].iov_base, iov[i].iov_len);
			held += iov[i].iov_len;
		}
		atomic_store_explicit(&ra->held, held, memory_order_relaxed);
		return (ssize_t)total;
	}
	if (held == 0)
		return next_writev(fd, iov, cnt);
	if (cnt < 0 || cnt > MAX_IOV) {
		/* not libmilter's: the held replies first, on their own */
		if (write_with_held(fd, ra, NULL, 0) < 0)
			return -1;
		return next_writev(fd, iov, cnt);
	}
	return write_with_held(fd, ra, iov, cnt);
}

int
listen(int fd, int backlog)
{
	int domain = 0, type = 0, one = 1;
	socklen_t len = sizeof(domain);

	if (!resolved_fn((void **)&next_listen))
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0) {
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    type != SOCK_STREAM)
			domain = 0;
	}
	if (domain == AF_INET || domain == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		mark(fd, FD_LISTEN_INET);
	} else if (domain == AF_UNIX)
		mark(fd, FD_LISTEN_UNIX);
	return next_listen(fd, backlog);
}

int
accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	unsigned char kind;
	struct connbuf *ra;
	int c;

	if (!resolved_fn((void **)&next_accept))
		return -1;
	c = next_accept(fd, addr, addrlen);
	if (c < 0 || c >= TRACKED_FDS)
		return c;
	kind = kind_of(fd);
	if (kind != FD_LISTEN_UNIX && kind != FD_LISTEN_INET) {
		mark(c, FD_OTHER);
		return c;
	}
	/* The fd number's buffer, emptied, or a new one (calloc: empty).
	 * Without one the fd is read directly. */
	if ((ra = ra_of(c)) != NULL)
		ra_empty(ra);
	else if ((ra = calloc(1, sizeof(*ra))) != NULL)
		atomic_store_explicit(&fd_ra[c], ra, memory_order_release);
	mark(c, kind == FD_LISTEN_INET ? FD_CONN_INET : FD_CONN_UNIX);
	if (kind == FD_LISTEN_INET)
		quickack(c);
	return c;
}

/* A read of a milter connection: from the buffer, else refill it.
 * *kernel: whether the kernel was read. */
static ssize_t
ra_read(int fd, struct connbuf *ra, void *buf, size_t n, int *kernel)
{
	size_t pos = atomic_load_explicit(&ra->pos, memory_order_relaxed);
	size_t held = ra_unread(ra), m;
	ssize_t r;

	*kernel = 0;
	if (held > 0) {
		m = n < held ? n : held;
		memcpy(buf, ra->data + pos, m);
		atomic_store_explicit(&ra->pos, pos + m, memory_order_relaxed);
		return (ssize_t)m;
	}
	*kernel = 1;
	if (n >= READAHEAD)
		return next_read(fd, buf, n);
	r = next_read(fd, ra->data, READAHEAD);
	if (r <= 0)
		return r;
	m = n < (size_t)r ? n : (size_t)r;
	memcpy(buf, ra->data, m);
	atomic_store_explicit(&ra->pos, m, memory_order_relaxed);
	atomic_store_explicit(&ra->len, (size_t)r, memory_order_relaxed);
	return (ssize_t)m;
}

ssize_t
read(int fd, void *buf, size_t n)
{
	struct connbuf *ra;
	ssize_t r;
	int kernel = 1;

	if (!resolved_fn((void **)&next_read))
		return -1;
	if ((ra = conn_ra(fd)) == NULL)
		return next_read(fd, buf, n);
	flush_held(fd, ra);
	r = n > 0 ? ra_read(fd, ra, buf, n, &kernel) : next_read(fd, buf, n);
	if (r > 0 && kernel && kind_of(fd) == FD_CONN_INET)
		quickack(fd);
	return r;
}

#define POLL_RD (POLLIN | POLLRDNORM)

/* Whether p asks to read a milter connection with bytes read ahead. */
static int
read_ahead_for(const struct pollfd *p)
{
	return (p->events & POLL_RD) != 0 && ra_unread(conn_ra(p->fd)) > 0;
}

int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	nfds_t i, ready = 0, other = 0;
	int r = 0;

	if (!resolved_fn((void **)&next_poll))
		return -1;
	/* A worker's poll of its connection: send held replies first.
	 * (The controller's poll of several is never its owner.) */
	if (nfds == 1)
		flush_held(fds[0].fd, conn_ra(fds[0].fd));
	for (i = 0; i < nfds; i++) {
		if (!read_ahead_for(&fds[i])) {
			other++;
			continue;
		}
		ready++;
		if ((fds[i].events & ~POLL_RD) != 0)
			other++;	/* it asks for more than reading */
	}
	if (ready == 0)
		return next_poll(fds, nfds, timeout);
	/* Some are readable now.  Ask the kernel about the rest, if any,
	 * without waiting.  One with bytes read ahead is readable, plus
	 * what else it asked for and the kernel reports; its error or
	 * hangup, if any, shows once those bytes are handed out. */
	if (other == 0 || next_poll(fds, nfds, 0) < 0)
		for (i = 0; i < nfds; i++)
			fds[i].revents = 0;
	for (i = 0; i < nfds; i++) {
		if (read_ahead_for(&fds[i]))
			fds[i].revents = (short)((fds[i].revents &
			    fds[i].events) | (fds[i].events & POLL_RD));
		if (fds[i].revents != 0)
			r++;
	}
	return r;
}

int
close(int fd)
{
	if (!resolved_fn((void **)&next_close))
		return -1;
	/* The buffer stays, empty, for the next connection with this
	 * number. */
	struct connbuf *ra = conn_ra(fd);

	mark(fd, FD_OTHER);
	if (ra != NULL)
		ra_empty(ra);
	return next_close(fd);
}
