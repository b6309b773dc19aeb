/*
 * outbound.h -- `authfilter report --outbound`: our mail as receivers
 * saw it, from the DMARC aggregate reports they sent us (imported by
 * authfilter-reports import), per reporting organisation and per
 * source IP, with a hint for the sources that fail.
 */
#ifndef AUTHFILTER_REPORT_OUTBOUND_H
#define AUTHFILTER_REPORT_OUTBOUND_H

#include <stdint.h>
#include <stdio.h>

#include "report/tally.h"
#include "rua/feedback.h"

/* Messages, and how many of them: */
enum ob_col {
	OB_MSGS,
	OB_DMARC,	/* passed DMARC: aligned DKIM or aligned SPF */
	OB_DKIM,	/* aligned DKIM pass (policy_evaluated) */
	OB_SPF,		/* aligned SPF pass */
	OB_NONE,	/* disposition none (or pass) */
	OB_QUAR,
	OB_REJECT,
	OB_N
};

/* Why messages failed DMARC, as the auth_results tell. */
enum ob_cause {
	OB_NOT_SIGNED,		/* no DKIM result, or only "none" */
	OB_DKIM_BROKEN,		/* our domain's signature failed */
	OB_DKIM_OTHER,		/* signed, but by another domain */
	OB_SPF_FAIL,		/* SPF fail or softfail */
	OB_CAUSES
};

struct ob_row {
	char	 key[256];		/* org_name or source IP */
	char	 from[RUA_DOMAIN_MAX];	/* header_from of a failure */
	char	 dkim_domain[RUA_DOMAIN_MAX];	/* of OB_DKIM_OTHER */
	char	 spf_domain[RUA_DOMAIN_MAX];	/* of OB_SPF_FAIL */
	char	 spf_result[16];
	uint64_t n[OB_N];
	uint64_t cause[OB_CAUSES];
};

struct ob_table {
	struct ob_row	*rows;
	size_t		 nrows, cap;
	struct tally_table index;	/* key -> row (n[0] = index + 1) */
};

struct outbound {
	struct ob_table	 org, ip;
	struct tally_table reports;	/* "org_name report_id", to count */
	int		 nomem;
};

/* A rua_store_each_fn: count one record of a report into ob (arg).
 * Returns non-zero (and sets nomem) when out of memory. */
int	outbound_add(void *ob, const struct rua_feedback *report,
	    const struct rua_record *rec);
/* Failing rows first (largest share of DMARC failures, then most
 * failed messages), then most messages, then by key. */
void	outbound_sort(struct ob_table *);
/* "sends as example.org: DKIM none: not signed by authfilter; ..." for
 * a row with failures, "" for one without. */
void	outbound_hint(const struct ob_row *, char *buf, size_t bufsz);
void	outbound_free(struct outbound *);

/* argv without "report", holding --outbound [DOMAIN]: the command. */
int	report_outbound_main(int argc, char **argv, FILE *out);

#endif
