/*
 * NAME
 *	dmarc_psl -- RFC 7489 DMARC discovery by a public suffix list
 * SYNOPSIS
 *	psl = dmarc_psl_load(cfg->public_suffix_list, err, sizeof(err));
 *	f = dmarc_psl_discover(psl, dns, "mail.example.co.uk", &d);
 * DESCRIPTION
 *	What authfilter did before RFC 9989, kept for dmarc_discovery = psl
 *	only (authfilter.conf(5) says when that is worth it): the record at
 *	_dmarc.<from>, else at _dmarc.<organizational domain> by the list
 *	(libpsl over Debian's publicsuffix), else at the public suffix when
 *	it says psd=y (RFC 9091).  More than one record at a name, or an
 *	unusable one, ends discovery (RFC 7489 6.6.3).  The one query per
 *	name is dmarc_walk_fetch(), so both discoveries read records alike.
 * SEE ALSO
 *	dmarc_walk.c, the default.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "milter/dmarc_psl.h"
#include "milter/dmarc_walk.h"

struct dmarc_psl {
	psl_ctx_t	*ctx;
};

struct dmarc_psl *
dmarc_psl_load(const char *path, char *err, size_t errsz)
{
	struct dmarc_psl *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if ((p->ctx = psl_load_file(path)) == NULL ||
	    psl_suffix_count(p->ctx) <= 0) {
		snprintf(err, errsz, "public_suffix_list %s: cannot read a "
		    "public suffix list from it (apt-get install "
		    "publicsuffix)", path);
		dmarc_psl_free(p);
		return NULL;
	}
	return p;
}

void
dmarc_psl_free(struct dmarc_psl *p)
{
	if (p == NULL)
		return;
	psl_free(p->ctx);
	free(p);
}

void
dmarc_psl_org(const struct dmarc_psl *p, const char *norm, char *out,
    size_t outsz)
{
	/* libpsl wants lower case: "MAIL.EXAMPLE.CO.UK" would give "CO.UK". */
	const char *reg = psl_registrable_domain(p->ctx, norm);

	/* A public suffix itself has no registrable part: itself. */
	snprintf(out, outsz, "%s", reg != NULL ? reg : norm);
}

/* RFC 7489 6.6.3: the record at one name; several, or an unusable
 * one, end discovery. */
static enum dmarc_found
fetch(struct dns *dns, const char *domain, struct dmarc_discovery *d)
{
	struct dmarc_walk_step s;

	dmarc_walk_fetch(dns, domain, &s, d->why, sizeof(d->why));
	snprintf(d->policy_domain, sizeof(d->policy_domain), "%s", domain);
	if (s.state == DMARC_STEP_TEMP)
		return DMARC_TEMP;
	if (s.ndiscarded > 1) {
		snprintf(d->why, sizeof(d->why), "%zu DMARC records at "
		    "_dmarc.%.150s", s.ndiscarded, domain);
		return DMARC_STOP_NONE;
	}
	if (s.state != DMARC_STEP_RECORD)
		return DMARC_NOTHING;
	d->rec = s.rec;
	snprintf(d->txt, sizeof(d->txt), "%s", s.txt);
	if (s.parse == DMARC_REC_INVALID) {
		snprintf(d->why, sizeof(d->why), "unusable DMARC record at "
		    "_dmarc.%.150s", domain);
		return DMARC_STOP_NONE;
	}
	return DMARC_FOUND;
}

enum dmarc_found
dmarc_psl_discover(const struct dmarc_psl *p, struct dns *dns,
    const char *from, struct dmarc_discovery *d)
{
	const char *suffix;
	enum dmarc_found f;

	dmarc_psl_org(p, from, d->org_domain, sizeof(d->org_domain));
	f = fetch(dns, from, d);
	if (f == DMARC_NOTHING && strcmp(d->org_domain, from) != 0)
		f = fetch(dns, d->org_domain, d);
	if (f != DMARC_NOTHING)
		return f;
	/* The public suffix's own record, when it says psd=y (RFC 9091). */
	suffix = psl_unregistrable_domain(p->ctx, from);
	if (suffix == NULL || strcmp(suffix, d->org_domain) == 0 ||
	    strcmp(suffix, from) == 0)
		return f;
	f = fetch(dns, suffix, d);
	return f == DMARC_FOUND && d->rec.psd != DMARC_PSD_Y ? DMARC_NOTHING :
	    f;
}
