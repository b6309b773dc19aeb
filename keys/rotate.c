/*
 * NAME
 *	rotate -- the key rotation state machine, decided without I/O
 * SYNOPSIS
 *	n = rotate_plan(keys, nkeys, "example.org", KEY_RSA, dns, ttl,
 *	    time(NULL), &policy, steps, 16);
 * DESCRIPTION
 *	One run of "authfilter-keys rotate" for one domain and algorithm.
 *	Each run advances what can advance and nothing else, so it is safe
 *	to run from cron every day and after a crash at any point:
 *
 *	-  More than one active key (a crash between activating the new key
 *	   and retiring the old): all but the newest retire.
 *	-  A pending key whose record DNS serves: the first time, note when
 *	   (ROT_SEEN); once that was at least the TTL given ago (the
 *	   longer of the record's and its zone's negative TTL, RFC 2308:
 *	   keypub.c's dns_check()), every resolver that cached "no
 *	   record" has forgotten it: activate it
 *	   and retire the active key.  Not served (or no longer): wait.
 *	-  No pending key, and no active key or one older than `every` (or
 *	   --now): create a pending key.
 *	-  Retiring keys past `grace`: revoke (their record stays, with an
 *	   empty p=, so verifiers see a revocation, not a missing key).
 *	-  Revoked keys past `remove_after`: remove from the store.
 *
 *	A key signs only while active, and becomes active only after DNS
 *	served it for a TTL; it stays published through the grace period,
 *	so mail signed during the whole rotation verifies.
 */
#include "buildconf.h"

#include <string.h>

#include "keys/rotate.h"

static const char *const kind_names[] = { "create", "seen", "unseen",
	"wait", "wait-dns", "activate", "retire", "revoke", "remove" };

const char *
rot_kind_name(enum rot_kind k)
{
	return kind_names[k];
}

static int
mine(const struct key *k, const char *domain, enum key_alg alg)
{
	return k->alg == alg && strcmp(k->domain, domain) == 0;
}

size_t
rotate_plan(const struct key *keys, size_t n, const char *domain,
    enum key_alg alg, const enum rot_dns *dns, const unsigned *ttl,
    time_t now, const struct rot_policy *p, struct rot_step *out, size_t max)
{
	size_t ns = 0, newest_active = n, pending = n;

#define STEP(k, i) do {						\
	if (ns < max) {							\
		out[ns].kind = (k);					\
		out[ns].key = (i);					\
		ns++;							\
	}								\
} while (0)

	for (size_t i = 0; i < n; i++) {
		if (!mine(&keys[i], domain, alg))
			continue;
		if (keys[i].state == KEY_ACTIVE && (newest_active == n ||
		    keys[i].activated > keys[newest_active].activated))
			newest_active = i;
		if (keys[i].state == KEY_PENDING && (pending == n ||
		    keys[i].created > keys[pending].created))
			pending = i;
	}
	/* Crash recovery: one active key per domain and algorithm. */
	for (size_t i = 0; i < n; i++)
		if (mine(&keys[i], domain, alg) &&
		    keys[i].state == KEY_ACTIVE && i != newest_active)
			STEP(ROT_RETIRE, i);

	if (pending != n) {
		const struct key *k = &keys[pending];
		if (dns[pending] != ROT_DNS_SERVED) {
			if (k->published != 0)
				STEP(ROT_UNSEEN, pending);
			STEP(ROT_WAIT_DNS, pending);
		} else if (k->published == 0) {
			STEP(ROT_SEEN, pending);
			STEP(ROT_WAIT, pending);
		} else if (now < k->published + (time_t)(ttl[pending] >
		    k->ttl ? ttl[pending] : k->ttl)) {
			STEP(ROT_WAIT, pending);
		} else {
			STEP(ROT_ACTIVATE, pending);
			if (newest_active != n)
				STEP(ROT_RETIRE, newest_active);
		}
	} else if (newest_active == n || p->now ||
	    now - keys[newest_active].activated >= p->every)
		STEP(ROT_CREATE, n);

	for (size_t i = 0; i < n; i++) {
		if (!mine(&keys[i], domain, alg))
			continue;
		if (keys[i].state == KEY_RETIRING &&
		    now - keys[i].retired >= p->grace)
			STEP(ROT_REVOKE, i);
		else if (keys[i].state == KEY_REVOKED &&
		    now - keys[i].revoked >= p->remove_after)
			STEP(ROT_REMOVE, i);
	}
#undef STEP
	return ns;
}
