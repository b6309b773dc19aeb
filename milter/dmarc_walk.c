/*
 * NAME
 *	dmarc_walk -- the DNS Tree Walk of RFC 9989 (section 4.10)
 * SYNOPSIS
 *	struct dmarc_walk w;
 *	f = dmarc_walk_run(dns, "a.mail.example.com", &w, why, sizeof(why));
 *	org = dmarc_walk_org(&w);
 *	i = dmarc_walk_policy(&w);
 * DESCRIPTION
 *	One walk answers both questions RFC 9989 asks of the DNS: which
 *	policy record applies to a domain, and what its organizational
 *	domain is.  It queries _dmarc.<domain>, then removes labels from
 *	the left -- a name of 8 labels or more jumps to its last 7 after
 *	the first query -- down to the top-level domain: at most 8 queries
 *	(DMARC_WALK_MAX), whatever the name.  TXT records not starting
 *	with v=DMARC1 are dropped; several DMARC records at one name are
 *	all discarded and the walk goes on (4.10 steps 2 and 6, where RFC
 *	7489 ended discovery); a record with psd=y or psd=n ends it.
 *
 *	dmarc_walk_names(), dmarc_walk_org() and dmarc_walk_policy() are
 *	pure, for the unit tests; dmarc_walk_run() asks the DNS through
 *	the message's resolver, so its hold and its time budget apply.
 * DIAGNOSTICS
 *	A query that fails ends the walk with DMARC_TEMP and says which
 *	name: the records above it could change both the policy and the
 *	organizational domain, so nothing is concluded from the rest.
 * SEE ALSO
 *	dmarc.c, RFC 9989 sections 4.10, 4.10.1, 4.10.2.
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "milter/dmarc_walk.h"
#include "lib/dns.h"

static size_t
labels(const char *d)
{
	size_t n = 1;

	for (; *d != '\0'; d++)
		n += *d == '.';
	return n;
}

/* The last keep labels of d (keep at least 1, at most its labels). */
static const char *
last_labels(const char *d, size_t keep)
{
	size_t skip;

	if (keep >= labels(d))
		return d;
	skip = labels(d) - keep;
	while (skip > 0 && *d != '\0')
		skip -= *d++ == '.';
	return d;
}

size_t
dmarc_walk_names(const char *domain, char names[][DMARC_NAME_MAX],
    size_t max)
{
	size_t x = labels(domain), keep, n = 0;

	if (max == 0 || *domain == '\0')
		return 0;
	snprintf(names[n++], DMARC_NAME_MAX, "%s", domain);
	/* 4.10 step 4: one label off, or straight down to 7 labels. */
	keep = x - 1 < DMARC_WALK_LABELS ? x - 1 : DMARC_WALK_LABELS;
	for (; keep >= 1 && n < max; keep--)
		snprintf(names[n++], DMARC_NAME_MAX, "%s",
		    last_labels(domain, keep));
	return n;
}

/* The TXT records at _dmarc.<s->name> into s. */
static enum dns_status
fetch(struct dns *d, struct dmarc_walk_step *s, char *err, size_t errsz)
{
	char qname[DMARC_NAME_MAX + 8], **t;
	size_t n;
	enum dns_status st;

	s->state = DMARC_STEP_NONE;
	s->ndiscarded = 0;
	snprintf(qname, sizeof(qname), "_dmarc.%s", s->name);
	st = dns_txt(d, qname, &t, &n, err, errsz);
	if (st == DNS_TEMPFAIL) {
		s->state = DMARC_STEP_TEMP;
		return st;
	}
	if (st != DNS_OK)
		return st;
	for (size_t i = 0; i < n; i++) {
		struct dmarc_record r;
		enum dmarc_parse pr = dmarc_record_parse(t[i], &r);
		if (pr == DMARC_REC_NOT_DMARC)
			continue;
		if (s->ndiscarded++ == 0) {
			s->rec = r;
			s->parse = pr;
			snprintf(s->txt, sizeof(s->txt), "%s", t[i]);
		}
	}
	dns_txt_free(t);
	if (s->ndiscarded == 1) {
		s->state = DMARC_STEP_RECORD;
		s->ndiscarded = 0;
	} else if (s->ndiscarded > 1)
		s->txt[0] = '\0';
	return st;
}

void
dmarc_walk_fetch(struct dns *d, const char *domain, struct dmarc_walk_step *s,
    char *why, size_t whysz)
{
	char err[300];

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", domain);
	/* err names the query. */
	if (fetch(d, s, err, sizeof(err)) == DNS_TEMPFAIL)
		snprintf(why, whysz, "DNS: %.180s", err);
}

enum dmarc_found
dmarc_walk_run(struct dns *d, const char *domain, struct dmarc_walk *w,
    char *why, size_t whysz)
{
	char names[DMARC_WALK_MAX][DMARC_NAME_MAX];
	size_t n = dmarc_walk_names(domain, names, DMARC_WALK_MAX);
	int found = 0;

	w->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct dmarc_walk_step *s = &w->step[w->n++];

		dmarc_walk_fetch(d, names[i], s, why, whysz);
		if (s->state == DMARC_STEP_TEMP)
			return DMARC_TEMP;
		if (s->state != DMARC_STEP_RECORD)
			continue;
		found = 1;
		if (s->rec.psd != DMARC_PSD_U)
			break;
	}
	return found ? DMARC_FOUND : DMARC_NOTHING;
}

const char *
dmarc_walk_org(const struct dmarc_walk *w)
{
	int last = -1;

	if (w->n == 0)
		return "";
	/* Longest name first; the walk stopped at the first psd=y/n. */
	for (size_t i = 0; i < w->n; i++) {
		const struct dmarc_walk_step *s = &w->step[i];
		if (s->state != DMARC_STEP_RECORD)
			continue;
		if (s->rec.psd == DMARC_PSD_N)
			return s->name;
		if (s->rec.psd == DMARC_PSD_Y && i > 0)
			return last_labels(w->step[0].name,
			    labels(s->name) + 1);
		last = (int)i;
	}
	return w->step[last >= 0 ? last : 0].name;
}

int
dmarc_walk_policy(const struct dmarc_walk *w)
{
	const char *org;
	int psd = -1;

	if (w->n == 0)
		return -1;
	if (w->step[0].state == DMARC_STEP_RECORD)
		return 0;
	org = dmarc_walk_org(w);
	for (size_t i = 1; i < w->n; i++) {
		const struct dmarc_walk_step *s = &w->step[i];
		if (s->state != DMARC_STEP_RECORD)
			continue;
		if (strcmp(s->name, org) == 0)
			return (int)i;
		if (s->rec.psd == DMARC_PSD_Y)
			psd = (int)i;
	}
	return psd;
}
