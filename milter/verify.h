/*
 * verify.h -- DKIM verification of incoming mail (libopendkim).
 */
#ifndef AUTHFILTER_VERIFY_H
#define AUTHFILTER_VERIFY_H

#include <stddef.h>

#include "milter/session.h"

struct dns;
struct verify_lib;	/* one per runtime state */
struct verifier;	/* one per message */

/* RFC 8601 section 2.7.1 result of one signature. */
struct dkim_result {
	char	 result[16];	/* pass fail neutral policy temperror permerror */
	char	 domain[256];	/* header.d */
	char	 selector[64];	/* header.s */
	char	 alg[24];	/* header.a */
	char	 b[9];		/* header.b: first 8 characters */
	char	 reason[128];	/* why, for the AR comment */
	int	 dnssec;	/* the key record was DNSSEC-validated */
	int	 partial_body;	/* a pass whose l= covers less than the
				 * canonical body (RFC 6376 8.2) */
};

struct verify_lib *verify_lib_new(struct dns *d, unsigned max_sigs,
		    char *err, size_t errsz);
void		 verify_lib_free(struct verify_lib *);

struct verifier	*verifier_new(struct verify_lib *, const char *jobid,
		    const struct message *m, char *err, size_t errsz);
int		 verifier_body(struct verifier *, const unsigned char *buf,
		    size_t len);
/* One result per DKIM-Signature header (nsig of them, counted by the
 * caller with header_name_is()) into out, in header order; returns nsig.
 * Signatures libopendkim could not even parse are permerror. */
size_t		 verifier_finish(struct verifier *, struct dkim_result *out,
		    size_t nsig);
void		 verifier_free(struct verifier *);

#endif
