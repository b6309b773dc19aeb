/*
 * NAME
 *	protocol -- the milter protocol on the wire, without I/O
 * SYNOPSIS
 *	mp_frame(buf, avail, max, &payload, err, errsz);
 *	mp_order(&phase, cmd, err, errsz);
 *	mp_decode(cmd, data, len, &cmd, err, errsz);
 *	mp_put(&out, SMFIR_CONTINUE, NULL, 0);
 * DESCRIPTION
 *	Version 6 of the protocol Sendmail and Postfix speak to milters
 *	(the constants are libmilter-dev's <libmilter/mfdef.h>).  Every
 *	frame is a 4-byte big-endian length, a command byte and length - 1
 *	bytes of data; strings in the data end with NUL.
 *
 *	The decoder is strict: a command whose data does not have exactly
 *	the form of its kind is an error, and so is a command out of order
 *	(mp_order).  The order is libmilter's state table (engine.c of
 *	Sendmail 8.14+) without its fall-back: libmilter, facing a command
 *	it did not expect, aborts the message and pretends to be after
 *	HELO; here only what a real MTA does is allowed, and anything else
 *	ends the connection.  What a real MTA does beyond that table:
 *	HELO again and MAIL again within a message (RFC 5321 4.1.4: EHLO
 *	resets the transaction), and ABORT or QUIT_NC anywhere after
 *	negotiation, each ending the message in progress.
 *
 *	Replies are appended to a buffer, so that several (header changes
 *	and the verdict of a message) go to the MTA in one write.
 * DIAGNOSTICS
 *	Each function fills err with what was wrong and returns -1 (or
 *	MP_ORDER_BAD); none reads outside the bytes it is given.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter/protocol.h"

uint32_t
mp_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void
mp_set32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static const struct {
	char		 cmd;
	const char	*name;
} names[] = {
	{ SMFIC_ABORT, "ABORT" }, { SMFIC_BODY, "BODY" },
	{ SMFIC_CONNECT, "CONNECT" }, { SMFIC_MACRO, "MACRO" },
	{ SMFIC_BODYEOB, "EOM" }, { SMFIC_HELO, "HELO" },
	{ SMFIC_QUIT_NC, "QUIT_NC" }, { SMFIC_HEADER, "HEADER" },
	{ SMFIC_MAIL, "MAIL" }, { SMFIC_EOH, "EOH" },
	{ SMFIC_OPTNEG, "OPTNEG" }, { SMFIC_QUIT, "QUIT" },
	{ SMFIC_RCPT, "RCPT" }, { SMFIC_DATA, "DATA" },
	{ SMFIC_UNKNOWN, "UNKNOWN" },
};

const char *
mp_cmd_name(char cmd, char *buf, size_t bufsz)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cmd == cmd) {
			snprintf(buf, bufsz, "%s (%c)", names[i].name, cmd);
			return buf;
		}
	snprintf(buf, bufsz, "unknown command 0x%02x", (unsigned char)cmd);
	return buf;
}

int
mp_frame(const unsigned char *buf, size_t avail, size_t max_payload,
    size_t *payload, char *err, size_t errsz)
{
	uint32_t len;

	if (avail < 4)
		return 1;
	len = mp_get32(buf);
	if (len == 0) {
		snprintf(err, errsz, "a command of length 0");
		return -1;
	}
	if (len - 1 > max_payload) {
		snprintf(err, errsz, "a command of %lu bytes, more than "
		    "milter_max_command (%zu)", (unsigned long)len - 1,
		    max_payload);
		return -1;
	}
	if (avail < MP_FRAME_HDR)
		return 1;
	*payload = len - 1;
	return 0;
}

int
mp_frame_check(char cmd, size_t payload, char *err, size_t errsz)
{
	char nb[40];

	switch (cmd) {
	case SMFIC_OPTNEG:
		if (payload == MILTER_OPTLEN)
			return 0;
		snprintf(err, errsz, "%s: data is not 12 bytes",
		    mp_cmd_name(cmd, nb, sizeof(nb)));
		return -1;
	case SMFIC_EOH:
	case SMFIC_DATA:
	case SMFIC_ABORT:
	case SMFIC_QUIT:
	case SMFIC_QUIT_NC:
		if (payload == 0)
			return 0;
		snprintf(err, errsz, "%s: carries data",
		    mp_cmd_name(cmd, nb, sizeof(nb)));
		return -1;
	case SMFIC_CONNECT:
	case SMFIC_MACRO:
	case SMFIC_HELO:
	case SMFIC_UNKNOWN:
	case SMFIC_MAIL:
	case SMFIC_RCPT:
	case SMFIC_HEADER:
	case SMFIC_BODY:
	case SMFIC_BODYEOB:
		return 0;
	default:
		snprintf(err, errsz, "%s", mp_cmd_name(cmd, nb, sizeof(nb)));
		return -1;
	}
}

/* Number of NUL-terminated strings that make up data exactly, or 0 when
 * data is empty or does not end with NUL. */
static size_t
count_strings(const unsigned char *data, size_t len)
{
	size_t n = 0;

	if (len == 0 || data[len - 1] != '\0')
		return 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\0';
	return n;
}

static int
bad(char *err, size_t errsz, const char *what, char cmd)
{
	char nb[40];

	snprintf(err, errsz, "%s: %s", mp_cmd_name(cmd, nb, sizeof(nb)),
	    what);
	return -1;
}

static int
decode_optneg(const unsigned char *d, size_t len, struct mp_cmd *c,
    char *err, size_t errsz)
{
	if (len != MILTER_OPTLEN)
		return bad(err, errsz, "data is not 12 bytes", c->cmd);
	c->u.optneg.version = mp_get32(d);
	c->u.optneg.actions = mp_get32(d + 4);
	c->u.optneg.protocol = mp_get32(d + 8);
	if (c->u.optneg.version < MP_VERSION_MIN)
		return bad(err, errsz, "protocol version older than 2",
		    c->cmd);
	return 0;
}

/* host NUL family [port(2) address NUL] */
static int
decode_connect(unsigned char *d, size_t len, struct mp_cmd *c, char *err,
    size_t errsz)
{
	const unsigned char *nul = memchr(d, '\0', len);
	size_t i, alen;
	unsigned char raw[sizeof(struct in6_addr)];
	const char *a;

	if (nul == NULL || (size_t)(nul - d) + 2 > len)
		return bad(err, errsz, "no host name and family", c->cmd);
	c->u.connect.host = (const char *)d;
	i = (size_t)(nul - d) + 1;
	c->u.connect.family = (char)d[i++];
	c->u.connect.port = 0;
	c->u.connect.addr = "";
	if (c->u.connect.family == SMFIA_UNKNOWN) {
		if (i == len)
			return 0;
		/* an MTA may still send a port and an address: ignored */
	} else if (c->u.connect.family != SMFIA_INET &&
	    c->u.connect.family != SMFIA_INET6 &&
	    c->u.connect.family != SMFIA_UNIX)
		return bad(err, errsz, "unknown address family", c->cmd);
	if (len - i < 3 || count_strings(d + i + 2, len - i - 2) != 1)
		return bad(err, errsz, "port and address are not a port and "
		    "one string", c->cmd);
	c->u.connect.port = (uint16_t)(d[i] << 8 | d[i + 1]);
	a = (const char *)d + i + 2;
	alen = len - i - 3;
	if (c->u.connect.family == SMFIA_UNKNOWN)
		return 0;
	c->u.connect.addr = a;
	if (c->u.connect.family == SMFIA_INET6 && alen > 5 &&
	    strncasecmp(a, "IPv6:", 5) == 0)
		c->u.connect.addr = a + 5;	/* Sendmail's form */
	if (c->u.connect.family == SMFIA_INET &&
	    inet_pton(AF_INET, c->u.connect.addr, raw) != 1)
		return bad(err, errsz, "not an IPv4 address", c->cmd);
	if (c->u.connect.family == SMFIA_INET6 &&
	    inet_pton(AF_INET6, c->u.connect.addr, raw) != 1)
		return bad(err, errsz, "not an IPv6 address", c->cmd);
	return 0;
}

/* The command each macro stage belongs to (mfapi.h's SMFIM_* order
 * differs; this is protocol order). */
static const char stage_cmds[MP_NSTAGES] = {
	[MP_STAGE_CONNECT] = SMFIC_CONNECT, [MP_STAGE_HELO] = SMFIC_HELO,
	[MP_STAGE_MAIL] = SMFIC_MAIL, [MP_STAGE_RCPT] = SMFIC_RCPT,
	[MP_STAGE_DATA] = SMFIC_DATA, [MP_STAGE_EOH] = SMFIC_EOH,
	[MP_STAGE_EOM] = SMFIC_BODYEOB,
};

enum mp_stage
mp_stage_of(char cmd)
{
	size_t i;

	for (i = 0; i < MP_NSTAGES; i++)
		if (stage_cmds[i] == cmd)
			break;
	return (enum mp_stage)i;
}

static int
decode_macro(unsigned char *d, size_t len, struct mp_cmd *c, char *err,
    size_t errsz)
{
	enum mp_stage i;
	size_t n;

	if (len == 0)
		return bad(err, errsz, "no stage", c->cmd);
	i = mp_stage_of((char)d[0]);
	/* Postfix also sends the macros of each header, body chunk and
	 * unknown command: they repeat those of EOH and EOM, and libmilter
	 * keeps none of them either. */
	if (i == MP_NSTAGES && (char)d[0] != SMFIC_HEADER &&
	    (char)d[0] != SMFIC_BODY && (char)d[0] != SMFIC_UNKNOWN)
		return bad(err, errsz, "macros for a stage that has none",
		    c->cmd);
	c->u.macro.stage = i;
	c->u.macro.pairs = (const char *)d + 1;
	c->u.macro.len = len - 1;
	n = count_strings(d + 1, len - 1);
	if (len > 1 && n == 0)
		return bad(err, errsz, "macro data does not end with NUL",
		    c->cmd);
	if (n % 2 != 0)
		return bad(err, errsz, "a macro name without a value",
		    c->cmd);
	for (const char *p = c->u.macro.pairs, *end = p + len - 1; p < end;
	    p += strlen(p) + 1) {
		if (*p == '\0')
			return bad(err, errsz, "an empty macro name", c->cmd);
		p += strlen(p) + 1;	/* its value */
	}
	c->u.macro.npairs = n / 2;
	return 0;
}

int
mp_decode(char cmd, unsigned char *d, size_t len, struct mp_cmd *c,
    char *err, size_t errsz)
{
	size_t n;

	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	switch (cmd) {
	case SMFIC_OPTNEG:
		return decode_optneg(d, len, c, err, errsz);
	case SMFIC_CONNECT:
		return decode_connect(d, len, c, err, errsz);
	case SMFIC_MACRO:
		return decode_macro(d, len, c, err, errsz);
	case SMFIC_HELO:
	case SMFIC_UNKNOWN:
		if (count_strings(d, len) != 1)
			return bad(err, errsz, "data is not one string", cmd);
		c->u.str.s = (const char *)d;
		return 0;
	case SMFIC_MAIL:
	case SMFIC_RCPT:
		if ((n = count_strings(d, len)) == 0)
			return bad(err, errsz, "no address", cmd);
		c->u.args.addr = (const char *)d;
		c->u.args.argc = n;
		return 0;
	case SMFIC_HEADER:
		if (count_strings(d, len) < 2 || d[0] == '\0')
			return bad(err, errsz, "not a header name and value",
			    cmd);
		/* A value with NUL bytes in it is read up to the first,
		 * as the MTA's C string is: libmilter does the same. */
		c->u.header.name = (const char *)d;
		c->u.header.value = (const char *)d + strlen((char *)d) + 1;
		return 0;
	case SMFIC_BODY:
	case SMFIC_BODYEOB:
		c->u.body.data = d;
		c->u.body.len = len;
		return 0;
	case SMFIC_EOH:
	case SMFIC_DATA:
	case SMFIC_ABORT:
	case SMFIC_QUIT:
	case SMFIC_QUIT_NC:
		if (len != 0)
			return bad(err, errsz, "carries data", cmd);
		return 0;
	default:
		return bad(err, errsz, "not a milter command", cmd);
	}
}

/* Phases each command is allowed in (a bit per enum mp_phase), and the
 * phase after it; D changes nothing. */
#define PH(p)	(1u << (p))
#define PH_AFTER_NEG (PH(MP_PH_NEGOTIATED) | PH(MP_PH_SESSION) | \
	PH(MP_PH_MAIL) | PH(MP_PH_RCPT) | PH(MP_PH_HEADERS) | PH(MP_PH_EOH) | \
	PH(MP_PH_BODY))
#define PH_MESSAGE (PH(MP_PH_MAIL) | PH(MP_PH_RCPT) | PH(MP_PH_HEADERS) | \
	PH(MP_PH_EOH) | PH(MP_PH_BODY))

static const struct {
	char		 cmd;
	unsigned	 allowed;
	enum mp_phase	 next;		/* MP_PH_START: stays */
	int		 ends_message;	/* in a message: abort it first */
} order[] = {
	{ SMFIC_OPTNEG, PH(MP_PH_START), MP_PH_NEGOTIATED, 0 },
	{ SMFIC_MACRO, PH_AFTER_NEG, MP_PH_START, 0 },
	{ SMFIC_CONNECT, PH(MP_PH_NEGOTIATED), MP_PH_SESSION, 0 },
	{ SMFIC_HELO, PH(MP_PH_SESSION) | PH_MESSAGE, MP_PH_SESSION, 1 },
	{ SMFIC_MAIL, PH(MP_PH_SESSION) | PH_MESSAGE, MP_PH_MAIL, 1 },
	{ SMFIC_RCPT, PH(MP_PH_MAIL) | PH(MP_PH_RCPT), MP_PH_RCPT, 0 },
	{ SMFIC_DATA, PH(MP_PH_RCPT), MP_PH_HEADERS, 0 },
	{ SMFIC_HEADER, PH(MP_PH_RCPT) | PH(MP_PH_HEADERS), MP_PH_HEADERS, 0 },
	{ SMFIC_EOH, PH(MP_PH_RCPT) | PH(MP_PH_HEADERS), MP_PH_EOH, 0 },
	{ SMFIC_BODY, PH(MP_PH_RCPT) | PH(MP_PH_EOH) | PH(MP_PH_BODY),
	    MP_PH_BODY, 0 },
	{ SMFIC_BODYEOB, PH(MP_PH_RCPT) | PH(MP_PH_EOH) | PH(MP_PH_BODY),
	    MP_PH_SESSION, 0 },
	{ SMFIC_UNKNOWN, PH(MP_PH_SESSION) | PH(MP_PH_MAIL) | PH(MP_PH_RCPT),
	    MP_PH_START, 0 },
	/* ABORT ends the message itself (engine.c) */
	{ SMFIC_ABORT, PH_AFTER_NEG, MP_PH_SESSION, 0 },
	{ SMFIC_QUIT_NC, PH_AFTER_NEG, MP_PH_NEGOTIATED, 1 },
	{ SMFIC_QUIT, PH(MP_PH_START) | PH_AFTER_NEG, MP_PH_CLOSED, 1 },
};

static const char *const phase_names[] = {
	[MP_PH_START] = "before negotiation",
	[MP_PH_NEGOTIATED] = "before CONNECT",
	[MP_PH_SESSION] = "outside a message",
	[MP_PH_MAIL] = "after MAIL",
	[MP_PH_RCPT] = "after RCPT",
	[MP_PH_HEADERS] = "among the headers",
	[MP_PH_EOH] = "after the end of headers",
	[MP_PH_BODY] = "in the body",
	[MP_PH_CLOSED] = "after QUIT",
};

enum mp_order
mp_order(enum mp_phase *ph, char cmd, char *err, size_t errsz)
{
	enum mp_order o;
	char nb[40];

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i].cmd != cmd)
			continue;
		if ((order[i].allowed & PH(*ph)) == 0) {
			snprintf(err, errsz, "%s %s",
			    mp_cmd_name(cmd, nb, sizeof(nb)),
			    phase_names[*ph]);
			return MP_ORDER_BAD;
		}
		if (order[i].next == MP_PH_START)
			return MP_ORDER_OK;
		if (*ph == MP_PH_NEGOTIATED && cmd == SMFIC_ABORT)
			return MP_ORDER_OK;	/* no session to be in yet */
		o = MP_IN_MESSAGE(*ph) && order[i].ends_message ?
		    MP_ORDER_ABORT_FIRST : MP_ORDER_OK;
		*ph = order[i].next;
		return o;
	}
	snprintf(err, errsz, "%s", mp_cmd_name(cmd, nb, sizeof(nb)));
	return MP_ORDER_BAD;
}

void
mp_buf_free(struct mp_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Room for n more bytes. */
static unsigned char *
reserve(struct mp_buf *b, size_t n)
{
	size_t cap;
	unsigned char *grown;

	if (n > b->max || b->len > b->max - n)
		return NULL;
	if (b->len + n <= b->cap)
		return b->p + b->len;
	for (cap = b->cap ? b->cap : 256; cap < b->len + n; cap *= 2)
		;
	if ((grown = realloc(b->p, cap)) == NULL)
		return NULL;
	b->p = grown;
	b->cap = cap;
	return b->p + b->len;
}

int
mp_put(struct mp_buf *b, char code, const void *data, size_t len)
{
	unsigned char *p;

	if (len >= UINT32_MAX || (p = reserve(b, MP_FRAME_HDR + len)) == NULL)
		return -1;
	mp_set32(p, (uint32_t)len + 1);
	p[4] = (unsigned char)code;
	if (len > 0)
		memcpy(p + MP_FRAME_HDR, data, len);
	b->len += MP_FRAME_HDR + len;
	return 0;
}

int
mp_put_strings(struct mp_buf *b, char code, long idx, const char *a,
    const char *s2)
{
	size_t la = strlen(a) + 1, lb = s2 != NULL ? strlen(s2) + 1 : 0;
	size_t li = idx >= 0 ? 4 : 0, len = li + la + lb;
	unsigned char *p;

	if (idx > (long)INT32_MAX || (p = reserve(b, MP_FRAME_HDR + len)) ==
	    NULL)
		return -1;
	mp_set32(p, (uint32_t)len + 1);
	p[4] = (unsigned char)code;
	if (idx >= 0)
		mp_set32(p + MP_FRAME_HDR, (uint32_t)idx);
	memcpy(p + MP_FRAME_HDR + li, a, la);
	if (s2 != NULL)
		memcpy(p + MP_FRAME_HDR + li + la, s2, lb);
	b->len += MP_FRAME_HDR + len;
	return 0;
}

int
mp_put_optneg(struct mp_buf *b, uint32_t version, uint32_t actions,
    uint32_t protocol, const char *const *symlist, size_t nsymlist)
{
	size_t len = MILTER_OPTLEN, off;
	unsigned char *p;

	for (size_t i = 0; i < nsymlist; i++)
		if (symlist[i] != NULL)
			len += 4 + strlen(symlist[i]) + 1;
	if ((p = reserve(b, MP_FRAME_HDR + len)) == NULL)
		return -1;
	mp_set32(p, (uint32_t)len + 1);
	p[4] = SMFIC_OPTNEG;
	mp_set32(p + 5, version);
	mp_set32(p + 9, actions);
	mp_set32(p + 13, protocol);
	off = MP_FRAME_HDR + MILTER_OPTLEN;
	for (size_t i = 0; i < nsymlist; i++) {
		size_t l;
		if (symlist[i] == NULL)
			continue;
		l = strlen(symlist[i]) + 1;
		mp_set32(p + off, (uint32_t)i);
		memcpy(p + off + 4, symlist[i], l);
		off += 4 + l;
	}
	b->len += MP_FRAME_HDR + len;
	return 0;
}

int
mp_put_replycode(struct mp_buf *b, const char *code, const char *xcode,
    const char *text)
{
	char buf[1024];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "%s %s ", code, xcode);
	for (const char *t = text; *t != '\0' && n + 3 < sizeof(buf); t++) {
		unsigned char c = (unsigned char)*t;
		if (c == '%')
			buf[n++] = '%';
		buf[n++] = c < ' ' || c == 0x7f ? ' ' : (char)c;
	}
	buf[n] = '\0';
	return mp_put(b, SMFIR_REPLYCODE, buf, n + 1);
}
