/* Unit tests for milter/canon.c: DKIM relaxed canonicalization.  The
 * expected texts are RFC 6376 section 3.4.5's examples and the rules of
 * 3.4.2/3.4.4 applied by hand. */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "milter/canon.h"
#include "t/tap.h"

struct buf {
	char	 p[8192];
	size_t	 n;
	int	 calls;
};

static void
sink(void *arg, const void *data, size_t len)
{
	struct buf *b = arg;

	if (b->n + len < sizeof(b->p)) {
		memcpy(b->p + b->n, data, len);
		b->n += len;
	}
	b->p[b->n] = '\0';
	b->calls++;
}

static const char *
hdr(const char *name, const char *value, int crlf)
{
	static struct buf b;

	memset(&b, 0, sizeof(b));
	canon_header(name, value, strlen(value), crlf, sink, &b);
	return b.p;
}

/* The body in chunks of `step` bytes (0: all at once). */
static const char *
body(const char *text, size_t step)
{
	static struct buf b;
	struct canon_body cb;
	size_t len = strlen(text);

	memset(&b, 0, sizeof(b));
	canon_body_init(&cb, sink, &b);
	if (step == 0)
		step = len ? len : 1;
	for (size_t o = 0; o < len; o += step)
		canon_body_add(&cb, (const unsigned char *)text + o,
		    len - o < step ? len - o : step);
	canon_body_finish(&cb);
	return b.p;
}

static void
body_all_chunkings(const char *text, const char *want, const char *name)
{
	char label[256];
	int same = 1;

	is_str(body(text, 0), want, name);
	for (size_t step = 1; step <= 7; step++)
		same = same && strcmp(body(text, step), want) == 0;
	snprintf(label, sizeof(label), "%s, in chunks of 1..7 bytes", name);
	ok(same, label);
}

/* canon_simple_len of text fed whole (step 0) or in chunks of step. */
static unsigned long long
simple_len(const char *text, size_t step)
{
	struct canon_simple_len sl = { 0 };
	size_t len = strlen(text);

	if (step == 0)
		step = len;
	for (size_t i = 0; i < len; i += step)
		canon_simple_len_add(&sl, (const unsigned char *)text + i,
		    len - i < step ? len - i : step);
	return canon_simple_len_finish(&sl);
}

static void
simple_all_chunkings(const char *text, unsigned long long want,
    const char *name)
{
	int same = 1;

	is_int(simple_len(text, 0), want, name);
	for (size_t step = 1; step <= 7; step++)
		same = same && simple_len(text, step) == want;
	ok(same, "... in chunks of 1..7 bytes");
}

int
main(void)
{
	/* RFC 6376 3.4.5: "A: X" / "B : Y<HTAB><CRLF><HTAB>Z  " */
	is_str(hdr("A", " X", 1), "a:X\r\n", "RFC 6376 3.4.5 header A");
	is_str(hdr("B ", " Y\t\r\n\tZ  ", 1), "b:Y Z\r\n",
	    "RFC 6376 3.4.5 header B (space before the colon, folding)");
	is_str(hdr("Subject", " hello\n\tworld", 1), "subject:hello world\r\n",
	    "folded with bare LF, as Postfix hands it over");
	is_str(hdr("Subject", "no-leading-space", 0),
	    "subject:no-leading-space", "without SMFIP_HDR_LEADSPC, no CRLF");
	is_str(hdr("X-Empty", "", 1), "x-empty:\r\n", "empty value");
	is_str(hdr("X-Ws", " \t \r\n\t ", 1), "x-ws:\r\n",
	    "value of white space only");
	is_str(hdr("X-Cr", " a\rb", 1), "x-cr:a\rb\r\n",
	    "a CR without LF is an ordinary character");
	is_str(hdr("To", " a,\r\n  b ,\tc", 1), "to:a, b , c\r\n",
	    "runs of white space become one SP");

	/* RFC 6376 3.4.5 body: " C <CRLF>D <HTAB> E<CRLF><CRLF><CRLF>" */
	body_all_chunkings(" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n",
	    "RFC 6376 3.4.5 body");
	body_all_chunkings("", "", "empty body stays empty");
	body_all_chunkings("\r\n\r\n", "", "only empty lines: empty");
	body_all_chunkings("abc", "abc\r\n", "missing final CRLF is added");
	body_all_chunkings("a\nb\n", "a\r\nb\r\n", "bare LF ends lines");
	body_all_chunkings("a\r\n \t\r\nb\r\n", "a\r\n\r\nb\r\n",
	    "a white-space line inside the body stays as an empty line");
	body_all_chunkings("a\r\n\r\n\r\nb\r\n\r\n", "a\r\n\r\n\r\nb\r\n",
	    "inner empty lines kept, trailing ones dropped");
	body_all_chunkings("a \r\n\t\r\n", "a\r\n",
	    "trailing white space and white-space lines at the end go");
	body_all_chunkings("x\ry\r\n", "x\ry\r\n", "lone CR is content");
	body_all_chunkings("x\r", "x\r\r\n", "lone CR at the very end");
	body_all_chunkings("  lead\r\n", " lead\r\n",
	    "leading white space becomes one SP");

	/* RFC 6376 3.4.3 simple body: only trailing empty lines go */
	simple_all_chunkings(" C \r\nD \t E\r\n\r\n\r\n", 12,
	    "simple length of RFC 6376 3.4.5's body: \" C \\r\\nD \\t E\\r\\n\"");
	simple_all_chunkings("", 2, "simple: an empty body is one CRLF");
	simple_all_chunkings("\r\n\r\n", 2, "simple: only empty lines: one "
	    "CRLF");
	simple_all_chunkings("abc", 5, "simple: a missing final CRLF is added");
	simple_all_chunkings("a\nb\n", 6, "simple: bare LF counts as CRLF");
	simple_all_chunkings("a\r\n\r\nb\r\n\r\n", 8,
	    "simple: inner empty lines kept, trailing ones dropped");
	simple_all_chunkings("a \r\n \r\n", 7,
	    "simple: white space is content, even on a line of its own");
	simple_all_chunkings("x\r", 4, "simple: a lone CR at the end is "
	    "content");
	return done_testing();
}
