/*
 * sign.h -- DKIM signatures for outgoing mail.
 */
#ifndef AUTHFILTER_SIGN_H
#define AUTHFILTER_SIGN_H

#include <stddef.h>

#include "keys/keystore.h"
#include "lib/config.h"
#include "lib/header.h"

struct sign_opts;	/* one per runtime state: what every signature gets */
struct signer;		/* one per message: its hashes and keys */

#define SIGN_MAX_KEYS 8	/* keys that sign one message */

/* ttl: seconds from t= to x= (0: no x=); sign: the header fields signed
 * when present; over: those listed once more than present.  NULL + err
 * when sign lacks From. */
struct sign_opts *sign_opts_new(unsigned ttl, const struct wordlist *sign,
		    const struct wordlist *over, char *err, size_t errsz);
void		 sign_opts_free(struct sign_opts *);

/* Start signing with every key; the message's header fields are hashed
 * at once.  NULL + err on failure. */
struct signer	*signer_new(const struct sign_opts *, const struct key **keys,
		    size_t n, const struct header *hdrs, size_t nhdrs,
		    char *err, size_t errsz);
int		 signer_body(struct signer *, const unsigned char *buf,
		    size_t len, char *err, size_t errsz);
/* The DKIM-Signature values (without the name, unfolded with "\n\t", no
 * CR), one per key; caller frees each and the array. */
int		 signer_finish(struct signer *, char ***values, size_t *n,
		    char *err, size_t errsz);
void		 signer_free(struct signer *);
/* "example.org/r2026,example.org/e2026" for the log */
void		 signer_describe(const struct signer *, char *buf, size_t bufsz);

#endif
