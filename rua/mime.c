/*
 * NAME
 *	mime -- an aggregate report as an e-mail message
 * SYNOPSIS
 *	rua_gzip(xml, len, &gz, &gzlen, err, sizeof(err));
 *	rua_mime_message(&mail, &msg, &msglen, err, sizeof(err));
 * DESCRIPTION
 *	rua_gzip() compresses with zlib in the gzip format (deflateInit2
 *	with windowBits 15 + 16), as RFC 9990 3.2 asks.
 *
 *	rua_mime_message() writes the message RFC 9990 3.2 describes: From,
 *	To, Date, Message-ID, the Subject "Report Domain: ... Submitter:
 *	... Report-ID: <...>", MIME-Version, and a multipart/mixed body of
 *	a short text/plain part and the report as application/gzip, base64
 *	in lines of 76 characters, with its file name in Content-Type's
 *	name and Content-Disposition's filename.  It adds
 *	"Auto-Submitted: auto-generated" (RFC 3834: no auto-replies) and
 *	RUA_MAIL_HEADER, by which our own report mail is recognised.
 *	Header fields longer than 78 characters are folded at spaces; a
 *	Subject that is not ASCII is encoded (RFC 2047, UTF-8, B).
 *
 *	Lines end in LF: the message goes to sendmail -t -i or to a file.
 * DIAGNOSTICS
 *	-1 and what failed in err: zlib's error, or out of memory.
 * SEE ALSO
 *	send_cmd.c, RFC 9990 3.2, RFC 2045, RFC 2047
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "rua/mime.h"

int
rua_gzip(const void *in, size_t len, unsigned char **out, size_t *outlen,
    char *err, size_t errsz)
{
	z_stream z;
	uLong bound;
	unsigned char *buf;
	int rc;

	*out = NULL;
	memset(&z, 0, sizeof(z));
	if (len > UINT32_MAX) {
		snprintf(err, errsz, "gzip: %zu bytes: too large", len);
		return -1;
	}
	/* 15 + 16: a gzip header and trailer around the deflate data. */
	if ((rc = deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY)) != Z_OK) {
		snprintf(err, errsz, "gzip: %s", zError(rc));
		return -1;
	}
	/* deflateBound() leaves out the gzip header's 18 bytes. */
	bound = deflateBound(&z, (uLong)len) + 32;
	if ((buf = malloc(bound)) == NULL) {
		deflateEnd(&z);
		snprintf(err, errsz, "gzip: out of memory");
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		snprintf(err, errsz, "gzip: %s", rc == Z_OK ? "output too "
		    "small" : zError(rc));
		return -1;
	}
	*out = buf;
	return 0;
}

/* A growing string. */
struct sbuf {
	char	*s;
	size_t	 len, cap;
	int	 failed;
};

static void
sb_add(struct sbuf *b, const char *s, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *n;
		while (cap < b->len + len + 1)
			cap *= 2;
		if ((n = realloc(b->s, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->s = n;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		sb_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_add(b, big, (size_t)n);
	free(big);
}

/* "Name: value", folded at spaces before column 78 (RFC 5322 2.2.3). */
static void
sb_header(struct sbuf *b, const char *name, const char *value)
{
	size_t col = strlen(name) + 2;
	const char *p = value;

	sb_str(b, name);
	sb_str(b, ":");
	while (*p != '\0') {
		size_t word = strcspn(p + 1, " ") + 1;
		if (p != value && *p == ' ' && col + word > 78) {
			sb_str(b, "\n");
			col = 0;
		} else if (p == value) {
			sb_str(b, " ");
		}
		sb_add(b, p, word);
		col += word;
		p += word;
	}
	sb_str(b, "\n");
}

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* len bytes as base64 without line breaks. */
static void
sb_base64(struct sbuf *b, const unsigned char *in, size_t len)
{
	for (size_t i = 0; i < len; i += 3) {
		char q[4];
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		sb_add(b, q, 4);
	}
}

/* A Subject with bytes outside ASCII as RFC 2047 encoded words of at
 * most 39 bytes each (52 base64 characters: a line stays within 78),
 * never splitting a UTF-8 sequence, one per folded line. */
static void
sb_subject_2047(struct sbuf *b, const char *s)
{
	size_t len = strlen(s), i = 0;

	sb_str(b, "Subject:");
	while (i < len) {
		size_t n = len - i > 39 ? 39 : len - i;
		while (i + n < len && n > 1 &&
		    ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n--;
		sb_str(b, i == 0 ? " =?UTF-8?B?" : "\n =?UTF-8?B?");
		sb_base64(b, (const unsigned char *)s + i, n);
		sb_str(b, "?=");
		i += n;
	}
	sb_str(b, "\n");
}

int
rua_mime_message(const struct rua_mail *m, char **out, size_t *outlen,
    char *err, size_t errsz)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	char date[64], boundary[80], field[1024];
	struct tm tm;

	*out = NULL;
	if (gmtime_r(&m->date, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
	    &tm) == 0) {
		snprintf(err, errsz, "date %lld cannot be written",
		    (long long)m->date);
		return -1;
	}
	/* Neither base64 nor our text has "=_": the boundary cannot occur
	 * in the parts (RFC 2046 5.1.1). */
	snprintf(boundary, sizeof(boundary), "=_authfilter_%s", m->message_id);
	boundary[strcspn(boundary, "@")] = '\0';
	boundary[69] = '\0';	/* RFC 2046 5.1.1: at most 70 */

	sb_header(&b, "From", m->from);
	sb_header(&b, "To", m->to);
	if (is_ascii(m->subject))
		sb_header(&b, "Subject", m->subject);
	else
		sb_subject_2047(&b, m->subject);
	sb_header(&b, "Date", date);
	snprintf(field, sizeof(field), "<%s>", m->message_id);
	sb_header(&b, "Message-ID", field);
	sb_header(&b, "Auto-Submitted", "auto-generated");
	sb_header(&b, RUA_MAIL_HEADER, "aggregate");
	sb_header(&b, "MIME-Version", "1.0");
	sb_printf(&b, "Content-Type: multipart/mixed;\n boundary=\"%s\"\n\n",
	    boundary);
	sb_str(&b, "This is a DMARC aggregate report in MIME format.\n");

	sb_printf(&b, "\n--%s\n", boundary);
	sb_str(&b, "Content-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: 7bit\n\n");
	sb_str(&b, m->text);
	if (m->text[0] != '\0' && m->text[strlen(m->text) - 1] != '\n')
		sb_str(&b, "\n");

	sb_printf(&b, "\n--%s\n", boundary);
	sb_printf(&b, "Content-Type: application/gzip;\n name=\"%s\"\n",
	    m->filename);
	sb_printf(&b, "Content-Disposition: attachment;\n filename=\"%s\"\n",
	    m->filename);
	sb_str(&b, "Content-Transfer-Encoding: base64\n\n");
	/* RFC 2045 6.8: lines of at most 76 characters, 57 bytes each. */
	for (size_t i = 0; i < m->attlen; i += 57) {
		sb_base64(&b, m->att + i, m->attlen - i > 57 ? 57 :
		    m->attlen - i);
		sb_str(&b, "\n");
	}
	sb_printf(&b, "\n--%s--\n", boundary);
	if (b.failed) {
		free(b.s);
		snprintf(err, errsz, "report message: out of memory");
		return -1;
	}
	*out = b.s;
	*outlen = b.len;
	return 0;
}

void
rua_mime_subject(char *out, size_t outsz, const char *domain,
    const char *submitter, const char *report_id)
{
	snprintf(out, outsz, "Report Domain: %s Submitter: %s Report-ID: <%s>",
	    domain, submitter, report_id);
}
