/* Unit tests for milter/rua_eval.c: a message's DMARC evaluation as
 * aggregate report data. */
#include "buildconf.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "milter/eom.h"
#include "milter/rua_eval.h"
#include "milter/session.h"
#include "milter/state.h"
#include "milter/verify.h"
#include "t/tap.h"

static struct config *
cfg_from(const char *text)
{
	struct config_errors errs = { 0 };

	return config_parse("t", text, strlen(text), &errs);
}

/* An inbound message from 198.51.100.7 whose From is example.com, with
 * a p=reject record at example.com (rua given), one DKIM pass by
 * list.example and SPF pass for bounce.example.com. */
static void
message(struct session *s, struct dkim_result *dk)
{
	struct sockaddr_in sin;
	struct dmarc_verdict *v = &s->msg.res.dmarc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", &sin.sin_addr);
	session_set_client(s, "client", (struct sockaddr *)&sin);
	session_set_str(&s->helo, "mail.example.net");
	s->msg.dir = DIR_INBOUND;
	s->msg.checked = 1;
	session_set_str(&s->msg.env_from, "<b@Bounce.Example.COM>");
	message_add_rcpt(&s->msg, "<u@dest.example>");
	memset(dk, 0, sizeof(*dk));
	strcpy(dk->result, "pass");
	strcpy(dk->domain, "list.example");
	strcpy(dk->selector, "s1");
	s->msg.res.dkim = dk;
	s->msg.res.ndkim = 1;
	s->msg.res.spf_mailfrom.checked = 1;
	s->msg.res.spf_mailfrom.result = SPFR_PASS;
	strcpy(s->msg.res.spf_mailfrom.domain, "bounce.example.com");
	s->msg.res.spf_helo.checked = 1;
	s->msg.res.spf_helo.result = SPFR_NONE;
	strcpy(s->msg.res.spf_helo.domain, "mail.example.net");
	memset(v, 0, sizeof(*v));
	v->evaluated = 1;
	v->result = DMARC_R_FAIL;
	strcpy(v->from_domain, "example.com");
	strcpy(v->policy_domain, "example.com");
	v->discovery = "tree walk";
	v->policy = v->disposition = DMARC_P_REJECT;
	v->pub_p = DMARC_P_REJECT;
	v->pub_sp = DMARC_P_UNSET;
	v->pub_np = DMARC_P_QUARANTINE;
	v->pub_aspf_strict = 1;
	strcpy(v->rua, "mailto:dmarc@example.com");
}

int
main(void)
{
	struct config *enforce = cfg_from("authserv_id = mx.example\n"
	    "policy_mode = enforce\ntrusted_networks = 198.51.100.0/24\n");
	struct config *monitor = cfg_from("authserv_id = mx.example\n");
	struct session *s = session_new();
	struct dkim_result dk;
	struct eom_plan plan;
	struct rua_eval ev;
	struct af_state st = { .cfg = monitor };

	message(s, &dk);
	s->msg.state = &st;	/* no policy_overrides */
	ok(eom_plan_build(s, monitor, 100, &plan) == 0, "plan, monitor");
	ok(rua_eval_build(s, &plan, 1700000000, &ev), "fail is report data");
	ok(ev.when == 1700000000, "when: the clock given");
	is_str(ev.pub.domain, "example.com", "policy domain");
	is_str(ev.pub.p, "reject", "p");
	is_str(ev.pub.sp, "", "sp absent");
	is_str(ev.pub.np, "quarantine", "np");
	is_str(ev.pub.adkim, "r", "adkim relaxed");
	is_str(ev.pub.aspf, "s", "aspf strict");
	is_str(ev.pub.testing, "n", "testing n");
	is_str(ev.pub.discovery_method, "treewalk", "discovery_method");
	is_str(ev.rua, "mailto:dmarc@example.com", "rua kept");
	is_str(ev.rec.source_ip, "198.51.100.7", "source_ip");
	ok(ev.rec.count == 1, "count 1");
	is_str(ev.rec.disposition, "none", "monitor mode: disposition none");
	ok(ev.rec.nreason == 1, "one reason");
	is_str(ev.rec.reason[0].type, "local_policy", "reason: local_policy");
	is_str(ev.rec.reason[0].comment, "monitor mode", "... monitor mode");
	is_str(ev.rec.dkim, "fail", "no aligned DKIM pass");
	is_str(ev.rec.spf, "fail", "no aligned SPF pass");
	is_str(ev.rec.header_from, "example.com", "header_from");
	is_str(ev.rec.envelope_from, "bounce.example.com",
	    "envelope_from: MAIL FROM's domain, lower case");
	is_str(ev.rec.envelope_to, "dest.example", "envelope_to");
	ok(ev.rec.ndkim == 1, "one DKIM result");
	is_str(ev.rec.dkim_res[0].domain, "list.example", "dkim domain");
	is_str(ev.rec.dkim_res[0].selector, "s1", "dkim selector");
	is_str(ev.rec.dkim_res[0].result, "pass", "dkim result");
	ok(ev.rec.nspf == 2, "SPF results of both identities");
	is_str(ev.rec.spf_res[0].scope, "mfrom", "mfrom first");
	is_str(ev.rec.spf_res[0].result, "pass", "mfrom pass");
	is_str(ev.rec.spf_res[1].scope, "helo", "then helo");
	is_str(ev.rec.spf_res[1].result, "none", "helo none");
	eom_plan_free(&plan);

	/* Enforced: rejected; no reason needed. */
	s->msg.res.dmarc.result = DMARC_R_FAIL;
	{
		struct config *strict = cfg_from("authserv_id = mx.example\n"
		    "policy_mode = enforce\n");
		ok(eom_plan_build(s, strict, 100, &plan) == 0 &&
		    rua_eval_build(s, &plan, 1, &ev), "enforced reject");
		is_str(ev.rec.disposition, "reject", "disposition reject");
		ok(ev.rec.nreason == 0, "no reason when the policy was done");
		eom_plan_free(&plan);
		config_free(strict);
	}

	/* A trusted network: accepted, reason trusted_forwarder. */
	ok(eom_plan_build(s, enforce, 100, &plan) == 0 &&
	    rua_eval_build(s, &plan, 1, &ev), "trusted network");
	is_str(ev.rec.disposition, "none", "trusted: none");
	is_str(ev.rec.reason[0].type, "trusted_forwarder",
	    "reason: trusted_forwarder");
	eom_plan_free(&plan);

	/* t=y: quarantine instead of reject. */
	s->msg.res.dmarc.pub_testing = 1;
	s->msg.res.dmarc.disposition = DMARC_P_QUARANTINE;
	{
		struct config *strict = cfg_from("authserv_id = mx.example\n"
		    "policy_mode = enforce\n");
		ok(eom_plan_build(s, strict, 100, &plan) == 0 &&
		    rua_eval_build(s, &plan, 1, &ev), "t=y");
		is_str(ev.rec.disposition, "quarantine", "t=y: quarantine");
		is_str(ev.pub.testing, "y", "testing y");
		is_str(ev.rec.reason[0].type, "policy_test_mode",
		    "reason: policy_test_mode");
		eom_plan_free(&plan);
		config_free(strict);
	}
	s->msg.res.dmarc.pub_testing = 0;

	/* Pass: both alignments reported. */
	s->msg.res.dmarc.result = DMARC_R_PASS;
	s->msg.res.dmarc.disposition = DMARC_P_NONE;
	s->msg.res.dmarc.dkim_aligned = 1;
	s->msg.res.dmarc.spf_aligned = 1;
	ok(eom_plan_build(s, monitor, 100, &plan) == 0 &&
	    rua_eval_build(s, &plan, 1, &ev), "pass is report data");
	is_str(ev.rec.dkim, "pass", "aligned DKIM pass");
	is_str(ev.rec.spf, "pass", "aligned SPF pass");
	is_str(ev.rec.disposition, "none", "pass: none");
	ok(ev.rec.nreason == 0, "pass: no reason");
	eom_plan_free(&plan);

	/* Not report data. */
	s->msg.res.dmarc.result = DMARC_R_TEMPERROR;
	ok(eom_plan_build(s, monitor, 100, &plan) == 0 &&
	    !rua_eval_build(s, &plan, 1, &ev), "temperror is not");
	eom_plan_free(&plan);
	s->msg.res.dmarc.result = DMARC_R_PASS;
	s->msg.res.dmarc.policy_domain[0] = '\0';
	ok(eom_plan_build(s, monitor, 100, &plan) == 0 &&
	    !rua_eval_build(s, &plan, 1, &ev), "no record: not");
	eom_plan_free(&plan);
	strcpy(s->msg.res.dmarc.policy_domain, "example.com");
	s->msg.dir = DIR_OUTBOUND;
	ok(eom_plan_build(s, monitor, 100, &plan) == 0 &&
	    !rua_eval_build(s, &plan, 1, &ev), "outbound is not");
	eom_plan_free(&plan);

	s->msg.res.dkim = NULL;
	s->msg.res.ndkim = 0;
	s->msg.state = NULL;
	session_free(s);
	config_free(enforce);
	config_free(monitor);
	return done_testing();
}
