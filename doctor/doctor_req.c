/*
 * NAME
 *	doctor_req -- authfilter doctor: the large mailbox providers'
 *	sender requirements, from the checks made
 * SYNOPSIS
 *	doctor_requirements(env, dom, ndom, &host, req);
 * DESCRIPTION
 *	Gmail's and Yahoo's sender guidelines (February 2024) and
 *	Microsoft's for Outlook.com (May 2025) ask of every sender SPF or
 *	DKIM and valid forward and reverse DNS; of bulk senders (5000
 *	messages a day to them) SPF and DKIM and a DMARC record (p=none is
 *	enough), and a From domain aligned with SPF or DKIM.  Each line
 *	passes when every domain checked meets it; its detail names those
 *	that do not.  Nothing is looked up here.
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "doctor/doctor.h"
#include "milter/dmarc.h"

enum req { R_ANY_AUTH, R_BOTH_AUTH, R_DMARC, R_ALIGNED, R_FCRDNS };

static const char *const names[DOCTOR_NREQ] = {
	"all senders: SPF or DKIM passes",
	"bulk senders: SPF and DKIM pass",
	"bulk senders: a DMARC record (p=none at least)",
	"bulk senders: From aligned with SPF or DKIM",
	"all senders: forward-confirmed reverse DNS",
};

static int
meets(const struct doctor_env *env, const struct doctor_domain *d,
    enum req r)
{
	switch (r) {
	case R_ANY_AUTH:
		return d->spf_pass || d->dkim_pass;
	case R_BOTH_AUTH:
		return d->spf_pass && d->dkim_pass;
	case R_DMARC:
		return d->dmarc_found;
	case R_ALIGNED:
		/* SPF of the From domain itself passes: aligned for mail
		 * sent with a MAIL FROM in it. */
		return d->spf_pass || (d->dkim_pass && dmarc_aligned(
		    env->dmarc, d->from, d->key_domain, 0) > 0);
	case R_FCRDNS:
		break;
	}
	return 0;
}

/* Every outbound address has a "fcrdns" line, and all are OK. */
static int
fcrdns_ok(const struct doctor_checks *host, char *detail, size_t sz)
{
	size_t seen = 0, o = 0;

	detail[0] = '\0';
	for (size_t i = 0; i < host->n; i++) {
		const struct doctor_check *c = &host->c[i];
		if (strncmp(c->check, "fcrdns ", 7) != 0)
			continue;
		seen++;
		if (c->status != DOC_OK && o < sz)
			o += (size_t)snprintf(detail + o, sz - o, "%s%s",
			    o ? ", " : "", c->check + 7);
	}
	if (seen == 0)
		snprintf(detail, sz, "no outbound address known");
	return seen > 0 && o == 0;
}

void
doctor_requirements(const struct doctor_env *env,
    const struct doctor_domain *dom, size_t n,
    const struct doctor_checks *host,
    struct doctor_requirement out[DOCTOR_NREQ])
{
	for (int r = 0; r < DOCTOR_NREQ; r++) {
		struct doctor_requirement *q = &out[r];
		size_t o = 0;

		q->name = names[r];
		q->detail[0] = '\0';
		if (r == R_FCRDNS) {
			q->pass = fcrdns_ok(host, q->detail, sizeof(q->detail));
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (!meets(env, &dom[i], (enum req)r) &&
			    o < sizeof(q->detail))
				o += (size_t)snprintf(q->detail + o,
				    sizeof(q->detail) - o, "%s%s", o ? ", " :
				    "not met by ", dom[i].from);
		q->pass = o == 0;
	}
}
