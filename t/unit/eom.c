/* Unit tests for milter/eom.c and milter/direction.c. */
#include "buildconf.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "milter/eom.h"
#include "lib/header.h"
#include "milter/state.h"
#include "milter/verify.h"
#include "policy/overrides.h"
#include "t/tap.h"

static struct config *
cfg_from(const char *text)
{
	struct config_errors errs = { 0 };

	return config_parse("t", text, strlen(text), &errs);
}

static void
set_ip(struct session *s, const char *ip)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin.sin_addr);
	session_set_client(s, "client", (struct sockaddr *)&sin);
}

static enum direction
dir_of(const struct config *cfg, const struct session *s, const char **why)
{
	return direction_of(cfg, s->msg.auth_authen, s->has_addr ?
	    (const struct sockaddr *)&s->client_addr : NULL, s->daemon_name,
	    why);
}

int
main(void)
{
	struct config *cfg = cfg_from("authserv_id = mx.example\n"
	    "internal_networks = 192.0.2.0/24\n"
	    "submission_daemons = submission\n"
	    "max_headers = 100\nmax_header_bytes = 64k\n");
	struct session *s = session_new();
	struct eom_plan plan;
	const char *why;

	/* Direction (M6: missing macros never make mail outbound). */
	is_int(dir_of(cfg, s, &why), DIR_INBOUND, "nothing known");
	is_str(why, "external", "why: external");
	set_ip(s, "192.0.2.10");
	is_int(dir_of(cfg, s, &why), DIR_OUTBOUND, "internal network");
	is_str(why, "internal_network", "why: internal_network");
	set_ip(s, "198.51.100.1");
	is_int(dir_of(cfg, s, &why), DIR_INBOUND, "outside address");
	s->msg.auth_authen = strdup("");
	is_int(dir_of(cfg, s, &why), DIR_INBOUND,
	    "empty {auth_authen} is not authentication");
	free(s->msg.auth_authen);
	s->msg.auth_authen = strdup("alice");
	is_int(dir_of(cfg, s, &why), DIR_OUTBOUND, "SASL login");
	is_str(why, "auth", "why: auth");
	free(s->msg.auth_authen);
	s->msg.auth_authen = NULL;
	session_set_str(&s->daemon_name, "submission");
	is_int(dir_of(cfg, s, &why), DIR_OUTBOUND, "submission daemon");
	session_set_str(&s->daemon_name, "smtpd");
	is_int(dir_of(cfg, s, &why), DIR_INBOUND, "other daemon");

	/* Which Authentication-Results headers go (F4). */
	message_add_header(&s->msg, "Authentication-Results",
	    " mx.example; spf=pass", 100, 10000);		/* 1: ours */
	message_add_header(&s->msg, "Received", " x", 100, 10000);
	message_add_header(&s->msg, "authentication-results",
	    " other.example; dkim=pass", 100, 10000);		/* 2: keep */
	message_add_header(&s->msg, "AUTHENTICATION-RESULTS ",
	    " (x) MX.EXAMPLE; dmarc=pass", 100, 10000);	/* 3: ours */
	message_add_header(&s->msg, "Authentication-Results-Old",
	    " mx.example; none", 100, 10000);		/* not AR */
	message_add_header(&s->msg, "Authentication-Results",
	    " \"mx.example\"; none", 100, 10000);		/* 4: ours */
	ok(eom_plan_build(s, cfg, 0, &plan) == 0, "plan built");
	is_int(plan.n_ar_delete, 3, "three of ours to delete");
	is_int(plan.n_ar_kept, 1, "one foreign kept");
	ok(plan.n_ar_delete == 3 && plan.ar_delete[0] == 4 &&
	    plan.ar_delete[1] == 3 && plan.ar_delete[2] == 1,
	    "deleted highest occurrence first: 4, 3, 1");
	is_str(plan.ar_value, "mx.example;\n\tdkim=none",
	    "unsigned inbound mail: dkim=none");
	is_str(plan.action, "accept", "accepted");
	eom_plan_free(&plan);

	/* DKIM results become one dkim= entry each, with properties. */
	struct dkim_result dr[2];
	memset(dr, 0, sizeof(dr));
	strcpy(dr[0].result, "pass");
	strcpy(dr[0].domain, "example.org");
	strcpy(dr[0].selector, "s1");
	strcpy(dr[0].alg, "ed25519-sha256");
	strcpy(dr[0].b, "AbCd+/12");
	strcpy(dr[1].result, "policy");
	strcpy(dr[1].domain, "old.example");
	strcpy(dr[1].alg, "rsa-sha1");
	strcpy(dr[1].reason, "rsa-sha1 is not accepted (RFC 8301)");
	s->msg.res.dkim = dr;
	s->msg.res.ndkim = 2;
	ok(eom_plan_build(s, cfg, 0, &plan) == 0, "plan with DKIM results");
	is_str(plan.ar_value, "mx.example;\n\tdkim=pass header.d=example.org "
	    "header.s=s1 header.a=ed25519-sha256 header.b=\"AbCd+/12\";\n\t"
	    "dkim=policy (rsa-sha1 is not accepted \\(RFC 8301\\)) "
	    "header.d=old.example header.a=rsa-sha1",
	    "one dkim= per signature, reason as comment");
	eom_plan_free(&plan);
	s->msg.res.dkim_unverified = 1;
	s->msg.res.ndkim = 0;
	ok(eom_plan_build(s, cfg, 0, &plan) == 0, "plan, verifier unavailable");
	is_str(plan.ar_value, "mx.example;\n\tdkim=temperror",
	    "verification could not run: temperror, never none or pass");
	eom_plan_free(&plan);
	s->msg.res.dkim = NULL;
	s->msg.res.dkim_unverified = 0;

	/* Refusals decided at end of message, before any check. */
	s->msg.hdr_over = HDR_TOO_MANY;
	ok(eom_plan_build(s, cfg, 0, &plan) == 0, "plan, too many headers");
	ok(plan.policy.action == POLICY_REJECT &&
	    strcmp(plan.policy.code, "552") == 0 &&
	    strcmp(plan.policy.xcode, "5.3.4") == 0 &&
	    strstr(plan.policy.text, "more than 100 header fields") != NULL,
	    "more than max_headers: 552 5.3.4");
	is_str(plan.reason, "too_many_headers", "reason too_many_headers");
	ok(!plan.insert_ar && plan.n_ar_delete == 0,
	    "a refused message gets no header edits");
	eom_plan_free(&plan);
	s->msg.hdr_over = HDR_TOO_BIG;
	ok(eom_plan_build(s, cfg, 0, &plan) == 0 &&
	    strcmp(plan.policy.code, "552") == 0 &&
	    strstr(plan.policy.text, "larger than 65536 bytes") != NULL,
	    "max_header_bytes passed: 552 5.3.4");
	eom_plan_free(&plan);
	s->msg.hdr_over = HDR_OK;

	/* Outbound: sign failures and sender_login_map. */
	s->msg.dir = DIR_OUTBOUND;
	s->msg.dir_why = "auth";
	s->msg.sign_error = strdup("key s1 unusable");
	ok(eom_plan_build(s, cfg, 0, &plan) == 0, "plan, signing failed");
	ok(plan.policy.action == POLICY_TEMPFAIL &&
	    strcmp(plan.policy.code, "451") == 0 &&
	    strcmp(plan.policy.xcode, "4.3.0") == 0,
	    "sign_failure_action = tempfail (default): 451 4.3.0");
	is_str(plan.reason, "sign_failed", "reason sign_failed");
	ok(!plan.insert_ar, "outbound: no Authentication-Results of ours");
	eom_plan_free(&plan);
	cfg->sign_failure_action = SIGN_FAIL_ACCEPT;
	ok(eom_plan_build(s, cfg, 0, &plan) == 0 &&
	    plan.policy.action == POLICY_ACCEPT &&
	    strcmp(plan.reason, "sign_failed") == 0,
	    "sign_failure_action = accept: accepted, logged as sign_failed");
	eom_plan_free(&plan);
	free(s->msg.sign_error);
	s->msg.sign_error = NULL;
	s->msg.sender_mismatch = 1;
	s->msg.auth_authen = strdup("mallory");
	snprintf(s->msg.sign_domain, sizeof(s->msg.sign_domain), "%s",
	    "example.org");
	ok(eom_plan_build(s, cfg, 0, &plan) == 0 &&
	    plan.policy.action == POLICY_REJECT &&
	    strcmp(plan.policy.code, "553") == 0 &&
	    strcmp(plan.policy.xcode, "5.7.1") == 0,
	    "sender_login_map mismatch: 553 5.7.1");
	is_str(plan.detail, "login mallory may not send as example.org",
	    "the log says who");
	eom_plan_free(&plan);
	cfg->sender_mismatch_action = MISMATCH_LOG;
	ok(eom_plan_build(s, cfg, 0, &plan) == 0 &&
	    plan.policy.action == POLICY_ACCEPT,
	    "sender_mismatch_action = log: accepted");
	eom_plan_free(&plan);
	s->msg.sender_mismatch = 0;
	s->msg.dir = DIR_INBOUND;

	/* An override's end date is read against the clock given. */
	{
		struct config_errors errs = { 0 };
		struct af_state st = { .cfg = cfg };
		/* 2027-01-31 00:00:00 UTC and the first second of 2027-02-01 */
		time_t jan31 = 1801353600, feb1 = 1801440000;

		st.overrides = overrides_parse("ovr", "example.com reject "
		    "until=2027-01-31\n", &errs);
		s->msg.state = &st;
		snprintf(s->msg.res.dmarc.from_domain,
		    sizeof(s->msg.res.dmarc.from_domain), "%s", "example.com");
		s->msg.res.dmarc.evaluated = 1;
		ok(eom_plan_build(s, cfg, jan31, &plan) == 0 &&
		    strstr(plan.override, "until=2027-01-31") != NULL,
		    "override applies on its last day (clock given)");
		eom_plan_free(&plan);
		ok(eom_plan_build(s, cfg, feb1, &plan) == 0 &&
		    plan.override[0] == '\0',
		    "and not after it");
		eom_plan_free(&plan);
		s->msg.state = NULL;
		memset(&s->msg.res.dmarc, 0, sizeof(s->msg.res.dmarc));
		overrides_free(st.overrides);
	}

	ok(header_name_is("From \t", "from"), "WSP before colon ignored");
	ok(!header_name_is("Fromx", "from"), "prefix is not a match");
	session_free(s);
	config_free(cfg);
	return done_testing();
}
