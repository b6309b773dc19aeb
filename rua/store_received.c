/*
 * NAME
 *	store_received -- reports sent, and reports received
 * SYNOPSIS
 *	rua_store_mark_sent(st, "example.org", "mailto:d@example.net",
 *	    begin, end, report_id, err, sizeof(err));
 *	if (rua_store_was_sent(st, ...) == 1) ...
 *	rc = rua_store_add_feedback(st, &fb, err, sizeof(err));
 *	rua_store_received(st, "example.org", since, fn, arg, err, ...);
 * DESCRIPTION
 *	A sent mark is (domain, destination, begin, end): marking it again
 *	changes nothing.
 *
 *	rua_store_add_feedback() stores a report and its records in one
 *	transaction.  A report is known by (org_name, report_id): the
 *	INSERT ... ON CONFLICT DO NOTHING of a second copy changes no row,
 *	and the call returns 1 having stored nothing; two importers racing
 *	with the same report end the same way.
 *
 *	rua_store_received() walks the records, ordered by the end of
 *	their report's period, of reports whose period ends at or after
 *	`since` and, when a domain is given, whose policy domain is that
 *	domain or whose record's header_from is it or a subdomain of it
 *	(domains are stored lower-cased, and the domain is lower-cased
 *	for the query).  fn must not use the store handle.
 * DIAGNOSTICS
 *	-1 with "report_db NAME: what failed: why" in err.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rua/store_impl.h"

static const char Q_SENT_ADD_SQL[] =
	"INSERT INTO sent_reports (domain, destination, period_begin, "
	"period_end, report_id, sent_at) VALUES ($1, $2, $3, $4, $5, $6) "
	"ON CONFLICT (domain, destination, period_begin, period_end) "
	"DO NOTHING";
static const char Q_SENT_GET_SQL[] =
	"SELECT 1 FROM sent_reports WHERE domain = $1 AND destination = $2 "
	"AND period_begin = $3 AND period_end = $4";
#define REPORT_COLS "org_name, email, extra_contact_info, report_id, " \
	"period_begin, period_end, version, rfc9990, generator, error"
static const char Q_RCV_ADD_SQL[] =
	"INSERT INTO received_reports (" REPORT_COLS ", " POL_COLS
	", imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
	"$11, $12, $13, $14, $15, $16, $17, $18, $19, $20) "
	"ON CONFLICT (org_name, report_id) DO NOTHING";
static const char Q_RCV_ID_SQL[] =
	"SELECT id FROM received_reports WHERE org_name = $1 "
	"AND report_id = $2";
static const char Q_RCV_REC_ADD_SQL[] =
	"INSERT INTO received_records (report, msg_count, " REC_COLS ") "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
/* $1 since, $2 the domain ("": all), $3 "." and the domain */
static const char Q_RCV_EACH_SQL[] =
	"SELECT r.org_name, r.email, r.extra_contact_info, r.report_id, "
	"r.period_begin, r.period_end, r.version, r.rfc9990, r.generator, "
	"r.error, r.policy_domain, r.p, r.sp, r.np, r.adkim, r.aspf, "
	"r.testing, r.discovery_method, r.fo, "
	"c.source_ip, c.envelope_to, c.envelope_from, c.header_from, "
	"c.disposition, c.dkim, c.spf, c.reasons, c.dkim_results, "
	"c.spf_results, c.msg_count "
	"FROM received_reports r JOIN received_records c ON c.report = r.id "
	"WHERE r.period_end >= $1 AND ($2 = '' OR r.policy_domain = $2 "
	"OR c.header_from = $2 OR (length(c.header_from) > length($3) AND "
	"substr(c.header_from, length(c.header_from) - length($3) + 1) = $3)) "
	"ORDER BY r.period_end, r.id, c.id";

/* $1 domain, $2 destination, $3 begin, $4 end */
static void
sent_params(struct rua_store *st, const char *domain, const char *dest,
    int64_t begin, int64_t end)
{
	struct store_params *sp = store_params(st);

	sp_domain(sp, domain);
	sp_text(sp, dest);
	sp_int(sp, begin);
	sp_int(sp, end);
}

int
rua_store_mark_sent(struct rua_store *st, const char *domain,
    const char *dest, int64_t begin, int64_t end, const char *report_id,
    char *err, size_t errsz)
{
	sent_params(st, domain, dest, begin, end);
	sp_text(&st->params, report_id);
	sp_int(&st->params, (int64_t)time(NULL));
	return store_run(st, Q_SENT_ADD, Q_SENT_ADD_SQL, NULL, NULL,
	    "marking a report sent", err, errsz) < 0 ? -1 : 0;
}

static int
found_row(void *arg, const struct store_row *row)
{
	(void)row;
	*(int *)arg = 1;
	return 1;
}

int
rua_store_was_sent(struct rua_store *st, const char *domain,
    const char *dest, int64_t begin, int64_t end, char *err, size_t errsz)
{
	int found = 0;

	sent_params(st, domain, dest, begin, end);
	if (store_run(st, Q_SENT_GET, Q_SENT_GET_SQL, found_row, &found,
	    "reading a sent mark", err, errsz) < 0)
		return -1;
	return found;
}

static int
id_row(void *arg, const struct store_row *row)
{
	*(int64_t *)arg = row->st->ops->integer(row, 0);
	return 1;
}

/* The report's row: 1 when it was there already. */
static int
report_add(struct rua_store *st, const struct rua_feedback *fb, int64_t *id,
    char *err, size_t errsz)
{
	struct store_params *sp = store_params(st);
	long n;

	sp_text(sp, fb->org_name);
	sp_text(sp, fb->email);
	sp_text(sp, fb->extra_contact_info);
	sp_text(sp, fb->report_id);
	sp_int(sp, fb->begin);
	sp_int(sp, fb->end);
	sp_text(sp, fb->version);
	sp_int(sp, fb->rfc9990 != 0);
	sp_text(sp, fb->generator);
	sp_text(sp, fb->error);
	sp_policy(sp, &fb->pub);
	sp_int(sp, (int64_t)time(NULL));
	if ((n = store_run(st, Q_RCV_ADD, Q_RCV_ADD_SQL, NULL, NULL,
	    "adding a report", err, errsz)) < 0)
		return -1;
	if (n == 0)
		return 1;
	sp = store_params(st);
	sp_text(sp, fb->org_name);
	sp_text(sp, fb->report_id);
	*id = -1;
	if (store_run(st, Q_RCV_ID, Q_RCV_ID_SQL, id_row, id,
	    "adding a report", err, errsz) < 0)
		return -1;
	if (*id < 0) {
		snprintf(err, errsz, "report_db %s: adding a report: its row "
		    "is not there", st->name);
		return -1;
	}
	return 0;
}

static int
records_add(struct rua_store *st, const struct rua_feedback *fb, int64_t id,
    char *err, size_t errsz)
{
	for (size_t i = 0; i < fb->nrec; i++) {
		const struct rua_record *r = &fb->rec[i];
		struct store_params *sp = store_params(st);

		sp_int(sp, id);
		sp_int(sp, r->count > INT64_MAX ? INT64_MAX :
		    (int64_t)r->count);
		sp_record(st, r);
		if (store_run(st, Q_RCV_REC_ADD, Q_RCV_REC_ADD_SQL, NULL, NULL,
		    "adding a report's record", err, errsz) < 0)
			return -1;
	}
	return 0;
}

int
rua_store_add_feedback(struct rua_store *st, const struct rua_feedback *fb,
    char *err, size_t errsz)
{
	int64_t id;
	int rc;

	if (st->ops->begin(st, 0, err, errsz) != 0)
		return store_fail(st, "adding a report", err, errsz);
	if ((rc = report_add(st, fb, &id, err, errsz)) != 0 ||
	    records_add(st, fb, id, err, errsz) != 0) {
		st->ops->rollback(st);
		return rc == 1 ? 1 : -1;
	}
	if (st->ops->commit(st, err, errsz) != 0) {
		st->ops->rollback(st);
		return store_fail(st, "adding a report", err, errsz);
	}
	return 0;
}

struct each {
	rua_store_each_fn fn;
	void		*arg;
	struct rua_feedback report;
	struct rua_record rec;
};

static int
each_row(void *arg, const struct store_row *row)
{
	struct each *e = arg;
	const struct store_ops *ops = row->st->ops;
	struct rua_feedback *fb = &e->report;
	int64_t count;
	int c;

	memset(fb, 0, sizeof(*fb));
	memset(&e->rec, 0, sizeof(e->rec));
	store_copy(fb->org_name, sizeof(fb->org_name), ops->text(row, 0));
	store_copy(fb->email, sizeof(fb->email), ops->text(row, 1));
	store_copy(fb->extra_contact_info, sizeof(fb->extra_contact_info),
	    ops->text(row, 2));
	store_copy(fb->report_id, sizeof(fb->report_id), ops->text(row, 3));
	fb->begin = ops->integer(row, 4);
	fb->end = ops->integer(row, 5);
	store_copy(fb->version, sizeof(fb->version), ops->text(row, 6));
	fb->rfc9990 = ops->integer(row, 7) != 0;
	store_copy(fb->generator, sizeof(fb->generator), ops->text(row, 8));
	store_copy(fb->error, sizeof(fb->error), ops->text(row, 9));
	c = store_row_policy(row, 10, &fb->pub);
	c = store_row_record(row, c, &e->rec);
	count = ops->integer(row, c);
	e->rec.count = count > 0 ? (uint64_t)count : 0;
	return e->fn(e->arg, fb, &e->rec);
}

int
rua_store_received(struct rua_store *st, const char *domain, int64_t since,
    rua_store_each_fn fn, void *arg, char *err, size_t errsz)
{
	struct store_params *sp = store_params(st);
	struct each *e;
	char dot[RUA_DOMAIN_MAX + 1];
	int rc;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(err, errsz, "report_db %s: reading reports: out of "
		    "memory", st->name);
		return -1;
	}
	e->fn = fn;
	e->arg = arg;
	snprintf(dot, sizeof(dot), ".%s", domain != NULL ? domain : "");
	sp_int(sp, since);
	sp_domain(sp, domain != NULL ? domain : "");
	sp_domain(sp, dot);
	rc = store_run(st, Q_RCV_EACH, Q_RCV_EACH_SQL, each_row, e,
	    "reading reports", err, errsz) < 0 ? -1 : 0;
	free(e);
	return rc;
}
