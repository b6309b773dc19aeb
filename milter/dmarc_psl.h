/*
 * dmarc_psl.h -- RFC 7489 DMARC discovery by a public suffix list, kept
 * only for dmarc_discovery = psl.
 */
#ifndef AUTHFILTER_DMARC_PSL_H
#define AUTHFILTER_DMARC_PSL_H

#include <stddef.h>

#include "milter/dmarc.h"

struct dns;
struct dmarc_psl;

/* The list in file path; NULL with err naming public_suffix_list. */
struct dmarc_psl *dmarc_psl_load(const char *path, char *err, size_t errsz);
void		 dmarc_psl_free(struct dmarc_psl *);

/* The organizational domain (RFC 7489 3.2) of a normalised domain. */
void		 dmarc_psl_org(const struct dmarc_psl *, const char *norm,
		    char *out, size_t outsz);

/* RFC 7489 6.6.3 discovery for the normalised Author Domain from. */
enum dmarc_found dmarc_psl_discover(const struct dmarc_psl *, struct dns *,
		    const char *from, struct dmarc_discovery *d);

#endif
