/*
 * keypub.h -- a stored key's public half, and what DNS serves for it.
 */
#ifndef AUTHFILTER_KEYPUB_H
#define AUTHFILTER_KEYPUB_H

#include <stddef.h>

#include "keys/keystore.h"

struct dns;

/* What DNS serves for a key's selector, and its name. */
enum pub { PUB_OK, PUB_MISSING, PUB_DIFFERS, PUB_AMBIGUOUS, PUB_DNS_ERROR };
extern const char *const pub_names[];

/* The private key file key_dir/DOMAIN/SELECTOR.pem as text, *len its
 * length; NULL (errno set) when it cannot be read.  free_secret() it. */
char		*read_pem(const char *key_dir, const char *domain,
		    const char *selector, size_t *len);
/* Wipe and free a secret string. */
void		 free_secret(char *);
/* The p= value (base64) of k's public half, read from its private key
 * file; NULL with err.  Caller frees. */
char		*public_of(const char *key_dir, const struct key *k, char *err,
		    size_t errsz);
/* What DNS serves at SELECTOR._domainkey.DOMAIN compared with k's public
 * key p.  ttl, if not NULL, gets the longer of the record's TTL and the
 * zone's negative TTL when it matches. */
enum pub	 dns_check(struct dns *, const struct key *k, const char *p,
		    unsigned *ttl, char *err, size_t errsz);

#endif
