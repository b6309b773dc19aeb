/*
 * NAME
 *	callbacks -- what the daemon does at each milter stage, kept thin
 * DESCRIPTION
 *	The hooks the protocol engine (engine.c) calls.  Each stores what
 *	the MTA hands over into the session (session.c) and returns.  The
 *	direction is decided once, at MAIL FROM, when everything it depends
 *	on is known.  Inbound mail goes through the checks (check.h): at
 *	MAIL FROM and end of headers they start their DNS lookups, the body
 *	streams to them, and at end of message they give their verdicts,
 *	all DNS waiting bounded by dns_message_budget.  Outbound mail is
 *	signed: at end of headers outbound_plan() picks the keys, and the
 *	body streams into the signer chunk by chunk.
 *
 *	Every decision comes from eom.c (eom_plan_build(), and
 *	eom_plan_refusal() for a header limit or a sender_login_map refusal
 *	known before the end); this file only carries them out: reply,
 *	delete our forged or stale Authentication-Results headers, insert
 *	ours and the signatures, log one line.
 *
 *	When authfilter cannot do what it must (out of memory, a header
 *	edit the MTA refused), it tempfails: the MTA keeps the mail and
 *	the sender retries.
 *
 *	While the daemon drains for shutdown, new sessions and new messages
 *	get 451 4.3.2: the sender retries, and the restarted daemon takes it.
 *
 *	Every stage before end of message is negotiated as "no reply"
 *	(SMFIP_NR_*) with an MTA that offers it, as Postfix and Sendmail
 *	do: the MTA streams the message without waiting for a round trip
 *	per header, which is most of a milter's cost per message.  A
 *	verdict reached at such a stage (a header limit, a tempfail) is
 *	kept by the engine and given at end of message; the client gets the
 *	same SMTP reply, after DATA.  A connection that arrives while the
 *	daemon shuts down negotiates no such stage: it is refused at
 *	connect, at once.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "milter/callbacks.h"
#include "milter/check.h"
#include "milter/direction.h"
#include "lib/dns.h"
#include "milter/eom.h"
#include "lib/log.h"
#include "lib/netlist.h"
#include "milter/outbound.h"
#include "milter/rua_eval.h"
#include "milter/rua_writer.h"
#include "milter/session.h"
#include "milter/sign.h"
#include "milter/state.h"

#define SES(mc) ((struct session *)milter_priv(mc))
#define CHECK_IN(s) { .s = (s), .m = &(s)->msg, .st = (s)->msg.state }

/* Stages the MTA need not wait for; SMFIP_NODATA and SMFIP_NOUNKNOWN:
 * there are no callbacks for DATA and unknown commands. */
#define NOREPLY_STAGES (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
	SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define SKIPPED_STAGES (SMFIP_NODATA | SMFIP_NOUNKNOWN)

static enum milter_status
tempfail(struct milter_conn *mc, const char *why)
{
	log_msg(LOG_ERR, "tempfail: %s", why);
	milter_set_reply(mc, "451", "4.3.0",
	    "authfilter: local error, try again later");
	return MS_TEMPFAIL;
}

static enum milter_status
refuse_draining(struct milter_conn *mc)
{
	milter_set_reply(mc, "451", "4.3.2",
	    "authfilter is restarting, try again later");
	return MS_TEMPFAIL;
}

static void
cb_negotiate(struct milter_conn *mc, uint32_t mta_actions, uint32_t mta_proto,
    uint32_t *actions, uint32_t *proto)
{
	(void)mc;
	(void)mta_actions;
	(void)mta_proto;
	*actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST;
	/* Header values exactly as sent (DKIM canonicalisation needs the
	 * white space after the colon).  While draining, a new connection
	 * is refused at connect: no no-reply stages for it. */
	*proto = SMFIP_HDR_LEADSPC | SKIPPED_STAGES |
	    (session_draining() ? 0 : NOREPLY_STAGES);
}

static enum milter_status
cb_connect(struct milter_conn *mc, const char *hostname,
    const struct sockaddr *addr)
{
	struct session *s = session_new();
	const char *daemon;

	if (s == NULL)
		return tempfail(mc, "out of memory at connect");
	milter_set_priv(mc, s);
	if (session_draining())
		return refuse_draining(mc);
	if (session_set_client(s, hostname, addr) != 0)
		return tempfail(mc, "out of memory at connect");
	daemon = milter_macro(mc, "{daemon_name}");
	if (daemon != NULL && session_set_str(&s->daemon_name, daemon) != 0)
		return tempfail(mc, "out of memory at connect");
	return MS_CONTINUE;
}

static enum milter_status
cb_helo(struct milter_conn *mc, const char *helo)
{
	struct session *s = SES(mc);

	if (session_set_str(&s->helo, helo) != 0)
		return tempfail(mc, "out of memory at HELO");
	return MS_CONTINUE;
}

static void
take_queue_id(struct milter_conn *mc, struct message *m)
{
	const char *qid;

	if (m->queue_id == NULL && (qid = milter_macro(mc, "i")) != NULL)
		(void)session_set_str(&m->queue_id, qid);
}

static enum milter_status
cb_envfrom(struct milter_conn *mc, const char *addr)
{
	struct session *s = SES(mc);
	struct af_state *st;
	const char *auth;

	message_end(s);
	if (session_draining())
		return refuse_draining(mc);
	if ((st = state_acquire()) == NULL)
		return tempfail(mc, "no configuration loaded");
	message_begin(s, st);
	if (session_set_str(&s->msg.env_from, addr) != 0)
		return tempfail(mc, "out of memory at MAIL FROM");
	auth = milter_macro(mc, "{auth_authen}");
	if (auth != NULL && session_set_str(&s->msg.auth_authen, auth) != 0)
		return tempfail(mc, "out of memory at MAIL FROM");
	take_queue_id(mc, &s->msg);
	/* Everything direction depends on is known now. */
	s->msg.dir = direction_of(st->cfg, s->msg.auth_authen, s->has_addr ?
	    (const struct sockaddr *)&s->client_addr : NULL, s->daemon_name,
	    &s->msg.dir_why);
	/* unchecked_clients: no lookup, no verdict (eom.c says why). */
	s->msg.unchecked = s->msg.dir == DIR_INBOUND && s->has_addr &&
	    netlist_match(st->cfg->unchecked_clients,
	    (const struct sockaddr *)&s->client_addr);
	if (s->msg.dir == DIR_INBOUND && !s->msg.unchecked) {
		struct check_in in = CHECK_IN(s);
		if (checks_begin(&s->msg) != 0)
			return tempfail(mc, "out of memory at MAIL FROM");
		checks_mail(&s->msg, &in);
	}
	return MS_CONTINUE;
}

static enum milter_status
cb_envrcpt(struct milter_conn *mc, const char *addr)
{
	struct session *s = SES(mc);

	if (!s->msg.active)
		return tempfail(mc, "no message at RCPT TO");
	if (message_add_rcpt(&s->msg, addr) != 0)
		return tempfail(mc, "out of memory at RCPT TO");
	return MS_CONTINUE;
}

/* A refusal known before end of message (eom_plan_refusal()): given
 * at once; with no-reply stages the engine keeps it for end of message. */
static enum milter_status
refuse_early(struct milter_conn *mc, struct session *s)
{
	struct eom_plan plan;

	if (!eom_plan_refusal(s, s->msg.state->cfg, &plan))
		return MS_CONTINUE;
	eom_log(s, &plan);
	milter_set_reply(mc, plan.policy.code, plan.policy.xcode,
	    plan.policy.text);
	eom_plan_free(&plan);
	message_end(s);
	return MS_REJECT;
}

static enum milter_status
cb_header(struct milter_conn *mc, const char *name, const char *value)
{
	struct session *s = SES(mc);
	const struct config *cfg;
	enum hdr_status hs;

	if (!s->msg.active)
		return tempfail(mc, "no message at header");
	cfg = s->msg.state->cfg;
	hs = message_add_header(&s->msg, name, value, cfg->max_headers,
	    cfg->max_header_bytes);
	if (hs == HDR_NOMEM)
		return tempfail(mc, "out of memory storing a header");
	if (hs == HDR_OK)
		return MS_CONTINUE;
	s->msg.hdr_over = hs;
	take_queue_id(mc, &s->msg);
	return refuse_early(mc, s);
}

static void
sign_failed(struct message *m, const char *err)
{
	if (m->sign_error == NULL && (m->sign_error = strdup(err)) == NULL)
		m->sign_error = strdup("?");	/* still must not pass unsigned */
	signer_free(m->signer);
	m->signer = NULL;
}

static enum milter_status
cb_eoh(struct milter_conn *mc)
{
	struct session *s = SES(mc);
	struct message *m = &s->msg;
	struct af_state *st;
	struct outbound_plan op;
	char err[512];

	if (!m->active)
		return tempfail(mc, "no message at end of headers");
	take_queue_id(mc, m);
	st = m->state;
	if (m->dir == DIR_INBOUND) {
		struct check_in in = CHECK_IN(s);
		checks_eoh(m, &in);
		return MS_CONTINUE;
	}
	/* Back from a content filter or a redirect after our inbound check
	 * (its verdict on top): signing it would put our signature on
	 * whatever came in, a spoof of our own domain included. */
	if (strcmp(m->dir_why, "internal_network") == 0 &&
	    eom_has_our_ar(m, st->cfg->authserv_id)) {
		m->reinjected = 1;
		m->sign_skip = "reinjected";
		return MS_CONTINUE;
	}
	outbound_plan(m, st->keys, st->cfg->sign_subdomains, st->logins,
	    st->signtable, &op);
	snprintf(m->sign_domain, sizeof(m->sign_domain), "%s", op.domain);
	m->sender_mismatch = op.sender_mismatch;
	if (m->sender_mismatch && refuse_early(mc, s) == MS_REJECT)
		return MS_REJECT;
	if (op.skip != NULL) {
		m->sign_skip = op.skip;
		return MS_CONTINUE;
	}
	m->signer = signer_new(st->sign, op.keys, op.nkeys, m->hdrs, m->nhdrs,
	    err, sizeof(err));
	if (m->signer == NULL)
		sign_failed(m, err);
	return MS_CONTINUE;
}

static enum milter_status
cb_body(struct milter_conn *mc, const unsigned char *chunk, size_t len)
{
	struct session *s = SES(mc);
	char err[512];

	if (!s->msg.active)
		return tempfail(mc, "no message at body");
	s->msg.body_bytes += len;
	if (s->msg.signer != NULL &&
	    signer_body(s->msg.signer, chunk, len, err, sizeof(err)) != 0)
		sign_failed(&s->msg, err);
	checks_body(&s->msg, chunk, len);
	return MS_CONTINUE;
}

/* While end of message waits for DNS, the MTA hears that we are alive
 * (SMFIR_PROGRESS), so its own milter timeout does not fire first. */
static void
progress(void *mc)
{
	(void)milter_progress(mc);
}

/* The header edits of a plan that accepts the message: tag, forged
 * Authentication-Results out, signatures and ours in.  NULL, or what
 * the MTA refused. */
static const char *
eom_edits(struct milter_conn *mc, struct session *s,
    const struct eom_plan *plan, char **sigs, size_t nsigs)
{
	if (plan->policy.action == POLICY_QUARANTINE &&
	    milter_quarantine(mc, plan->policy.text) != 0)
		return "MTA refused to quarantine the message";
	if ((plan->policy.action == POLICY_TAG ||
	    (plan->policy.action == POLICY_QUARANTINE &&
	    s->msg.state->cfg->quarantine_tag)) &&
	    milter_add_header(mc, "X-Authfilter-Warning",
	    plan->policy.text) != 0)
		return "MTA refused our warning header";
	for (size_t i = 0; i < plan->n_ar_delete; i++)
		if (milter_change_header(mc, "Authentication-Results",
		    (unsigned)plan->ar_delete[i], NULL) != 0)
			return "MTA refused to delete a forged "
			    "Authentication-Results header";
	/* Each at the top, last first, so they end up in key order. */
	for (size_t i = nsigs; i > 0; i--)
		if (milter_insert_header(mc, 0, "DKIM-Signature",
		    sigs[i - 1]) != 0)
			return "MTA refused our DKIM-Signature";
	if (plan->insert_ar && milter_insert_header(mc, 0,
	    "Authentication-Results", plan->ar_value) != 0)
		return "MTA refused our Authentication-Results header";
	return NULL;
}

/* The DMARC evaluation of a message decided, for aggregate reports: to
 * the writer thread's queue (rua_writer.c), never waited for. */
static void
record(const struct session *s, const struct eom_plan *plan)
{
	struct rua_eval *ev = rua_writer_slot();

	if (ev != NULL && rua_eval_build(s, plan, time(NULL), ev))
		rua_writer_submit(ev);
	else
		rua_writer_discard(ev);
}

static enum milter_status
cb_eom(struct milter_conn *mc)
{
	struct session *s = SES(mc);
	struct eom_plan plan;
	char err[512], **sigs = NULL;
	const char *refused;
	size_t nsigs = 0;
	enum milter_status rc = MS_CONTINUE;

	if (!s->msg.active)
		return tempfail(mc, "no message at end of message");
	take_queue_id(mc, &s->msg);
	if (s->msg.signer != NULL && signer_finish(s->msg.signer, &sigs,
	    &nsigs, err, sizeof(err)) != 0)
		sign_failed(&s->msg, err);
	if (s->msg.checked) {
		struct check_in in = CHECK_IN(s);
		int failed;
		dns_budget_begin(s->msg.state->cfg->dns_message_budget * 1000,
		    progress, mc);
		failed = checks_finish(&s->msg, &in);
		dns_budget_end();
		if (failed) {
			rc = tempfail(mc, "out of memory in the checks");
			goto out_noplan;
		}
	}
	if (eom_plan_build(s, s->msg.state->cfg, time(NULL), &plan) != 0) {
		rc = tempfail(mc, "out of memory at end of message");
		goto out;
	}
	if (plan.policy.action == POLICY_REJECT ||
	    plan.policy.action == POLICY_TEMPFAIL) {
		eom_log(s, &plan);
		record(s, &plan);
		milter_set_reply(mc, plan.policy.code, plan.policy.xcode,
		    plan.policy.text);
		rc = plan.policy.action == POLICY_REJECT ? MS_REJECT :
		    MS_TEMPFAIL;
		goto out;
	}
	if ((refused = eom_edits(mc, s, &plan, sigs, nsigs)) != NULL) {
		rc = tempfail(mc, refused);
		goto out;
	}
	eom_log(s, &plan);
	record(s, &plan);
out:
	eom_plan_free(&plan);
out_noplan:
	for (size_t i = 0; i < nsigs; i++)
		free(sigs[i]);
	free(sigs);
	message_end(s);
	return rc;
}

static void
cb_abort(struct milter_conn *mc)
{
	struct session *s = SES(mc);

	if (s != NULL)
		message_end(s);
}

static void
cb_close(struct milter_conn *mc)
{
	session_free(SES(mc));
	milter_set_priv(mc, NULL);
}

const struct milter_hooks callbacks_hooks = {
	.negotiate = cb_negotiate,
	.connect = cb_connect,
	.helo = cb_helo,
	.envfrom = cb_envfrom,
	.envrcpt = cb_envrcpt,
	.header = cb_header,
	.eoh = cb_eoh,
	.body = cb_body,
	.eom = cb_eom,
	.abort = cb_abort,
	.close = cb_close,
	.symlist = {
		[SMFIM_CONNECT] = "{daemon_name}",
		[SMFIM_ENVFROM] = "i {auth_authen}",
		[SMFIM_EOH] = "i",
		[SMFIM_EOM] = "i",
	},
};
