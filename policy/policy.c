/*
 * NAME
 *	policy -- what to do with a message, decided from its verdicts
 * SYNOPSIS
 *	policy_decide(&in, &rules, &out);
 * DESCRIPTION
 *	The one decision point.  In order:
 *
 *	1. Outbound mail: accept.
 *	2. A client in unchecked_clients (not checked at all), in
 *	   trusted_networks (a forwarder whose mail breaks SPF and DKIM on
 *	   the way), or a message whose every recipient is in
 *	   exempt_recipients (postmaster@, abuse@: complaints about our
 *	   rejects must arrive): accept.
 *	3. A message without exactly one usable From (dmarc=permerror, or
 *	   dmarc=none because there is no From at all): reject, 550 5.7.1.
 *	   RFC 5322 requires one From; DMARC cannot protect the reader of a
 *	   message whose author is ambiguous (bad-input F1).
 *	4. From domain in allow_from_domains: accept.
 *	5. dmarc=fail: the disposition (published p/sp/np after t=y):
 *	   reject 550 5.7.1 naming DMARC and the From domain;
 *	   quarantine (Postfix's hold queue); none: accept.
 *	6. dmarc=temperror: temperror_action (accept, or 451 4.7.1).
 *	7. No DMARC policy and SPF fail: spf_fail_action (accept, tag,
 *	   quarantine, or reject with 550 5.7.23, RFC 7372).
 *	8. Otherwise accept.
 *
 *	policy_mode = monitor turns every action into accept and keeps the
 *	enforced one in `would`, for the log (would_action=...).
 *
 *	A line of policy_overrides for the From domain (found by the caller
 *	for the current time) changes the mode (monitor, enforce) or
 *	replaces what a DMARC failure leads to (accept, quarantine,
 *	reject) for that domain.
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "lib/config.h"
#include "policy/policy.h"

const char *
policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_ACCEPT:	return "accept";
	case POLICY_TAG:	return "tag";
	case POLICY_QUARANTINE:	return "quarantine";
	case POLICY_REJECT:	return "reject";
	case POLICY_TEMPFAIL:	return "tempfail";
	}
	return "tempfail";
}

static void
set(struct policy_out *o, enum policy_action a, const char *reason,
    const char *code, const char *xcode)
{
	o->would = a;
	o->reason = reason;
	snprintf(o->code, sizeof(o->code), "%s", code);
	snprintf(o->xcode, sizeof(o->xcode), "%s", xcode);
}

/* A DMARC failure of a domain with an accept/quarantine/reject line in
 * policy_overrides. */
static void
overridden(const struct override *ov, const char *from, struct policy_out *o)
{
	switch (ov->kind) {
	case OVR_REJECT:
		set(o, POLICY_REJECT, "override_reject", "550", "5.7.1");
		snprintf(o->text, sizeof(o->text), "Message rejected: DMARC "
		    "check of %s failed (local policy)", from);
		break;
	case OVR_QUARANTINE:
		set(o, POLICY_QUARANTINE, "override_quarantine", "", "");
		snprintf(o->text, sizeof(o->text), "DMARC check of %s failed "
		    "(local policy)", from);
		break;
	default:
		set(o, POLICY_ACCEPT, "override_accept", "", "");
		break;
	}
}

static void
enforced(const struct policy_in *in, const struct policy_rules *r,
    struct policy_out *o)
{
	const struct dmarc_verdict *d = in->dmarc;
	const char *from = d != NULL ? d->from_domain : "";

	if (!in->inbound) {
		set(o, POLICY_ACCEPT, "outbound", "", "");
		return;
	}
	if (in->unchecked_client) {
		set(o, POLICY_ACCEPT, "unchecked_client", "", "");
		return;
	}
	if (in->trusted_client) {
		set(o, POLICY_ACCEPT, "trusted_network", "", "");
		return;
	}
	if (in->exempt_recipients) {
		set(o, POLICY_ACCEPT, "exempt_recipient", "", "");
		return;
	}
	if (d == NULL || !d->evaluated) {
		set(o, POLICY_ACCEPT, "not_evaluated", "", "");
		return;
	}
	if (d->result == DMARC_R_PERMERROR ||
	    (d->result == DMARC_R_NONE && from[0] == '\0')) {
		set(o, POLICY_REJECT, "from_unusable", "550", "5.7.1");
		snprintf(o->text, sizeof(o->text), "Message rejected: it must "
		    "have exactly one From header with one usable address "
		    "domain (%s)", d->reason);
		return;
	}
	if (in->allowed_from) {
		set(o, POLICY_ACCEPT, "allow_from", "", "");
		return;
	}
	switch (d->result) {
	case DMARC_R_FAIL:
		if (in->override != NULL && in->override->kind >= OVR_ACCEPT) {
			overridden(in->override, from, o);
			return;
		}
		if (d->disposition == DMARC_P_REJECT) {
			set(o, POLICY_REJECT, "dmarc_reject", "550", "5.7.1");
			snprintf(o->text, sizeof(o->text), "Message rejected: "
			    "DMARC policy of %s says reject (no aligned SPF or "
			    "DKIM pass)", from);
		} else if (d->disposition == DMARC_P_QUARANTINE) {
			set(o, POLICY_QUARANTINE, "dmarc_quarantine", "", "");
			snprintf(o->text, sizeof(o->text), "DMARC policy of %s "
			    "says quarantine", from);
		} else
			set(o, POLICY_ACCEPT, "dmarc_fail_policy_none", "", "");
		return;
	case DMARC_R_TEMPERROR:
		if (r->temperror_action == TEMPERROR_TEMPFAIL) {
			set(o, POLICY_TEMPFAIL, "dmarc_temperror", "451",
			    "4.7.1");
			snprintf(o->text, sizeof(o->text), "Temporary DNS "
			    "failure checking the DMARC policy of %s, try "
			    "again later", from);
		} else
			set(o, POLICY_ACCEPT, "dmarc_temperror", "", "");
		return;
	case DMARC_R_PASS:
		set(o, POLICY_ACCEPT, "dmarc_pass", "", "");
		return;
	case DMARC_R_NONE:
	case DMARC_R_PERMERROR:
		break;
	}
	if (in->spf != SPFR_FAIL) {
		set(o, POLICY_ACCEPT, "no_dmarc_policy", "", "");
		return;
	}
	switch (r->spf_fail_action) {
	case SPF_FAIL_REJECT:
		set(o, POLICY_REJECT, "spf_fail", "550", "5.7.23");
		snprintf(o->text, sizeof(o->text), "Message rejected: SPF of "
		    "%s does not allow this client", in->spf_domain != NULL ?
		    in->spf_domain : "the sender");
		return;
	case SPF_FAIL_QUARANTINE:
		set(o, POLICY_QUARANTINE, "spf_fail", "", "");
		snprintf(o->text, sizeof(o->text), "SPF fail for %s",
		    in->spf_domain != NULL ? in->spf_domain : "the sender");
		return;
	case SPF_FAIL_TAG:
		set(o, POLICY_TAG, "spf_fail", "", "");
		snprintf(o->text, sizeof(o->text), "SPF fail for %s",
		    in->spf_domain != NULL ? in->spf_domain : "the sender");
		return;
	default:
		set(o, POLICY_ACCEPT, "spf_fail", "", "");
		return;
	}
}

void
policy_decide(const struct policy_in *in, const struct policy_rules *r,
    struct policy_out *o)
{
	int enforce = r->enforce;

	memset(o, 0, sizeof(*o));
	enforced(in, r, o);
	if (in->override != NULL && in->override->kind == OVR_MONITOR)
		enforce = 0;
	else if (in->override != NULL && in->override->kind == OVR_ENFORCE)
		enforce = 1;
	o->action = enforce ? o->would : POLICY_ACCEPT;
}
