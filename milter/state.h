/*
 * state.h -- the settings the daemon serves with, swapped whole on reload.
 */
#ifndef AUTHFILTER_STATE_H
#define AUTHFILTER_STATE_H

#include <sys/types.h>

#include "keys/keystore.h"
#include "lib/config.h"

struct sign_opts;
struct loginmap;
struct signtable;
struct dns;
struct verify_lib;
struct spf_lib;
struct dmarc_lib;
struct overrides;

struct af_state {
	struct config	*cfg;
	struct keystore	*keys;		/* active keys, decoded */
	struct sign_opts *sign;		/* signing options (signature_ttl) */
	struct loginmap	*logins;	/* sender_login_map, NULL if unset */
	struct signtable *signtable;	/* signing_table, NULL if unset */
	struct config_errors warnings;	/* said by -t and at each load */
	struct dns	*dns;		/* the one resolver (dns_resolver) */
	struct verify_lib *verify;	/* DKIM verification, over dns */
	struct spf_lib	*spf;		/* SPF, over dns */
	struct dmarc_lib *dmarc;	/* DMARC, over dns, with the PSL */
	struct overrides *overrides;	/* policy_overrides, NULL if unset */
	unsigned	 refs;		/* guarded by the state lock */
	unsigned long	 generation;	/* 1 for the first, +1 per reload */
};

/* Build a complete new state from a file: configuration, key store,
 * resolver and checks, each validated; NULL with errs filled. */
struct af_state	*state_build(const char *path, struct config_errors *errs);
/* Make st the current state (takes over the caller's reference). */
void		 state_install(struct af_state *st);
/* A reference to the current state, for one message; never NULL once a
 * state is installed. */
struct af_state	*state_acquire(void);
void		 state_release(struct af_state *st);
/* Drop the current state at exit. */
void		 state_shutdown(void);
/* The uid that must own private keys: `user`'s, else our own. */
uid_t		 state_key_owner(const struct config *);
/* The public suffix list DMARC reads (dmarc_discovery = psl), or NULL:
 * the DNS Tree Walk. */
const char	*state_suffix_list(const struct config *);

#endif
