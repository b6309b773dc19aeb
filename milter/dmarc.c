/*
 * NAME
 *	dmarc -- DMARC (RFC 9989) of incoming mail
 * SYNOPSIS
 *	lib = dmarc_lib_new(dns, NULL, err, sizeof(err));
 *	dmarc_check(lib, &inputs, &verdict);
 * DESCRIPTION
 *	The Author Domain comes from the message's From header fields
 *	(from.c): none gives dmarc=none (no Author Domain), two or more
 *	fields or no usable domain give permerror, several addresses are
 *	each evaluated and the strictest failing one decides (never a
 *	silent pick of the first).
 *
 *	Policy discovery and organizational domains by the DNS Tree Walk
 *	(RFC 9989 4.10, dmarc_walk.c): the record of the Author Domain;
 *	else that of its organizational domain; else that of the public
 *	suffix domain (psd=y) above it.  An unusable record that applies
 *	gives dmarc=none; a DNS failure gives temperror.  np= applies to a
 *	subdomain that does not exist (NXDOMAIN), sp= to other subdomains,
 *	p= otherwise.  t=y asks for one step milder than the policy
 *	(RFC 9989 4.7, the analogue of RFC 7489's pct=0); pct= is no
 *	longer a tag and never samples.
 *
 *	dmarc_discovery = psl keeps RFC 7489 discovery (_dmarc.<domain>,
 *	then _dmarc.<organizational domain> from the public suffix list,
 *	then a psd=y record at the suffix, as RFC 9091 did) for a site
 *	that must match an RFC 7489 verifier; see authfilter.conf(5).
 *
 *	Alignment: a passing DKIM signature whose d= matches, or an SPF
 *	pass for MAIL FROM (HELO for the null sender) whose domain matches;
 *	strict (adkim=s / aspf=s) is equality, relaxed is the same
 *	organizational domain, found by a walk from each identifier.  An
 *	identifier neither equal to the From domain's organizational
 *	domain nor below it cannot share it, so it costs no query.
 *	Foreign Authentication-Results are never read.
 *
 *	The record parser is ours, not libopendmarc's: libopendmarc 1.4.2
 *	accepts v=dmarc1 in any case, knows no np=, t= or psd=, and keeps
 *	its suffix list in global state set at library init (no reload).
 *	Where the RFC is silent: a duplicate tag makes the record unusable
 *	(as RFC 6376 tag lists).
 * SEE ALSO
 *	dmarc_walk.c, dmarc_record.c, check_dmarc.c.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter/dmarc.h"
#include "milter/dmarc_psl.h"
#include "milter/dmarc_walk.h"
#include "lib/dns.h"
#include "lib/tagval.h"
#include "lib/from.h"
#include "lib/header.h"
#include "milter/spf.h"
#include "milter/verify.h"

#define RR_TYPE_A	1
#define RR_TYPE_TXT	16

struct dmarc_lib {
	struct dns	*dns;
	struct dmarc_psl *psl;	/* dmarc_discovery = psl only */
};

/* ---- the library ---- */

struct dmarc_lib *
dmarc_lib_new(struct dns *d, const char *psl_path, char *err, size_t errsz)
{
	struct dmarc_lib *lib = calloc(1, sizeof(*lib));

	if (lib == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	lib->dns = d;
	if (psl_path != NULL &&
	    (lib->psl = dmarc_psl_load(psl_path, err, errsz)) == NULL) {
		dmarc_lib_free(lib);
		return NULL;
	}
	return lib;
}

void
dmarc_lib_free(struct dmarc_lib *lib)
{
	if (lib == NULL)
		return;
	dmarc_psl_free(lib->psl);
	free(lib);
}

const char *
dmarc_lib_method(const struct dmarc_lib *lib)
{
	return lib->psl != NULL ? "public suffix list" : "tree walk";
}

/* ---- RFC 9989: the DNS Tree Walk ---- */

static enum dmarc_found
walk_discover(struct dmarc_lib *lib, const char *from, struct dmarc_discovery *d)
{
	struct dmarc_walk w;
	const struct dmarc_walk_step *s;
	enum dmarc_found f;
	int i;

	f = dmarc_walk_run(lib->dns, from, &w, d->why, sizeof(d->why));
	if (f == DMARC_TEMP)
		return f;
	snprintf(d->org_domain, sizeof(d->org_domain), "%s",
	    dmarc_walk_org(&w));
	if ((i = dmarc_walk_policy(&w)) < 0) {
		snprintf(d->why, sizeof(d->why), "no DMARC record from "
		    "_dmarc.%.80s up to _dmarc.%.40s", from,
		    w.step[w.n - 1].name);
		return DMARC_NOTHING;
	}
	s = &w.step[i];
	d->rec = s->rec;
	snprintf(d->txt, sizeof(d->txt), "%s", s->txt);
	snprintf(d->policy_domain, sizeof(d->policy_domain), "%s", s->name);
	if (s->parse == DMARC_REC_INVALID) {
		snprintf(d->why, sizeof(d->why), "unusable DMARC record at "
		    "_dmarc.%.150s", s->name);
		return DMARC_STOP_NONE;
	}
	return DMARC_FOUND;
}

enum dmarc_found
dmarc_discover(struct dmarc_lib *lib, const char *from,
    struct dmarc_discovery *d)
{
	char norm[FROM_DOMAIN_MAX];

	memset(d, 0, sizeof(*d));
	d->method = dmarc_lib_method(lib);
	if (domain_normalise(from, strlen(from), norm, sizeof(norm)) != 0) {
		snprintf(d->why, sizeof(d->why), "%s", "not a domain name");
		return DMARC_NOTHING;
	}
	return lib->psl != NULL ? dmarc_psl_discover(lib->psl, lib->dns, norm,
	    d) : walk_discover(lib, norm, d);
}

int
dmarc_org_domain(struct dmarc_lib *lib, const char *domain, char *out,
    size_t outsz)
{
	char norm[FROM_DOMAIN_MAX], why[200];
	struct dmarc_walk w;

	if (domain_normalise(domain, strlen(domain), norm, sizeof(norm)) != 0) {
		snprintf(out, outsz, "%s", domain);
		return 0;
	}
	if (lib->psl != NULL) {
		dmarc_psl_org(lib->psl, norm, out, outsz);
		return 0;
	}
	if (dmarc_walk_run(lib->dns, norm, &w, why, sizeof(why)) ==
	    DMARC_TEMP) {
		snprintf(out, outsz, "%s", norm);
		return -1;
	}
	snprintf(out, outsz, "%s", dmarc_walk_org(&w));
	return 0;
}

/* Relaxed alignment of identifier id with a domain whose organizational
 * domain is org: id's own organizational domain must be org, so id is
 * org or below it -- anything else aligns without a query. */
static int
aligned_org(struct dmarc_lib *lib, const char *id, const char *org)
{
	char oid[FROM_DOMAIN_MAX];

	if (!domain_at_or_below(id, org))
		return 0;
	if (dmarc_org_domain(lib, id, oid, sizeof(oid)) != 0)
		return -1;
	return strcmp(oid, org) == 0;
}

int
dmarc_aligned(struct dmarc_lib *lib, const char *a, const char *b,
    int strict)
{
	char na[FROM_DOMAIN_MAX], nb[FROM_DOMAIN_MAX], ob[FROM_DOMAIN_MAX];

	/* DKIM d= comes as written; a name that is not one never aligns. */
	if (domain_normalise(a, strlen(a), na, sizeof(na)) != 0 ||
	    domain_normalise(b, strlen(b), nb, sizeof(nb)) != 0)
		return 0;
	if (strcmp(na, nb) == 0)
		return 1;
	if (strict)
		return 0;
	if (dmarc_org_domain(lib, nb, ob, sizeof(ob)) != 0)
		return -1;
	return aligned_org(lib, na, ob);
}

int
dmarc_may_align(const struct dmarc_lib *lib, const char *a, const char *b)
{
	char na[FROM_DOMAIN_MAX], nb[FROM_DOMAIN_MAX];
	char oa[FROM_DOMAIN_MAX], ob[FROM_DOMAIN_MAX];
	const char *pa, *pb;
	size_t common = 0;

	if (domain_normalise(a, strlen(a), na, sizeof(na)) != 0 ||
	    domain_normalise(b, strlen(b), nb, sizeof(nb)) != 0)
		return 0;
	if (lib->psl != NULL) {
		dmarc_psl_org(lib->psl, na, oa, sizeof(oa));
		dmarc_psl_org(lib->psl, nb, ob, sizeof(ob));
		return strcmp(oa, ob) == 0;
	}
	/* Count the whole labels both end with. */
	pa = na + strlen(na);
	pb = nb + strlen(nb);
	while (pa > na && pb > nb && pa[-1] == pb[-1]) {
		pa--;
		pb--;
		if (*pa == '.')
			common++;
	}
	if ((pa == na || pa[-1] == '.') && (pb == nb || pb[-1] == '.'))
		common++;
	return common >= 2 || strcmp(na, nb) == 0;
}

/* Alignment of identifier id with the Author Domain from, whose
 * organizational domain discovery found: 1, 0, -1 (DNS failed). */
static int
aligned_with(struct dmarc_lib *lib, const char *id, const char *from,
    const struct dmarc_discovery *d, int strict)
{
	char nid[FROM_DOMAIN_MAX];

	if (domain_normalise(id, strlen(id), nid, sizeof(nid)) != 0)
		return 0;
	if (strcmp(nid, from) == 0)
		return 1;
	return strict ? 0 : aligned_org(lib, nid, d->org_domain);
}

static enum dmarc_policy
step_down(enum dmarc_policy p)
{
	return p == DMARC_P_REJECT ? DMARC_P_QUARANTINE : DMARC_P_NONE;
}

/* More of the reason (the AR comment); cut at its size. */
static void __attribute__((format(printf, 2, 3)))
say(struct dmarc_verdict *v, const char *fmt, ...)
{
	size_t len = strlen(v->reason);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->reason + len, sizeof(v->reason) - len, fmt, ap);
	va_end(ap);
}

/* Where the record was and how it was found: "; record
 * _dmarc.example.com, by tree walk". */
static void
say_where(struct dmarc_verdict *v)
{
	say(v, "; record _dmarc.%s, by %s", v->policy_domain, v->discovery);
}

/* The policy that applies to the Author Domain from (4.10.1): p at its
 * own record; np for a subdomain that does not exist, sp for one that
 * does, p when they are absent. */
static enum dmarc_policy
policy_for(struct dmarc_lib *lib, const char *from, const char *where,
    const struct dmarc_record *rec)
{
	struct dns_rrset rs;
	char err[300];
	int nx = 0;

	if (strcmp(where, from) == 0)
		return rec->p;
	if (rec->np != DMARC_P_UNSET) {
		nx = dns_rrset(lib->dns, from, RR_TYPE_A, &rs, err,
		    sizeof(err)) == DNS_NXDOMAIN;
		dns_rrset_free(&rs);
	}
	if (nx)
		return rec->np;
	return rec->sp != DMARC_P_UNSET ? rec->sp : rec->p;
}

/* The record that applied, as aggregate reports give it. */
static void
published(const struct dmarc_discovery *d, struct dmarc_verdict *v)
{
	v->pub_p = d->rec.p;
	v->pub_sp = d->rec.sp;
	v->pub_np = d->rec.np;
	v->pub_adkim_strict = d->rec.adkim_strict;
	v->pub_aspf_strict = d->rec.aspf_strict;
	v->pub_testing = d->rec.testing;
	if (tagval_get(d->txt, strlen(d->txt), "rua", v->rua,
	    sizeof(v->rua)) != 1)
		v->rua[0] = '\0';
}

/* One Author Domain. */
static void
check_domain(struct dmarc_lib *lib, const struct dmarc_inputs *in,
    const char *from, struct dmarc_verdict *v)
{
	struct dmarc_discovery d;
	enum dmarc_found f;
	int dkim_ok = 0, spf_ok = 0, partial = 0, unknown = 0;
	const struct spf_verdict *spf;

	memset(v, 0, sizeof(*v));
	v->evaluated = 1;
	snprintf(v->from_domain, sizeof(v->from_domain), "%s", from);

	f = dmarc_discover(lib, from, &d);
	v->discovery = d.method;
	switch (f) {
	case DMARC_TEMP:
	case DMARC_NOTHING:
	case DMARC_STOP_NONE:
		/* Nothing found: the log's dmarc_discovery says how not. */
		v->result = f == DMARC_TEMP ? DMARC_R_TEMPERROR : DMARC_R_NONE;
		if (f == DMARC_NOTHING)
			say(v, "no DMARC record");
		else
			say(v, "%s, by %s", d.why, d.method);
		return;
	case DMARC_FOUND:
		break;
	}
	snprintf(v->policy_domain, sizeof(v->policy_domain), "%s",
	    d.policy_domain);
	v->policy = policy_for(lib, from, d.policy_domain, &d.rec);
	published(&d, v);

	for (size_t i = 0; i < in->ndkim && !dkim_ok; i++) {
		int aligned = strcmp(in->dkim[i].result, "pass") == 0 ?
		    aligned_with(lib, in->dkim[i].domain, from, &d,
		    d.rec.adkim_strict) : 0;
		unknown |= aligned < 0;
		/* A pass whose l= leaves part of the body unsigned vouches
		 * for that part only: not an aligned pass unless allowed. */
		if (aligned > 0 && in->dkim[i].partial_body &&
		    !in->allow_partial) {
			partial = 1;
			continue;
		}
		dkim_ok = aligned > 0;
	}
	/* The caller gives MAIL FROM's result; HELO's only for the null
	 * sender (never HELO standing in for MAIL FROM: CVE-2019-20790). */
	/* Asked even when DKIM aligned: aggregate reports give both. */
	spf = in->spf;
	if (spf != NULL && spf->checked && spf->result == SPFR_PASS) {
		spf_ok = aligned_with(lib, spf->domain, from, &d,
		    d.rec.aspf_strict);
		unknown |= spf_ok < 0;
		spf_ok = spf_ok > 0;
	}

	v->dkim_aligned = dkim_ok;
	v->spf_aligned = spf_ok;
	if (dkim_ok || spf_ok) {
		v->result = DMARC_R_PASS;
		v->disposition = DMARC_P_NONE;
		say(v, "%s aligned", dkim_ok ? "DKIM" : "SPF");
		say_where(v);
		return;
	}
	if (unknown) {
		/* A walk from an identifier failed: it might have aligned. */
		v->result = DMARC_R_TEMPERROR;
		say(v, "DNS failed finding an identifier's organizational "
		    "domain");
		say_where(v);
		return;
	}
	v->result = DMARC_R_FAIL;
	v->disposition = v->policy;
	if (d.rec.testing) {
		v->disposition = step_down(v->policy);
		say(v, "no aligned pass; t=y: one step milder");
	} else
		say(v, "no aligned DKIM or SPF pass");
	if (partial)
		say(v, "; the aligned DKIM pass signs part of the body only, "
		    "l=");
	say_where(v);
}

/* Worse first: fail (stricter disposition first), temperror, none,
 * pass. */
static int
rank(const struct dmarc_verdict *v)
{
	switch (v->result) {
	case DMARC_R_FAIL:	return 10 + (int)v->disposition;
	case DMARC_R_PERMERROR:	return 9;
	case DMARC_R_TEMPERROR:	return 8;
	case DMARC_R_NONE:	return 7;
	case DMARC_R_PASS:	return 6;
	}
	return 0;
}

/* The From header fields: FROM_OK with the Author Domains in fr, or
 * why there are none (*nfrom counts the fields). */
static enum from_status
author_domains(const struct header *hdrs, size_t nhdrs,
    struct from_result *fr, size_t *nfrom)
{
	enum from_status fs = FROM_EMPTY;

	*nfrom = 0;
	for (size_t i = 0; i < nhdrs; i++) {
		if (!header_name_is(hdrs[i].name, "From"))
			continue;
		if ((*nfrom)++ == 0)
			fs = from_parse(hdrs[i].value, hdrs[i].vlen, fr);
	}
	return fs;
}

/* Start the queries of domain's walk (lower case) that the walks of
 * the Author Domains do not make: those below the parent it shares with
 * from.  A name that can never align with from needs no walk at all. */
static void
prefetch_walk(struct dmarc_lib *lib, const char *domain, const char *from)
{
	char names[DMARC_WALK_MAX][DMARC_NAME_MAX], q[DMARC_NAME_MAX + 8];
	size_t n = dmarc_walk_names(domain, names, DMARC_WALK_MAX);

	for (size_t k = 0; k < n; k++) {
		if (from != NULL && domain_at_or_below(from, names[k]))
			break;	/* from's walk asks this one and those above */
		snprintf(q, sizeof(q), "_dmarc.%.*s", DMARC_NAME_MAX - 1,
		    names[k]);
		dns_prefetch(lib->dns, q, RR_TYPE_TXT);
	}
}

void
dmarc_prefetch(struct dmarc_lib *lib, const struct header *hdrs, size_t nhdrs,
    const char *const *ids, size_t nids)
{
	struct from_result fr;
	char name[DMARC_NAME_MAX + 8], org[DMARC_NAME_MAX], id[FROM_DOMAIN_MAX];
	size_t nfrom;

	if (author_domains(hdrs, nhdrs, &fr, &nfrom) != FROM_OK || nfrom != 1)
		return;
	for (size_t i = 0; i < fr.n; i++) {
		if (lib->psl != NULL) {
			snprintf(name, sizeof(name), "_dmarc.%s", fr.domain[i]);
			dns_prefetch(lib->dns, name, RR_TYPE_TXT);
			dmarc_psl_org(lib->psl, fr.domain[i], org, sizeof(org));
			snprintf(name, sizeof(name), "_dmarc.%s", org);
			if (strcmp(org, fr.domain[i]) != 0)
				dns_prefetch(lib->dns, name, RR_TYPE_TXT);
			continue;
		}
		/* The whole walk at once: its queries are independent,
		 * only where it stops is not (at most 8). */
		prefetch_walk(lib, fr.domain[i], NULL);
		for (size_t k = 0; k < nids; k++)
			if (domain_normalise(ids[k], strlen(ids[k]), id,
			    sizeof(id)) == 0 && strcmp(id, fr.domain[i]) != 0 &&
			    dmarc_may_align(lib, id, fr.domain[i]))
				prefetch_walk(lib, id, fr.domain[i]);
	}
}

void
dmarc_check(struct dmarc_lib *lib, const struct dmarc_inputs *in,
    struct dmarc_verdict *out)
{
	struct from_result fr;
	enum from_status fs;
	size_t nfrom;

	memset(out, 0, sizeof(*out));
	out->evaluated = 1;
	fs = author_domains(in->hdrs, in->nhdrs, &fr, &nfrom);
	if (nfrom == 0) {
		out->result = DMARC_R_NONE;
		snprintf(out->reason, sizeof(out->reason), "%s",
		    "no From header: no Author Domain");
		return;
	}
	if (nfrom > 1) {
		out->result = DMARC_R_PERMERROR;
		snprintf(out->reason, sizeof(out->reason), "%zu From headers",
		    nfrom);
		return;
	}
	if (fs != FROM_OK) {
		out->result = DMARC_R_PERMERROR;
		snprintf(out->reason, sizeof(out->reason), "%s",
		    "From has no usable domain");
		return;
	}
	for (size_t i = 0; i < fr.n; i++) {
		struct dmarc_verdict v;
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = strcmp(fr.domain[i], fr.domain[j]) == 0;
		if (dup)
			continue;
		check_domain(lib, in, fr.domain[i], &v);
		if (i == 0 || rank(&v) > rank(out))
			*out = v;
	}
}
