/*
 * dkimcheck.h -- strict checks of DKIM-Signature values and key records
 * (RFC 6376 3.2 tag=value lists), before libopendkim sees them.
 */
#ifndef AUTHFILTER_DKIMCHECK_H
#define AUTHFILTER_DKIMCHECK_H

#include <stddef.h>

/* Does a key record's k= (NULL: absent, which means "rsa") fit the
 * signature's a= ("rsa-sha256", "ed25519-sha256")?  0 yes, or when a=
 * names no algorithm we know (the verifier refuses it anyway); -1 with
 * why. */
int	dkimcheck_key_alg(const char *k, const char *a, char *why,
	    size_t whysz);

/* A key record checked (tagval_check) and rewritten with only the
 * tags a verifier reads -- v, h, k, s, t, p, in that order, white space
 * removed -- into out, so that a record of up to 64 KiB of notes fits
 * libopendkim's 1 KiB key buffer.  0: done; -1: the record is unusable
 * (why says how); -2: even the rewritten record is outsz bytes or more
 * (why says how long p= is). */
int	dkimcheck_key_record(const char *rec, size_t len, char *out,
	    size_t outsz, char *why, size_t whysz);

#endif
