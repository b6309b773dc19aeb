/*
 * NAME
 *	callbacks -- the libmilter callbacks, kept thin
 * DESCRIPTION
 *	Each xxfi_* function stores what the MTA hands over into the
 *	session (session.c) and returns.  At end of message the decisions
 *	come from eom_plan_build(); this file only carries them out:
 *	delete our forged or stale Authentication-Results headers, insert
 *	ours, log one line.
 *
 *	Outbound mail is signed: at end of headers outbound_plan() picks the
 *	keys, and the body streams into the signer chunk by chunk.
 *
 *	When authfilter cannot do what it must (out of memory, a header
 *	edit the MTA refused), it tempfails: the MTA keeps the mail and
 *	the sender retries.  A message that passes the header limits
 *	(max_headers, max_header_bytes) is rejected with 552 5.3.4.
 *
 *	While the daemon drains for shutdown, new sessions and new messages
 *	get 451 4.3.2: the sender retries, and the restarted daemon takes it.
 *
 *	Every stage before end of message is negotiated as "no reply"
 *	(SMFIP_NR_*): the MTA streams the message without waiting for a
 *	round trip per header, which is most of a milter's cost per
 *	message.  A verdict reached at such a stage (a header limit, a
 *	tempfail) is kept in the session and given at end of message; the
 *	client gets the same SMTP reply, after DATA.  (libmilter offers
 *	these flags even to an MTA without them and answers "continue" in
 *	our place, so the rule is the same for every MTA.)  A connection
 *	that arrives while the daemon shuts down negotiates no such stage:
 *	it is refused at connect, at once.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "milter/callbacks.h"
#include "milter/direction.h"
#include "milter/dmarc.h"
#include "milter/eom.h"
#include "milter/log.h"
#include "milter/outbound.h"
#include "milter/session.h"
#include "milter/sign.h"
#include "milter/spf.h"
#include "milter/state.h"
#include "milter/verify.h"

#define SES(ctx) ((struct session *)smfi_getpriv(ctx))

/* Stages the MTA need not wait for; SMFIP_NODATA and SMFIP_NOUNKNOWN:
 * there are no callbacks for DATA and unknown commands. */
#define NOREPLY_STAGES (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
	SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define SKIPPED_STAGES (SMFIP_NODATA | SMFIP_NOUNKNOWN)

static void
deferred_set(struct deferred *d, sfsistat rc, const char *code,
    const char *xcode, const char *text)
{
	if (d->rc != SMFIS_CONTINUE)
		return;		/* the first verdict stands */
	d->rc = rc;
	snprintf(d->code, sizeof(d->code), "%s", code);
	snprintf(d->xcode, sizeof(d->xcode), "%s", xcode);
	snprintf(d->text, sizeof(d->text), "%s", text);
}

/* The reply of a stage: nothing (SMFIS_NOREPLY) at a no-reply stage,
 * else a verdict kept from earlier, else `rc`. */
static sfsistat
reply(SMFICTX *ctx, struct session *s, unsigned long stage, sfsistat rc)
{
	const struct deferred *d = NULL;

	if (s != NULL && s->conn_verdict.rc != SMFIS_CONTINUE)
		d = &s->conn_verdict;
	else if (s != NULL && s->msg_verdict.rc != SMFIS_CONTINUE)
		d = &s->msg_verdict;
	if (s != NULL && (s->noreply & stage) != 0)
		return SMFIS_NOREPLY;
	if (d != NULL) {
		smfi_setreply(ctx, (char *)d->code, (char *)d->xcode,
		    (char *)d->text);
		return d->rc;
	}
	return rc;
}

/* A verdict other than continue at `stage`: the reply now, or kept for
 * the next stage that replies.  Connect and HELO verdicts hold for the
 * whole session, the others for this message. */
static sfsistat
verdict(SMFICTX *ctx, struct session *s, unsigned long stage, sfsistat rc,
    const char *code, const char *xcode, const char *text)
{
	if (s == NULL) {
		/* No session since negotiation: it never happens (libmilter
		 * stops at a failed negotiation).  Reply anyway. */
		smfi_setreply(ctx, (char *)code, (char *)xcode, (char *)text);
		return rc;
	}
	deferred_set(stage == SMFIP_NR_CONN || stage == SMFIP_NR_HELO ?
	    &s->conn_verdict : &s->msg_verdict, rc, code, xcode, text);
	return reply(ctx, s, stage, rc);
}

static sfsistat
tempfail(SMFICTX *ctx, struct session *s, unsigned long stage,
    const char *why)
{
	if (s == NULL || (s->conn_verdict.rc == SMFIS_CONTINUE &&
	    s->msg_verdict.rc == SMFIS_CONTINUE))
		log_msg(LOG_ERR, "tempfail: %s", why);
	return verdict(ctx, s, stage, SMFIS_TEMPFAIL, "451", "4.3.0",
	    "authfilter: local error, try again later");
}

static sfsistat
refuse_draining(SMFICTX *ctx, struct session *s, unsigned long stage)
{
	return verdict(ctx, s, stage, SMFIS_TEMPFAIL, "451", "4.3.2",
	    "authfilter is restarting, try again later");
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct session *s = SES(ctx);

	(void)f2;
	(void)f3;
	if (s == NULL) {
		if ((s = session_new()) == NULL)
			return SMFIS_REJECT;	/* MTA applies its default */
		smfi_setpriv(ctx, s);
	}
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST);
	/* Header values exactly as sent (DKIM canonicalisation needs the
	 * white space after the colon). */
	/* While draining, a new connection is refused at connect: no
	 * no-reply stages for it. */
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | SKIPPED_STAGES |
	    (session_draining() ? 0 : NOREPLY_STAGES));
	s->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	s->noreply = *pf1 & NOREPLY_STAGES;
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name}");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		smfi_setsymlist(ctx, SMFIM_EOH, "i");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
	struct session *s = SES(ctx);
	const char *daemon;

	if (s == NULL) {
		if ((s = session_new()) == NULL)
			return tempfail(ctx, NULL, SMFIP_NR_CONN,
			    "out of memory at connect");
		smfi_setpriv(ctx, s);
	}
	if (session_draining())
		return refuse_draining(ctx, s, SMFIP_NR_CONN);
	if (session_set_client(s, hostname, addr) != 0)
		return tempfail(ctx, s, SMFIP_NR_CONN,
		    "out of memory at connect");
	daemon = smfi_getsymval(ctx, "{daemon_name}");
	if (daemon != NULL && session_set_str(&s->daemon_name, daemon) != 0)
		return tempfail(ctx, s, SMFIP_NR_CONN,
		    "out of memory at connect");
	return reply(ctx, s, SMFIP_NR_CONN, SMFIS_CONTINUE);
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct session *s = SES(ctx);

	if (s == NULL || session_set_str(&s->helo, helo) != 0)
		return tempfail(ctx, s, SMFIP_NR_HELO, "no session at HELO");
	return reply(ctx, s, SMFIP_NR_HELO, SMFIS_CONTINUE);
}

static void
take_queue_id(SMFICTX *ctx, struct message *m)
{
	const char *qid;

	if (m->queue_id == NULL && (qid = smfi_getsymval(ctx, "i")) != NULL)
		(void)session_set_str(&m->queue_id, qid);
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = SES(ctx);
	struct af_state *st;
	const char *auth;

	if (s == NULL)
		return tempfail(ctx, s, SMFIP_NR_MAIL,
		    "no session at MAIL FROM");
	message_end(s);
	memset(&s->msg_verdict, 0, sizeof(s->msg_verdict));
	if (session_draining())
		return refuse_draining(ctx, s, SMFIP_NR_MAIL);
	if ((st = state_acquire()) == NULL)
		return tempfail(ctx, s, SMFIP_NR_MAIL,
		    "no configuration loaded");
	message_begin(s, st);
	if (session_set_str(&s->msg.env_from, argv[0]) != 0)
		return tempfail(ctx, s, SMFIP_NR_MAIL,
		    "out of memory at MAIL FROM");
	auth = smfi_getsymval(ctx, "{auth_authen}");
	if (auth != NULL && session_set_str(&s->msg.auth_authen, auth) != 0)
		return tempfail(ctx, s, SMFIP_NR_MAIL,
		    "out of memory at MAIL FROM");
	take_queue_id(ctx, &s->msg);
	return reply(ctx, s, SMFIP_NR_MAIL, SMFIS_CONTINUE);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = SES(ctx);

	if (s == NULL || !s->msg.active)
		return tempfail(ctx, s, SMFIP_NR_RCPT, "no message at RCPT TO");
	if (message_add_rcpt(&s->msg, argv[0]) != 0)
		return tempfail(ctx, s, SMFIP_NR_RCPT,
		    "out of memory at RCPT TO");
	return reply(ctx, s, SMFIP_NR_RCPT, SMFIS_CONTINUE);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = SES(ctx);
	const struct config *cfg;
	char text[160];

	if (s == NULL || !s->msg.active)
		return tempfail(ctx, s, SMFIP_NR_HDR, "no message at header");
	cfg = s->msg.state->cfg;
	switch (message_add_header(&s->msg, name, value, cfg->max_headers,
	    cfg->max_header_bytes)) {
	case HDR_OK:
		return reply(ctx, s, SMFIP_NR_HDR, SMFIS_CONTINUE);
	case HDR_NOMEM:
		return tempfail(ctx, s, SMFIP_NR_HDR,
		    "out of memory storing a header");
	case HDR_TOO_MANY:
		snprintf(text, sizeof(text), "Message has more than %zu "
		    "header fields", cfg->max_headers);
		break;
	case HDR_TOO_BIG:
		snprintf(text, sizeof(text), "Message header is larger than "
		    "%zu bytes", cfg->max_header_bytes);
		break;
	}
	take_queue_id(ctx, &s->msg);
	log_msg(LOG_NOTICE, "queue_id=%s reject: %s",
	    s->msg.queue_id != NULL ? s->msg.queue_id : "NOQUEUE", text);
	message_end(s);
	return verdict(ctx, s, SMFIP_NR_HDR, SMFIS_REJECT, "552", "5.3.4",
	    text);
}

static void
sign_failed(struct message *m, const char *err)
{
	if (m->sign_error == NULL && (m->sign_error = strdup(err)) == NULL)
		m->sign_error = strdup("?");	/* still must not pass unsigned */
	signer_free(m->signer);
	m->signer = NULL;
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct session *s = SES(ctx);
	struct af_state *st;
	struct outbound_plan op;
	const char *why;
	char err[512];

	if (s == NULL || !s->msg.active)
		return tempfail(ctx, s, SMFIP_NR_EOH,
		    "no message at end of headers");
	take_queue_id(ctx, &s->msg);
	st = s->msg.state;
	if (direction_of(st->cfg, s, &why) != DIR_OUTBOUND) {
		s->msg.verifier = verifier_new(st->verify, s->msg.queue_id !=
		    NULL ? s->msg.queue_id : "NOQUEUE", &s->msg, err,
		    sizeof(err));
		if (s->msg.verifier == NULL) {
			log_msg(LOG_ERR, "DKIM verification unavailable: %s",
			    err);
			s->msg.dkim_unverified = 1;
		}
		return reply(ctx, s, SMFIP_NR_EOH, SMFIS_CONTINUE);
	}
	outbound_plan(&s->msg, st->keys, st->cfg->sign_subdomains, st->logins,
	    &op);
	snprintf(s->msg.sign_domain, sizeof(s->msg.sign_domain), "%s",
	    op.domain);
	if (op.sender_mismatch &&
	    st->cfg->sender_mismatch_action == MISMATCH_REJECT) {
		log_msg(LOG_NOTICE, "queue_id=%s reject: login %s may not send "
		    "as %s (sender_login_map)", s->msg.queue_id != NULL ?
		    s->msg.queue_id : "NOQUEUE", s->msg.auth_authen, op.domain);
		message_end(s);
		return verdict(ctx, s, SMFIP_NR_EOH, SMFIS_REJECT, "553",
		    "5.7.1", "Sender address rejected: not owned by the "
		    "authenticated user");
	}
	if (op.skip != NULL) {
		s->msg.sign_skip = op.skip;
		return reply(ctx, s, SMFIP_NR_EOH, SMFIS_CONTINUE);
	}
	s->msg.signer = signer_new(st->sign, op.keys, op.nkeys,
	    s->msg.queue_id != NULL ? s->msg.queue_id : "NOQUEUE", &s->msg,
	    err, sizeof(err));
	if (s->msg.signer == NULL)
		sign_failed(&s->msg, err);
	return reply(ctx, s, SMFIP_NR_EOH, SMFIS_CONTINUE);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = SES(ctx);

	char err[512];

	if (s == NULL || !s->msg.active)
		return tempfail(ctx, s, SMFIP_NR_BODY, "no message at body");
	s->msg.body_bytes += len;
	if (s->msg.signer != NULL &&
	    signer_body(s->msg.signer, chunk, len, err, sizeof(err)) != 0)
		sign_failed(&s->msg, err);
	if (s->msg.verifier != NULL)
		verifier_body(s->msg.verifier, chunk, len);
	return reply(ctx, s, SMFIP_NR_BODY, SMFIS_CONTINUE);
}

/* Inbound only: SPF of both identities (RFC 7208 2.3 recommends the
 * HELO check too; for the null sender it is the one that counts), then
 * DMARC over SPF and DKIM; pct= sampling needs a fair 0..99. */
static void
check_inbound(struct session *s)
{
	struct message *m = &s->msg;
	unsigned char r[2] = { 0, 0 };
	const char *why;

	if (direction_of(m->state->cfg, s, &why) != DIR_INBOUND)
		return;
	spf_check_helo(m->state->spf, s->client_ip, s->helo, &m->spf_helo);
	spf_check_mailfrom(m->state->spf, s->client_ip, s->helo,
	    m->env_from != NULL ? m->env_from : "<>", &m->spf_mailfrom);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r[0] = r[1] = 0;	/* sampled: the published policy */
	dmarc_check(m->state->dmarc, m, (unsigned)((r[0] << 8) | r[1]) % 100,
	    &m->dmarc);
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct session *s = SES(ctx);
	struct eom_plan plan;
	char value[EOM_AR_MAX + 2], err[512], **sigs = NULL, *sv;
	size_t nsigs = 0;
	sfsistat rc = SMFIS_CONTINUE;

	if (s != NULL && (s->conn_verdict.rc != SMFIS_CONTINUE ||
	    s->msg_verdict.rc != SMFIS_CONTINUE)) {
		/* Decided at a stage that had no reply: say it now. */
		rc = reply(ctx, s, 0, SMFIS_CONTINUE);
		message_end(s);
		memset(&s->msg_verdict, 0, sizeof(s->msg_verdict));
		return rc;
	}
	if (s == NULL || !s->msg.active)
		return tempfail(ctx, s, 0, "no message at end of message");
	take_queue_id(ctx, &s->msg);
	if (s->msg.signer != NULL && signer_finish(s->msg.signer, &sigs,
	    &nsigs, err, sizeof(err)) != 0)
		sign_failed(&s->msg, err);
	if (s->msg.verifier != NULL) {
		size_t max = 0;
		for (size_t i = 0; i < s->msg.nhdrs; i++)
			max += header_name_is(s->msg.hdrs[i].name,
			    "DKIM-Signature");
		if (max > 0 && (s->msg.dkim = calloc(max,
		    sizeof(*s->msg.dkim))) == NULL) {
			rc = tempfail(ctx, s, 0,
			    "out of memory for DKIM results");
			goto out_noplan;
		}
		s->msg.ndkim = verifier_finish(s->msg.verifier, s->msg.dkim,
		    max);
	}
	check_inbound(s);
	if (eom_plan_build(s, s->msg.state->cfg, &plan) != 0) {
		rc = tempfail(ctx, s, 0, "out of memory at end of message");
		goto out;
	}
	if (plan.policy.action == POLICY_REJECT ||
	    plan.policy.action == POLICY_TEMPFAIL) {
		eom_log(s, &plan);
		smfi_setreply(ctx, plan.policy.code, plan.policy.xcode,
		    plan.policy.text);
		rc = plan.policy.action == POLICY_REJECT ? SMFIS_REJECT :
		    SMFIS_TEMPFAIL;
		goto out;
	}
	if (plan.policy.action == POLICY_QUARANTINE &&
	    smfi_quarantine(ctx, plan.policy.text) != MI_SUCCESS) {
		rc = tempfail(ctx, s, 0,
		    "MTA refused to quarantine the message");
		goto out;
	}
	if (plan.policy.action == POLICY_TAG ||
	    (plan.policy.action == POLICY_QUARANTINE &&
	    s->msg.state->cfg->quarantine_tag)) {
		snprintf(value, sizeof(value), "%s%s", s->leadspc ? " " : "",
		    plan.policy.text);
		if (smfi_addheader(ctx, "X-Authfilter-Warning", value) !=
		    MI_SUCCESS) {
			rc = tempfail(ctx, s, 0,
			    "MTA refused our warning header");
			goto out;
		}
	}
	for (size_t i = 0; i < plan.n_ar_delete; i++)
		if (smfi_chgheader(ctx, "Authentication-Results",
		    (int)plan.ar_delete[i], NULL) != MI_SUCCESS) {
			rc = tempfail(ctx, s, 0, "MTA refused to delete a "
			    "forged Authentication-Results header");
			goto out;
		}
	/* Each at the top, last first, so they end up in key order. */
	for (size_t i = nsigs; i > 0; i--) {
		if (asprintf(&sv, "%s%s", s->leadspc ? " " : "",
		    sigs[i - 1]) < 0 || smfi_insheader(ctx, 0,
		    "DKIM-Signature", sv) != MI_SUCCESS) {
			free(sv);
			rc = tempfail(ctx, s, 0,
			    "MTA refused our DKIM-Signature");
			goto out;
		}
		free(sv);
	}
	snprintf(value, sizeof(value), "%s%s", s->leadspc ? " " : "",
	    plan.ar_value);
	if (plan.insert_ar && smfi_insheader(ctx, 0, "Authentication-Results",
	    value) != MI_SUCCESS) {
		rc = tempfail(ctx, s, 0, "MTA refused our "
		    "Authentication-Results header");
		goto out;
	}
	eom_log(s, &plan);
out:
	eom_plan_free(&plan);
out_noplan:
	for (size_t i = 0; i < nsigs; i++)
		free(sigs[i]);
	free(sigs);
	message_end(s);
	return rc;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct session *s = SES(ctx);

	if (s != NULL) {
		message_end(s);
		memset(&s->msg_verdict, 0, sizeof(s->msg_verdict));
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct session *s = SES(ctx);

	smfi_setpriv(ctx, NULL);
	session_free(s);
	return SMFIS_CONTINUE;
}

struct smfiDesc callbacks_desc = {
	.xxfi_name = "authfilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};
