/*
 * NAME
 *	miltergen -- drive any milter with the MTA side of the milter protocol
 * SYNOPSIS
 *	miltergen -s inet:PORT@HOST|unix:/path [-s ...] [-c sessions]
 *	    [-m messages] [-b body-bytes | -F message-file] [-o] [-a login]
 *	    [-k per-connection] [-p pid[,pid...]] [-R]
 * DESCRIPTION
 *	Opens `sessions` connections at once; each negotiates (protocol 6,
 *	header values with leading space, and, as Postfix does, every
 *	"no reply" stage SMFIP_NR_*: a stage the milter agrees to is sent
 *	without waiting for a reply; -R offers none), then sends messages
 *	through connect, helo, mail, rcpt, headers, body (64 KiB chunks) and
 *	end of message, reading every reply and applying none.  -m is the
 *	total number of messages, spread over the sessions; with -k each
 *	session reconnects after that many messages (-k 1: one connection
 *	per message, as Postfix has for one message per SMTP session).
 *	Several -s make
 *	a chain, as an MTA with several milters: every step goes to each
 *	milter in turn.  -F sends the header fields and body of a message
 *	file (folded lines joined with LF, as Postfix hands them over; the
 *	body with CRLF) instead of the built-in one (five header fields and
 *	-b bytes of text).  -o makes messages outbound (client 127.0.0.1, or
 *	SASL login -a), otherwise inbound from 198.51.100.25 with HELO
 *	mx.client.example.  With -p, the milter processes' CPU seconds, peak
 *	RSS and current RSS are read from /proc before and after (summed
 *	over the pids).
 *
 *	Prints: messages, errors, seconds, msgs/s, latency p50/p90/p99/max
 *	of one message (MAIL to the last end-of-message reply), and CPU/RSS.
 *	A benchmark tool: nothing in it asserts a speed.
 * DIAGNOSTICS
 *	Exit 1 when any message did not get a final reply.
 */
#include "buildconf.h"

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

#define MAX_CHAIN 4
#define MAX_HDRS 256
#define MAX_PIDS 4

struct opts {
	const char	*sock[MAX_CHAIN];
	int		 nsock;
	int		 sessions, messages, outbound, no_nr, per_conn;
	size_t		 body;
	const char	*login;
	/* the message: header fields (name NUL value NUL) and body */
	char		*hdr[MAX_HDRS];
	size_t		 hdrlen[MAX_HDRS], nhdr;
	char		*msgbody;
	size_t		 msgbodylen;
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

/* Read replies until a final one; returns its code or -1.  With `data`,
 * the final reply's first `dlen` bytes after the code go there. */
static int
final_reply_data(int fd, void *data, size_t dlen)
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
		if (code == 0 || strchr(mods, code) == NULL) {
			if (data != NULL && n - 1 >= dlen)
				memcpy(data, buf + 1, dlen);
			else if (data != NULL)
				code = -1;
			free(buf);
			return code;
		}
		free(buf);
	}
}

static int
final_reply(int fd)
{
	return final_reply_data(fd, NULL, 0);
}

/* SMFIP_* protocol bits: "no reply" for each stage, and skipped stages */
#define NR_CONN		0x1000
#define NR_HELO		0x2000
#define NR_MAIL		0x4000
#define NR_RCPT		0x8000
#define NR_HDR		0x80
#define NR_EOH		0x40000
#define NR_BODY		0x80000
#define NR_ALL		(NR_CONN | NR_HELO | NR_MAIL | NR_RCPT | NR_HDR | \
			 NR_EOH | NR_BODY | 0x10000 | 0x20000)
#define NO_DATA_UNKNOWN	(0x200 | 0x100)
#define HDR_LEADSPC	0x00100000

/* One command; its reply is awaited unless `noreply` (the milter agreed
 * not to send one for this stage). */
static int
step(int fd, char c, const void *data, size_t len, int noreply)
{
	int code;

	if (cmd(fd, c, data, len) != 0)
		return -1;
	if (noreply)
		return 0;
	if ((code = final_reply(fd)) < 0)
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

/* One command to every milter of the chain in turn. */
static int
step_all(const int *fd, const unsigned long *pf, int n, char c,
    const void *data, size_t len, unsigned long nrbit)
{
	for (int i = 0; i < n; i++)
		if (step(fd[i], c, data, len, nrbit != 0 &&
		    (pf[i] & nrbit) != 0) != 0)
			return -1;
	return 0;
}

/* One connection: negotiate, connect, HELO, then up to `count` messages
 * from w->lat[first].  Returns how many got their replies, -1 when the
 * connection itself failed. */
static int
connection(struct worker *w, int first, int count)
{
	const struct opts *o = w->o;
	char buf[1024];
	uint32_t neg[3] = { htonl(6), htonl(0x1 | 0x10 | 0x20 | 0x100),
	    htonl(HDR_LEADSPC | NO_DATA_UNKNOWN | (o->no_nr ? 0 : NR_ALL)) };
	uint32_t got[3];
	unsigned long pf[MAX_CHAIN] = { 0 };
	const char *ip = o->outbound && o->login == NULL ? "127.0.0.1" :
	    "198.51.100.25";
	size_t len;
	int fd[MAX_CHAIN] = { 0 }, nfd = 0, m = 0;

	for (; nfd < o->nsock; nfd++)
		if ((fd[nfd] = dial(o->sock[nfd])) < 0)
			goto out;
	for (int i = 0; i < nfd; i++) {
		if (cmd(fd[i], 'O', neg, sizeof(neg)) != 0 ||
		    final_reply_data(fd[i], got, sizeof(got)) != 'O')
			goto out;
		pf[i] = ntohl(got[2]);
	}
	/* connect: hostname NUL, family '4', port (2 bytes), address NUL */
	len = pack(buf, sizeof(buf), "client.test", NULL);
	buf[len++] = '4';
	buf[len++] = (char)(25000 >> 8);
	buf[len++] = (char)(25000 & 0xff);
	len += pack(buf + len, sizeof(buf) - len, ip, NULL);
	if (step_all(fd, pf, nfd, 'C', buf, len, NR_CONN) != 0 ||
	    step_all(fd, pf, nfd, 'H', "mx.client.example", 18, NR_HELO) != 0)
		goto out;
	for (; m < count; m++) {
		double t0 = now();
		int ok = 1;
		if (o->login != NULL)
			for (int i = 0; ok && i < nfd; i++) {
				len = pack(buf + 1, sizeof(buf) - 1,
				    "{auth_authen}", o->login);
				buf[0] = 'M';
				ok = cmd(fd[i], 'D', buf, len + 1) == 0;
			}
		ok = ok && step_all(fd, pf, nfd, 'M', "<alice@example.org>",
		    20, NR_MAIL) == 0 && step_all(fd, pf, nfd, 'R',
		    "<bob@example.net>", 18, NR_RCPT) == 0;
		for (size_t h = 0; ok && h < o->nhdr; h++)
			ok = step_all(fd, pf, nfd, 'L', o->hdr[h], o->hdrlen[h],
			    NR_HDR) == 0;
		ok = ok && step_all(fd, pf, nfd, 'N', NULL, 0, NR_EOH) == 0;
		for (size_t off = 0; ok && off < o->msgbodylen; off += 65535) {
			size_t n = o->msgbodylen - off < 65535 ?
			    o->msgbodylen - off : 65535;
			ok = step_all(fd, pf, nfd, 'B', o->msgbody + off, n,
			    NR_BODY) == 0;
		}
		ok = ok && step_all(fd, pf, nfd, 'E', NULL, 0, 0) == 0;
		w->lat[first + m] = now() - t0;
		if (!ok)
			goto out;
		for (int i = 0; i < nfd; i++)	/* RSET between messages */
			(void)cmd(fd[i], 'A', NULL, 0);
	}
	for (int i = 0; i < nfd; i++)
		(void)cmd(fd[i], 'Q', NULL, 0);
out:
	for (int i = 0; i < nfd; i++)
		close(fd[i]);
	return m;
}

static void *
session(void *arg)
{
	struct worker *w = arg;
	int per = w->o->per_conn > 0 ? w->o->per_conn : w->n;

	while (w->done < w->n) {
		int want = w->n - w->done < per ? w->n - w->done : per;
		int got = connection(w, w->done, want);

		w->done += got;
		if (got < want) {
			w->errors += w->n - w->done;
			break;
		}
	}
	return NULL;
}

/* The built-in message: five header fields and `body` bytes of text. */
static int
builtin_message(struct opts *o)
{
	static const char *hdrs[][2] = {
		{ "From", " Alice <alice@example.org>" },
		{ "To", " bob@example.net" },
		{ "Subject", " load" },
		{ "Date", " Mon, 23 Nov 2026 12:00:00 +0000" },
		{ "Message-ID", " <load@example.org>" },
	};
	char buf[256];

	for (size_t h = 0; h < 5; h++) {
		o->hdrlen[h] = pack(buf, sizeof(buf), hdrs[h][0], hdrs[h][1]);
		if ((o->hdr[h] = malloc(o->hdrlen[h])) == NULL)
			return -1;
		memcpy(o->hdr[h], buf, o->hdrlen[h]);
	}
	o->nhdr = 5;
	if ((o->msgbody = malloc(o->body + 1)) == NULL)
		return -1;
	for (size_t i = 0; i < o->body; i++)
		o->msgbody[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	for (size_t i = 62; i < o->body; i += 64)
		o->msgbody[i] = '\r';
	o->msgbodylen = o->body;
	return 0;
}

/* Append n bytes to a growing buffer; -1 when memory runs out. */
static int
grow(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = (*len + n + 1) * 2;
		char *g = realloc(*buf, c);
		if (g == NULL)
			return -1;
		*buf = g;
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Store one header field as "name NUL value NUL". */
static int
add_field(struct opts *o, const char *field, size_t len)
{
	const char *colon = memchr(field, ':', len);
	size_t nl;

	if (colon == NULL || o->nhdr >= MAX_HDRS)
		return colon == NULL ? 0 : -1;
	nl = (size_t)(colon - field);
	if ((o->hdr[o->nhdr] = malloc(len + 1)) == NULL)
		return -1;
	memcpy(o->hdr[o->nhdr], field, nl);
	o->hdr[o->nhdr][nl] = '\0';
	memcpy(o->hdr[o->nhdr] + nl + 1, colon + 1, len - nl - 1);
	o->hdr[o->nhdr][len] = '\0';
	o->hdrlen[o->nhdr++] = len + 1;
	return 0;
}

/* A message file: header fields as the MTA passes them (name, value
 * with its leading space, folded lines joined by LF), body with CRLF. */
static int
file_message(struct opts *o, const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *line = NULL, *field = NULL;
	size_t cap = 0, flen = 0, fcap = 0, bcap = 0;
	ssize_t n;
	int in_body = 0, rc = 0;

	if (fp == NULL)
		return -1;
	while (rc == 0 && (n = getline(&line, &cap, fp)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (in_body) {
			rc = grow(&o->msgbody, &o->msgbodylen, &bcap, line,
			    (size_t)n) | grow(&o->msgbody, &o->msgbodylen,
			    &bcap, "\r\n", 2);
			continue;
		}
		if (n > 0 && (line[0] == ' ' || line[0] == '\t') && flen > 0) {
			rc = grow(&field, &flen, &fcap, "\n", 1) |
			    grow(&field, &flen, &fcap, line, (size_t)n);
			continue;
		}
		if (flen > 0)
			rc = add_field(o, field, flen);
		flen = 0;
		if (n == 0)
			in_body = 1;
		else
			rc |= grow(&field, &flen, &fcap, line, (size_t)n);
	}
	if (rc == 0 && !in_body && flen > 0)
		rc = add_field(o, field, flen);
	free(line);
	free(field);
	fclose(fp);
	return rc == 0 && o->nhdr > 0 ? 0 : -1;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* utime+stime (seconds), VmHWM and VmRSS (KiB) of pid. */
static void
proc_usage(int pid, double *cpu, long *hwm, long *rss)
{
	char path[64], line[512];
	unsigned long ut = 0, st = 0;
	FILE *fp;

	*cpu = 0;
	*hwm = 0;
	*rss = 0;
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
			else if (strncmp(line, "VmRSS:", 6) == 0)
				*rss = atol(line + 6);
		fclose(fp);
	}
}

/* proc_usage() summed over the pids. */
static void
usage_sum(const int *pids, int n, double *cpu, long *hwm, long *rss)
{
	*cpu = 0;
	*hwm = *rss = 0;
	for (int i = 0; i < n; i++) {
		double c;
		long h, r;
		proc_usage(pids[i], &c, &h, &r);
		*cpu += c;
		*hwm += h;
		*rss += r;
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { .sessions = 1, .messages = 100, .body = 2048 };
	int ch, pids[MAX_PIDS], npids = 0, done = 0, errors = 0, k = 0;
	double cpu0 = 0, cpu1 = 0, t0, t1, *all;
	long hwm0 = 0, hwm1 = 0, rss0 = 0, rss1 = 0;
	const char *file = NULL;
	struct worker *w;
	pthread_t *tid;

	while ((ch = getopt(argc, argv, "s:c:m:b:F:k:oa:p:R")) != -1) {
		switch (ch) {
		case 's':
			if (o.nsock == MAX_CHAIN)
				goto usage;
			o.sock[o.nsock++] = optarg;
			break;
		case 'c': o.sessions = atoi(optarg); break;
		case 'm': o.messages = atoi(optarg); break;
		case 'b': o.body = (size_t)atol(optarg); break;
		case 'F': file = optarg; break;
		case 'k': o.per_conn = atoi(optarg); break;
		case 'o': o.outbound = 1; break;
		case 'a': o.login = optarg; o.outbound = 1; break;
		case 'p':
			for (char *p = strtok(optarg, ","); p != NULL &&
			    npids < MAX_PIDS; p = strtok(NULL, ","))
				pids[npids++] = atoi(p);
			break;
		case 'R': o.no_nr = 1; break;
		default: goto usage;
		}
	}
	if (o.nsock == 0 || o.sessions < 1 || o.messages < o.sessions)
		goto usage;
	if ((file != NULL ? file_message(&o, file) : builtin_message(&o)) !=
	    0) {
		fprintf(stderr, "miltergen: %s: cannot read a message\n",
		    file != NULL ? file : "built-in");
		return 2;
	}
	w = calloc((size_t)o.sessions, sizeof(*w));
	tid = calloc((size_t)o.sessions, sizeof(*tid));
	all = calloc((size_t)o.messages, sizeof(*all));
	if (w == NULL || tid == NULL || all == NULL)
		return 1;
	usage_sum(pids, npids, &cpu0, &hwm0, &rss0);
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
	usage_sum(pids, npids, &cpu1, &hwm1, &rss1);
	qsort(all, (size_t)k, sizeof(*all), cmpd);
#define PCT(p) (k > 0 ? all[(size_t)((k - 1) * (p))] * 1000 : 0)
	printf("messages %d errors %d seconds %.3f msgs/s %.1f\n", done,
	    errors, t1 - t0, done / (t1 - t0));
	printf("latency_ms p50 %.3f p90 %.3f p99 %.3f max %.3f\n", PCT(0.50),
	    PCT(0.90), PCT(0.99), k > 0 ? all[k - 1] * 1000 : 0.0);
	if (npids > 0)
		printf("milter_cpu_s %.3f cpu_us_per_msg %.1f peak_rss_kib %ld "
		    "rss_kib_before %ld rss_kib_after %ld\n", cpu1 - cpu0,
		    done > 0 ? (cpu1 - cpu0) * 1e6 / done : 0.0, hwm1, rss0,
		    rss1);
	free(all);
	free(w);
	free(tid);
	for (size_t h = 0; h < o.nhdr; h++)
		free(o.hdr[h]);
	free(o.msgbody);
	return errors > 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: miltergen -s inet:PORT@HOST|unix:/path "
	    "[-s ...] [-c sessions] [-m messages] [-b body-bytes | -F file] "
	    "[-k per-connection] [-o] [-a login] [-p pid[,pid...]] [-R]\n");
	return 2;
}
