/*
 * dkimkey.h -- fetch a DKIM key record through authfilter's resolver.
 */
#ifndef AUTHFILTER_DKIMKEY_H
#define AUTHFILTER_DKIMKEY_H

#include <stddef.h>

struct dns;

enum dkimkey_status {
	DKIMKEY_OK,		/* one TXT record: *rec */
	DKIMKEY_NONE,		/* no such name, or no TXT record there */
	DKIMKEY_MANY,		/* several TXT records */
	DKIMKEY_BAD,		/* a malformed answer or record */
	DKIMKEY_TEMP		/* DNS failure: try later */
};

/* The TXT record at selector._domainkey.domain with its strings joined
 * (RFC 6376 3.6.2.2), up to a whole DNS message (64 KiB): *rec is
 * malloc'd and NUL-terminated, *len its length.  *secure is 1 when
 * DNSSEC validated the answer.  why says what went wrong otherwise. */
enum dkimkey_status dkimkey_fetch(struct dns *, const char *selector,
		    const char *domain, char **rec, size_t *len, int *secure,
		    char *why, size_t whysz);

#endif
