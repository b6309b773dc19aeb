/*
 * keygen.h -- make DKIM keys and the DNS records that publish them.
 */
#ifndef AUTHFILTER_KEYGEN_H
#define AUTHFILTER_KEYGEN_H

#include <stddef.h>

#include "keys/keystore.h"

/* A new private key as PKCS#8 PEM (caller frees); bits is for RSA. */
char	*keygen_new(enum key_alg alg, unsigned bits, char *err, size_t errsz);
/* The p= value (base64) for the public half of a PEM private key:
 * RSA SubjectPublicKeyInfo (RFC 6376 3.6.1), Ed25519 the raw 32-byte key
 * (RFC 8463 4).  Caller frees. */
char	*keygen_public_b64(const char *pem, size_t len, char *err, size_t errsz);
/* Bits of the key in a PEM private key, or -1. */
int	keygen_bits(const char *pem, size_t len);
/* "v=DKIM1; k=rsa; p=..." */
char	*keygen_record(enum key_alg alg, const char *p);
/* The zone-file line, strings split at 255 bytes:
 * S._domainkey.D. IN TXT ( "v=DKIM1; k=rsa; p=..." "..." ) */
char	*keygen_zone_line(const char *domain, const char *selector,
	    const char *record);
/* 1 when a published TXT value carries this p= (white space ignored,
 * RFC 6376 3.6.1) and a k= that agrees with alg. */
int	keygen_record_matches(const char *txt, enum key_alg alg,
	    const char *p);

#endif
