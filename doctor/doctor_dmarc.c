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
#include <strings.h>

#include "doctor/doctor.h"
#include "lib/dns.h"
#include "lib/tagval.h"
#include "milter/dmarc.h"

/* One rua URI in another organizational domain: its verification
 * record (RFC 7489 7.1). */
static void
verify_destination(const struct doctor_env *env, struct doctor_domain *dom,
    const char *policy_domain, const char *dest)
{
	char name[530], err[300], advice[DOCTOR_ADVICE_MAX], **t;
	size_t n, ok = 0;
	enum dns_status st;

	snprintf(name, sizeof(name), "%s._report._dmarc.%s", policy_domain,
	    dest);
	st = dns_txt(env->dns, name, &t, &n, err, sizeof(err));
	if (st == DNS_TEMPFAIL) {
		doctor_add(&dom->checks, "dmarc", "rua-verify", DOC_UNKNOWN,
		    "", "%s", err);
		return;
	}
	if (st == DNS_OK) {
		for (size_t i = 0; i < n; i++)
			ok += strncmp(t[i], "v=DMARC1", 8) == 0;
		dns_txt_free(t);
	}
	snprintf(advice, sizeof(advice), "ask the operator of %s to publish "
	    "%s TXT \"v=DMARC1\", or send reports to an address in %s", dest,
	    name, policy_domain);
	if (ok > 0)
		doctor_add(&dom->checks, "dmarc", "rua-verify", DOC_OK, "",
		    "%s authorises reports for %s", dest, policy_domain);
	else
		doctor_add(&dom->checks, "dmarc", "rua-verify", DOC_FAIL,
		    advice, "no v=DMARC1 record at %s: reporters will not "
		    "send to %s", name, dest);
}

/* The rua tag: present, and each external mailto: destination
 * verified. */
static void
check_rua(const struct doctor_env *env, struct doctor_domain *dom,
    const char *policy_domain, const char *txt)
{
	char rua[1024], own[256], org[256], *save = NULL, *uri,
	    advice[DOCTOR_ADVICE_MAX];

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
	dmarc_org_domain(env->dmarc, policy_domain, own, sizeof(own));
	for (uri = strtok_r(rua, ",", &save); uri != NULL;
	    uri = strtok_r(NULL, ",", &save)) {
		char dest[256], *at;
		if (strncasecmp(uri, "mailto:", 7) != 0 ||
		    (at = strrchr(uri, '@')) == NULL)
			continue;
		/* RFC 7489 6.2: a size limit may follow "!". */
		snprintf(dest, sizeof(dest), "%.*s", (int)strcspn(at + 1, "!"),
		    at + 1);
		dmarc_org_domain(env->dmarc, dest, org, sizeof(org));
		if (strcmp(org, own) != 0)
			verify_destination(env, dom, policy_domain, dest);
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
