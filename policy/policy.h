/*
 * policy.h -- what to do with a message, decided from its verdicts.
 */
#ifndef AUTHFILTER_POLICY_H
#define AUTHFILTER_POLICY_H

#include <stddef.h>

#include "lib/verdict.h"
#include "policy/overrides.h"

enum policy_action {
	POLICY_ACCEPT, POLICY_TAG, POLICY_QUARANTINE, POLICY_REJECT,
	POLICY_TEMPFAIL
};

struct policy_in {
	int		 inbound;
	int		 trusted_client;	/* in trusted_networks */
	int		 unchecked_client;	/* in unchecked_clients */
	int		 exempt_recipients;	/* every one exempt */
	int		 allowed_from;		/* From in allow_from_domains */
	const struct dmarc_verdict *dmarc;
	enum spf_result	 spf;		/* MAIL FROM, HELO for <> */
	const char	*spf_domain;
	const struct override *override;	/* for the From domain, or NULL */
};

struct policy_rules {
	int		 enforce;		/* policy_mode = enforce */
	int		 spf_fail_action;	/* enum spf_fail_action */
	int		 temperror_action;	/* enum temperror_action */
};

struct policy_out {
	enum policy_action action;	/* what is done */
	enum policy_action would;	/* what enforce does (= action there) */
	const char	*reason;	/* machine-readable, for the log */
	char		 code[4];	/* SMTP reply for reject / tempfail */
	char		 xcode[8];
	char		 text[400];	/* reply text, or the tag / hold reason */
};

/* Pure: no I/O, no clock, no randomness (t=y's step down is in the
 * DMARC verdict's disposition already). */
void		 policy_decide(const struct policy_in *,
		    const struct policy_rules *, struct policy_out *);
const char	*policy_action_name(enum policy_action);

#endif
