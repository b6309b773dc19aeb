/*
 * dkimcheck.h -- strict checks of DKIM-Signature values and key records
 * (RFC 6376 3.2 tag=value lists), before libopendkim sees them.
 */
#ifndef AUTHFILTER_DKIMCHECK_H
#define AUTHFILTER_DKIMCHECK_H

#include <stddef.h>

/* A tag-list with more tags than this is refused: the RFC defines 14
 * signature tags and 7 key tags; the rest is room for extensions. */
#define DKIMCHECK_MAX_TAGS 64

/* 0 when s (len bytes, a DKIM-Signature value or a key record) is a
 * tag-list as RFC 6376 3.2 defines it and no tag occurs twice; else -1
 * with why ("tag \"p\" occurs twice"). */
int	dkimcheck_taglist(const char *s, size_t len, char *why,
	    size_t whysz);

/* The value of tag in the tag-list s with its white space removed (as
 * for b=, bh= and p=), into out.  1: found (the last occurrence); 0:
 * absent; -1: found but longer than outsz - 1 (out holds ""). */
int	dkimcheck_tag(const char *s, size_t len, const char *tag, char *out,
	    size_t outsz);

/* Does a key record's k= (NULL: absent, which means "rsa") fit the
 * signature's a= ("rsa-sha256", "ed25519-sha256")?  0 yes, or when a=
 * names no algorithm we know (the verifier refuses it anyway); -1 with
 * why. */
int	dkimcheck_key_alg(const char *k, const char *a, char *why,
	    size_t whysz);

/* A key record checked (dkimcheck_taglist) and rewritten with only the
 * tags a verifier reads -- v, h, k, s, t, p, in that order, white space
 * removed -- into out, so that a record of up to 64 KiB of notes fits
 * libopendkim's 1 KiB key buffer.  0: done; -1: the record is unusable
 * (why says how); -2: even the rewritten record is outsz bytes or more
 * (why says how long p= is). */
int	dkimcheck_key_record(const char *rec, size_t len, char *out,
	    size_t outsz, char *why, size_t whysz);

#endif
