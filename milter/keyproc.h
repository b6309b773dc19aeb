/*
 * keyproc.h -- private keys in a process of their own (the signer).
 */
#ifndef AUTHFILTER_KEYPROC_H
#define AUTHFILTER_KEYPROC_H

#include <stddef.h>
#include <sys/types.h>

#include "keys/keystore.h"
#include "lib/config.h"

/* Largest digest and signature the signer handles (RSA-8192 fits). */
#define KEYPROC_DIGEST_MAX	64
#define KEYPROC_SIG_MAX		1024

/* Fork the signer.  The caller has no thread yet.  The signer switches
 * to `user` (when we are root), may read only below key_dir, and ends
 * when this process closes its end.  0, or -1 with err. */
int		 keyproc_start(const char *user, const char *key_dir, char *err,
		    size_t errsz);
/* The signer's pid, or 0 when keys are held here (-t, tests). */
pid_t		 keyproc_pid(void);
/* 1 when the kernel has no Landlock: the signer reads where it may. */
int		 keyproc_unconfined(void);

/* keystore_load(dir, 1, owner, errs) in the signer when it runs: the
 * store returned has every key's metadata, no private key.  Without
 * a signer, the keys are loaded here. */
struct keystore	*keyproc_load(const char *dir, uid_t owner,
		    struct config_errors *errs);
/* keystore_free(), and the signer forgets the store. */
void		 keyproc_free(struct keystore *);
/* Sign a digest with key k of a store from keyproc_load(): PKCS#1 v1.5
 * with SHA-256 for RSA, PureEdDSA over the digest for Ed25519.
 * 0, or -1 with err. */
int		 keyproc_sign(const struct key *k, const unsigned char *dg,
		    size_t dglen, unsigned char *sig, size_t *siglen, char *err,
		    size_t errsz);

/* The signer side (keyproc_serve.c). */
int		 keyproc_sign_here(const struct key *k, const unsigned char *dg,
		    size_t dglen, unsigned char *sig, size_t *siglen);
void		 keyproc_serve(const int *fds, size_t n, const char *user,
		    const char *key_dir) __attribute__((noreturn));

#endif
