/*
 * keyimport.h -- check a private key brought from elsewhere (import).
 */
#ifndef AUTHFILTER_KEYIMPORT_H
#define AUTHFILTER_KEYIMPORT_H

#include <stddef.h>

#include "keys/keystore.h"

/* A key as the store will hold it. */
struct keyimport {
	enum key_alg	 alg;
	unsigned	 bits;
	char		*pem;		/* PKCS#8 PEM; keyimport_clear() */
};

/* The text of a key file (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE
 * KEY" PEM): an unencrypted RSA key of at least KEY_RSA_MIN_BITS or an
 * Ed25519 key, re-encoded as PKCS#8.  0, or -1 with err saying what the
 * text is instead (encrypted, a public key, too short, ...). */
int	keyimport_decode(const char *text, size_t len, struct keyimport *out,
	    char *err, size_t errsz);
/* Wipe and free the PEM. */
void	keyimport_clear(struct keyimport *);

#endif
