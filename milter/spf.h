/*
 * spf.h -- SPF (RFC 7208) of incoming mail: libspf2 over our resolver.
 */
#ifndef AUTHFILTER_SPF_H
#define AUTHFILTER_SPF_H

#include <stddef.h>

struct dns;
struct spf_lib;		/* one per runtime state */

enum spf_result {
	SPFR_NONE, SPFR_NEUTRAL, SPFR_PASS, SPFR_FAIL, SPFR_SOFTFAIL,
	SPFR_TEMPERROR, SPFR_PERMERROR
};

struct spf_verdict {
	enum spf_result	 result;
	int		 checked;	/* 0: not evaluated at all */
	char		 domain[256];	/* the domain whose record decided */
	char		 reason[256];	/* why, for the AR comment and log */
};

struct spf_lib	*spf_lib_new(struct dns *, const char *receiver, char *err,
		    size_t errsz);
void		 spf_lib_free(struct spf_lib *);

/* check_host() for the MAIL FROM identity: sender as the MTA gives it
 * ("<a@example.org>", "<>", "a@example.org").  For the null sender
 * nothing is checked (result none, checked 0): the HELO identity is
 * the one that counts then. */
void		 spf_check_mailfrom(struct spf_lib *, const char *ip,
		    const char *helo, const char *sender, struct spf_verdict *);
/* check_host() for the HELO identity (postmaster@HELO). */
void		 spf_check_helo(struct spf_lib *, const char *ip,
		    const char *helo, struct spf_verdict *);

const char	*spf_result_name(enum spf_result);

#endif
