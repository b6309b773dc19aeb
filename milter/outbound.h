/*
 * outbound.h -- which keys sign an outgoing message, or why none do.
 */
#ifndef AUTHFILTER_OUTBOUND_H
#define AUTHFILTER_OUTBOUND_H

#include "keys/keystore.h"
#include "lib/from.h"
#include "milter/session.h"
#include "milter/sign.h"

struct outbound_plan {
	char		 domain[FROM_DOMAIN_MAX + 1];
	const struct key *keys[SIGN_MAX_KEYS];
	size_t		 nkeys;
	const char	*skip;		/* why not signed; NULL: sign */
	int		 sender_mismatch;	/* login may not use domain */
};

struct loginmap;
struct signtable;

/* logins: sender_login_map, table: signing_table; NULL when unset. */
void	outbound_plan(const struct message *m, const struct keystore *ks,
	    int sign_subdomains, const struct loginmap *logins,
	    const struct signtable *table, struct outbound_plan *p);

#endif
