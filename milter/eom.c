/*
 * NAME
 *	eom -- what to do with a message at its end, decided without I/O
 * SYNOPSIS
 *	eom_plan_build(session, cfg, time(NULL), &plan);
 *	... carry out plan (callbacks.c) ...
 *	eom_log(session, &plan);
 *	eom_plan_free(&plan);
 * DESCRIPTION
 *	Every decision about a message is made here, in one place, without
 *	I/O and with the clock given: the direction (decided at MAIL FROM),
 *	which Authentication-Results headers carry our authserv-id (forged
 *	or stale; RFC 8601 section 5 says to remove them), the value of the
 *	one header we insert on inbound mail (the checks' entries, check.h),
 *	and the reply:
 *
 *	-  a header limit passed (max_headers, max_header_bytes): 552 5.3.4;
 *	-  a login sending as a domain sender_login_map does not give it,
 *	   with sender_mismatch_action = reject: 553 5.7.1;
 *	-  inbound: the policy engine (policy/policy.c) over the verdicts;
 *	-  outbound, signing failed: sign_failure_action decides, tempfail
 *	   (the default: a broken key is noticed before mail leaves
 *	   unsigned) or accept.
 *	Outbound mail gets no header of ours (it would only tell receivers
 *	about our internals); it gets signatures (callbacks.c, sign.c).
 *	The callbacks only carry the plan out.
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
#include "milter/check.h"
#include "lib/metrics.h"
#include "milter/eom.h"
#include "lib/from.h"
#include "lib/header.h"
#include "lib/log.h"
#include "lib/netlist.h"
#include "milter/state.h"
#include "milter/sign.h"
#include "milter/verify.h"

/* The checks' entries, each listing at most `cap` signatures. */
static int
eom_ar_build(const struct session *s, const struct config *cfg,
    struct eom_plan *plan, size_t cap)
{
	struct ar_result *res;
	size_t n;
	int rc;

	if ((res = calloc(AR_MAX_RESULTS, sizeof(*res))) == NULL)
		return -1;
	n = checks_ar(&s->msg, cap, res, AR_MAX_RESULTS);
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
	for (size_t cap = AR_MAX_RESULTS - 3;; cap--) {
		if (eom_ar_build(s, cfg, plan, cap) == 0)
			return 0;
		if (cap == 0)
			return -1;
	}
}

/* 1 when domain is one of the list or below one of them. */
static int
domain_listed(const struct wordlist *wl, const char *domain)
{
	for (size_t i = 0; i < wl->n; i++)
		if (domain_at_or_below(domain, wl->w[i]))
			return 1;
	return 0;
}

/* 1 when rcpt ("<a@b>") is in exempt_recipients: "local@" (any domain),
 * "local@domain", "@domain"; without regard to case. */
static int
rcpt_exempt(const struct wordlist *wl, const char *rcpt)
{
	char addr[600], *at;
	size_t n;

	rcpt += *rcpt == '<';
	n = strcspn(rcpt, ">");
	if (n == 0 || n >= sizeof(addr))
		return 0;
	memcpy(addr, rcpt, n);
	addr[n] = '\0';
	if ((at = strrchr(addr, '@')) == NULL)
		return 0;
	for (size_t i = 0; i < wl->n; i++) {
		const char *w = wl->w[i], *wat = strrchr(w, '@');
		size_t ll = wat != NULL ? (size_t)(wat - w) : 0;

		if (wat == NULL)
			continue;
		if ((ll == 0 || (ll == (size_t)(at - addr) &&
		    strncasecmp(w, addr, ll) == 0)) &&
		    (wat[1] == '\0' || strcasecmp(wat + 1, at + 1) == 0))
			return 1;
	}
	return 0;
}

/* Every recipient exempt (and all of them known). */
static int
all_exempt(const struct message *m, const struct config *cfg)
{
	if (cfg->exempt_recipients.n == 0 || m->nrcpts == 0 ||
	    m->nrcpts_kept < m->nrcpts)
		return 0;
	for (size_t i = 0; i < m->nrcpts_kept; i++)
		if (!rcpt_exempt(&cfg->exempt_recipients, m->rcpts[i]))
			return 0;
	return 1;
}

/* Inbound: the policy engine decides (policy/policy.c). */
static void
eom_policy(const struct session *s, const struct config *cfg, time_t now,
    struct eom_plan *plan)
{
	const struct message *m = &s->msg;
	const struct dmarc_verdict *dmarc = &m->res.dmarc;
	const struct spf_verdict *spf = check_spf_counting(&m->res);
	struct policy_in in = {
		.inbound = 1,
		.trusted_client = s->has_addr &&
		    netlist_match(cfg->trusted_networks,
		    (const struct sockaddr *)&s->client_addr),
		.unchecked_client = m->unchecked,
		.exempt_recipients = all_exempt(m, cfg),
		.allowed_from = dmarc->from_domain[0] != '\0' &&
		    domain_listed(&cfg->allow_from_domains,
		    dmarc->from_domain),
		.dmarc = dmarc,
		.spf = spf->checked ? spf->result : SPFR_NONE,
		.spf_domain = spf->domain,
		.override = dmarc->from_domain[0] != '\0' ?
		    overrides_find(m->state->overrides, dmarc->from_domain,
		    now) : NULL,
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

static void
reply(struct eom_plan *plan, enum policy_action action, const char *code,
    const char *xcode, const char *text, const char *reason)
{
	plan->policy.action = action;
	plan->policy.reason = reason;
	snprintf(plan->policy.code, sizeof(plan->policy.code), "%s", code);
	snprintf(plan->policy.xcode, sizeof(plan->policy.xcode), "%s", xcode);
	snprintf(plan->policy.text, sizeof(plan->policy.text), "%s", text);
}

/* Refused before any check: a header limit, a login's sender.  1 when
 * the plan is made. */
static int
eom_refusal(const struct session *s, const struct config *cfg,
    struct eom_plan *plan)
{
	const struct message *m = &s->msg;
	char text[160];

	if (m->hdr_over == HDR_TOO_MANY || m->hdr_over == HDR_TOO_BIG) {
		if (m->hdr_over == HDR_TOO_MANY)
			snprintf(text, sizeof(text), "Message has more than "
			    "%zu header fields", cfg->max_headers);
		else
			snprintf(text, sizeof(text), "Message header is larger "
			    "than %zu bytes", cfg->max_header_bytes);
		reply(plan, POLICY_REJECT, "552", "5.3.4", text,
		    m->hdr_over == HDR_TOO_MANY ? "too_many_headers" :
		    "header_too_big");
		snprintf(plan->detail, sizeof(plan->detail), "%s", text);
		return 1;
	}
	if (m->sender_mismatch &&
	    cfg->sender_mismatch_action == MISMATCH_REJECT) {
		reply(plan, POLICY_REJECT, "553", "5.7.1", "Sender address "
		    "rejected: not owned by the authenticated user",
		    "sender_login_map");
		snprintf(plan->detail, sizeof(plan->detail), "login %.100s may "
		    "not send as %.255s", m->auth_authen != NULL ?
		    m->auth_authen : "", m->sign_domain);
		return 1;
	}
	return 0;
}

static void
plan_start(const struct session *s, struct eom_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->dir = s->msg.dir;
	plan->dir_why = s->msg.dir_why != NULL ? s->msg.dir_why : "external";
}

int
eom_plan_refusal(const struct session *s, const struct config *cfg,
    struct eom_plan *plan)
{
	plan_start(s, plan);
	if (!eom_refusal(s, cfg, plan))
		return 0;
	plan->action = policy_action_name(plan->policy.action);
	plan->reason = plan->policy.reason;
	return 1;
}

int
eom_has_our_ar(const struct message *m, const char *authserv_id)
{
	for (size_t i = 0; i < m->nhdrs; i++)
		if (header_name_is(m->hdrs[i].name, "Authentication-Results") &&
		    ar_is_ours(m->hdrs[i].value, m->hdrs[i].vlen, authserv_id))
			return 1;
	return 0;
}

int
eom_plan_build(const struct session *s, const struct config *cfg, time_t now,
    struct eom_plan *plan)
{
	const struct message *m = &s->msg;
	size_t occurrence = 0;

	if (eom_plan_refusal(s, cfg, plan))
		return 0;
	/*
	 * Our Authentication-Results headers are forgeries on mail from
	 * outside and on what a user submits: deleted.  Two kinds of mail
	 * carry genuine ones: mail re-injected after we checked it inbound
	 * (a content filter, a Sieve redirect: it comes back from
	 * internal_networks) and mail from unchecked_clients (a relay of
	 * ours that checked it): kept, and no header of ours is added.
	 */
	for (size_t i = 0; i < m->nhdrs && !m->reinjected && !m->unchecked;
	    i++) {
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
	plan->insert_ar = plan->dir == DIR_INBOUND && !m->unchecked;
	if (plan->insert_ar && eom_ar_value(s, cfg, plan) != 0)
		return -1;
	signer_describe(m->signer, plan->signed_by, sizeof(plan->signed_by));
	if (plan->dir == DIR_INBOUND)
		eom_policy(s, cfg, now, plan);
	else if (m->sign_error != NULL) {
		plan->signed_by[0] = '\0';
		plan->policy.reason = "sign_failed";
		if (cfg->sign_failure_action == SIGN_FAIL_TEMPFAIL)
			reply(plan, POLICY_TEMPFAIL, "451", "4.3.0",
			    "authfilter: cannot sign this message now, try "
			    "again later", "sign_failed");
	} else
		plan->policy.reason = m->signer != NULL ? "signed" :
		    m->reinjected ? "reinjected" : "not_signed";
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

/* Postfix hands a client without a reverse name to milters as
 * "[address]" (Sendmail's form); its own log says unknown[address], and
 * so do we. */
static const char *
client_name_for_log(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || (name[0] == '[' && name[n - 1] == ']'))
		return "unknown";
	return name;
}

/* The metrics of one message, counted where it is logged: the two
 * always agree. */
static void
eom_count(const struct message *m, const struct eom_plan *plan)
{
	const char *dir = direction_name(plan->dir);
	const struct spf_verdict *spf;

	metrics_count("authfilter_messages_total", 1, "direction", dir,
	    "action", plan->action, NULL);
	if (plan->would_action != NULL)
		metrics_count("authfilter_monitor_would_action_total", 1,
		    "direction", dir, "action", plan->would_action, NULL);
	if (plan->override[0] != '\0')
		metrics_count("authfilter_policy_overrides_applied_total", 1,
		    NULL);
	if (m->sign_error != NULL)
		metrics_count("authfilter_sign_failures_total", 1, NULL);
	if (!m->checked)
		return;
	if ((spf = check_spf_counting(&m->res)) != NULL && spf->checked)
		metrics_count("authfilter_spf_results_total", 1, "result",
		    spf_result_name(spf->result), NULL);
	for (size_t i = 0; i < m->res.ndkim; i++)
		metrics_count("authfilter_dkim_results_total", 1, "result",
		    m->res.dkim[i].result, NULL);
	if (m->res.ndkim == 0 && !m->res.dkim_unverified)
		metrics_count("authfilter_dkim_results_total", 1, "result",
		    "none", NULL);
	if (m->res.dmarc.evaluated)
		metrics_count("authfilter_dmarc_results_total", 1, "result",
		    dmarc_result_name(m->res.dmarc.result), NULL);
}

void
eom_log(const struct session *s, const struct eom_plan *plan)
{
	const struct message *m = &s->msg;
	char client[600], nrcpt[24], removed[24], ar[EOM_AR_MAX];
	size_t j = 0;

	ar[0] = '\0';

	snprintf(client, sizeof(client), "%s[%s]",
	    client_name_for_log(s->client_name),
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
		{ "detail", plan->detail[0] ? plan->detail : NULL },
	};
	struct log_field after[] = {
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
	struct log_field all[sizeof(f) / sizeof(f[0]) + 4 * CHECKS_MAX +
	    sizeof(after) / sizeof(after[0])];
	size_t n = sizeof(f) / sizeof(f[0]);

	memcpy(all, f, sizeof(f));
	n += checks_log(m, all + n, 4 * CHECKS_MAX);
	memcpy(all + n, after, sizeof(after));
	n += sizeof(after) / sizeof(after[0]);
	log_record(LOG_INFO, all, n);
	eom_count(m, plan);
}
