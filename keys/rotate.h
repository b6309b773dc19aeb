/*
 * rotate.h -- the key rotation state machine, decided without I/O.
 */
#ifndef AUTHFILTER_ROTATE_H
#define AUTHFILTER_ROTATE_H

#include <stddef.h>
#include <time.h>

#include "keys/keystore.h"

/* What DNS serves for a pending key, looked up by the caller. */
enum rot_dns { ROT_DNS_UNKNOWN, ROT_DNS_SERVED, ROT_DNS_NOT_SERVED };

/* authfilter-keys rotate's defaults: a new key when the active one is
 * this old; retiring and revoked keys wait this long before each next
 * step.  doctor warns about active keys past ROT_EVERY_DEFAULT too. */
#define ROT_EVERY_DEFAULT	(180 * 86400)
#define ROT_GRACE_DEFAULT	(7 * 86400)

struct rot_policy {
	time_t	 every;		/* make a new key when the active one is
				 * this old */
	time_t	 grace;		/* retiring -> revoked after this */
	time_t	 remove_after;	/* revoked -> removed after this */
	int	 now;		/* --now: a new key even if not due */
};

enum rot_kind {
	ROT_CREATE,		/* a new pending key */
	ROT_SEEN,		/* DNS serves the pending key: note when */
	ROT_UNSEEN,		/* DNS stopped serving it: forget that */
	ROT_WAIT,		/* pending key served, TTL not yet over */
	ROT_WAIT_DNS,		/* pending key not served yet */
	ROT_ACTIVATE,		/* pending -> active */
	ROT_RETIRE,		/* active -> retiring */
	ROT_REVOKE,		/* retiring -> revoked */
	ROT_REMOVE		/* revoked -> gone from the store */
};

struct rot_step {
	enum rot_kind	 kind;
	size_t		 key;	/* index into keys (not for ROT_CREATE) */
};

/* The steps one run takes for (domain, alg), in order.  dns[i] is what
 * DNS serves for keys[i] (only pending keys are looked at) and ttl[i]
 * its TTL.  Returns the number of steps put in out. */
size_t	rotate_plan(const struct key *keys, size_t n, const char *domain,
	    enum key_alg alg, const enum rot_dns *dns, const unsigned *ttl,
	    time_t now, const struct rot_policy *, struct rot_step *out,
	    size_t max);
const char *rot_kind_name(enum rot_kind);

#endif
