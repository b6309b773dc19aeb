/* Unit tests for rua/mime.c: gzip, and the report e-mail (RFC 9990
 * 3.2): its header fields, folding, and the attachment decoded back. */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "rua/mime.h"
#include "t/tap.h"

/* gunzip with zlib's own gzip detection: the bytes, or NULL. */
static char *
gunzip(const unsigned char *in, size_t len, size_t *outlen)
{
	static char out[1 << 16];
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return NULL;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = sizeof(out) - 1;
	rc = inflate(&z, Z_FINISH);
	*outlen = z.total_out;
	inflateEnd(&z);
	return rc == Z_STREAM_END ? out : NULL;
}

static int
b64val(int c)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(a, c) : NULL;
	return p ? (int)(p - a) : -1;
}

/* The base64 body after the last blank line before "--boundary--". */
static size_t
unbase64(const char *s, unsigned char *out)
{
	size_t n = 0;
	unsigned v = 0;
	int bits = 0;

	for (; *s != '\0' && *s != '-'; s++) {
		int d = b64val(*s);
		if (d < 0)
			continue;
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(v >> bits);
		}
	}
	return n;
}

/* Every line at most max characters. */
static int
lines_within(const char *s, const char *end, size_t max)
{
	while (s < end) {
		size_t len = strcspn(s, "\n");
		if (len > max)
			return 0;
		s += len + 1;
	}
	return 1;
}

int
main(void)
{
	const char *xml = "<feedback><version>1.0</version></feedback>\n";
	char big[20000], err[256], *msg, subject[600], *p, *back;
	unsigned char *gz, dec[20000];
	size_t gzlen, msglen, n;
	struct rua_mail m;

	ok(rua_gzip(xml, strlen(xml), &gz, &gzlen, err, sizeof(err)) == 0,
	    "gzip");
	ok(gzlen > 18 && gz[0] == 0x1f && gz[1] == 0x8b, "gzip magic");
	back = gunzip(gz, gzlen, &n);
	ok(back != NULL && n == strlen(xml) && memcmp(back, xml, n) == 0,
	    "gunzips to the XML");
	free(gz);
	for (size_t i = 0; i < sizeof(big); i++)	/* incompressible-ish */
		big[i] = (char)('a' + (i * 7919 % 26));
	ok(rua_gzip(big, sizeof(big), &gz, &gzlen, err, sizeof(err)) == 0 &&
	    (back = gunzip(gz, gzlen, &n)) != NULL && n == sizeof(big) &&
	    memcmp(back, big, n) == 0, "20 kB round trip");

	rua_mime_subject(subject, sizeof(subject), "example.com",
	    "mx.example", "1700000000.example.com.0a1b");
	is_str(subject, "Report Domain: example.com Submitter: mx.example "
	    "Report-ID: <1700000000.example.com.0a1b>", "RFC 9990 subject");
	memset(&m, 0, sizeof(m));
	m.from = "postmaster@mx.example";
	m.to = "dmarc@example.com";
	m.subject = subject;
	m.message_id = "1700000000.example.com.0a1b@mx.example";
	m.date = 1700000000;
	m.text = "A report.";
	m.filename = "mx.example!example.com!1700000000!1700086399!0a1b.xml.gz";
	m.att = gz;
	m.attlen = gzlen;
	ok(rua_mime_message(&m, &msg, &msglen, err, sizeof(err)) == 0,
	    "message");
	is_int(strlen(msg), msglen, "length");
	ok(strncmp(msg, "From: postmaster@mx.example\nTo: dmarc@example.com\n"
	    "Subject: Report Domain: example.com Submitter: mx.example "
	    "Report-ID:\n <1700000000.example.com.0a1b>\n", 137) == 0,
	    "From, To, Subject folded before column 78");
	ok(strstr(msg, "\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n") != NULL,
	    "Date in RFC 5322 form, UTC");
	ok(strstr(msg, "\nMessage-ID: <1700000000.example.com.0a1b@"
	    "mx.example>\n") != NULL, "Message-ID");
	ok(strstr(msg, "\nAuto-Submitted: auto-generated\n") != NULL &&
	    strstr(msg, "\n" RUA_MAIL_HEADER ": aggregate\n") != NULL,
	    "marked as our own automatic report");
	ok(strstr(msg, "\nMIME-Version: 1.0\nContent-Type: multipart/mixed;\n "
	    "boundary=\"=_authfilter_1700000000.example.com.0a1b\"\n") != NULL,
	    "multipart/mixed");
	ok(strstr(msg, "Content-Type: application/gzip;\n name=\"mx.example!"
	    "example.com!1700000000!1700086399!0a1b.xml.gz\"\nContent-"
	    "Disposition: attachment;\n filename=\"mx.example!example.com!"
	    "1700000000!1700086399!0a1b.xml.gz\"\nContent-Transfer-Encoding: "
	    "base64\n\n") != NULL, "attachment's type, name, encoding");
	p = strstr(msg, "base64\n\n") + 8;
	ok(lines_within(p, msg + msglen, 76), "base64 lines of 76 at most");
	n = unbase64(p, dec);
	ok(n == gzlen && memcmp(dec, gz, n) == 0,
	    "attachment decodes to the gzip bytes");
	ok(strstr(msg, "\nA report.\n") != NULL, "the text part");
	p = "\n--=_authfilter_1700000000.example.com.0a1b--\n";
	ok(msglen > strlen(p) && strcmp(msg + msglen - strlen(p), p) == 0,
	    "closing boundary last");
	free(msg);

	m.subject = "Report Domain: example.com Submitter: Bücher GmbH "
	    "Report-ID: <1>";
	ok(rua_mime_message(&m, &msg, &msglen, err, sizeof(err)) == 0 &&
	    strstr(msg, "\nSubject: =?UTF-8?B?") != NULL &&
	    lines_within(msg, strstr(msg, "\n\n"), 78),
	    "a Subject not in ASCII: encoded words, lines within 78");
	free(msg);
	free(gz);
	return done_testing();
}
