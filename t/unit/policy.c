/* Unit tests for policy/policy.c: the decision table (issue 7). */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "lib/config.h"
#include "policy/policy.h"
#include "t/tap.h"

static struct dmarc_verdict dv;
static struct policy_in in;
static struct policy_rules rules;
static struct policy_out out;

static void
reset(void)
{
	memset(&dv, 0, sizeof(dv));
	dv.evaluated = 1;
	snprintf(dv.from_domain, sizeof(dv.from_domain), "example.com");
	memset(&in, 0, sizeof(in));
	in.inbound = 1;
	in.dmarc = &dv;
	in.spf = SPFR_NONE;
	in.spf_domain = "example.com";
	rules.enforce = 1;
	rules.spf_fail_action = SPF_FAIL_TAG;
	rules.temperror_action = TEMPERROR_ACCEPT;
}

/* "action/would/reason code xcode" */
static const char *
decide(void)
{
	static char buf[200];

	policy_decide(&in, &rules, &out);
	snprintf(buf, sizeof(buf), "%s/%s/%s %s %s",
	    policy_action_name(out.action), policy_action_name(out.would),
	    out.reason, out.code, out.xcode);
	return buf;
}

static void
fail_with(enum dmarc_policy published, enum dmarc_policy disposition)
{
	reset();
	dv.result = DMARC_R_FAIL;
	dv.policy = published;
	dv.disposition = disposition;
}

int
main(void)
{
	const enum dmarc_policy pols[] = { DMARC_P_NONE, DMARC_P_QUARANTINE,
	    DMARC_P_REJECT };
	const char *enforce_want[] = {
		"accept/accept/dmarc_fail_policy_none  ",
		"quarantine/quarantine/dmarc_quarantine  ",
		"reject/reject/dmarc_reject 550 5.7.1",
	};
	const char *monitor_want[] = {
		"accept/accept/dmarc_fail_policy_none  ",
		"accept/quarantine/dmarc_quarantine  ",
		"accept/reject/dmarc_reject 550 5.7.1",
	};
	char name[200];

	/* DMARC fail x disposition x mode */
	for (int mode = 0; mode < 2; mode++)
		for (size_t i = 0; i < 3; i++) {
			fail_with(pols[i], pols[i]);
			rules.enforce = mode == 0;
			snprintf(name, sizeof(name), "dmarc=fail, disposition "
			    "%s, %s", dmarc_policy_name(pols[i]), mode == 0 ?
			    "enforce" : "monitor");
			is_str(decide(), mode == 0 ? enforce_want[i] :
			    monitor_want[i], name);
		}
	fail_with(DMARC_P_REJECT, DMARC_P_REJECT);
	decide();
	ok(strstr(out.text, "DMARC") != NULL &&
	    strstr(out.text, "example.com") != NULL,
	    "the reject text names DMARC and the From domain");

	/* t=y's step down arrives as the disposition */
	fail_with(DMARC_P_REJECT, DMARC_P_QUARANTINE);
	is_str(decide(), "quarantine/quarantine/dmarc_quarantine  ",
	    "p=reject with t=y: quarantine");
	fail_with(DMARC_P_QUARANTINE, DMARC_P_NONE);
	is_str(decide(), "accept/accept/dmarc_fail_policy_none  ",
	    "p=quarantine not sampled: accept");

	/* pass, none */
	reset();
	dv.result = DMARC_R_PASS;
	is_str(decide(), "accept/accept/dmarc_pass  ", "dmarc=pass: accept");
	reset();
	dv.result = DMARC_R_NONE;
	is_str(decide(), "accept/accept/no_dmarc_policy  ",
	    "no DMARC policy, SPF not failing: accept");

	/* temperror x setting x mode */
	reset();
	dv.result = DMARC_R_TEMPERROR;
	is_str(decide(), "accept/accept/dmarc_temperror  ",
	    "temperror: accept by default");
	rules.temperror_action = TEMPERROR_TEMPFAIL;
	is_str(decide(), "tempfail/tempfail/dmarc_temperror 451 4.7.1",
	    "temperror, temperror_action=tempfail: 451 4.7.1");
	rules.enforce = 0;
	is_str(decide(), "accept/tempfail/dmarc_temperror 451 4.7.1",
	    "temperror, tempfail, monitor: accept, would tempfail");

	/* SPF fail without a DMARC record x spf_fail_action */
	{
		const int acts[] = { SPF_FAIL_ACCEPT, SPF_FAIL_TAG,
		    SPF_FAIL_QUARANTINE, SPF_FAIL_REJECT };
		const char *want[] = { "accept/accept/spf_fail  ",
		    "tag/tag/spf_fail  ", "quarantine/quarantine/spf_fail  ",
		    "reject/reject/spf_fail 550 5.7.23" };
		for (size_t i = 0; i < 4; i++) {
			reset();
			dv.result = DMARC_R_NONE;
			in.spf = SPFR_FAIL;
			rules.spf_fail_action = acts[i];
			snprintf(name, sizeof(name), "SPF fail, no DMARC, "
			    "spf_fail_action %zu", i);
			is_str(decide(), want[i], name);
		}
	}
	reset();
	dv.result = DMARC_R_NONE;
	in.spf = SPFR_SOFTFAIL;
	rules.spf_fail_action = SPF_FAIL_REJECT;
	is_str(decide(), "accept/accept/no_dmarc_policy  ",
	    "softfail is not fail");
	reset();
	dv.result = DMARC_R_PASS;
	in.spf = SPFR_FAIL;
	rules.spf_fail_action = SPF_FAIL_REJECT;
	is_str(decide(), "accept/accept/dmarc_pass  ",
	    "SPF fail does not matter when DMARC passes (DKIM aligned)");

	/* From ambiguity (F1) */
	reset();
	dv.result = DMARC_R_PERMERROR;
	dv.from_domain[0] = '\0';
	is_str(decide(), "reject/reject/from_unusable 550 5.7.1",
	    "two From headers / no usable domain: reject");
	reset();
	dv.result = DMARC_R_NONE;
	dv.from_domain[0] = '\0';
	is_str(decide(), "reject/reject/from_unusable 550 5.7.1",
	    "no From header: reject");
	rules.enforce = 0;
	is_str(decide(), "accept/reject/from_unusable 550 5.7.1",
	    "no From header, monitor: accept, would reject");

	/* local rules */
	fail_with(DMARC_P_REJECT, DMARC_P_REJECT);
	in.trusted_client = 1;
	is_str(decide(), "accept/accept/trusted_network  ",
	    "trusted_networks skip enforcement");
	fail_with(DMARC_P_REJECT, DMARC_P_REJECT);
	in.allowed_from = 1;
	is_str(decide(), "accept/accept/allow_from  ",
	    "allow_from_domains skip enforcement");
	reset();
	dv.result = DMARC_R_PERMERROR;
	dv.from_domain[0] = '\0';
	in.allowed_from = 1;
	is_str(decide(), "reject/reject/from_unusable 550 5.7.1",
	    "the allow list needs a From domain to match");
	/* policy_overrides lines (found by the caller for now) */
	{
		struct override ov;
		memset(&ov, 0, sizeof(ov));
		fail_with(DMARC_P_REJECT, DMARC_P_REJECT);
		ov.kind = OVR_MONITOR;
		in.override = &ov;
		is_str(decide(), "accept/reject/dmarc_reject 550 5.7.1",
		    "override monitor beats enforce: accept, would reject");
		fail_with(DMARC_P_QUARANTINE, DMARC_P_QUARANTINE);
		rules.enforce = 0;
		ov.kind = OVR_ENFORCE;
		in.override = &ov;
		is_str(decide(), "quarantine/quarantine/dmarc_quarantine  ",
		    "override enforce beats monitor");
		fail_with(DMARC_P_NONE, DMARC_P_NONE);
		ov.kind = OVR_REJECT;
		in.override = &ov;
		is_str(decide(), "reject/reject/override_reject 550 5.7.1",
		    "override reject beats a published p=none");
		fail_with(DMARC_P_REJECT, DMARC_P_REJECT);
		ov.kind = OVR_ACCEPT;
		in.override = &ov;
		is_str(decide(), "accept/accept/override_accept  ",
		    "override accept beats a published p=reject");
		fail_with(DMARC_P_REJECT, DMARC_P_REJECT);
		ov.kind = OVR_QUARANTINE;
		in.override = &ov;
		is_str(decide(), "quarantine/quarantine/override_quarantine  ",
		    "override quarantine beats a published p=reject");
		reset();
		dv.result = DMARC_R_PASS;
		ov.kind = OVR_REJECT;
		in.override = &ov;
		is_str(decide(), "accept/accept/dmarc_pass  ",
		    "an action override does not touch a DMARC pass");
	}

	fail_with(DMARC_P_REJECT, DMARC_P_REJECT);
	in.inbound = 0;
	is_str(decide(), "accept/accept/outbound  ", "outbound: accept");
	return done_testing();
}
