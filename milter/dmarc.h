/*
 * dmarc.h -- DMARC (RFC 7489) of incoming mail.
 */
#ifndef AUTHFILTER_DMARC_H
#define AUTHFILTER_DMARC_H

#include <stddef.h>

#include "lib/verdict.h"

struct dns;
struct dmarc_lib;	/* one per runtime state: resolver + suffix list */

/* One policy record (RFC 7489 section 6.3), as parsed. */
struct dmarc_record {
	enum dmarc_policy p, sp, np;	/* sp, np: UNSET when absent */
	int		 pct;		/* 0..100 */
	int		 adkim_strict, aspf_strict;
	int		 testing;	/* t=y (DMARCbis) */
	int		 psd;		/* psd=y (DMARCbis) */
};

enum dmarc_parse {
	DMARC_REC_OK,
	DMARC_REC_NOT_DMARC,	/* does not start with v=DMARC1 */
	DMARC_REC_INVALID	/* v=DMARC1, but unusable (no valid p
				 * and no valid rua, a duplicate tag) */
};

/* A TXT record's text; pure, for unit tests. */
enum dmarc_parse dmarc_record_parse(const char *txt, struct dmarc_record *);

struct dmarc_lib *dmarc_lib_new(struct dns *, const char *psl_path,
		    char *err, size_t errsz);
void		 dmarc_lib_free(struct dmarc_lib *);

/* The organizational domain of a domain (any case, trailing dot or
 * not) into out, in lower case. */
void		 dmarc_org_domain(const struct dmarc_lib *, const char *domain,
		    char *out, size_t outsz);
/* Identifier alignment (RFC 7489 3.1) of domains a and b, in any case:
 * equal, or unless strict, the same organizational domain.  A name that
 * is not a domain name never aligns. */
int		 dmarc_aligned(const struct dmarc_lib *, const char *a,
		    const char *b, int strict);

/* Policy discovery (RFC 7489 6.6.3, and DMARCbis' psd=y): the record
 * that applies to mail from `from` into rec, its text into txt (txtsz 0:
 * not wanted), where it was into policy_domain; why says what stopped
 * it (DMARC_STOP_NONE: several records, or an unusable one). */
enum dmarc_found { DMARC_FOUND, DMARC_NOTHING, DMARC_STOP_NONE, DMARC_TEMP };
enum dmarc_found dmarc_discover(struct dmarc_lib *, const char *from,
		    struct dmarc_record *rec, char *txt, size_t txtsz,
		    char *policy_domain, size_t pdsz, char *why, size_t whysz);

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

/* Evaluate.  sample is 0..99, compared with pct. */
void		 dmarc_check(struct dmarc_lib *, const struct dmarc_inputs *,
		    unsigned sample, struct dmarc_verdict *);
/* Start the lookups dmarc_check() will make for these From header
 * fields (each Author Domain's record and its organizational
 * domain's); returns at once. */
void		 dmarc_prefetch(struct dmarc_lib *, const struct header *hdrs,
		    size_t nhdrs);


#endif
