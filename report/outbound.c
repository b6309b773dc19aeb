/*
 * NAME
 *	outbound -- our mail as receivers saw it: counts per reporting
 *	organisation and per source IP, and why sources fail
 * SYNOPSIS
 *	#include "report/outbound.h"
 *
 *	rua_store_received(st, domain, since, outbound_add, &ob, ...);
 *	outbound_sort(&ob.ip);
 *	outbound_hint(&ob.ip.rows[i], buf, sizeof(buf));
 * DESCRIPTION
 *	Each imported record adds its count to its organisation's row and
 *	its source IP's row.  DMARC passes when policy_evaluated has an
 *	aligned DKIM or SPF pass (RFC 7489 6.6.2).  For messages that
 *	failed, the auth_results say why, by simple rules:
 *
 *	    no DKIM result (or "none")         not signed by authfilter
 *	    DKIM fail for our domain           signature broken in transit
 *	    DKIM by another domain only        not aligned
 *	    SPF fail or softfail               not in the domain's SPF record
 *
 *	"Our domain" is the report's policy domain, the header_from or a
 *	subdomain of the policy domain.
 * DIAGNOSTICS
 *	outbound_add() returns 1 (and sets nomem) when out of memory.
 * SEE ALSO
 *	outbound_cmd.c, rua/store.h
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/outbound.h"

static struct ob_row *
row_of(struct ob_table *t, const char *key)
{
	struct tally_row *ix = tally_row(&t->index, key);
	struct ob_row *r;

	if (ix == NULL)
		return NULL;
	if (ix->n[0] != 0)
		return &t->rows[ix->n[0] - 1];
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		if ((r = realloc(t->rows, cap * sizeof(*r))) == NULL)
			return NULL;
		t->rows = r;
		t->cap = cap;
	}
	r = &t->rows[t->nrows];
	memset(r, 0, sizeof(*r));
	snprintf(r->key, sizeof(r->key), "%s", key);
	ix->n[0] = ++t->nrows;
	return r;
}

/* d is the policy domain, the From domain or below the policy domain. */
static int
ours(const char *d, const struct rua_feedback *rep,
    const struct rua_record *rec)
{
	size_t ld = strlen(d), lp = strlen(rep->pub.domain);

	if (d[0] == '\0')
		return 0;
	if (strcasecmp(d, rep->pub.domain) == 0 ||
	    strcasecmp(d, rec->header_from) == 0)
		return 1;
	return ld > lp && d[ld - lp - 1] == '.' &&
	    strcasecmp(d + ld - lp, rep->pub.domain) == 0;
}

/* Imported counts are the reporters' word (anyone can mail a report):
 * sums stop at the largest value rather than wrap. */
static void
sat_add(uint64_t *sum, uint64_t c)
{
	*sum = c > UINT64_MAX - *sum ? UINT64_MAX : *sum + c;
}

static void
add_causes(struct ob_row *r, const struct rua_feedback *rep,
    const struct rua_record *rec)
{
	int signed_ = 0, broken = 0;
	const char *other = NULL;

	for (size_t i = 0; i < rec->ndkim; i++) {
		const struct rua_dkim *d = &rec->dkim_res[i];
		if (d->result[0] == '\0' || strcasecmp(d->result, "none") == 0)
			continue;
		signed_ = 1;
		if (ours(d->domain, rep, rec)) {
			if (strcasecmp(d->result, "pass") != 0)
				broken = 1;
		} else if (other == NULL)
			other = d->domain;
	}
	if (!signed_)
		sat_add(&r->cause[OB_NOT_SIGNED], rec->count);
	else if (broken)
		sat_add(&r->cause[OB_DKIM_BROKEN], rec->count);
	else if (other != NULL) {
		sat_add(&r->cause[OB_DKIM_OTHER], rec->count);
		snprintf(r->dkim_domain, sizeof(r->dkim_domain), "%s", other);
	}
	for (size_t i = 0; i < rec->nspf; i++) {
		const struct rua_spf *s = &rec->spf_res[i];
		if (strcasecmp(s->result, "fail") != 0 &&
		    strcasecmp(s->result, "softfail") != 0)
			continue;
		sat_add(&r->cause[OB_SPF_FAIL], rec->count);
		snprintf(r->spf_result, sizeof(r->spf_result), "%s",
		    s->result);
		snprintf(r->spf_domain, sizeof(r->spf_domain), "%s",
		    s->domain[0] ? s->domain : rec->envelope_from[0] ?
		    rec->envelope_from : rec->header_from);
		break;
	}
	if (r->from[0] == '\0')
		snprintf(r->from, sizeof(r->from), "%s", rec->header_from[0] ?
		    rec->header_from : rep->pub.domain);
}

static void
add_to(struct ob_row *r, const struct rua_feedback *rep,
    const struct rua_record *rec)
{
	int dkim = strcasecmp(rec->dkim, "pass") == 0;
	int spf = strcasecmp(rec->spf, "pass") == 0;
	uint64_t c = rec->count;

	sat_add(&r->n[OB_MSGS], c);
	sat_add(&r->n[OB_DKIM], dkim ? c : 0);
	sat_add(&r->n[OB_SPF], spf ? c : 0);
	sat_add(&r->n[OB_DMARC], dkim || spf ? c : 0);
	if (strcasecmp(rec->disposition, "reject") == 0)
		sat_add(&r->n[OB_REJECT], c);
	else if (strcasecmp(rec->disposition, "quarantine") == 0)
		sat_add(&r->n[OB_QUAR], c);
	else
		sat_add(&r->n[OB_NONE], c);
	if (!dkim && !spf)
		add_causes(r, rep, rec);
}

int
outbound_add(void *arg, const struct rua_feedback *rep,
    const struct rua_record *rec)
{
	struct outbound *ob = arg;
	struct ob_row *o = row_of(&ob->org, rep->org_name), *ip;
	char id[sizeof(rep->org_name) + sizeof(rep->report_id)];

	snprintf(id, sizeof(id), "%s %s", rep->org_name, rep->report_id);
	if (o == NULL || (ip = row_of(&ob->ip, rec->source_ip)) == NULL ||
	    tally_row(&ob->reports, id) == NULL) {
		ob->nomem = 1;
		return 1;
	}
	add_to(o, rep, rec);
	add_to(ip, rep, rec);
	return 0;
}

static int
worst_first(const void *a, const void *b)
{
	const struct ob_row *x = a, *y = b;
	uint64_t fx = x->n[OB_MSGS] - x->n[OB_DMARC];
	uint64_t fy = y->n[OB_MSGS] - y->n[OB_DMARC];
	long double sx = x->n[OB_MSGS] ? (long double)fx / x->n[OB_MSGS] : 0;
	long double sy = y->n[OB_MSGS] ? (long double)fy / y->n[OB_MSGS] : 0;

	if (sx != sy)
		return sx < sy ? 1 : -1;
	if (fx != fy)
		return fx < fy ? 1 : -1;
	if (x->n[OB_MSGS] != y->n[OB_MSGS])
		return x->n[OB_MSGS] < y->n[OB_MSGS] ? 1 : -1;
	return strcmp(x->key, y->key);
}

void
outbound_sort(struct ob_table *t)
{
	if (t->nrows > 0)
		qsort(t->rows, t->nrows, sizeof(t->rows[0]), worst_first);
	/* The index points at the old order. */
	tally_table_free(&t->index);
}

/* fmt at the end of buf. */
static void
append(char *buf, size_t bufsz, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, bufsz - n, fmt, ap);
	va_end(ap);
}

void
outbound_hint(const struct ob_row *r, char *buf, size_t bufsz)
{
	const char *sep = "";

	buf[0] = '\0';
	if (r->n[OB_MSGS] == r->n[OB_DMARC])
		return;
	append(buf, bufsz, "sends as %s:", r->from);
	if (r->cause[OB_NOT_SIGNED] != 0) {
		append(buf, bufsz, " DKIM none: not signed by authfilter");
		sep = ";";
	}
	if (r->cause[OB_DKIM_BROKEN] != 0) {
		append(buf, bufsz, "%s DKIM fail: signature broken in transit "
		    "(forwarder or mailing list?)", sep);
		sep = ";";
	}
	if (r->cause[OB_DKIM_OTHER] != 0) {
		append(buf, bufsz, "%s DKIM by %s only: not aligned with %s",
		    sep, r->dkim_domain, r->from);
		sep = ";";
	}
	if (r->cause[OB_SPF_FAIL] != 0)
		append(buf, bufsz, "%s SPF %s: not in %s's SPF record", sep,
		    r->spf_result, r->spf_domain);
}

void
outbound_free(struct outbound *ob)
{
	free(ob->org.rows);
	free(ob->ip.rows);
	tally_table_free(&ob->org.index);
	tally_table_free(&ob->ip.index);
	tally_table_free(&ob->reports);
	memset(ob, 0, sizeof(*ob));
}
