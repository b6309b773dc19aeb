/*
 * NAME
 *	doctor_dmarc -- authfilter doctor: a domain's DMARC record
 * SYNOPSIS
 *	doctor_dmarc(env, dom);
 * DESCRIPTION
 *	Adds these checks (area "dmarc") to dom:
 *
 *	record	    a DMARC record applies, found by the DNS Tree Walk
 *		    (RFC 9989 4.10; or the suffix list with dmarc_discovery
 *		    = psl), one, usable: dmarc_discover(), the daemon's own
 *	policy	    p=quarantine or p=reject; p=none only monitors, a
 *		    stage to leave once the reports look clean
 *	rua	    aggregate reports are asked for
 *	rua-verify  each rua mailto: in another organizational domain
 *		    publishes DOMAIN._report._dmarc.DEST (RFC 7489 7.1);
 *		    without it reporters send nothing there
 * DIAGNOSTICS
 *	A lookup that fails: "could not check".
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor/doctor.h"
#include "lib/dns.h"
#include "lib/tagval.h"
#include "milter/dmarc.h"
#include "rua/dest.h"

/* The rua tag: present, and each external mailto: destination
 * verified (rua_dest_verify(), as authfilter-reports send does). */
static void
check_rua(const struct doctor_env *env, struct doctor_domain *dom,
    const char *policy_domain, const char *txt)
{
	char rua[1024], advice[DOCTOR_ADVICE_MAX], name[RUA_VERIFY_NAME_MAX],
	    why[600];
	struct rua_dest d[RUA_DEST_MAX];
	size_t n;

	if (tagval_get(txt, strlen(txt), "rua", rua, sizeof(rua)) != 1 ||
	    rua[0] == '\0') {
		snprintf(advice, sizeof(advice), "add rua=mailto:dmarc@%s to "
		    "receive the aggregate reports that show who sends as "
		    "the domain", policy_domain);
		doctor_add(&dom->checks, "dmarc", "rua", DOC_WARN, advice,
		    "no rua: no aggregate reports");
		return;
	}
	doctor_add(&dom->checks, "dmarc", "rua", DOC_OK, "", "%s", rua);
	n = rua_dest_parse(rua, d, RUA_DEST_MAX);
	for (size_t i = 0; i < n; i++) {
		switch (rua_dest_verify(env->dns, env->dmarc, policy_domain,
		    d[i].host, name, why, sizeof(why))) {
		case RUA_VERIFY_SAME_ORG:
			break;
		case RUA_VERIFY_OK:
			doctor_add(&dom->checks, "dmarc", "rua-verify", DOC_OK,
			    "", "%s authorises reports for %s", d[i].host,
			    policy_domain);
			break;
		case RUA_VERIFY_TEMPFAIL:
			doctor_add(&dom->checks, "dmarc", "rua-verify",
			    DOC_UNKNOWN, "", "%s", why);
			break;
		case RUA_VERIFY_MISSING:
			snprintf(advice, sizeof(advice), "ask the operator of "
			    "%s to publish %s TXT \"v=DMARC1\", or send "
			    "reports to an address in %s", d[i].host, name,
			    policy_domain);
			doctor_add(&dom->checks, "dmarc", "rua-verify",
			    DOC_FAIL, advice, "%s: reporters will not send "
			    "to %s", why, d[i].host);
			break;
		}
	}
}

void
doctor_dmarc(const struct doctor_env *env, struct doctor_domain *dom)
{
	struct dmarc_discovery d;
	const char *org;
	char advice[DOCTOR_ADVICE_MAX];
	struct doctor_checks *c = &dom->checks;
	enum dmarc_found f;

	f = dmarc_discover(env->dmarc, dom->from, &d);
	org = d.org_domain[0] != '\0' ? d.org_domain : dom->from;
	snprintf(advice, sizeof(advice), "publish _dmarc.%s TXT \"v=DMARC1; "
	    "p=none; rua=mailto:dmarc@%s\", then raise p as reports allow",
	    org, org);
	switch (f) {
	case DMARC_TEMP:
		doctor_add(c, "dmarc", "record", DOC_UNKNOWN, "", "%s", d.why);
		return;
	case DMARC_NOTHING:
		doctor_add(c, "dmarc", "record", DOC_FAIL, advice, "%s, by %s",
		    d.why[0] != '\0' ? d.why : "no DMARC record", d.method);
		return;
	case DMARC_STOP_NONE:
		doctor_add(c, "dmarc", "record", DOC_FAIL, "keep one usable "
		    "record: receivers ignore these", "%s", d.why);
		return;
	case DMARC_FOUND:
		break;
	}
	dom->dmarc_found = 1;
	doctor_add(c, "dmarc", "record", DOC_OK, "", "_dmarc.%s, by %s: %s",
	    d.policy_domain, d.method, d.txt);
	if (d.rec.p == DMARC_P_NONE || d.rec.p == DMARC_P_UNSET)
		doctor_add(c, "dmarc", "policy", DOC_WARN, "p=none only "
		    "monitors: move to p=quarantine, then p=reject, once the "
		    "aggregate reports show all your mail passing", "p=none");
	else
		doctor_add(c, "dmarc", "policy", DOC_OK, "", "p=%s%s",
		    d.rec.p == DMARC_P_REJECT ? "reject" : "quarantine",
		    d.rec.testing ? " (t=y: receivers apply one step milder)" :
		    "");
	check_rua(env, dom, d.policy_domain, d.txt);
}
