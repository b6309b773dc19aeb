/*
 * protocol.h -- the milter protocol (version 6) on the wire: frames,
 * commands, the order they may come in, replies.  No I/O.
 */
#ifndef AUTHFILTER_PROTOCOL_H
#define AUTHFILTER_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The reference values of the wire constants: SMFIC_*, SMFIR_*, SMFIP_*
 * (mfdef.h), SMFIF_* and SMFIM_* (mfapi.h).  Nothing of libmilter is
 * linked; only these definitions are used. */
#include <libmilter/mfapi.h>

#define MP_VERSION	6	/* the protocol version we speak */
#define MP_VERSION_MIN	2	/* oldest an MTA may offer (as libmilter) */
#define MP_FRAME_HDR	5	/* 4-byte length, then the command byte */

/* The stages a D (macro) command can carry macros for, in protocol
 * order; a command of stage i makes the macros of later stages stale. */
enum mp_stage {
	MP_STAGE_CONNECT, MP_STAGE_HELO, MP_STAGE_MAIL, MP_STAGE_RCPT,
	MP_STAGE_DATA, MP_STAGE_EOH, MP_STAGE_EOM, MP_NSTAGES
};

/* The stage of a command's macros, MP_NSTAGES for a command without
 * (HEADER, BODY, UNKNOWN and the rest). */
enum mp_stage	mp_stage_of(char cmd);

/* One decoded command.  Strings point into the caller's buffer and are
 * NUL-terminated there; they live as long as that buffer. */
struct mp_cmd {
	char	 cmd;			/* SMFIC_* */
	union {
		struct {		/* O */
			uint32_t version, actions, protocol;
		} optneg;
		struct {		/* C */
			const char *host;
			char	 family;	/* SMFIA_* */
			uint16_t port;		/* host order; 0 if none */
			const char *addr;	/* "" for SMFIA_UNKNOWN */
		} connect;
		struct {		/* H, U: one string */
			const char *s;
		} str;
		struct {		/* M, R: address, then ESMTP args */
			const char *addr;
			size_t	 argc;		/* strings, address included */
		} args;
		struct {		/* L */
			const char *name, *value;
		} header;
		struct {		/* D */
			enum mp_stage stage;	/* MP_NSTAGES: kept nowhere */
			const char *pairs;	/* name NUL value NUL ... */
			size_t	 len, npairs;
		} macro;
		struct {		/* B, E: body bytes (E: the last ones) */
			const unsigned char *data;
			size_t	 len;
		} body;
	} u;
};

/*
 * Where a frame ends.  buf holds avail bytes from the start of a frame.
 * Returns 1 when more bytes are needed, 0 with *payload (the bytes
 * after the command byte) when the frame header is whole, -1 with err
 * when its length is 0 or more than max_payload + 1.
 */
int	mp_frame(const unsigned char *buf, size_t avail, size_t max_payload,
	    size_t *payload, char *err, size_t errsz);

/* What can be told from a frame's header alone: a known command, and a
 * length its kind allows (O: 12 bytes; N, T, A, Q, K: none).  0 or -1. */
int	mp_frame_check(char cmd, size_t payload, char *err, size_t errsz);

/* Decode the payload of command `cmd` (data may be modified: nothing is
 * copied).  0, or -1 with err saying what is wrong. */
int	mp_decode(char cmd, unsigned char *data, size_t len, struct mp_cmd *,
	    char *err, size_t errsz);

/* Name of a command for messages: "MAIL (M)"; "0x07" for unknown. */
const char *mp_cmd_name(char cmd, char *buf, size_t bufsz);

/* The order commands may come in.  MP_PH_* is where a connection is. */
enum mp_phase {
	MP_PH_START,		/* nothing yet: only O */
	MP_PH_NEGOTIATED,	/* after O, or K: C next */
	MP_PH_SESSION,		/* after C, and between messages */
	MP_PH_MAIL,		/* after M */
	MP_PH_RCPT,		/* after R */
	MP_PH_HEADERS,		/* after T or L */
	MP_PH_EOH,		/* after N */
	MP_PH_BODY,		/* after B */
	MP_PH_CLOSED		/* after Q */
};
#define MP_IN_MESSAGE(ph) ((ph) >= MP_PH_MAIL && (ph) <= MP_PH_BODY)

enum mp_order {
	MP_ORDER_OK,		/* *phase moved on */
	MP_ORDER_ABORT_FIRST,	/* ok, but ends the message in progress */
	MP_ORDER_BAD		/* not allowed here: err says why */
};
enum mp_order	mp_order(enum mp_phase *, char cmd, char *err, size_t errsz);

/* Replies are appended to a growing buffer, at most `max` bytes. */
struct mp_buf {
	unsigned char	*p;
	size_t		 len, cap, max;
};

void	mp_buf_free(struct mp_buf *);
/* Append one reply: 0, or -1 when out of memory or past max. */
int	mp_put(struct mp_buf *, char code, const void *data, size_t len);
/* A reply of strings, each with its NUL ("h": name, value); idx >= 0
 * puts a 4-byte index first ("i", "m"). */
int	mp_put_strings(struct mp_buf *, char code, long idx, const char *a,
	    const char *b);
/* The O reply: version, actions, protocol flags, then for each stage
 * with a list (symlist[SMFIM_*] != NULL) its macro names. */
int	mp_put_optneg(struct mp_buf *, uint32_t version, uint32_t actions,
	    uint32_t protocol, const char *const *symlist, size_t nsymlist);
/* "y": "CODE XCODE TEXT"; CR, LF and other control bytes in text become
 * spaces, and "%" is doubled (the MTA reads the text as a format). */
int	mp_put_replycode(struct mp_buf *, const char *code, const char *xcode,
	    const char *text);

/* 32-bit big-endian, as every number on the wire. */
uint32_t mp_get32(const unsigned char *);
void	 mp_set32(unsigned char *, uint32_t);

#endif
