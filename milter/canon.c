/*
 * NAME
 *	canon -- DKIM "relaxed" canonicalization of header fields and body
 * SYNOPSIS
 *	canon_header("Subject", " hi\n\tthere", 12, 1, sink, arg);
 *	canon_body_init(&cb, sink, arg); canon_body_add(&cb, p, n); ...
 *	canon_body_finish(&cb);
 *	canon_simple_len_add(&sl, p, n); ... canon_simple_len_finish(&sl);
 * DESCRIPTION
 *	RFC 6376 3.4.2 (header) and 3.4.4 (body), written to a sink so the
 *	bytes go straight into a digest.  The MTA hands milters lines ending
 *	in bare LF or CRLF; both count as a line end here, as they do once
 *	the message is on the wire with CRLF.  A CR not followed by LF is an
 *	ordinary character, as it is for other verifiers.
 *
 *	Signing needs no "simple" form; verifying an l= signature needs the
 *	length of the body in it (has l= covered all of it?), which
 *	canon_simple_len_*() counts without keeping the bytes.
 */
#include "buildconf.h"

#include <string.h>

#include "milter/canon.h"

static int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Batches small writes. */
struct out {
	canon_sink	 sink;
	void		*arg;
	unsigned char	 buf[1024];
	size_t		 n;
};

static void
out_flush(struct out *o)
{
	if (o->n > 0)
		o->sink(o->arg, o->buf, o->n);
	o->n = 0;
}

static void
out_byte(struct out *o, unsigned char c)
{
	if (o->n == sizeof(o->buf))
		out_flush(o);
	o->buf[o->n++] = c;
}

void
canon_header(const char *name, const char *value, size_t vlen, int crlf,
    canon_sink sink, void *arg)
{
	struct out o = { .sink = sink, .arg = arg };
	size_t nlen = strlen(name);
	int wsp = 0, started = 0;

	/* "Delete any WSP characters remaining before ... the colon". */
	while (nlen > 0 && is_wsp((unsigned char)name[nlen - 1]))
		nlen--;
	for (size_t i = 0; i < nlen; i++) {
		unsigned char c = (unsigned char)name[i];
		out_byte(&o, c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) :
		    c);
	}
	out_byte(&o, ':');
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)value[i];

		/* Unfold: a line break inside the value is dropped; the
		 * white space after it is what separates words. */
		if (c == '\n' || (c == '\r' && i + 1 < vlen &&
		    value[i + 1] == '\n'))
			continue;
		if (is_wsp(c)) {
			wsp = 1;
			continue;
		}
		/* White space before the value and at its end goes; runs of
		 * it inside become one SP. */
		if (wsp && started)
			out_byte(&o, ' ');
		wsp = 0;
		started = 1;
		out_byte(&o, c);
	}
	if (crlf) {
		out_byte(&o, '\r');
		out_byte(&o, '\n');
	}
	out_flush(&o);
}

void
canon_body_init(struct canon_body *cb, canon_sink sink, void *arg)
{
	memset(cb, 0, sizeof(*cb));
	cb->sink = sink;
	cb->arg = arg;
}

static void
body_byte(struct canon_body *cb, unsigned char c)
{
	if (cb->n == sizeof(cb->buf)) {
		cb->sink(cb->arg, cb->buf, cb->n);
		cb->n = 0;
	}
	cb->buf[cb->n++] = c;
}

/* A character that is neither white space nor a line end. */
static void
body_content(struct canon_body *cb, unsigned char c)
{
	if (!cb->content) {
		/* Empty lines before this one were not trailing after all. */
		for (; cb->empty > 0; cb->empty--) {
			body_byte(cb, '\r');
			body_byte(cb, '\n');
		}
	}
	if (cb->wsp)
		body_byte(cb, ' ');
	cb->wsp = 0;
	cb->content = 1;
	body_byte(cb, c);
}

static void
body_eol(struct canon_body *cb)
{
	cb->wsp = 0;		/* white space at the end of a line goes */
	if (cb->content) {
		body_byte(cb, '\r');
		body_byte(cb, '\n');
		cb->content = 0;
	} else
		cb->empty++;
}

void
canon_body_add(struct canon_body *cb, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (cb->cr) {
			cb->cr = 0;
			if (c == '\n') {
				body_eol(cb);
				continue;
			}
			body_content(cb, '\r');
		}
		if (c == '\r')
			cb->cr = 1;
		else if (c == '\n')
			body_eol(cb);
		else if (is_wsp(c))
			cb->wsp = 1;
		else
			body_content(cb, c);
	}
}

void
canon_body_finish(struct canon_body *cb)
{
	if (cb->cr) {
		cb->cr = 0;
		body_content(cb, '\r');
	}
	if (cb->content)
		body_eol(cb);	/* a last line without its CRLF gets one */
	cb->empty = 0;		/* trailing empty lines are ignored */
	if (cb->n > 0)
		cb->sink(cb->arg, cb->buf, cb->n);
	cb->n = 0;
}

/* A line ended: its bytes and the CRLF count unless it was empty, when
 * the CRLF waits to see whether a non-empty line follows. */
static void
simple_eol(struct canon_simple_len *sl)
{
	if (sl->line > 0) {
		sl->len += sl->held + sl->line + 2;
		sl->held = 0;
		sl->line = 0;
	} else
		sl->held += 2;
}

void
canon_simple_len_add(struct canon_simple_len *sl, const unsigned char *p,
    size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (sl->cr) {
			sl->cr = 0;
			if (p[i] == '\n') {
				simple_eol(sl);
				continue;
			}
			sl->line++;		/* a lone CR is content */
		}
		if (p[i] == '\r')
			sl->cr = 1;
		else if (p[i] == '\n')
			simple_eol(sl);
		else
			sl->line++;
	}
}

unsigned long long
canon_simple_len_finish(struct canon_simple_len *sl)
{
	if (sl->cr) {
		sl->cr = 0;
		sl->line++;
	}
	if (sl->line > 0)
		simple_eol(sl);	/* a last line without CRLF gets one */
	sl->held = 0;
	/* RFC 6376 3.4.3: an empty body is a single CRLF. */
	return sl->len > 0 ? sl->len : 2;
}
