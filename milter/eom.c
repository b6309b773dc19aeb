/*
 * NAME
 *	eom -- what to do with a message at its end, decided without I/O
 * SYNOPSIS
 *	eom_plan_build(session, cfg, &plan);
 *	... carry out plan (callbacks.c) ...
 *	eom_log(session, &plan);
 *	eom_plan_free(&plan);
 * DESCRIPTION
 *	Collects the decisions for one message so that the milter callback
 *	only carries them out: the direction, which Authentication-Results
 *	headers carry our authserv-id (forged or stale; RFC 8601 section 5
 *	says to remove them), the value of the one header we insert on
 *	inbound mail, and the action.  Until checks are wired in, the header
 *	says "none": nothing was evaluated, and we do not pretend otherwise.
 *	Outbound mail gets no header of ours (it would only tell receivers
 *	about our internals); it gets signatures (callbacks.c, sign.c).  When
 *	signing failed, sign_failure_action decides: tempfail (the default:
 *	a broken key is noticed before mail leaves unsigned) or accept.
 *
 *	eom_log() writes the one log line per message.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "milter/ar.h"
#include "milter/dmarc.h"
#include "milter/eom.h"
#include "milter/log.h"
#include "milter/netlist.h"
#include "milter/state.h"
#include "milter/sign.h"
#include "milter/spf.h"
#include "milter/verify.h"

int
header_name_is(const char *name, const char *want)
{
	size_t n = strlen(name), w = strlen(want);

	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	return n == w && strncasecmp(name, want, w) == 0;
}

/* The SPF result of the identity that counts: MAIL FROM, or HELO for
 * the null sender (RFC 7208 2.4), with smtp.mailfrom / smtp.helo. */
static void
eom_ar_spf(const struct session *s, struct ar_result *r)
{
	const struct message *m = &s->msg;
	const struct spf_verdict *v = m->spf_mailfrom.checked ?
	    &m->spf_mailfrom : &m->spf_helo;

	snprintf(r->method, sizeof(r->method), "spf");
	snprintf(r->result, sizeof(r->result), "%s",
	    spf_result_name(v->result));
	snprintf(r->comment, sizeof(r->comment), "%s", v->reason);
	if (v == &m->spf_mailfrom && v->domain[0] != '\0')
		ar_result_prop(r, "smtp", "mailfrom", v->domain);
	else if (v == &m->spf_helo && v->domain[0] != '\0')
		ar_result_prop(r, "smtp", "helo", v->domain);
}

/* dmarc= with header.from and, where a record applied, policy.dmarc
 * (the published p, sp or np) for readers and the policy engine. */
static void
eom_ar_dmarc(const struct dmarc_verdict *v, struct ar_result *r)
{
	snprintf(r->method, sizeof(r->method), "dmarc");
	snprintf(r->result, sizeof(r->result), "%s",
	    dmarc_result_name(v->result));
	snprintf(r->comment, sizeof(r->comment), "%s", v->reason);
	if (v->from_domain[0] != '\0')
		ar_result_prop(r, "header", "from", v->from_domain);
	if (dmarc_policy_name(v->policy) != NULL)
		ar_result_prop(r, "policy", "dmarc",
		    dmarc_policy_name(v->policy));
}

/* spf=, one dkim= result for each of the first `shown` signatures
 * (RFC 8601 2.7.1) or dkim=none, dmarc=. */
static int
eom_ar_build(const struct session *s, const struct config *cfg,
    struct eom_plan *plan, size_t shown)
{
	const struct message *m = &s->msg;
	struct ar_result *res;
	size_t n = 0;
	int rc;

	if ((res = calloc(shown + 3, sizeof(*res))) == NULL)
		return -1;
	if (m->spf_mailfrom.checked || m->spf_helo.checked)
		eom_ar_spf(s, &res[n++]);
	for (size_t i = 0; i < shown; i++) {
		const struct dkim_result *d = &m->dkim[i];
		struct ar_result *r = &res[n++];
		snprintf(r->method, sizeof(r->method), "dkim");
		snprintf(r->result, sizeof(r->result), "%s", d->result);
		/* DNSSEC status of the key record (dns_trust_anchor). */
		snprintf(r->comment, sizeof(r->comment), "%s%s%s", d->reason,
		    d->dnssec && d->reason[0] ? "; " : "",
		    d->dnssec ? "key DNSSEC-validated" : "");
		if (d->domain[0] != '\0')
			ar_result_prop(r, "header", "d", d->domain);
		if (d->selector[0] != '\0')
			ar_result_prop(r, "header", "s", d->selector);
		if (d->alg[0] != '\0')
			ar_result_prop(r, "header", "a", d->alg);
		if (d->b[0] != '\0')
			ar_result_prop(r, "header", "b", d->b);
	}
	if (m->ndkim > shown) {
		struct ar_result *r = &res[n++];
		snprintf(r->method, sizeof(r->method), "dkim");
		snprintf(r->result, sizeof(r->result), "policy");
		snprintf(r->comment, sizeof(r->comment), "%zu more signatures "
		    "not listed", m->ndkim - shown);
	}
	if (m->ndkim == 0) {
		struct ar_result *r = &res[n++];
		snprintf(r->method, sizeof(r->method), "dkim");
		snprintf(r->result, sizeof(r->result), "%s",
		    m->dkim_unverified ? "temperror" : "none");
	}
	if (m->dmarc.evaluated)
		eom_ar_dmarc(&m->dmarc, &res[n++]);
	rc = ar_format(plan->ar_value, sizeof(plan->ar_value),
	    cfg->authserv_id, res, n) < 0 ? -1 : 0;
	free(res);
	return rc;
}

/* The parser side caps results per header (AR_MAX_RESULTS): SPF, DMARC
 * and one entry that counts the signatures not listed take three, so
 * none go unreported.  When long d= values do not fit EOM_AR_MAX, fewer
 * signatures are listed and more are counted: never a tempfail for the
 * size of our own header. */
static int
eom_ar_value(const struct session *s, const struct config *cfg,
    struct eom_plan *plan)
{
	size_t ndkim = s->msg.ndkim;
	size_t shown = ndkim < AR_MAX_RESULTS - 3 ? ndkim : AR_MAX_RESULTS - 3;

	for (;; shown--) {
		if (eom_ar_build(s, cfg, plan, shown) == 0)
			return 0;
		if (shown == 0)
			return -1;
	}
}

/* 1 when domain is one of the list or below one of them. */
static int
domain_listed(const struct wordlist *wl, const char *domain)
{
	size_t dl = strlen(domain);

	for (size_t i = 0; i < wl->n; i++) {
		size_t l = strlen(wl->w[i]);
		if (strcasecmp(wl->w[i], domain) == 0 || (dl > l &&
		    domain[dl - l - 1] == '.' &&
		    strcasecmp(domain + dl - l, wl->w[i]) == 0))
			return 1;
	}
	return 0;
}

/* Inbound: the policy engine decides (policy/policy.c). */
static void
eom_policy(const struct session *s, const struct config *cfg,
    struct eom_plan *plan)
{
	const struct message *m = &s->msg;
	const struct spf_verdict *spf = m->spf_mailfrom.checked ?
	    &m->spf_mailfrom : &m->spf_helo;
	struct policy_in in = {
		.inbound = 1,
		.trusted_client = s->has_addr &&
		    netlist_match(cfg->trusted_networks,
		    (const struct sockaddr *)&s->client_addr),
		.allowed_from = m->dmarc.from_domain[0] != '\0' &&
		    domain_listed(&cfg->allow_from_domains,
		    m->dmarc.from_domain),
		.dmarc = &m->dmarc,
		.spf = spf->checked ? spf->result : SPFR_NONE,
		.spf_domain = spf->domain,
		.override = m->dmarc.from_domain[0] != '\0' ?
		    overrides_find(m->state->overrides, m->dmarc.from_domain,
		    time(NULL)) : NULL,
	};
	struct policy_rules rules = {
		.enforce = cfg->policy_mode == POLICY_ENFORCE,
		.spf_fail_action = (int)cfg->spf_fail_action,
		.temperror_action = (int)cfg->temperror_action,
	};

	policy_decide(&in, &rules, &plan->policy);
	if (plan->policy.action != plan->policy.would ||
	    (!rules.enforce && in.override == NULL))
		plan->would_action = policy_action_name(plan->policy.would);
	if (in.override != NULL)
		snprintf(plan->override, sizeof(plan->override), "%s %s%s%s",
		    in.override->domain, override_kind_name(in.override->kind),
		    in.override->date[0] ? " until=" : "", in.override->date);
}

int
eom_plan_build(const struct session *s, const struct config *cfg,
    struct eom_plan *plan)
{
	const struct message *m = &s->msg;
	size_t occurrence = 0;

	memset(plan, 0, sizeof(*plan));
	plan->dir = direction_of(cfg, s, &plan->dir_why);
	for (size_t i = 0; i < m->nhdrs; i++) {
		if (!header_name_is(m->hdrs[i].name, "Authentication-Results"))
			continue;
		occurrence++;
		if (!ar_is_ours(m->hdrs[i].value, m->hdrs[i].vlen,
		    cfg->authserv_id)) {
			plan->n_ar_kept++;
			continue;
		}
		size_t *grown = realloc(plan->ar_delete,
		    (plan->n_ar_delete + 1) * sizeof(*grown));
		if (grown == NULL)
			return -1;
		plan->ar_delete = grown;
		plan->ar_delete[plan->n_ar_delete++] = occurrence;
	}
	/* Highest occurrence first. */
	for (size_t i = 0; i < plan->n_ar_delete / 2; i++) {
		size_t t = plan->ar_delete[i];
		plan->ar_delete[i] = plan->ar_delete[plan->n_ar_delete - 1 - i];
		plan->ar_delete[plan->n_ar_delete - 1 - i] = t;
	}
	plan->insert_ar = plan->dir == DIR_INBOUND;
	if (plan->insert_ar && eom_ar_value(s, cfg, plan) != 0)
		return -1;
	signer_describe(m->signer, plan->signed_by, sizeof(plan->signed_by));
	if (plan->dir == DIR_INBOUND)
		eom_policy(s, cfg, plan);
	else if (m->sign_error != NULL) {
		plan->signed_by[0] = '\0';
		plan->policy.reason = "sign_failed";
		if (cfg->sign_failure_action == SIGN_FAIL_TEMPFAIL) {
			plan->policy.action = POLICY_TEMPFAIL;
			snprintf(plan->policy.code, sizeof(plan->policy.code),
			    "451");
			snprintf(plan->policy.xcode, sizeof(plan->policy.xcode),
			    "4.3.0");
			snprintf(plan->policy.text, sizeof(plan->policy.text),
			    "authfilter: cannot sign this message now, try "
			    "again later");
		}
	} else
		plan->policy.reason = m->signer != NULL ? "signed" :
		    "not_signed";
	plan->action = policy_action_name(plan->policy.action);
	plan->reason = plan->policy.reason;
	return 0;
}

void
eom_plan_free(struct eom_plan *plan)
{
	free(plan->ar_delete);
	plan->ar_delete = NULL;
	plan->n_ar_delete = 0;
}

void
eom_log(const struct session *s, const struct eom_plan *plan)
{
	const struct message *m = &s->msg;
	char client[600], nrcpt[24], removed[24], ar[EOM_AR_MAX];
	size_t j = 0;

	ar[0] = '\0';

	snprintf(client, sizeof(client), "%s[%s]",
	    s->client_name != NULL ? s->client_name : "unknown",
	    s->client_ip[0] != '\0' ? s->client_ip : "unknown");
	snprintf(nrcpt, sizeof(nrcpt), "%zu", m->nrcpts);
	snprintf(removed, sizeof(removed), "%zu", plan->n_ar_delete);
	/* The AR value unfolded, for one line. */
	for (const char *p = plan->ar_value; *p != '\0' && j + 1 < sizeof(ar);
	    p++)
		if (*p != '\n' && *p != '\t')
			ar[j++] = *p;
		else if (*p == '\t')
			ar[j++] = ' ';
	ar[j] = '\0';

	/* The verdict first: a line too long for the log loses its last
	 * fields (log.c), and those are the ones the network chose. */
	struct log_field f[] = {
		{ "queue_id", m->queue_id != NULL ? m->queue_id : "NOQUEUE" },
		{ "client", client },
		{ "action", plan->action },
		{ "would_action", plan->would_action },
		{ "override", plan->override[0] ? plan->override : NULL },
		{ "reason", plan->reason },
		{ "direction", direction_name(plan->dir) },
		{ "direction_why", plan->dir_why },
		{ "spf", m->spf_mailfrom.checked ?
		    spf_result_name(m->spf_mailfrom.result) : NULL },
		{ "spf_helo", m->spf_helo.checked ?
		    spf_result_name(m->spf_helo.result) : NULL },
		{ "dmarc", m->dmarc.evaluated ?
		    dmarc_result_name(m->dmarc.result) : NULL },
		{ "dmarc_from", m->dmarc.from_domain[0] ?
		    m->dmarc.from_domain : NULL },
		{ "dmarc_policy", dmarc_policy_name(m->dmarc.policy) },
		{ "dmarc_disposition", m->dmarc.result == DMARC_R_FAIL ?
		    dmarc_policy_name(m->dmarc.disposition) : NULL },
		{ "sign_domain", m->sign_domain[0] ? m->sign_domain : NULL },
		{ "dkim_signed", plan->signed_by[0] ? plan->signed_by : NULL },
		{ "sign_skip", m->sign_skip },
		{ "sign_error", m->sign_error },
		{ "ar_removed", removed },
		{ "nrcpt", nrcpt },
		{ "auth", m->auth_authen },
		{ "helo", s->helo },
		{ "mail_from", m->env_from },
		{ "rcpt", m->nrcpts_kept > 0 ? m->rcpts[0] : NULL },
		{ "ar", plan->insert_ar ? ar : NULL },
	};
	log_record(LOG_INFO, f, sizeof(f) / sizeof(f[0]));
}
