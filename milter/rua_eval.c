/*
 * NAME
 *	rua_eval -- a message's DMARC evaluation as aggregate report data
 * SYNOPSIS
 *	if (rua_eval_build(session, &plan, time(NULL), ev))
 *		rua_writer_submit(ev);
 * DESCRIPTION
 *	What RFC 9990 section 3 asks a receiver to report of each message
 *	it evaluated: the source IP; the identifiers (header_from, the
 *	envelope_from domain, the first recipient's domain); every DKIM
 *	result with its domain and selector and the SPF results with
 *	their scope; the policy published at the policy domain and its
 *	rua=; the disposition applied and whether DKIM and SPF each gave
 *	an aligned pass.
 *
 *	The disposition is what was done, not what the policy asked:
 *	reject, quarantine, or none.  When they differ, a reason says why
 *	(RFC 9990 PolicyOverrideType): policy_test_mode for t=y,
 *	trusted_forwarder for trusted_networks, local_policy for monitor
 *	mode, policy_overrides, allow_from_domains and exempt_recipients.
 *
 *	Not report data: outbound mail, unchecked clients, a message whose
 *	From found no usable record (none, temperror, permerror), and a
 *	tempfailed message (the client sends it again).
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/from.h"
#include "lib/verdict.h"
#include "milter/check.h"
#include "milter/eom.h"
#include "milter/rua_eval.h"
#include "milter/session.h"
#include "milter/verify.h"

/* src, cut to fit (the report's fields are shorter than some of ours). */
static void
copy(char *dst, size_t dstsz, const char *src)
{
	size_t n = src != NULL ? strnlen(src, dstsz - 1) : 0;

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

/* Domains in reports are compared and grouped: one spelling. */
static void
lower(char *p)
{
	for (; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

static const char *
policy_word(enum dmarc_policy p)
{
	const char *w = dmarc_policy_name(p);

	return w != NULL ? w : "";
}

static void
add_reason(struct rua_record *r, const char *type, const char *comment)
{
	if (r->nreason >= RUA_REASON_MAX)
		return;
	copy(r->reason[r->nreason].type, sizeof(r->reason[0].type), type);
	copy(r->reason[r->nreason].comment, sizeof(r->reason[0].comment),
	    comment);
	r->nreason++;
}

/* What was done, in RFC 9990's words. */
static const char *
disposition(const struct eom_plan *plan)
{
	switch (plan->policy.action) {
	case POLICY_REJECT:	return "reject";
	case POLICY_QUARANTINE:	return "quarantine";
	default:		return "none";
	}
}

/* Why the disposition is not the one the policy asked for. */
static void
reasons(const struct dmarc_verdict *v, const struct eom_plan *plan,
    struct rua_record *r)
{
	const char *why = plan->policy.reason != NULL ? plan->policy.reason :
	    "";

	if (v->result != DMARC_R_FAIL)
		return;
	if (v->pub_testing && v->disposition != v->policy)
		add_reason(r, "policy_test_mode", "t=y");
	if (strcmp(why, "trusted_network") == 0)
		add_reason(r, "trusted_forwarder", "trusted_networks");
	else if (strncmp(why, "override_", 9) == 0)
		add_reason(r, "local_policy", plan->override);
	else if (strcmp(why, "allow_from") == 0)
		add_reason(r, "local_policy", "allow_from_domains");
	else if (strcmp(why, "exempt_recipient") == 0)
		add_reason(r, "local_policy", "exempt_recipients");
	else if (plan->would_action != NULL &&
	    strcmp(plan->would_action, plan->action) != 0)
		add_reason(r, "local_policy", "monitor mode");
}

static void
auth_results(const struct check_results *res, struct rua_record *r)
{
	const struct spf_verdict *spf[2] = { &res->spf_mailfrom,
		&res->spf_helo };
	const char *scope[2] = { "mfrom", "helo" };

	for (size_t i = 0; i < res->ndkim && r->ndkim < RUA_DKIM_MAX; i++) {
		struct rua_dkim *d = &r->dkim_res[r->ndkim++];
		copy(d->domain, sizeof(d->domain), res->dkim[i].domain);
		lower(d->domain);
		copy(d->selector, sizeof(d->selector), res->dkim[i].selector);
		copy(d->result, sizeof(d->result), res->dkim[i].result);
	}
	for (size_t i = 0; i < 2 && r->nspf < RUA_SPF_MAX; i++) {
		struct rua_spf *s;
		if (!spf[i]->checked)
			continue;
		s = &r->spf_res[r->nspf++];
		copy(s->domain, sizeof(s->domain), spf[i]->domain);
		lower(s->domain);
		copy(s->scope, sizeof(s->scope), scope[i]);
		copy(s->result, sizeof(s->result),
		    spf_result_name(spf[i]->result));
	}
}

int
rua_eval_build(const struct session *s, const struct eom_plan *plan,
    time_t now, struct rua_eval *ev)
{
	const struct message *m = &s->msg;
	const struct dmarc_verdict *v = &m->res.dmarc;
	struct rua_record *r = &ev->rec;

	if (plan->dir != DIR_INBOUND || !m->checked || !v->evaluated ||
	    v->policy_domain[0] == '\0' ||
	    (v->result != DMARC_R_PASS && v->result != DMARC_R_FAIL) ||
	    plan->policy.action == POLICY_TEMPFAIL)
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->when = (int64_t)now;
	copy(ev->pub.domain, sizeof(ev->pub.domain), v->policy_domain);
	copy(ev->pub.p, sizeof(ev->pub.p), policy_word(v->pub_p));
	copy(ev->pub.sp, sizeof(ev->pub.sp), policy_word(v->pub_sp));
	copy(ev->pub.np, sizeof(ev->pub.np), policy_word(v->pub_np));
	copy(ev->pub.adkim, sizeof(ev->pub.adkim),
	    v->pub_adkim_strict ? "s" : "r");
	copy(ev->pub.aspf, sizeof(ev->pub.aspf), v->pub_aspf_strict ? "s" : "r");
	copy(ev->pub.testing, sizeof(ev->pub.testing),
	    v->pub_testing ? "y" : "n");
	copy(ev->pub.discovery_method, sizeof(ev->pub.discovery_method),
	    v->discovery != NULL && strcmp(v->discovery, "tree walk") == 0 ?
	    "treewalk" : "psl");
	copy(ev->rua, sizeof(ev->rua), v->rua);

	copy(r->source_ip, sizeof(r->source_ip), s->client_ip);
	r->count = 1;
	copy(r->disposition, sizeof(r->disposition), disposition(plan));
	copy(r->dkim, sizeof(r->dkim), v->dkim_aligned ? "pass" : "fail");
	copy(r->spf, sizeof(r->spf), v->spf_aligned ? "pass" : "fail");
	reasons(v, plan, r);
	copy(r->header_from, sizeof(r->header_from), v->from_domain);
	envelope_domain(m->env_from, r->envelope_from,
	    sizeof(r->envelope_from));
	if (r->envelope_from[0] == '\0')
		copy(r->envelope_from, sizeof(r->envelope_from), s->helo);
	if (m->nrcpts_kept > 0)
		envelope_domain(m->rcpts[0], r->envelope_to,
		    sizeof(r->envelope_to));
	lower(r->envelope_from);
	lower(r->envelope_to);
	auth_results(&m->res, r);
	return 1;
}
