/*
 * canon.h -- DKIM "relaxed" canonicalization (RFC 6376 3.4.2, 3.4.4) and
 * the length of a "simple" body (3.4.3).
 */
#ifndef AUTHFILTER_CANON_H
#define AUTHFILTER_CANON_H

#include <stddef.h>

/* Where canonical bytes go: a digest update, a buffer append, ... */
typedef void	(*canon_sink)(void *arg, const void *buf, size_t len);

/* One header field, "name" and its value as received (folded with LF or
 * CRLF, leading white space or not), written as relaxed canonical form
 * "name:value", followed by CRLF when `crlf`. */
void	canon_header(const char *name, const char *value, size_t vlen,
	    int crlf, canon_sink, void *arg);

/* The body, streamed in chunks of any size.  Lines may end in CRLF or
 * bare LF; trailing white space and trailing empty lines go, runs of
 * white space become one SP, a non-empty body ends in CRLF. */
struct canon_body {
	canon_sink	 sink;
	void		*arg;
	unsigned long long empty;	/* empty lines held back */
	int		 wsp;		/* white space seen, not yet written */
	int		 cr;		/* a CR that may start CRLF */
	int		 content;	/* this line has written something */
	unsigned char	 buf[4096];	/* output batched for the sink */
	size_t		 n;
};

void	canon_body_init(struct canon_body *, canon_sink, void *arg);
void	canon_body_add(struct canon_body *, const unsigned char *buf,
	    size_t len);
void	canon_body_finish(struct canon_body *);

/* The length of a body in "simple" canonical form (RFC 6376 3.4.3),
 * streamed: lines end in CRLF or bare LF (a CRLF either way), trailing
 * empty lines go, an empty body is one CRLF.  Zero it to start. */
struct canon_simple_len {
	unsigned long long len;		/* bytes certainly in the body */
	unsigned long long held;	/* empty lines' CRLFs held back */
	unsigned long long line;	/* bytes of the unfinished line */
	int		 cr;		/* a CR that may start CRLF */
};

void	canon_simple_len_add(struct canon_simple_len *,
	    const unsigned char *buf, size_t len);
unsigned long long canon_simple_len_finish(struct canon_simple_len *);

#endif
