/* Unit tests for keys/rotate.c: the rotation state machine (issue 8). */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "keys/rotate.h"
#include "t/tap.h"

#define DAY 86400
static struct key keys[8];
static enum rot_dns dns[8];
static unsigned ttl[8];
static size_t nkeys;
static const struct rot_policy pol = { 180 * DAY, 7 * DAY, 7 * DAY, 0 };

static struct key *
add(const char *sel, enum key_state st, time_t t)
{
	struct key *k = &keys[nkeys];

	memset(k, 0, sizeof(*k));
	snprintf(k->domain, sizeof(k->domain), "example.org");
	snprintf(k->selector, sizeof(k->selector), "%s", sel);
	k->alg = KEY_RSA;
	k->state = st;
	k->created = t;
	if (st == KEY_ACTIVE)
		k->activated = t;
	if (st == KEY_RETIRING)
		k->retired = t;
	if (st == KEY_REVOKED)
		k->revoked = t;
	dns[nkeys] = ROT_DNS_UNKNOWN;
	ttl[nkeys] = 300;
	nkeys++;
	return k;
}

/* "kind:selector kind:selector ..." */
static const char *
plan(time_t now, const struct rot_policy *p)
{
	static char buf[512];
	struct rot_step s[16];
	size_t n = rotate_plan(keys, nkeys, "example.org", KEY_RSA, dns, ttl,
	    now, p, s, 16);

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char one[96];
		snprintf(one, sizeof(one), "%s%s:%s", i ? " " : "",
		    rot_kind_name(s[i].kind), s[i].kind == ROT_CREATE ? "-" :
		    keys[s[i].key].selector);
		strncat(buf, one, sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

int
main(void)
{
	time_t t0 = 1800000000;
	struct rot_policy now_pol = pol;
	struct key *k;

	nkeys = 0;
	is_str(plan(t0, &pol), "create:-", "empty store: create a key");

	nkeys = 0;
	add("a", KEY_ACTIVE, t0);
	is_str(plan(t0 + DAY, &pol), "", "young active key: nothing to do");
	is_str(plan(t0 + 180 * DAY, &pol), "create:-",
	    "active key older than --every: create");
	now_pol.now = 1;
	is_str(plan(t0 + DAY, &now_pol), "create:-", "--now: create");

	/* pending: not served, served first time, within TTL, after TTL */
	add("b", KEY_PENDING, t0 + DAY);
	dns[1] = ROT_DNS_NOT_SERVED;
	is_str(plan(t0 + 2 * DAY, &pol), "wait-dns:b",
	    "pending, not in DNS: wait (and never create another)");
	dns[1] = ROT_DNS_SERVED;
	is_str(plan(t0 + 2 * DAY, &pol), "seen:b wait:b",
	    "first seen in DNS: note it, wait a TTL");
	keys[1].published = t0 + 2 * DAY;
	keys[1].ttl = 300;
	is_str(plan(t0 + 2 * DAY + 299, &pol), "wait:b", "within the TTL: wait");
	is_str(plan(t0 + 2 * DAY + 300, &pol), "activate:b retire:a",
	    "TTL over: activate the new key, retire the old");
	ttl[1] = 3600;
	is_str(plan(t0 + 2 * DAY + 300, &pol), "wait:b",
	    "a longer TTL served now: wait for that one");
	ttl[1] = 300;
	dns[1] = ROT_DNS_NOT_SERVED;
	is_str(plan(t0 + 2 * DAY + 300, &pol), "unseen:b wait-dns:b",
	    "record gone again: forget it was seen, wait");

	/* after activation: retiring -> revoked -> removed */
	nkeys = 0;
	add("a", KEY_RETIRING, t0);
	add("b", KEY_ACTIVE, t0);
	is_str(plan(t0 + 7 * DAY - 1, &pol), "", "within grace: nothing");
	is_str(plan(t0 + 7 * DAY, &pol), "revoke:a", "grace over: revoke");
	keys[0].state = KEY_REVOKED;
	keys[0].revoked = t0 + 7 * DAY;
	is_str(plan(t0 + 14 * DAY - 1, &pol), "", "revoked, waiting: nothing");
	is_str(plan(t0 + 14 * DAY, &pol), "remove:a", "then removed");

	/* crash recovery: two active keys */
	nkeys = 0;
	add("old", KEY_ACTIVE, t0);
	add("new", KEY_ACTIVE, t0 + DAY);
	is_str(plan(t0 + 2 * DAY, &pol), "retire:old",
	    "two active keys (crash mid-activation): the older retires");

	/* other domains and algorithms are not touched */
	nkeys = 0;
	k = add("ed", KEY_RETIRING, t0);
	k->alg = KEY_ED25519;
	k = add("x", KEY_RETIRING, t0);
	snprintf(k->domain, sizeof(k->domain), "example.net");
	add("a", KEY_ACTIVE, t0);
	is_str(plan(t0 + 30 * DAY, &pol), "",
	    "keys of another algorithm or domain are left alone");
	return done_testing();
}
