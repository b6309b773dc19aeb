/*
 * keystore.h -- DKIM keys on disk, shared by the daemon and authfilter-keys.
 */
#ifndef AUTHFILTER_KEYSTORE_H
#define AUTHFILTER_KEYSTORE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "lib/config.h"

#define KEY_DOMAIN_MAX	254
#define KEY_SELECTOR_MAX 63
/* RFC 8301 3.2: at least 1024 bits; we refuse anything under 2048. */
#define KEY_RSA_MIN_BITS 2048
/* A private key file larger than this is not a DKIM key. */
#define KEY_FILE_MAX (64 * 1024)

enum key_alg { KEY_RSA, KEY_ED25519 };
enum key_state { KEY_PENDING, KEY_ACTIVE, KEY_RETIRING, KEY_REVOKED };

struct key {
	char		 domain[KEY_DOMAIN_MAX + 1];
	char		 selector[KEY_SELECTOR_MAX + 1];
	enum key_alg	 alg;
	unsigned	 bits;
	enum key_state	 state;
	time_t		 created, activated, retired, revoked;
	time_t		 published;	/* pending: DNS first seen serving it */
	unsigned	 ttl;		/* that record's TTL */
	int		 forced;	/* activated with --force */
	struct evp_pkey_st *pkey;	/* private key (EVP_PKEY), loaded
					 * when asked; NULL in the milter
					 * process, where the signer holds
					 * it (milter/keyproc.c) */
	unsigned long	 store;		/* the signer's store, 0: none */
	unsigned	 idx;		/* this key's place in it */
};

struct keystore {
	char		*dir;
	struct key	*keys;
	size_t		 n;
	unsigned long	 store;		/* the signer's copy, 0: none */
};

/* Read every domain/selector of dir.  With `private`, the PEM of each
 * active key is read too and checked: a regular file (no symlink), mode
 * without group/other bits, owned by `owner`, decodable, RSA >= 2048.
 * A missing dir is an empty store.  NULL + errs on any problem. */
struct keystore	*keystore_load(const char *dir, int private, uid_t owner,
		    struct config_errors *errs);
void		 keystore_free(struct keystore *);
/* The NUL-terminated text of a .state file (cut up in place) into k;
 * path names it in the errors.  0, or -1 with errs. */
int		 keystore_parse_state(const char *path, char *text,
		    struct key *k, struct config_errors *errs);
/* mkdir -p of the store's directory: 0, or -1 with err.  What it
 * creates gets its mode whatever the umask; key_dir itself is owned by
 * owner (the daemon's user; -1: the caller). */
int		 keystore_make_dirs(const char *dir, uid_t owner, char *err,
		    size_t errsz);

/* The active keys that sign for `domain` (exactly, or with `parents` also
 * those of its parent domains).  Returns how many were put in out. */
size_t		 keystore_signers(const struct keystore *, const char *domain,
		    int parents, const struct key **out, size_t max);
struct key	*keystore_find(struct keystore *, const char *domain,
		    const char *selector);

/* Atomic writes (temp file, fsync, rename, fsync dir).  owner -1 keeps
 * the current one. */
int		 keystore_write_state(const char *dir, const struct key *,
		    uid_t owner, char *err, size_t errsz);
int		 keystore_write_private(const char *dir, const struct key *,
		    const char *pem, uid_t owner, char *err, size_t errsz);

/* Delete the state file (the key leaves the store), then the private
 * key.  A crash between leaves a lone .pem, which the store ignores. */
int		 keystore_remove(const char *dir, const struct key *, char *err,
		    size_t errsz);

const char	*key_alg_name(enum key_alg);	/* rsa-sha256, ed25519-sha256 */
const char	*key_alg_short(enum key_alg);	/* rsa, ed25519 */
const char	*key_state_name(enum key_state);
int		 key_valid_selector(const char *);
/* OpenSSL pem_password_cb that refuses: an encrypted key is an error,
 * never a prompt on the terminal. */
int		 key_no_passphrase(char *buf, int size, int rwflag, void *u);

#endif
