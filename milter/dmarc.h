/*
 * dmarc.h -- DMARC (RFC 9989) of incoming mail.
 */
#ifndef AUTHFILTER_DMARC_H
#define AUTHFILTER_DMARC_H

#include <stddef.h>

#include "lib/verdict.h"

struct dns;
struct dmarc_lib;	/* one per runtime state: resolver (+ suffix list) */

/* psd= (RFC 9989 4.7): u, or absent, leaves the boundary to the walk. */
enum dmarc_psd { DMARC_PSD_U, DMARC_PSD_Y, DMARC_PSD_N };

/* One policy record (RFC 9989 section 4.7), as parsed.  pct=, rf= and
 * ri= are not RFC 9989 tags: ignored like any unknown tag. */
struct dmarc_record {
	enum dmarc_policy p, sp, np;	/* sp, np: UNSET when absent */
	int		 adkim_strict, aspf_strict;
	int		 testing;	/* t=y */
	enum dmarc_psd	 psd;
};

enum dmarc_parse {
	DMARC_REC_OK,
	DMARC_REC_NOT_DMARC,	/* does not start with v=DMARC1 */
	DMARC_REC_INVALID	/* v=DMARC1, but unusable (no valid p, or
				 * a bad sp or np, and no valid rua; a
				 * duplicate tag) */
};

/* A TXT record's text; pure, for unit tests. */
enum dmarc_parse dmarc_record_parse(const char *txt, struct dmarc_record *);

/* psl_path NULL: discovery and organizational domains by the DNS Tree
 * Walk (RFC 9989 4.10); a file: by that public suffix list, as RFC 7489
 * did (dmarc_discovery = psl). */
struct dmarc_lib *dmarc_lib_new(struct dns *, const char *psl_path,
		    char *err, size_t errsz);
void		 dmarc_lib_free(struct dmarc_lib *);
/* "tree walk" or "public suffix list", for the AR comment and logs. */
const char	*dmarc_lib_method(const struct dmarc_lib *);

/* The organizational domain of a domain (any case, trailing dot or
 * not) into out, in lower case: 0, or -1 when the DNS failed (out is
 * then the domain itself). */
int		 dmarc_org_domain(struct dmarc_lib *, const char *domain,
		    char *out, size_t outsz);
/* Identifier alignment (RFC 9989 4.4) of domains a and b, in any case:
 * equal, or unless strict, the same organizational domain.  A name that
 * is not a domain name never aligns.  1, 0, or -1: the DNS failed. */
int		 dmarc_aligned(struct dmarc_lib *, const char *a,
		    const char *b, int strict);

/* 0 when a and b can never align relaxed, whatever the DNS says: with
 * the tree walk, when they share no parent below the top-level domain
 * (an organizational domain is a parent of both); with the suffix list,
 * when their organizational domains differ.  Asks no DNS. */
int		 dmarc_may_align(const struct dmarc_lib *, const char *a,
		    const char *b);

/* What policy discovery found for an Author Domain. */
struct dmarc_discovery {
	struct dmarc_record rec;
	char		 txt[1024];		/* the record's text */
	char		 policy_domain[256];	/* it is at _dmarc.<this> */
	char		 org_domain[256];	/* the Author Domain's */
	const char	*method;		/* dmarc_lib_method() */
	char		 why[200];		/* what stopped it */
};

/* Policy discovery (RFC 9989 4.10.1) for mail from `from` into d:
 * DMARC_FOUND with the record that applies; DMARC_NOTHING; DMARC_STOP_NONE
 * when the record that applies is unusable (no DMARC processing);
 * DMARC_TEMP when the DNS failed.  d->org_domain is set in every case
 * but DMARC_TEMP. */
enum dmarc_found { DMARC_FOUND, DMARC_NOTHING, DMARC_STOP_NONE, DMARC_TEMP };
enum dmarc_found dmarc_discover(struct dmarc_lib *, const char *from,
		    struct dmarc_discovery *d);

/* What DMARC is evaluated on: the message's header fields (for From),
 * the SPF verdict of the identity that counts, the DKIM results. */
struct header;
struct spf_verdict;
struct dkim_result;
struct dmarc_inputs {
	const struct header *hdrs;
	size_t		 nhdrs;
	const struct spf_verdict *spf;
	const struct dkim_result *dkim;
	size_t		 ndkim;
	int		 allow_partial;	/* dmarc_allow_partial_body */
};

void		 dmarc_check(struct dmarc_lib *, const struct dmarc_inputs *,
		    struct dmarc_verdict *);
/* Start the lookups dmarc_check() will make for these From header
 * fields (each Author Domain's tree walk, or its record and its
 * organizational domain's) and, with the tree walk, for the walks of
 * the nids identifiers that may align with them (MAIL FROM or HELO
 * domain, DKIM d=); returns at once. */
void		 dmarc_prefetch(struct dmarc_lib *, const struct header *hdrs,
		    size_t nhdrs, const char *const *ids, size_t nids);


#endif
