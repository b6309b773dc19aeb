/*
 * verdict.h -- the verdicts of SPF and DMARC, as the checks give them and
 * the policy engine and the log read them.
 */
#ifndef AUTHFILTER_VERDICT_H
#define AUTHFILTER_VERDICT_H

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

enum dmarc_result {
	DMARC_R_NONE, DMARC_R_PASS, DMARC_R_FAIL, DMARC_R_TEMPERROR,
	DMARC_R_PERMERROR
};

enum dmarc_policy {
	DMARC_P_UNSET, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT
};

struct dmarc_verdict {
	enum dmarc_result result;
	int		 evaluated;	/* 0: not inbound, nothing done */
	char		 from_domain[256];	/* header.from */
	char		 policy_domain[256];	/* where the record was */
	const char	*discovery;	/* how it was found: "tree walk" */
	enum dmarc_policy policy;	/* published p, sp or np that applies */
	enum dmarc_policy disposition;	/* after t=y; NONE on pass */
	char		 reason[256];	/* the AR comment (AR_VALUE_MAX) */
	/* For aggregate reports (RFC 9990), when a record applied
	 * (policy_domain set): the record as published, its rua=, and
	 * whether DKIM and SPF each gave an aligned pass. */
	enum dmarc_policy pub_p, pub_sp, pub_np;	/* sp, np: or UNSET */
	int		 pub_adkim_strict, pub_aspf_strict, pub_testing;
	char		 rua[512];
	int		 dkim_aligned, spf_aligned;
};

const char	*spf_result_name(enum spf_result);
const char	*dmarc_result_name(enum dmarc_result);
/* NULL for DMARC_P_UNSET. */
const char	*dmarc_policy_name(enum dmarc_policy);

#endif
