/*
 * NAME
 *	doctor_dkim -- authfilter doctor: the keys that sign for a domain
 * SYNOPSIS
 *	doctor_dkim(env, dom);
 * DESCRIPTION
 *	Adds these checks (area "dkim") for the key domain (d=) that signs
 *	dom's mail:
 *
 *	keys	    the store has an active key for it
 *	key SEL	    each active and retiring key is published and DNS
 *		    serves exactly its public key (keypub.c's dns_check(),
 *		    as `authfilter-keys check` compares them); RSA keys
 *		    have at least 2048 bits (RFC 8301 3.2 asks 1024; the
 *		    key store refuses less than 2048)
 *	key-age	    the oldest active key is younger than 180 days, the
 *		    period of `authfilter-keys rotate`
 *
 *	The private key files are read for their public half: doctor runs
 *	as root or as the daemon's user.
 * DIAGNOSTICS
 *	A key file that cannot be read, or a DNS failure: "could not
 *	check" for that key.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor/doctor.h"
#include "keys/keygen.h"
#include "keys/keypub.h"
#include "keys/keystore.h"
#include "keys/rotate.h"
#include "lib/config.h"

/* authfilter-keys rotate's default period (keys_rotate_cmd.c). */
#define KEY_AGE_WARN_DAYS (ROT_EVERY_DEFAULT / 86400)

/* When a key started signing; a store from before activation dates
 * has only its creation. */
static time_t
since(const struct key *k)
{
	return k->activated != 0 ? k->activated : k->created;
}

static void
check_key(const struct doctor_env *env, struct doctor_domain *dom,
    const struct key *k, int *published)
{
	char check[80], err[512] = "", advice[DOCTOR_ADVICE_MAX], *pem, *p;
	size_t len = 0;
	int bits;
	enum pub st;
	struct doctor_checks *c = &dom->checks;

	snprintf(check, sizeof(check), "key %s", k->selector);
	if ((pem = read_pem(env->cfg->key_dir, k->domain, k->selector,
	    &len)) == NULL) {
		*published = 0;
		doctor_add(c, "dkim", check, DOC_UNKNOWN, "run doctor as root "
		    "or as the daemon's user", "%s/%s/%s.pem: cannot be read",
		    env->cfg->key_dir, k->domain, k->selector);
		return;
	}
	p = keygen_public_b64(pem, len, err, sizeof(err));
	bits = keygen_bits(pem, len);
	free_secret(pem);
	if (p == NULL) {
		*published = 0;
		doctor_add(c, "dkim", check, DOC_UNKNOWN, "", "%s", err);
		return;
	}
	st = dns_check(env->dns, k, p, NULL, err, sizeof(err));
	free(p);
	snprintf(advice, sizeof(advice), "publish the record `authfilter-keys "
	    "dns %s %s` prints at %s._domainkey.%s", k->domain, k->selector,
	    k->selector, k->domain);
	if (st != PUB_OK)
		*published = 0;
	if (st == PUB_OK && k->alg == KEY_RSA && bits < KEY_RSA_MIN_BITS)
		doctor_add(c, "dkim", check, DOC_FAIL, "make a new key: "
		    "authfilter-keys rotate --now", "%s, published, but an RSA "
		    "key of %d bits (at least %u)", key_state_name(k->state),
		    bits, KEY_RSA_MIN_BITS);
	else if (st == PUB_OK)
		doctor_add(c, "dkim", check, DOC_OK, "", "%s, %s %d bits, "
		    "published and matching", key_state_name(k->state),
		    key_alg_short(k->alg), bits);
	else if (st == PUB_DNS_ERROR)
		doctor_add(c, "dkim", check, DOC_UNKNOWN, "", "%s", err);
	else
		doctor_add(c, "dkim", check, DOC_FAIL, advice, "%s, DNS record "
		    "%s%s%s", key_state_name(k->state), pub_names[st],
		    err[0] ? ": " : "", err);
}

void
doctor_dkim(const struct doctor_env *env, struct doctor_domain *dom)
{
	const struct key *oldest = NULL;
	int published = 1;
	size_t active = 0;
	char advice[DOCTOR_ADVICE_MAX];
	struct doctor_checks *c = &dom->checks;

	if (env->ks == NULL) {
		doctor_add(c, "dkim", "keys", DOC_UNKNOWN, "see `authfilter "
		    "-t`", "the key store %s did not load", env->cfg->key_dir);
		return;
	}
	for (size_t i = 0; i < env->ks->n; i++) {
		const struct key *k = &env->ks->keys[i];
		if (strcmp(k->domain, dom->key_domain) != 0 ||
		    (k->state != KEY_ACTIVE && k->state != KEY_RETIRING))
			continue;
		check_key(env, dom, k, &published);
		if (k->state == KEY_ACTIVE) {
			active++;
			if (oldest == NULL || since(k) < since(oldest))
				oldest = k;
		}
	}
	if (active == 0) {
		snprintf(advice, sizeof(advice), "authfilter-keys new %s, "
		    "publish the record, then authfilter-keys activate",
		    dom->key_domain);
		doctor_add(c, "dkim", "keys", DOC_FAIL, advice, "no active key "
		    "for d=%s in %s: mail goes out unsigned", dom->key_domain,
		    env->cfg->key_dir);
		return;
	}
	dom->dkim_pass = published;
	long days = (long)((env->now - since(oldest)) / 86400);
	snprintf(advice, sizeof(advice), "authfilter-keys rotate %s",
	    dom->key_domain);
	doctor_add(c, "dkim", "key-age", days > KEY_AGE_WARN_DAYS ? DOC_WARN :
	    DOC_OK, days > KEY_AGE_WARN_DAYS ? advice : "", "oldest active "
	    "key %s: %ld days (rotate after %d)", oldest->selector, days,
	    KEY_AGE_WARN_DAYS);
}
