/*
 * NAME
 *	log -- the one logging path of authfilter
 * SYNOPSIS
 *	log_init(ident, to_stderr, format);
 *	log_msg(LOG_INFO, "reloaded %s", path);
 *	log_record(LOG_INFO, fields, n);
 * DESCRIPTION
 *	Every line authfilter writes goes through here.  Output goes to
 *	syslog (facility mail) or, in the foreground, to stderr.  When
 *	stderr is the journal (systemd sets JOURNAL_STREAM to its device and
 *	inode), each line starts with its priority as sd-daemon(3) says,
 *	"<3>" for an error, and carries no time stamp of its own: the
 *	journal records both, and the unit sets the facility (mail).  With
 *	format LOG_FORMAT_SYSLOG a record is "key=value" pairs; with
 *	LOG_FORMAT_JSON every line is one JSON object.  While a daemon
 *	going to the background starts up, log_echo_stderr(1) copies errors
 *	and warnings to stderr as plain text: the starting terminal.
 *
 *	Values come from the network: control characters, quotes and
 *	bytes that are not UTF-8 are escaped so that a header can neither
 *	split a log line (log injection) nor make the JSON invalid.
 * DIAGNOSTICS
 *	Over-long lines are truncated; logging never fails the caller.
 */
#include "buildconf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

/* One line of output at most.  A field that does not fit is left out
 * whole (never cut inside a value: the line stays valid JSON and every
 * value it shows is complete), and the line then says truncated=yes.
 * Per-message records put the verdict fields first for this reason. */
#define LOG_LINE_MAX 8192
/* Kept free for the truncation mark and the closing brace. */
#define LOG_RESERVE 32

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_to_stderr = 1;
static int log_to_journal;	/* stderr is the journal's stream */
static int log_echo;		/* errors and warnings to stderr too */
/* Changed by a reload while other threads log: always read it through
 * current_format(). */
static enum log_format log_fmt = LOG_FORMAT_SYSLOG;
static char log_ident[64] = "authfilter";

struct out {
	char	*p;
	size_t	 size;
	size_t	 len;
	int	 dropped;	/* a byte did not fit */
};

static void
out_byte(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->p[o->len++] = c;
	else
		o->dropped = 1;
	o->p[o->len < o->size ? o->len : o->size - 1] = '\0';
}

/* Fields are written within size - LOG_RESERVE. */
static void
out_reserve(struct out *o, size_t dstsz)
{
	o->size = dstsz > 2 * LOG_RESERVE ? dstsz - LOG_RESERVE : dstsz;
}

/* After one field: if it did not fit, take it back whole. */
static int
out_field_fits(struct out *o, size_t mark)
{
	if (!o->dropped)
		return 1;
	o->len = mark;
	o->p[mark] = '\0';
	o->dropped = 0;
	return 0;
}

static void
out_str(struct out *o, const char *s)
{
	while (*s != '\0')
		out_byte(o, *s++);
}

static void
out_fmt(struct out *o, const char *fmt, ...)
{
	char buf[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out_str(o, buf);
}

/* Length of the valid UTF-8 sequence at s (at most avail bytes), 0 if
 * the bytes there are not one (overlong forms and surrogates included). */
static size_t
utf8_seq_len(const unsigned char *s, size_t avail)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* JSON string body: valid UTF-8 passes, anything else is escaped. */
static void
out_json_string(struct out *o, const char *val)
{
	const unsigned char *s = (const unsigned char *)val;
	size_t avail = strlen(val), n;

	out_byte(o, '"');
	while (avail > 0) {
		if (*s == '"' || *s == '\\') {
			out_byte(o, '\\');
			out_byte(o, (char)*s);
			n = 1;
		} else if (*s < 0x20 || *s == 0x7f) {
			out_fmt(o, "\\u%04x", *s);
			n = 1;
		} else if ((n = utf8_seq_len(s, avail)) == 0) {
			/* Not UTF-8: keep the byte visible, stay valid JSON. */
			out_fmt(o, "\\\\x%02x", *s);
			n = 1;
		} else {
			for (size_t i = 0; i < n; i++)
				out_byte(o, (char)s[i]);
		}
		s += n;
		avail -= n;
	}
	out_byte(o, '"');
}

/* Text value: bare when it is plain, else quoted with C-style escapes. */
static void
out_text_value(struct out *o, const char *val)
{
	const unsigned char *s;
	int plain = *val != '\0';

	for (s = (const unsigned char *)val; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '"' || *s == '\\' ||
		    *s == '=')
			plain = 0;
	if (plain) {
		out_str(o, val);
		return;
	}
	out_byte(o, '"');
	for (s = (const unsigned char *)val; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			out_byte(o, '\\');
			out_byte(o, (char)*s);
		} else if (*s < 0x20 || *s >= 0x7f)
			out_fmt(o, "\\x%02x", *s);
		else
			out_byte(o, (char)*s);
	}
	out_byte(o, '"');
}

size_t
log_format_text(char *dst, size_t dstsz, const struct log_field *f, size_t n)
{
	struct out o = { dst, dstsz, 0, 0 };
	int cut = 0;

	if (dstsz == 0)
		return 0;
	dst[0] = '\0';
	out_reserve(&o, dstsz);
	for (size_t i = 0; i < n; i++) {
		size_t mark = o.len;

		if (f[i].val == NULL)
			continue;
		if (o.len > 0)
			out_byte(&o, ' ');
		out_str(&o, f[i].key);
		out_byte(&o, '=');
		out_text_value(&o, f[i].val);
		cut |= !out_field_fits(&o, mark);
	}
	o.size = dstsz;
	if (cut)
		out_str(&o, o.len > 0 ? " truncated=yes" : "truncated=yes");
	return o.len;
}

/* The fields that are counts: JSON numbers, as readers of JSON logs
 * expect (the values are digits; anything else stays a string). */
static const char *const count_keys[] = { "nrcpt", "ar_removed", NULL };

static int
is_count(const char *key, const char *s)
{
	size_t k = 0;

	while (count_keys[k] != NULL && strcmp(count_keys[k], key) != 0)
		k++;
	if (count_keys[k] == NULL || *s == '\0' ||
	    (s[0] == '0' && s[1] != '\0'))
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

size_t
log_format_json(char *dst, size_t dstsz, const char *level,
    const struct log_field *f, size_t n)
{
	struct out o = { dst, dstsz, 0, 0 };
	char ts[32];
	int cut = 0;
	struct timespec now;
	struct tm tm;

	if (dstsz == 0)
		return 0;
	dst[0] = '\0';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	out_reserve(&o, dstsz);
	out_str(&o, "{\"ts\":\"");
	out_str(&o, ts);
	out_str(&o, "\",\"level\":");
	out_json_string(&o, level);
	for (size_t i = 0; i < n; i++) {
		size_t mark = o.len;

		if (f[i].val == NULL)
			continue;
		out_byte(&o, ',');
		out_json_string(&o, f[i].key);
		out_byte(&o, ':');
		if (is_count(f[i].key, f[i].val))
			out_str(&o, f[i].val);
		else
			out_json_string(&o, f[i].val);
		cut |= !out_field_fits(&o, mark);
	}
	o.size = dstsz;
	if (cut)
		out_str(&o, ",\"truncated\":\"yes\"");
	/* The object must close even in a buffer too small for anything:
	 * room for "}" is kept. */
	if (o.len + 2 >= dstsz)
		o.len = dstsz - 2;
	dst[o.len++] = '}';
	dst[o.len] = '\0';
	return o.len;
}

static const char *
prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "crit";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_DEBUG: return "debug";
	default: return "info";
	}
}

static enum log_format
current_format(void)
{
	enum log_format f;

	pthread_mutex_lock(&log_lock);
	f = log_fmt;
	pthread_mutex_unlock(&log_lock);
	return f;
}

static void
log_emit(int prio, enum log_format fmt, const char *line)
{
	char stamp[32], head[128];
	time_t now;
	struct tm tm;

	if (!log_to_stderr) {
		syslog(prio, "%s", line);
		return;
	}
	pthread_mutex_lock(&log_lock);
	if (log_to_journal)
		fprintf(stderr, "<%d>%s\n", LOG_PRI(prio), line);
	else if (fmt == LOG_FORMAT_JSON)
		fprintf(stderr, "%s\n", line);
	else {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(head, sizeof(head), "%s %s[%ld]: %s: ", stamp,
		    log_ident, (long)getpid(), prio_name(prio));
		fprintf(stderr, "%s%s\n", head, line);
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

/* JOURNAL_STREAM is "DEVICE:INODE" of the journal's stream; a child of
 * the service that writes elsewhere inherits the variable, not the fd. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident, int to_stderr, enum log_format fmt)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_to_stderr = to_stderr;
	log_to_journal = to_stderr && stderr_is_journal();
	log_fmt = fmt;
	if (!to_stderr)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_echo_stderr(int on)
{
	pthread_mutex_lock(&log_lock);
	log_echo = on;
	pthread_mutex_unlock(&log_lock);
}

void
log_set_format(enum log_format fmt)
{
	pthread_mutex_lock(&log_lock);
	log_fmt = fmt;
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(int prio, const char *fmt, ...)
{
	char text[LOG_LINE_MAX], line[LOG_LINE_MAX];
	struct log_field f = { "msg", text };
	va_list ap;

	enum log_format lf = current_format();

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Free text may quote network data: no line breaks, no controls. */
	for (unsigned char *c = (unsigned char *)text; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (lf == LOG_FORMAT_JSON) {
		log_format_json(line, sizeof(line), prio_name(prio), &f, 1);
		log_emit(prio, lf, line);
	} else
		log_emit(prio, lf, text);
	if (prio <= LOG_WARNING && !log_to_stderr) {
		pthread_mutex_lock(&log_lock);
		if (log_echo)
			fprintf(stderr, "%s: %s%s\n", log_ident,
			    prio == LOG_WARNING ? "warning: " : "", text);
		pthread_mutex_unlock(&log_lock);
	}
}

void
log_record(int prio, const struct log_field *fields, size_t n)
{
	char line[LOG_LINE_MAX];
	enum log_format lf = current_format();

	if (lf == LOG_FORMAT_JSON)
		log_format_json(line, sizeof(line), prio_name(prio), fields, n);
	else
		log_format_text(line, sizeof(line), fields, n);
	log_emit(prio, lf, line);
}
