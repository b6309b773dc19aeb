/*
 * NAME
 *	doctor_spf -- authfilter doctor: a domain's SPF record
 * SYNOPSIS
 *	doctor_spf(env, dom);
 * DESCRIPTION
 *	Adds these checks (area "spf") to dom:
 *
 *	record	   exactly one SPF record (RFC 7208 4.5: two are permerror)
 *	syntax	   the record, and every record it includes or redirects to,
 *		   passes spf_record_check(), the strict RFC 7208 grammar
 *		   the inbound checks use
 *	dns-terms  at most 10 DNS-querying terms (include, a, mx, ptr,
 *		   exists, redirect), counted through includes and
 *		   redirects (RFC 7208 4.6.4)
 *	void-lookups  at most 2 of those lookups answer nothing
 *	all	   the record ends in -all or ~all, not +all or ?all
 *	authorises every outbound address passes check_host() for
 *		   postmaster@DOMAIN (milter/spf.c, libspf2)
 *
 *	The walk is static: every term is counted, not only those an
 *	evaluation would reach before it matches, because a receiver's
 *	evaluation for some other address reaches them all.  Terms with
 *	macros (RFC 7208 7) are counted, but not followed.
 * DIAGNOSTICS
 *	A lookup that fails makes the check it feeds "could not check".
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "doctor/doctor.h"
#include "lib/dns.h"
#include "lib/verdict.h"
#include "milter/spf.h"
#include "milter/spf_record.h"

#define RR_A		1
#define RR_MX		15
#define RR_AAAA		28
/* RFC 7208 4.6.4: at most 10 DNS-querying terms, 2 void lookups. */
#define SPF_TERMS_MAX	10
#define SPF_VOIDS_MAX	2
/* Includes and redirects are followed until the count passes the
 * limit, and at most this deep: a loop of includes ends. */
#define WALK_DEPTH	11

struct walk {
	unsigned	 terms, voids;
	int		 failed;		/* a lookup failed */
	char		 bad[DOCTOR_DETAIL_MAX];	/* first broken record */
	char		 void_names[DOCTOR_DETAIL_MAX];
};

/* The SPF records of domain: how many, the first into *rec (caller
 * frees); -1 when the lookup failed, with err. */
static int
fetch(struct dns *d, const char *domain, char **rec, char *err, size_t errsz)
{
	char **txt;
	size_t n;
	int count = 0;
	enum dns_status st = dns_txt(d, domain, &txt, &n, err, errsz);

	*rec = NULL;
	if (st == DNS_TEMPFAIL)
		return -1;
	if (st != DNS_OK)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (spf_record_is_spf(txt[i], strlen(txt[i])) &&
		    count++ == 0)
			*rec = strdup(txt[i]);
	dns_txt_free(txt);
	return count;
}

static void
note_void(struct walk *w, const char *name)
{
	size_t o = strlen(w->void_names);

	w->voids++;
	snprintf(w->void_names + o, sizeof(w->void_names) - o, "%s%s",
	    o ? ", " : "", name);
}

/* A lookup of name for a term: counted as void when nothing answers
 * (with type2, neither type: "a" asks for A or AAAA, as the client's
 * family may be either). */
static void
lookup(const struct doctor_env *env, struct walk *w, const char *name,
    int type, int type2)
{
	int v;

	if (strchr(name, '%') != NULL)
		return;			/* a macro: known only per message */
	v = doctor_void(env->dns, name, type);
	if (v == 1 && type2 != 0)
		v = doctor_void(env->dns, name, type2);
	if (v < 0)
		w->failed = 1;
	else if (v == 1)
		note_void(w, name);
}

static void walk_domain(const struct doctor_env *, struct walk *,
    const char *domain, int depth);

/* The domain a term names after ':' or '=' (up to a '/' of a prefix
 * length), or def when it names none. */
static void
term_domain(const char *arg, const char *def, char *out, size_t outsz)
{
	size_t n;

	if (arg == NULL || *arg == '\0') {
		snprintf(out, outsz, "%s", def);
		return;
	}
	n = strcspn(arg, "/");
	snprintf(out, outsz, "%.*s", (int)(n < outsz ? n : outsz - 1), arg);
}

/* One record's terms (the record is cut up in place). */
static void
walk_record(const struct doctor_env *env, struct walk *w, const char *domain,
    char *rec, int depth)
{
	char *save = NULL, *t, target[256], redirect[256] = "";
	int has_all = 0;

	for (t = strtok_r(rec, " ", &save); t != NULL;
	    t = strtok_r(NULL, " ", &save)) {
		char *arg;
		size_t n;

		if (strchr("+-~?", *t) != NULL)
			t++;
		n = strcspn(t, ":=/");
		arg = t[n] == ':' || t[n] == '=' ? t + n + 1 : NULL;
		if (n == 3 && strncasecmp(t, "all", 3) == 0)
			has_all = 1;
		else if (n == 7 && strncasecmp(t, "include", 7) == 0) {
			w->terms++;
			term_domain(arg, domain, target, sizeof(target));
			if (strchr(target, '%') == NULL)
				walk_domain(env, w, target, depth + 1);
		} else if (n == 8 && strncasecmp(t, "redirect", 8) == 0) {
			term_domain(arg, domain, redirect, sizeof(redirect));
		} else if (n == 1 && (*t == 'a' || *t == 'A')) {
			w->terms++;
			term_domain(arg, domain, target, sizeof(target));
			lookup(env, w, target, RR_A, RR_AAAA);
		} else if (n == 2 && strncasecmp(t, "mx", 2) == 0) {
			w->terms++;
			term_domain(arg, domain, target, sizeof(target));
			lookup(env, w, target, RR_MX, 0);
		} else if (n == 3 && strncasecmp(t, "ptr", 3) == 0)
			w->terms++;
		else if (n == 6 && strncasecmp(t, "exists", 6) == 0) {
			w->terms++;
			term_domain(arg, domain, target, sizeof(target));
			lookup(env, w, target, RR_A, 0);
		}
	}
	/* RFC 7208 6.1: redirect counts, and applies, only without "all". */
	if (redirect[0] != '\0' && !has_all) {
		w->terms++;
		if (strchr(redirect, '%') == NULL)
			walk_domain(env, w, redirect, depth + 1);
	}
}

/* An included or redirected-to domain. */
static void
walk_domain(const struct doctor_env *env, struct walk *w, const char *domain,
    int depth)
{
	char err[300], *rec;
	int n;

	if (depth > WALK_DEPTH || w->terms > SPF_TERMS_MAX)
		return;
	if ((n = fetch(env->dns, domain, &rec, err, sizeof(err))) < 0) {
		w->failed = 1;
		return;
	}
	if (n == 0)
		note_void(w, domain);
	if (n != 1 && w->bad[0] == '\0')
		snprintf(w->bad, sizeof(w->bad), "%s: %s (permerror for "
		    "every receiver)", domain, n == 0 ? "no SPF record" :
		    "more than one SPF record");
	if (n == 1) {
		if (spf_record_check(rec, strlen(rec), err, sizeof(err)) != 0 &&
		    w->bad[0] == '\0')
			snprintf(w->bad, sizeof(w->bad), "%s: %s", domain, err);
		walk_record(env, w, domain, rec, depth);
	}
	free(rec);
}

/* The qualifier of the record's "all" term: '+', '-', '~', '?', or 0
 * when it has none. */
static char
all_qualifier(const char *rec)
{
	const char *p = rec;

	while ((p = strcasestr(p, "all")) != NULL) {
		int start = p == rec || p[-1] == ' ' ||
		    (strchr("+-~?", p[-1]) != NULL && (p - 1 == rec ||
		    p[-2] == ' '));
		int end = p[3] == '\0' || p[3] == ' ';
		if (start && end)
			return p > rec && p[-1] != ' ' ? p[-1] : '+';
		p += 3;
	}
	return 0;
}

static void
check_all(struct doctor_domain *dom, const char *rec)
{
	char q = all_qualifier(rec);
	struct doctor_checks *c = &dom->checks;

	if (q == '-' || q == '~')
		doctor_add(c, "spf", "all", DOC_OK, "", "%call", q);
	else if (q == '+' || q == '?')
		doctor_add(c, "spf", "all", DOC_FAIL, "end the record with "
		    "-all (or ~all while testing): now mail from any address "
		    "gets past SPF", "%call: every address %s", q, q == '+' ?
		    "passes" : "is neutral");
	else if (strcasestr(rec, "redirect=") != NULL)
		doctor_add(c, "spf", "all", DOC_OK, "", "none (the redirect's "
		    "record decides)");
	else
		doctor_add(c, "spf", "all", DOC_WARN, "end the record with "
		    "-all or ~all", "no \"all\": other addresses are neutral");
}

static void
check_limits(const struct doctor_env *env, struct doctor_domain *dom,
    const char *rec)
{
	struct walk w;
	char err[300], *copy = strdup(rec);
	struct doctor_checks *c = &dom->checks;

	memset(&w, 0, sizeof(w));
	if (copy == NULL)
		return;
	if (spf_record_check(rec, strlen(rec), err, sizeof(err)) != 0)
		snprintf(w.bad, sizeof(w.bad), "%s", err);
	walk_record(env, &w, dom->from, copy, 0);
	free(copy);
	if (w.bad[0] != '\0')
		doctor_add(c, "spf", "syntax", DOC_FAIL, "fix the record: "
		    "receivers treat it as permerror", "%s", w.bad);
	else
		doctor_add(c, "spf", "syntax", DOC_OK, "", "valid (RFC 7208)");
	if (w.failed)
		doctor_add(c, "spf", "dns-terms", DOC_UNKNOWN, "", "a lookup "
		    "failed: %u DNS-querying terms counted so far", w.terms);
	else if (w.terms > SPF_TERMS_MAX)
		doctor_add(c, "spf", "dns-terms", DOC_FAIL, "use ip4:/ip6: "
		    "instead of a, mx and includes, or fewer includes: "
		    "receivers stop at 10 (permerror)", "at least %u DNS-querying "
		    "terms through includes (limit 10)", w.terms);
	else
		doctor_add(c, "spf", "dns-terms", DOC_OK, "", "%u of 10 "
		    "DNS-querying terms", w.terms);
	if (w.voids > SPF_VOIDS_MAX)
		doctor_add(c, "spf", "void-lookups", DOC_FAIL, "remove the "
		    "terms that name domains without records: receivers stop "
		    "at 2 (permerror)", "%u lookups answer nothing (limit 2): "
		    "%s", w.voids, w.void_names);
	else if (w.voids > 0)
		doctor_add(c, "spf", "void-lookups", DOC_WARN, "remove the "
		    "terms that name domains without records", "%u of 2: %s",
		    w.voids, w.void_names);
	else if (!w.failed)
		doctor_add(c, "spf", "void-lookups", DOC_OK, "", "none");
}

static void
check_authorises(const struct doctor_env *env, struct doctor_domain *dom)
{
	char sender[300], ok[DOCTOR_DETAIL_MAX] = "", bad[DOCTOR_DETAIL_MAX] =
	    "", add[DOCTOR_MAX_IPS * 50] = "", advice[DOCTOR_ADVICE_MAX];
	size_t nbad = 0, ntemp = 0, o;
	struct spf_verdict v;

	if (env->nips == 0)
		return;		/* the host checks say why */
	snprintf(sender, sizeof(sender), "postmaster@%s", dom->from);
	for (size_t i = 0; i < env->nips; i++) {
		const char *ip = env->ips[i];
		spf_check_mailfrom(env->spf, ip, env->helo, sender, &v);
		if (v.result == SPFR_PASS) {
			o = strlen(ok);
			snprintf(ok + o, sizeof(ok) - o, "%s%s", o ? ", " : "",
			    ip);
			continue;
		}
		if (v.result == SPFR_TEMPERROR)
			ntemp++;
		nbad++;
		o = strlen(bad);
		snprintf(bad + o, sizeof(bad) - o, "%s%s: %s%s%s", o ? "; " :
		    "", ip, spf_result_name(v.result), v.reason[0] ? ", " : "",
		    v.reason);
		o = strlen(add);
		snprintf(add + o, sizeof(add) - o, " %s:%s", strchr(ip, ':') ?
		    "ip6" : "ip4", ip);
	}
	dom->spf_pass = nbad == 0;
	if (nbad == 0) {
		doctor_add(&dom->checks, "spf", "authorises", DOC_OK, "",
		    "pass for %s", ok);
		return;
	}
	snprintf(advice, sizeof(advice), "add%s to the SPF record of %s "
	    "(before its all)", add, dom->from);
	doctor_add(&dom->checks, "spf", "authorises", ntemp == nbad ?
	    DOC_UNKNOWN : DOC_FAIL, ntemp == nbad ? "" : advice, "%s", bad);
}

void
doctor_spf(const struct doctor_env *env, struct doctor_domain *dom)
{
	char err[300], *rec;
	int n = fetch(env->dns, dom->from, &rec, err, sizeof(err));
	struct doctor_checks *c = &dom->checks;

	if (n < 0)
		doctor_add(c, "spf", "record", DOC_UNKNOWN, "", "%s", err);
	else if (n == 0)
		doctor_add(c, "spf", "record", DOC_FAIL, "publish one TXT "
		    "record such as \"v=spf1 mx -all\" at the domain", "no SPF "
		    "record at %s", dom->from);
	else if (n > 1)
		doctor_add(c, "spf", "record", DOC_FAIL, "merge them into one "
		    "record: two are permerror (RFC 7208 4.5)", "%d SPF records "
		    "at %s", n, dom->from);
	else {
		doctor_add(c, "spf", "record", DOC_OK, "", "%s", rec);
		check_limits(env, dom, rec);
		check_all(dom, rec);
	}
	free(rec);
	check_authorises(env, dom);
}
