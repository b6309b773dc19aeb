/*
 * NAME
 *	dmarc -- DMARC (RFC 7489) of incoming mail
 * SYNOPSIS
 *	lib = dmarc_lib_new(dns, cfg->public_suffix_list, err, sizeof(err));
 *	dmarc_check(lib, &session->msg, sample, &verdict);
 * DESCRIPTION
 *	The Author Domain comes from the message's From header fields
 *	(from.c): none gives dmarc=none (no Author Domain), two or more
 *	fields or no usable domain give permerror, several addresses are
 *	each evaluated and the strictest failing one decides (RFC 7489
 *	6.6.1; never a silent pick of the first).
 *
 *	Policy discovery (6.6.3): _dmarc.<author domain>, then
 *	_dmarc.<organizational domain> (public suffix list, libpsl), then
 *	the public suffix's own record when it says psd=y (RFC 9091 /
 *	DMARCbis).  Records not starting with v=DMARC1 are dropped; more
 *	than one, or an unusable one, ends discovery with dmarc=none; a DNS
 *	failure gives temperror.  np= applies to a subdomain that does not
 *	exist (NXDOMAIN), sp= to other subdomains, p= otherwise.
 *
 *	Alignment: a passing DKIM signature whose d= matches, or an SPF
 *	pass for MAIL FROM (HELO for the null sender) whose domain matches;
 *	strict (adkim=s / aspf=s) is equality, relaxed is the same
 *	organizational domain.  Foreign Authentication-Results are never
 *	read.
 *
 *	The record parser is ours, not libopendmarc's: libopendmarc 1.4.2
 *	accepts v=dmarc1 in any case, knows no np=, t= or psd=, refuses a
 *	record over pct=500, and keeps its suffix list in global state set
 *	at library init (no reload).  Choices where the RFC is silent: an
 *	out-of-range pct= counts as 100; a duplicate tag makes the record
 *	unusable (as RFC 6376 tag lists).
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "milter/dmarc.h"
#include "lib/dns.h"
#include "lib/from.h"
#include "lib/header.h"
#include "milter/spf.h"
#include "milter/verify.h"

#define RR_TYPE_A	1
#define RR_TYPE_TXT	16

struct dmarc_lib {
	struct dns	*dns;
	psl_ctx_t	*psl;
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
	if ((lib->psl = psl_load_file(psl_path)) == NULL ||
	    psl_suffix_count(lib->psl) <= 0) {
		snprintf(err, errsz, "public_suffix_list %s: cannot read a "
		    "public suffix list from it (apt-get install "
		    "publicsuffix)", psl_path);
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
	psl_free(lib->psl);
	free(lib);
}

void
dmarc_org_domain(const struct dmarc_lib *lib, const char *domain, char *out,
    size_t outsz)
{
	char norm[FROM_DOMAIN_MAX];
	const char *reg;

	/* libpsl wants lower case: "MAIL.EXAMPLE.CO.UK" would give "CO.UK". */
	if (domain_normalise(domain, strlen(domain), norm, sizeof(norm)) != 0) {
		snprintf(out, outsz, "%s", domain);
		return;
	}
	reg = psl_registrable_domain(lib->psl, norm);
	/* A public suffix itself has no registrable part: itself. */
	snprintf(out, outsz, "%s", reg != NULL ? reg : norm);
}

int
dmarc_aligned(const struct dmarc_lib *lib, const char *a, const char *b,
    int strict)
{
	char na[FROM_DOMAIN_MAX], nb[FROM_DOMAIN_MAX];
	char oa[FROM_DOMAIN_MAX], ob[FROM_DOMAIN_MAX];

	/* DKIM d= comes as written; a name that is not one never aligns. */
	if (domain_normalise(a, strlen(a), na, sizeof(na)) != 0 ||
	    domain_normalise(b, strlen(b), nb, sizeof(nb)) != 0)
		return 0;
	if (strcmp(na, nb) == 0)
		return 1;
	if (strict)
		return 0;
	dmarc_org_domain(lib, na, oa, sizeof(oa));
	dmarc_org_domain(lib, nb, ob, sizeof(ob));
	return strcmp(oa, ob) == 0;
}

/* The DMARC record at _dmarc.<domain>, and its text into txt (txtsz
 * 0: not wanted). */
static enum dmarc_found
fetch(struct dmarc_lib *lib, const char *domain, struct dmarc_record *rec,
    char *txt, size_t txtsz, char *why, size_t whysz)
{
	char name[300], err[300], **t;
	size_t n, count = 0;
	enum dmarc_parse last = DMARC_REC_NOT_DMARC;
	enum dns_status st;

	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	st = dns_txt(lib->dns, name, &t, &n, err, sizeof(err));
	if (st == DNS_TEMPFAIL) {
		snprintf(why, whysz, "DNS: %.150s", err);
		return DMARC_TEMP;
	}
	if (st != DNS_OK)
		return DMARC_NOTHING;
	for (size_t i = 0; i < n; i++) {
		struct dmarc_record r;
		enum dmarc_parse pr = dmarc_record_parse(t[i], &r);
		if (pr == DMARC_REC_NOT_DMARC)
			continue;
		if (count++ == 0 && txtsz > 0)
			snprintf(txt, txtsz, "%s", t[i]);
		last = pr;
		*rec = r;
	}
	dns_txt_free(t);
	if (count == 0)
		return DMARC_NOTHING;
	if (count > 1) {
		snprintf(why, whysz, "%zu DMARC records at %.150s", count,
		    name);
		return DMARC_STOP_NONE;
	}
	if (last == DMARC_REC_INVALID) {
		snprintf(why, whysz, "unusable DMARC record at %.150s", name);
		return DMARC_STOP_NONE;
	}
	return DMARC_FOUND;
}

enum dmarc_found
dmarc_discover(struct dmarc_lib *lib, const char *from,
    struct dmarc_record *rec, char *txt, size_t txtsz, char *policy_domain,
    size_t pdsz, char *why, size_t whysz)
{
	char org[256];
	enum dmarc_found f;

	dmarc_org_domain(lib, from, org, sizeof(org));
	f = fetch(lib, from, rec, txt, txtsz, why, whysz);
	snprintf(policy_domain, pdsz, "%s", from);
	if (f == DMARC_NOTHING && strcmp(org, from) != 0) {
		f = fetch(lib, org, rec, txt, txtsz, why, whysz);
		snprintf(policy_domain, pdsz, "%s", org);
	}
	if (f == DMARC_NOTHING) {
		/* The public suffix's own record, when it says psd=y. */
		const char *suffix = psl_unregistrable_domain(lib->psl, from);
		if (suffix != NULL && strcmp(suffix, org) != 0 &&
		    strcmp(suffix, from) != 0) {
			f = fetch(lib, suffix, rec, txt, txtsz, why, whysz);
			if (f == DMARC_FOUND && !rec->psd)
				f = DMARC_NOTHING;
			snprintf(policy_domain, pdsz, "%s", suffix);
		}
	}
	return f;
}

static enum dmarc_policy
step_down(enum dmarc_policy p)
{
	return p == DMARC_P_REJECT ? DMARC_P_QUARANTINE : DMARC_P_NONE;
}

/* One Author Domain. */
static void
check_domain(struct dmarc_lib *lib, const struct dmarc_inputs *in,
    const char *from, unsigned sample, struct dmarc_verdict *v)
{
	struct dmarc_record rec;
	char why[200] = "";
	enum dmarc_found f;
	int dkim_ok = 0, spf_ok = 0, partial = 0;
	const struct spf_verdict *spf;

	memset(v, 0, sizeof(*v));
	v->evaluated = 1;
	snprintf(v->from_domain, sizeof(v->from_domain), "%s", from);

	f = dmarc_discover(lib, from, &rec, NULL, 0, v->policy_domain,
	    sizeof(v->policy_domain), why, sizeof(why));
	switch (f) {
	case DMARC_TEMP:
		v->result = DMARC_R_TEMPERROR;
		v->policy_domain[0] = '\0';
		snprintf(v->reason, sizeof(v->reason), "%s", why);
		return;
	case DMARC_NOTHING:
	case DMARC_STOP_NONE:
		v->result = DMARC_R_NONE;
		v->policy_domain[0] = '\0';
		snprintf(v->reason, sizeof(v->reason), "%s", f == DMARC_NOTHING ?
		    "no DMARC record" : why);
		return;
	case DMARC_FOUND:
		break;
	}

	/* The policy that applies to this Author Domain. */
	v->policy = rec.p;
	if (strcasecmp(v->policy_domain, from) != 0) {
		int nx = 0;
		if (rec.np != DMARC_P_UNSET) {
			struct dns_rrset rs;
			char err[300];
			nx = dns_rrset(lib->dns, from, RR_TYPE_A, &rs, err,
			    sizeof(err)) == DNS_NXDOMAIN;
			dns_rrset_free(&rs);
		}
		if (nx)
			v->policy = rec.np;
		else if (rec.sp != DMARC_P_UNSET)
			v->policy = rec.sp;
	}

	for (size_t i = 0; i < in->ndkim && !dkim_ok; i++) {
		int aligned = strcmp(in->dkim[i].result, "pass") == 0 &&
		    dmarc_aligned(lib, in->dkim[i].domain, from,
		    rec.adkim_strict);
		/* A pass whose l= leaves part of the body unsigned vouches
		 * for that part only: not an aligned pass unless allowed. */
		if (aligned && in->dkim[i].partial_body && !in->allow_partial) {
			partial = 1;
			continue;
		}
		dkim_ok = aligned;
	}
	/* The caller gives MAIL FROM's result; HELO's only for the null
	 * sender (never HELO standing in for MAIL FROM: CVE-2019-20790). */
	spf = in->spf;
	spf_ok = spf != NULL && spf->checked && spf->result == SPFR_PASS &&
	    dmarc_aligned(lib, spf->domain, from, rec.aspf_strict);

	if (dkim_ok || spf_ok) {
		v->result = DMARC_R_PASS;
		v->disposition = DMARC_P_NONE;
		snprintf(v->reason, sizeof(v->reason), "%s aligned",
		    dkim_ok && spf_ok ? "DKIM and SPF" : dkim_ok ? "DKIM" :
		    "SPF");
		return;
	}
	v->result = DMARC_R_FAIL;
	v->disposition = v->policy;
	if (rec.testing) {
		v->disposition = step_down(v->policy);
		snprintf(v->reason, sizeof(v->reason), "%s", "no aligned "
		    "pass; t=y: one step milder");
	} else if (sample >= (unsigned)rec.pct) {
		v->disposition = step_down(v->policy);
		snprintf(v->reason, sizeof(v->reason), "no aligned pass; not "
		    "sampled at pct=%d: one step milder", rec.pct);
	} else
		snprintf(v->reason, sizeof(v->reason), "%s",
		    "no aligned DKIM or SPF pass");
	if (partial)
		snprintf(v->reason + strlen(v->reason), sizeof(v->reason) -
		    strlen(v->reason), "; the aligned DKIM pass signs part of "
		    "the body only, l=");
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

void
dmarc_prefetch(struct dmarc_lib *lib, const struct header *hdrs, size_t nhdrs)
{
	struct from_result fr;
	char name[300], org[256];
	size_t nfrom;

	if (author_domains(hdrs, nhdrs, &fr, &nfrom) != FROM_OK || nfrom != 1)
		return;
	for (size_t i = 0; i < fr.n; i++) {
		snprintf(name, sizeof(name), "_dmarc.%s", fr.domain[i]);
		dns_prefetch(lib->dns, name, RR_TYPE_TXT);
		dmarc_org_domain(lib, fr.domain[i], org, sizeof(org));
		if (strcmp(org, fr.domain[i]) != 0) {
			snprintf(name, sizeof(name), "_dmarc.%s", org);
			dns_prefetch(lib->dns, name, RR_TYPE_TXT);
		}
	}
}

void
dmarc_check(struct dmarc_lib *lib, const struct dmarc_inputs *in,
    unsigned sample, struct dmarc_verdict *out)
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
		check_domain(lib, in, fr.domain[i], sample, &v);
		if (i == 0 || rank(&v) > rank(out))
			*out = v;
	}
}
