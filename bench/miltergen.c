/*
 * NAME
 *	miltergen -- drive any milter with the MTA side of the milter protocol
 * SYNOPSIS
 *	miltergen -s inet:PORT@HOST|unix:/path [-c sessions] [-m messages]
 *	    [-b body-bytes] [-o] [-a login] [-p pid]
 * DESCRIPTION
 *	Opens `sessions` connections at once; each negotiates (protocol 6,
 *	header values with leading space), then sends messages through
 *	connect, helo, mail, rcpt, headers, body (64 KiB chunks) and end of
 *	message, reading every reply and applying none.  -m is the total
 *	number of messages, spread over the sessions.  -o makes messages
 *	outbound (client 127.0.0.1, or SASL login -a), otherwise inbound
 *	from 198.51.100.25.  With -p, the milter process's CPU seconds and
 *	peak RSS are read from /proc before and after.
 *
 *	Prints: messages, errors, seconds, msgs/s, latency p50/p90/p99/max
 *	of one message (MAIL to the end-of-message reply), and CPU/RSS.
 *	A benchmark tool: nothing in it asserts a speed.
 * DIAGNOSTICS
 *	Exit 1 when any message did not get a final reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char	*sock;
	int		 sessions, messages, outbound;
	size_t		 body;
	const char	*login;
};

struct worker {
	const struct opts *o;
	int		 n;		/* messages for this session */
	double		*lat;		/* seconds, one per message */
	int		 done, errors;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
dial(const char *spec)
{
	int fd = -1, one = 1;

	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", spec + 5);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
			goto fail;
		return fd;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		const char *at = strchr(spec, '@');
		if (at == NULL || inet_pton(AF_INET, at + 1, &sin.sin_addr) != 1)
			return -1;
		sin.sin_port = htons((uint16_t)atoi(spec + 5));
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
			goto fail;
		/* As Postfix does not, we do: no Nagle on our side, so any
		 * stall measured is the milter's. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
writen(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
readn(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t r = read(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int
cmd(int fd, char c, const void *data, size_t len)
{
	unsigned char hdr[5];
	uint32_t n = htonl((uint32_t)len + 1);

	memcpy(hdr, &n, 4);
	hdr[4] = (unsigned char)c;
	return writen(fd, hdr, 5) || (len > 0 && writen(fd, data, len)) ? -1 :
	    0;
}

/* Read replies until a final one; returns its code or -1. */
static int
final_reply(int fd)
{
	/* modification requests and progress come before the final reply */
	static const char mods[] = "him+-qebp";
	unsigned char hdr[4];
	char *buf;
	uint32_t n;
	int code;

	for (;;) {
		if (readn(fd, hdr, 4) != 0)
			return -1;
		memcpy(&n, hdr, 4);
		n = ntohl(n);
		if (n == 0 || n > 16 * 1024 * 1024 || (buf = malloc(n)) == NULL)
			return -1;
		if (readn(fd, buf, n) != 0) {
			free(buf);
			return -1;
		}
		code = (unsigned char)buf[0];
		free(buf);
		if (code == 0 || strchr(mods, code) == NULL)
			return code;
	}
}

static int
step(int fd, char c, const void *data, size_t len)
{
	int code;

	if (cmd(fd, c, data, len) != 0 || (code = final_reply(fd)) < 0)
		return -1;
	return code == 'c' || code == 'a' ? 0 : -1;
}

static size_t
pack(char *buf, size_t sz, const char *a, const char *b)
{
	size_t la = strlen(a) + 1, lb = b != NULL ? strlen(b) + 1 : 0;

	if (la + lb > sz)
		return 0;
	memcpy(buf, a, la);
	if (b != NULL)
		memcpy(buf + la, b, lb);
	return la + lb;
}

static void *
session(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	char buf[1024], *body;
	uint32_t neg[3] = { htonl(6), htonl(0x1 | 0x10 | 0x20 | 0x100),
	    htonl(0x00100000) };
	const char *ip = o->outbound && o->login == NULL ? "127.0.0.1" :
	    "198.51.100.25";
	size_t len;
	int fd;

	if ((fd = dial(o->sock)) < 0 || (body = malloc(o->body + 1)) == NULL) {
		w->errors += w->n;
		return NULL;
	}
	for (size_t i = 0; i < o->body; i++)
		body[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	for (size_t i = 62; i < o->body; i += 64)
		body[i] = '\r';
	if (cmd(fd, 'O', neg, sizeof(neg)) != 0 || final_reply(fd) != 'O')
		goto fail;
	/* connect: hostname NUL, family '4', port (2 bytes), address NUL */
	len = pack(buf, sizeof(buf), "client.test", NULL);
	buf[len++] = '4';
	buf[len++] = (char)(25000 >> 8);
	buf[len++] = (char)(25000 & 0xff);
	len += pack(buf + len, sizeof(buf) - len, ip, NULL);
	if (step(fd, 'C', buf, len) != 0 ||
	    step(fd, 'H', "client.test", 12) != 0)
		goto fail;
	for (int m = 0; m < w->n; m++) {
		double t0 = now();
		int ok = 1;
		if (o->login != NULL) {
			len = pack(buf + 1, sizeof(buf) - 1, "{auth_authen}",
			    o->login);
			buf[0] = 'M';
			ok = cmd(fd, 'D', buf, len + 1) == 0;
		}
		ok = ok && step(fd, 'M', "<alice@example.org>", 20) == 0 &&
		    step(fd, 'R', "<bob@example.net>", 18) == 0;
		static const char *hdrs[][2] = {
			{ "From", " Alice <alice@example.org>" },
			{ "To", " bob@example.net" },
			{ "Subject", " load" },
			{ "Date", " Mon, 23 Nov 2026 12:00:00 +0000" },
			{ "Message-ID", " <load@example.org>" },
		};
		for (size_t h = 0; ok && h < 5; h++) {
			len = pack(buf, sizeof(buf), hdrs[h][0], hdrs[h][1]);
			ok = step(fd, 'L', buf, len) == 0;
		}
		ok = ok && step(fd, 'N', NULL, 0) == 0;
		for (size_t off = 0; ok && off < o->body; off += 65535) {
			size_t n = o->body - off < 65535 ? o->body - off : 65535;
			ok = step(fd, 'B', body + off, n) == 0;
		}
		ok = ok && step(fd, 'E', NULL, 0) == 0;
		w->lat[m] = now() - t0;
		if (!ok) {
			w->errors += w->n - m;
			goto fail;
		}
		w->done++;
		(void)cmd(fd, 'A', NULL, 0);	/* RSET between messages */
	}
	(void)cmd(fd, 'Q', NULL, 0);
fail:
	free(body);
	close(fd);
	return NULL;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* utime+stime (seconds) and VmHWM (KiB) of pid. */
static void
proc_usage(int pid, double *cpu, long *hwm)
{
	char path[64], line[512];
	unsigned long ut = 0, st = 0;
	FILE *fp;

	*cpu = 0;
	*hwm = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fp = fopen(path, "r")) != NULL) {
		if (fgets(line, sizeof(line), fp) != NULL) {
			char *p = strrchr(line, ')');
			if (p != NULL)
				sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u "
				    "%*u %*u %*u %lu %lu", &ut, &st);
		}
		fclose(fp);
	}
	*cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((fp = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strncmp(line, "VmHWM:", 6) == 0)
				*hwm = atol(line + 6);
		fclose(fp);
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { NULL, 1, 100, 0, 2048, NULL };
	int ch, pid = 0, done = 0, errors = 0, k = 0;
	double cpu0 = 0, cpu1 = 0, t0, t1, *all;
	long hwm0 = 0, hwm1 = 0;
	struct worker *w;
	pthread_t *tid;

	while ((ch = getopt(argc, argv, "s:c:m:b:oa:p:")) != -1) {
		switch (ch) {
		case 's': o.sock = optarg; break;
		case 'c': o.sessions = atoi(optarg); break;
		case 'm': o.messages = atoi(optarg); break;
		case 'b': o.body = (size_t)atol(optarg); break;
		case 'o': o.outbound = 1; break;
		case 'a': o.login = optarg; o.outbound = 1; break;
		case 'p': pid = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (o.sock == NULL || o.sessions < 1 || o.messages < o.sessions)
		goto usage;
	w = calloc((size_t)o.sessions, sizeof(*w));
	tid = calloc((size_t)o.sessions, sizeof(*tid));
	all = calloc((size_t)o.messages, sizeof(*all));
	if (w == NULL || tid == NULL || all == NULL)
		return 1;
	if (pid > 0)
		proc_usage(pid, &cpu0, &hwm0);
	t0 = now();
	for (int i = 0; i < o.sessions; i++) {
		w[i].o = &o;
		w[i].n = o.messages / o.sessions + (i < o.messages % o.sessions);
		w[i].lat = calloc((size_t)w[i].n + 1, sizeof(double));
		pthread_create(&tid[i], NULL, session, &w[i]);
	}
	for (int i = 0; i < o.sessions; i++) {
		pthread_join(tid[i], NULL);
		for (int m = 0; m < w[i].done; m++)
			all[k++] = w[i].lat[m];
		done += w[i].done;
		errors += w[i].errors;
		free(w[i].lat);
	}
	t1 = now();
	if (pid > 0)
		proc_usage(pid, &cpu1, &hwm1);
	qsort(all, (size_t)k, sizeof(*all), cmpd);
#define PCT(p) (k > 0 ? all[(size_t)((k - 1) * (p))] * 1000 : 0)
	printf("messages %d errors %d seconds %.3f msgs/s %.1f\n", done,
	    errors, t1 - t0, done / (t1 - t0));
	printf("latency_ms p50 %.3f p90 %.3f p99 %.3f max %.3f\n", PCT(0.50),
	    PCT(0.90), PCT(0.99), k > 0 ? all[k - 1] * 1000 : 0.0);
	if (pid > 0)
		printf("milter_cpu_s %.3f cpu_us_per_msg %.1f peak_rss_kib %ld\n",
		    cpu1 - cpu0, done > 0 ? (cpu1 - cpu0) * 1e6 / done : 0.0,
		    hwm1);
	free(all);
	free(w);
	free(tid);
	return errors > 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: miltergen -s inet:PORT@HOST|unix:/path "
	    "[-c sessions] [-m messages] [-b body-bytes] [-o] [-a login] "
	    "[-p pid]\n");
	return 2;
}
