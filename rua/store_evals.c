/*
 * NAME
 *	store_evals -- the daemon's DMARC evaluations, and the reports
 *	made of them
 * SYNOPSIS
 *	rua_store_add_evals(st, ev, n, err, sizeof(err));
 *	rua_store_due(st, begin, end, NULL, &due, &ndue, err, sizeof(err));
 *	rua_store_feedback(st, "example.org", begin, end, &fb, err, ...);
 *	rua_store_expire(st, now - cfg->report_keep, err, sizeof(err));
 * DESCRIPTION
 *	rua_store_add_evals() writes a batch in one transaction with one
 *	prepared INSERT: the daemon's writer thread calls it for every few
 *	hundred messages, so no per-row work happens beyond binding.  On
 *	PostgreSQL the INSERTs go EVAL_PIPELINE at a time before their
 *	results are read (a round trip each 64 rows, not each row).
 *
 *	A period is [begin, end): an evaluation at `end` belongs to the
 *	next one.  rua_store_due() lists the policy domains with
 *	evaluations in it, in domain order, each with the rua= of its
 *	latest evaluation (which may be "": the caller skips it).
 *	rua_store_feedback() groups equal evaluations with GROUP BY over
 *	every record column (the lists are text, store_codec.c), in the
 *	order of their first evaluation, and sums their rec.count (0 is
 *	taken for 1: an evaluation is one message unless it says more).
 *	fb->pub is the latest evaluation's policy.  Records are appended
 *	to fb->rec; on an error fb's records are freed.
 *
 *	rua_store_expire() deletes evaluations made before `before`,
 *	EXPIRE_CHUNK rows a transaction so that the daemon's writer never
 *	waits long for the database (a day of a busy MX is a million
 *	rows); then, in one transaction, sent marks and received reports
 *	(with their records) whose period ended before it.  Stopped half
 *	way, it leaves only old rows that the next run deletes.
 * DIAGNOSTICS
 *	-1 with "report_db NAME: what failed: why" in err.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rua/store_impl.h"

static const char Q_EVAL_ADD_SQL[] =
	"INSERT INTO evaluations (evaluated_at, " POL_COLS ", rua, "
	"msg_count, " REC_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	"$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, "
	"$22)";
/* $1 begin, $2 end, $3 the domain ("": all) */
static const char Q_DUE_DOMAINS_SQL[] =
	"SELECT policy_domain FROM evaluations "
	"WHERE evaluated_at >= $1 AND evaluated_at < $2 "
	"AND ($3 = '' OR policy_domain = $3) "
	"GROUP BY policy_domain ORDER BY policy_domain";
/* The latest evaluation of $1 in [$2, $3) */
#define LATEST	"FROM evaluations WHERE policy_domain = $1 " \
	"AND evaluated_at >= $2 AND evaluated_at < $3 " \
	"ORDER BY evaluated_at DESC, id DESC LIMIT 1"
static const char Q_DUE_RUA_SQL[] = "SELECT rua " LATEST;
static const char Q_FB_PUB_SQL[] = "SELECT " POL_COLS " " LATEST;
static const char Q_FB_RECORDS_SQL[] =
	"SELECT " REC_COLS ", SUM(msg_count) FROM evaluations "
	"WHERE policy_domain = $1 AND evaluated_at >= $2 AND evaluated_at < $3 "
	"GROUP BY " REC_COLS " ORDER BY MIN(id)";
/* Rows of evaluations deleted in one transaction: well under a second,
 * the SQLite writer's busy timeout being 5 s. */
#define EXPIRE_CHUNK	5000
#define STR(x)		#x
#define XSTR(x)		STR(x)
static const char Q_EXP_EVALS_SQL[] =
	"DELETE FROM evaluations WHERE id IN (SELECT id FROM evaluations "
	"WHERE evaluated_at < $1 LIMIT " XSTR(EXPIRE_CHUNK) ")";
static const char Q_EXP_SENT_SQL[] =
	"DELETE FROM sent_reports WHERE period_end < $1";
static const char Q_EXP_RECORDS_SQL[] =
	"DELETE FROM received_records WHERE report IN "
	"(SELECT id FROM received_reports WHERE period_end < $1)";
static const char Q_EXP_REPORTS_SQL[] =
	"DELETE FROM received_reports WHERE period_end < $1";

/* Rows sent before waiting for their results (PostgreSQL): bounds what
 * the server's replies can pile up. */
#define EVAL_PIPELINE	64

static int
eval_add(struct rua_store *st, const struct rua_eval *ev, char *err,
    size_t errsz)
{
	struct store_params *sp = store_params(st);

	sp_int(sp, ev->when);
	sp_policy(sp, &ev->pub);
	sp_text(sp, ev->rua);
	/* One message, unless the writer counted equal ones together. */
	sp_int(sp, ev->rec.count > 1 && ev->rec.count <= INT64_MAX ?
	    (int64_t)ev->rec.count : 1);
	sp_record(st, &ev->rec);
	return store_send(st, Q_EVAL_ADD, Q_EVAL_ADD_SQL,
	    "adding an evaluation", err, errsz);
}

int
rua_store_add_evals(struct rua_store *st, const struct rua_eval *ev,
    size_t n, char *err, size_t errsz)
{
	if (n == 0)
		return 0;
	if (st->ops->begin(st, 0, err, errsz) != 0)
		return store_fail(st, "adding evaluations", err, errsz);
	for (size_t i = 0; i < n; i++)
		if (eval_add(st, &ev[i], err, errsz) != 0 ||
		    (((i + 1) % EVAL_PIPELINE == 0 || i + 1 == n) &&
		    store_sync(st, "adding evaluations", err, errsz) != 0)) {
			st->ops->rollback(st);
			return -1;
		}
	if (st->ops->commit(st, err, errsz) != 0) {
		st->ops->rollback(st);
		return store_fail(st, "adding evaluations", err, errsz);
	}
	return 0;
}

struct due_list {
	struct rua_due	*v;
	size_t		 n, cap;
	int		 nomem;
};

static int
due_row(void *arg, const struct store_row *row)
{
	struct due_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 16 : l->cap * 2;
		struct rua_due *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			l->nomem = 1;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	store_copy(l->v[l->n].domain, sizeof(l->v[l->n].domain),
	    row->st->ops->text(row, 0));
	l->n++;
	return 0;
}

static int
rua_row(void *arg, const struct store_row *row)
{
	struct rua_due *d = arg;

	store_copy(d->rua, sizeof(d->rua), row->st->ops->text(row, 0));
	return 1;
}

/* $1 the domain, $2 begin, $3 end. */
static void
period_params(struct rua_store *st, const char *domain, int64_t begin,
    int64_t end)
{
	struct store_params *sp = store_params(st);

	sp_domain(sp, domain);
	sp_int(sp, begin);
	sp_int(sp, end);
}

int
rua_store_due(struct rua_store *st, int64_t begin, int64_t end,
    const char *domain, struct rua_due **out, size_t *n, char *err,
    size_t errsz)
{
	struct due_list l = { NULL, 0, 0, 0 };
	struct store_params *sp = store_params(st);

	*out = NULL;
	*n = 0;
	sp_int(sp, begin);
	sp_int(sp, end);
	sp_domain(sp, domain != NULL ? domain : "");
	if (store_run(st, Q_DUE_DOMAINS, Q_DUE_DOMAINS_SQL, due_row, &l,
	    "listing reports due", err, errsz) < 0 || l.nomem) {
		if (l.nomem)
			snprintf(err, errsz, "report_db %s: listing reports "
			    "due: out of memory", st->name);
		free(l.v);
		return -1;
	}
	for (size_t i = 0; i < l.n; i++) {
		period_params(st, l.v[i].domain, begin, end);
		if (store_run(st, Q_DUE_RUA, Q_DUE_RUA_SQL, rua_row, &l.v[i],
		    "reading rua=", err, errsz) < 0) {
			free(l.v);
			return -1;
		}
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

static int
pub_row(void *arg, const struct store_row *row)
{
	store_row_policy(row, 0, arg);
	return 1;
}

struct fb_read {
	struct rua_feedback *fb;
	int		 nomem;
};

static int
record_row(void *arg, const struct store_row *row)
{
	struct fb_read *rd = arg;
	struct rua_record *r = rua_feedback_add(rd->fb);
	int64_t count;

	if (r == NULL) {
		rd->nomem = 1;
		return 1;
	}
	count = row->st->ops->integer(row, store_row_record(row, 0, r));
	r->count = count > 0 ? (uint64_t)count : 0;
	return 0;
}

int
rua_store_feedback(struct rua_store *st, const char *domain, int64_t begin,
    int64_t end, struct rua_feedback *fb, char *err, size_t errsz)
{
	struct fb_read rd = { fb, 0 };

	fb->begin = begin;
	fb->end = end;
	period_params(st, domain, begin, end);
	if (store_run(st, Q_FB_PUB, Q_FB_PUB_SQL, pub_row, &fb->pub,
	    "reading the policy", err, errsz) < 0)
		return -1;
	period_params(st, domain, begin, end);
	if (store_run(st, Q_FB_RECORDS, Q_FB_RECORDS_SQL, record_row, &rd,
	    "reading the records", err, errsz) < 0 || rd.nomem) {
		if (rd.nomem)
			snprintf(err, errsz, "report_db %s: reading the "
			    "records: out of memory", st->name);
		rua_feedback_free(fb);
		return -1;
	}
	return 0;
}

struct expire_q {
	enum store_q	 q;
	const char	*sql;
};

/* Deletes, in one transaction: the rows deleted, or -1. */
static long
expire_tx(struct rua_store *st, const struct expire_q *del, size_t ndel,
    int64_t before, char *err, size_t errsz)
{
	long total = 0, n;

	if (st->ops->begin(st, 0, err, errsz) != 0)
		return store_fail(st, "expiring", err, errsz);
	for (size_t i = 0; i < ndel; i++) {
		sp_int(store_params(st), before);
		if ((n = store_run(st, del[i].q, del[i].sql, NULL, NULL,
		    "expiring", err, errsz)) < 0) {
			st->ops->rollback(st);
			return -1;
		}
		total += n;
	}
	if (st->ops->commit(st, err, errsz) != 0) {
		st->ops->rollback(st);
		return store_fail(st, "expiring", err, errsz);
	}
	return total;
}

long
rua_store_expire(struct rua_store *st, int64_t before, char *err,
    size_t errsz)
{
	static const struct expire_q evals = { Q_EXP_EVALS, Q_EXP_EVALS_SQL };
	static const struct expire_q rest[] = {
		{ Q_EXP_SENT, Q_EXP_SENT_SQL },
		{ Q_EXP_RECORDS, Q_EXP_RECORDS_SQL },
		{ Q_EXP_REPORTS, Q_EXP_REPORTS_SQL },
	};
	long total = 0, n;

	do {
		if ((n = expire_tx(st, &evals, 1, before, err, errsz)) < 0)
			return -1;
		total += n;
	} while (n == EXPIRE_CHUNK);
	if ((n = expire_tx(st, rest, sizeof(rest) / sizeof(rest[0]), before,
	    err, errsz)) < 0)
		return -1;
	return total + n;
}
