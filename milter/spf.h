/*
 * spf.h -- SPF (RFC 7208) of incoming mail: libspf2 over our resolver.
 */
#ifndef AUTHFILTER_SPF_H
#define AUTHFILTER_SPF_H

#include <stddef.h>

#include "lib/verdict.h"

struct dns;
struct spf_lib;		/* one per runtime state */

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

#endif
