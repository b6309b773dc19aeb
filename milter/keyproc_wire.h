/*
 * keyproc_wire.h -- what the milter process and the signer say to each
 * other (keyproc.c, keyproc_serve.c).  Both ends are the same binary,
 * forked: structs go as they are.
 *
 * Every message is a struct kp_hdr and `len` bytes.  Requests:
 *	KP_LOAD	struct kp_load, then the key_dir path (no NUL)
 *	KP_SIGN	struct kp_sign
 *	KP_FREE	uint64_t store
 * Replies: KP_OK with
 *	(LOAD)	struct kp_loaded, nkeys struct key (pkey NULL), then nerrs
 *		NUL-terminated messages
 *	(SIGN)	the signature
 *	(FREE)	nothing
 * or KP_ERR with a message (no NUL).
 */
#ifndef AUTHFILTER_KEYPROC_WIRE_H
#define AUTHFILTER_KEYPROC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "milter/keyproc.h"

enum kp_type { KP_LOAD = 1, KP_SIGN, KP_FREE, KP_OK = 100, KP_ERR };

/* A request is never larger; a reply (a store's keys) may be. */
#define KP_REQUEST_MAX	8192
#define KP_REPLY_MAX	(64u << 20)

struct kp_hdr {
	uint32_t	 type;
	uint32_t	 len;
};

struct kp_load {
	uint32_t	 owner;		/* uid that must own the keys */
};

struct kp_loaded {
	uint64_t	 store;		/* 0: not loaded (see the errors) */
	uint32_t	 nkeys;
	uint32_t	 nerrs;
	uint32_t	 flags;
	uint32_t	 pad;
};
/* key_dir is not the directory the signer was confined to: a restart
 * is what helps, not its permissions. */
#define KP_LOADED_RESTART	1u

struct kp_sign {
	uint64_t	 store;
	uint32_t	 idx;
	uint32_t	 dglen;
	unsigned char	 dg[KEYPROC_DIGEST_MAX];
};

/* One message out: the header, then a and b.  0, or -1 (errno). */
int	kp_send(int fd, uint32_t type, const void *a, size_t alen,
	    const void *b, size_t blen);
/* One message in, into a malloc'd *buf (NUL added past len).  0; -1 on
 * EOF, an I/O error or a message over max. */
int	kp_recv(int fd, struct kp_hdr *h, char **buf, size_t max);

#endif
