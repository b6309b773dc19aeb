/*
 * Unit tests for rua/store*.c and rua/feedback.c: the DMARC report
 * store.  The same assertions run against the store named by
 * AF_RUA_STORE_URL (t/e2e/rua-store-pg.t sets a PostgreSQL URL), or,
 * when it is unset, against a SQLite file in a new temporary directory.
 * The database is expected to be empty.
 *
 * "rua_store open" only opens the store (creating the schema) and
 * closes it: exit 0, or 1 with the error on stderr.  The end-to-end
 * test starts several at once on one new database.
 *
 * "rua_store reconnect" opens the store, adds a batch, says "ready" and
 * waits for a line on stdin (the server is restarted meanwhile), then
 * adds the batch again, and a third time if that failed: exit 0 when
 * the last one worked.
 */
#include "buildconf.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rua/feedback.h"
#include "rua/store.h"
#include "t/tap.h"
#include "t/rua_store_data.h"

static char tmpdir[] = "/tmp/af-rua-XXXXXX";
static char url[1024];
static int is_sqlite;
static struct rua_eval *evs;
static size_t nevs;

static const struct rua_record *
find_rec(const struct rua_feedback *fb, const char *ip, const char *disp,
    const char *dkim1, size_t nreason)
{
	for (size_t i = 0; i < fb->nrec; i++) {
		const struct rua_record *r = &fb->rec[i];

		if (strcmp(r->source_ip, ip) == 0 &&
		    strcmp(r->disposition, disp) == 0 &&
		    r->ndkim == 2 &&
		    strcmp(r->dkim_res[1].result, dkim1) == 0 &&
		    r->nreason == nreason)
			return r;
	}
	return NULL;
}

static void
test_feedback_array(void)
{
	struct rua_feedback fb;
	int ok_ = 1;

	memset(&fb, 0, sizeof(fb));
	for (int i = 0; i < 100; i++) {
		struct rua_record *r = rua_feedback_add(&fb);

		if (r == NULL || r->count != 0 || r->source_ip[0] != '\0') {
			ok_ = 0;
			break;
		}
		r->count = (uint64_t)i;
	}
	for (size_t i = 0; ok_ && i < fb.nrec; i++)
		ok_ = fb.rec[i].count == i;
	ok(ok_ && fb.nrec == 100, "rua_feedback_add: 100 zeroed records, kept "
	    "as the array grows");
	rua_feedback_free(&fb);
	ok(fb.rec == NULL && fb.nrec == 0, "rua_feedback_free: none left");
}

static void
test_open_errors(void)
{
	struct rua_store *st;
	char err[512];

	st = rua_store_open("/nonexistent-af-dir/reports.db", err, sizeof(err));
	ok(st == NULL, "a SQLite file in a missing directory is refused");
	is_str(err, "report_db /nonexistent-af-dir/reports.db: directory "
	    "/nonexistent-af-dir does not exist", "... saying which");
	st = rua_store_open("", err, sizeof(err));
	ok(st == NULL, "an empty report_db opens no store");
	is_str(err, "report_db is empty: no report store", "... saying so");
	st = rua_store_open("/", err, sizeof(err));
	ok(st == NULL, "a directory is refused");
	is_str(err, "report_db /: not a regular file", "... saying so");
	st = rua_store_open("reports.db", err, sizeof(err));
	ok(st == NULL, "a relative path is refused");
	ok(strstr(err, "report_db reports.db: expected an absolute path") ==
	    err, "... saying why");
	st = rua_store_open("postgresql://u:secret@127.0.0.1:1/db?"
	    "password=secret2&connect_timeout=5", err, sizeof(err));
	ok(st == NULL, "an unreachable PostgreSQL fails");
	ok(strncmp(err, "report_db postgresql://u:***@127.0.0.1:1/db?"
	    "password=***&connect_timeout=5: ", 75) == 0 &&
	    strstr(err, "secret") == NULL && strlen(err) > 76,
	    "... with the URL, its passwords hidden, and libpq's message");
	printf("# %s\n", err);
}

static int
set_version(const char *v)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%s' WHERE name "
	    "= 'schema_version'", v);
	return sql_exec(url, sql);
}

static size_t
due_n(struct rua_store *st, const char *domain)
{
	struct rua_due *d = NULL;
	size_t n = 0;
	char err[512];

	if (rua_store_due(st, 0, INT64_MAX, domain, &d, &n, err,
	    sizeof(err)) != 0)
		printf("# %s\n", err);
	free(d);
	return n;
}

/* Does s say "unique" (SQLite: "UNIQUE constraint failed", PostgreSQL:
 * "duplicate key value violates unique constraint")? */
static int
has_unique(const char *s)
{
	for (; *s != '\0'; s++)
		if (strncmp(s, "unique", 6) == 0 || strncmp(s, "UNIQUE", 6) == 0)
			return 1;
	return 0;
}

/* A row that fails (here: a unique index added by hand) fails the whole
 * batch, which leaves nothing behind, and the handle goes on working. */
static void
test_batch_failure(struct rua_store *st)
{
	struct rua_eval *b = calloc(100, sizeof(*b));
	char err[512], want[1200];

	if (!ok(sql_exec(url, "CREATE UNIQUE INDEX t_unique ON evaluations "
	    "(evaluated_at, source_ip)") == 0, "batch: a unique index made "
	    "by hand"))
		return;
	for (int i = 0; i < 100; i++) {
		b[i] = eval_x(E + 100 + i);
		SET(b[i].pub.domain, "batch.example");
	}
	b[70].when = b[10].when;
	ok(rua_store_add_evals(st, b, 100, err, sizeof(err)) == -1,
	    "batch: a failing row (the 71st) fails it");
	snprintf(want, sizeof(want), "report_db %s: adding ", url);
	ok(strncmp(err, want, strlen(want)) == 0 && has_unique(err),
	    "batch: saying where, and the database's why");
	printf("# %s\n", err);
	is_int(due_n(st, "batch.example"), 0, "batch: nothing of it stored");
	b[70].when = E + 170;
	ok(rua_store_add_evals(st, b, 100, err, sizeof(err)) == 0,
	    "batch: the handle works on");
	is_int(due_n(st, "batch.example"), 1, "batch: then stored");
	ok(sql_exec(url, "DROP INDEX t_unique") == 0, "batch: index dropped");
	free(b);
}

static void
test_schema_version(void)
{
	struct rua_store *st;
	char err[512], want[1200];

	ok(set_version("99") == 0, "schema version set to 99 by hand");
	st = rua_store_open(url, err, sizeof(err));
	ok(st == NULL, "a newer schema is refused");
	snprintf(want, sizeof(want), "report_db %s: schema version 99 is newer "
	    "than this authfilter (1): upgrade authfilter", url);
	is_str(st == NULL ? err : "", want, "... saying so");
	rua_store_close(st);
	ok(set_version("x") == 0, "schema version set to x by hand");
	st = rua_store_open(url, err, sizeof(err));
	snprintf(want, sizeof(want), "report_db %s: schema version in table "
	    "meta is not a number", url);
	is_str(st == NULL ? err : "", want, "... refused, saying so");
	rua_store_close(st);
	ok(set_version("1") == 0, "schema version set back to 1");
	st = rua_store_open(url, err, sizeof(err));
	ok(st != NULL, "... and the store opens again");
	rua_store_close(st);
}

static struct rua_store *
open_ok(const char *what)
{
	char err[512];
	struct rua_store *st = rua_store_open(url, err, sizeof(err));

	if (!ok(st != NULL, what))
		printf("#   %s\n", err);
	return st;
}

static void
test_due(struct rua_store *st)
{
	struct rua_due *d = NULL;
	size_t n = 0;
	char err[512];

	ok(rua_store_due(st, B, E, NULL, &d, &n, err, sizeof(err)) == 0,
	    "due: listed");
	is_int(n, 2, "due: two domains in [B, E)");
	if (n == 2) {
		is_str(d[0].domain, "example.org", "due: example.org, "
		    "lower-cased");
		is_str(d[0].rua, "mailto:new@example.org,mailto:x@example.net",
		    "due: with the rua= of its latest evaluation");
		is_str(d[1].domain, "other.example", "due: other.example");
		is_str(d[1].rua, "mailto:o@other.example", "due: its rua=");
	}
	free(d);
	ok(rua_store_due(st, B, E, "OTHER.example", &d, &n, err,
	    sizeof(err)) == 0 && n == 1 &&
	    strcmp(d[0].domain, "other.example") == 0,
	    "due: the domain filter, case-insensitive");
	free(d);
	ok(rua_store_due(st, B, E, "nextday.example", &d, &n, err,
	    sizeof(err)) == 0 && n == 0, "due: none for a domain without "
	    "evaluations in the period");
	free(d);
	ok(rua_store_due(st, E, E + 86400, NULL, &d, &n, err,
	    sizeof(err)) == 0 && n == 3 &&
	    strcmp(d[0].domain, "edge.example") == 0 &&
	    strcmp(d[1].domain, "example.org") == 0 &&
	    strcmp(d[2].domain, "nextday.example") == 0,
	    "due: an evaluation at the end is in the next period");
	free(d);
	ok(rua_store_due(st, B - 86400, B, NULL, &d, &n, err,
	    sizeof(err)) == 0 && n == 1 &&
	    strcmp(d[0].rua, "mailto:old@example.org") == 0,
	    "due: and one just before the beginning in the previous one");
	free(d);
}

static void
test_feedback(struct rua_store *st)
{
	struct rua_feedback fb;
	const struct rua_record *r;
	char err[512];
	uint64_t sum = 0;

	memset(&fb, 0, sizeof(fb));
	ok(rua_store_feedback(st, "example.org", B, E, &fb, err,
	    sizeof(err)) == 0, "feedback: read");
	is_int(fb.nrec, 6, "feedback: six records");
	for (size_t i = 0; i < fb.nrec; i++)
		sum += fb.rec[i].count;
	is_int(sum, NX + 5 + 3, "feedback: every evaluation in the period "
	    "counted once, or its count times");
	r = find_rec(&fb, "192.0.2.1", "none", "fail", 0);
	ok(r != NULL && r->count == NX, "feedback: equal evaluations are one "
	    "record with their count");
	if (r != NULL) {
		is_str(r->dkim_res[0].human_result, HOSTILE, "feedback: quotes, "
		    "separators and UTF-8 round trip");
		is_str(r->dkim_res[0].domain, "example.org", "feedback: DKIM "
		    "domain lower-cased");
		is_str(r->header_from, "example.org", "feedback: header_from "
		    "lower-cased");
		is_str(r->spf_res[0].scope, "mfrom", "feedback: SPF results");
		is_int(r->nspf, 1, "feedback: one SPF result");
		is_str(r->envelope_to, "example.net", "feedback: envelope_to");
		is_str(r->envelope_from, "bounce.example.org", "feedback: "
		    "envelope_from");
		is_str(r->dkim, "pass", "feedback: aligned dkim");
		is_str(r->spf, "pass", "feedback: aligned spf");
		is_str(r->dkim_res[1].selector, "k", "feedback: second DKIM "
		    "result");
	}
	r = find_rec(&fb, "192.0.2.2", "none", "fail", 0);
	ok(r != NULL && r->count == 4, "feedback: another source IP is "
	    "another record (of four messages)");
	ok(find_rec(&fb, "192.0.2.1", "none", "pass", 0) != NULL,
	    "feedback: another DKIM result is another record");
	r = find_rec(&fb, "192.0.2.1", "quarantine", "fail", 0);
	ok(r != NULL && r->count == 1, "feedback: another disposition is "
	    "another record (count 0 is one message)");
	r = find_rec(&fb, "192.0.2.1", "none", "fail", 1);
	ok(r != NULL && r->count == 1, "feedback: a reason makes another "
	    "record");
	if (r != NULL) {
		is_str(r->reason[0].type, "forwarded", "feedback: reason type");
		is_str(r->reason[0].comment, HOSTILE, "feedback: reason comment "
		    "round trips");
	}
	ok(find_rec(&fb, "2001:db8::9", "none", "fail", 0) != NULL,
	    "feedback: the latest evaluation's record");
	is_str(fb.pub.p, "reject", "feedback: policy of the latest evaluation");
	is_str(fb.pub.sp, "quarantine", "feedback: its sp");
	is_str(fb.pub.np, "none", "feedback: its np");
	ok(strcmp(fb.pub.adkim, "s") == 0 && strcmp(fb.pub.aspf, "s") == 0,
	    "feedback: its adkim and aspf");
	is_str(fb.pub.testing, "y", "feedback: its testing");
	is_str(fb.pub.discovery_method, "psl", "feedback: its discovery");
	is_str(fb.pub.fo, "1:d", "feedback: its fo");
	is_str(fb.pub.domain, "example.org", "feedback: its domain");
	ok(fb.begin == B && fb.end == E, "feedback: the period");
	rua_feedback_free(&fb);

	memset(&fb, 0, sizeof(fb));
	ok(rua_store_feedback(st, "other.example", B, E, &fb, err,
	    sizeof(err)) == 0 && fb.nrec == 1 && fb.rec[0].count == 3,
	    "feedback: another domain's records apart");
	if (fb.nrec == 1)
		is_str(fb.rec[0].dkim_res[0].human_result, "caf?", "feedback: "
		    "a byte that is not UTF-8 is stored as ?");
	rua_feedback_free(&fb);
	memset(&fb, 0, sizeof(fb));
	ok(rua_store_feedback(st, "none.example", B, E, &fb, err,
	    sizeof(err)) == 0 && fb.nrec == 0, "feedback: none for a domain "
	    "without evaluations");
}

static void
test_sent(struct rua_store *st)
{
	char err[512];
	const char *d = "mailto:dmarc@example.net";

	is_int(rua_store_was_sent(st, "example.org", d, B, E, err,
	    sizeof(err)), 0, "was_sent: not yet");
	is_int(rua_store_mark_sent(st, "example.org", d, B, E, "id-1", err,
	    sizeof(err)), 0, "mark_sent");
	is_int(rua_store_was_sent(st, "Example.org", d, B, E, err,
	    sizeof(err)), 1, "was_sent: now");
	is_int(rua_store_was_sent(st, "example.org", "mailto:o@example.net",
	    B, E, err, sizeof(err)), 0, "was_sent: not to another "
	    "destination");
	is_int(rua_store_was_sent(st, "example.org", d, E, E + 86400, err,
	    sizeof(err)), 0, "was_sent: not for another period");
	is_int(rua_store_mark_sent(st, "example.org", d, B, E, "id-1", err,
	    sizeof(err)), 0, "mark_sent again: no error");
}

struct seen {
	int		 n, stop_after;
	uint64_t	 sum;
	int		 meta_ok, rec_ok;
	char		 froms[512];
};

static int
seen_fn(void *arg, const struct rua_feedback *fb, const struct rua_record *r)
{
	struct seen *s = arg;

	s->n++;
	s->sum += r->count;
	if (strlen(s->froms) + strlen(r->header_from) + 2 < sizeof(s->froms)) {
		strcat(s->froms, r->header_from);
		strcat(s->froms, " ");
	}
	if (strcmp(fb->org_name, "Org 'A' \"Inc\"") == 0)
		s->meta_ok = fb->nrec == 0 && fb->rfc9990 == 1 &&
		    strcmp(fb->version, "1.0") == 0 &&
		    strcmp(fb->email, "dmarc@receiver.example") == 0 &&
		    strcmp(fb->extra_contact_info, HOSTILE) == 0 &&
		    strcmp(fb->report_id, "r-1") == 0 &&
		    fb->begin == B && fb->end == E &&
		    strcmp(fb->generator, "receiver 1.0") == 0 &&
		    strcmp(fb->pub.domain, "example.org") == 0 &&
		    strcmp(fb->pub.p, "quarantine") == 0 &&
		    strcmp(fb->pub.sp, "none") == 0 &&
		    strcmp(fb->pub.np, "reject") == 0 &&
		    strcmp(fb->pub.adkim, "s") == 0 &&
		    strcmp(fb->pub.aspf, "r") == 0 &&
		    strcmp(fb->pub.testing, "n") == 0 &&
		    strcmp(fb->pub.discovery_method, "treewalk") == 0 &&
		    strcmp(fb->pub.fo, "0") == 0 &&
		    strcmp(fb->error, "") == 0;
	if (strcmp(r->header_from, "mail.example.org") == 0)
		s->rec_ok = r->count == 3 && r->nspf == 1 &&
		    strcmp(r->spf_res[0].human_result, HOSTILE) == 0 &&
		    strcmp(r->source_ip, "198.51.100.7") == 0 &&
		    strcmp(r->dkim, "fail") == 0 &&
		    strcmp(r->spf, "pass") == 0 &&
		    strcmp(r->disposition, "none") == 0 &&
		    strcmp(r->envelope_from, "env.example") == 0 &&
		    strcmp(r->envelope_to, "rcpt.example") == 0 &&
		    r->nreason == 2 &&
		    strcmp(r->reason[0].type, "local_policy") == 0 &&
		    strcmp(r->reason[0].comment, "") == 0 &&
		    strcmp(r->reason[1].type, "other") == 0 &&
		    strcmp(r->reason[1].comment, HOSTILE) == 0 &&
		    r->ndkim == 0;
	return s->stop_after > 0 && s->n >= s->stop_after;
}

static struct seen
received(struct rua_store *st, const char *domain, int64_t since)
{
	struct seen s;
	char err[512];

	memset(&s, 0, sizeof(s));
	if (rua_store_received(st, domain, since, seen_fn, &s, err,
	    sizeof(err)) != 0) {
		printf("# %s\n", err);
		s.n = -1;
	}
	return s;
}

static void
test_received(struct rua_store *st)
{
	struct rua_feedback fb1, fb2, fb3;
	struct seen s;
	char err[512];

	make_report(&fb1, "Org 'A' \"Inc\"", "r-1", "Example.org", E);
	add_rec(&fb1, "example.org", 5);
	add_rec(&fb1, "Mail.Example.org", 3);
	add_rec(&fb1, "notexample.org", 1);
	add_rec(&fb1, "other.test", 2);
	make_report(&fb2, "Other org", "r-1", "other.test", E + 86400);
	add_rec(&fb2, "sub.example.org", 7);
	add_rec(&fb2, "other.test", 1);
	add_rec(&fb2, "notexample.org", 1);
	make_report(&fb3, "Third", "old", "third.test", B - 86400);
	add_rec(&fb3, "third.test", 4);

	is_int(rua_store_add_feedback(st, &fb1, err, sizeof(err)), 0,
	    "add_feedback: stored");
	is_int(rua_store_add_feedback(st, &fb1, err, sizeof(err)), 1,
	    "add_feedback: the same org and report_id again: 1");
	is_int(rua_store_add_feedback(st, &fb2, err, sizeof(err)), 0,
	    "add_feedback: the same report_id from another org: stored");
	is_int(rua_store_add_feedback(st, &fb3, err, sizeof(err)), 0,
	    "add_feedback: an old report");

	s = received(st, "example.org", 0);
	is_int(s.n, 5, "received: the policy domain's report, and a "
	    "subdomain's record in another");
	is_int(s.sum, 5 + 3 + 1 + 2 + 7, "received: their counts (the "
	    "duplicate stored nothing)");
	ok(s.meta_ok, "received: the report's metadata and policy");
	ok(s.rec_ok, "received: the record's fields");
	ok(strstr(s.froms, "sub.example.org ") != NULL &&
	    strstr(s.froms, "mail.example.org ") != NULL,
	    "received: subdomains as header_from, lower-cased");
	printf("# %s\n", s.froms);
	is_int(received(st, "EXAMPLE.ORG", 0).n, 5, "received: the domain "
	    "case-insensitive");
	is_int(received(st, "other.test", 0).n, 4, "received: another "
	    "domain: its report and a record of another report");
	is_int(received(st, "xample.org", 0).n, 0, "received: not a domain "
	    "that is only a suffix");
	is_int(received(st, NULL, 0).n, 8, "received: every record");
	s = received(st, "example.org", E + 1);
	is_int(s.n, 1, "received: since: reports that end at or after it");
	is_int(received(st, "third.test", B - 86400).n, 1, "received: since "
	    "is inclusive");
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	ok(rua_store_received(st, NULL, 0, seen_fn, &s, err, sizeof(err)) ==
	    0 && s.n == 2, "received: fn stops the walk");
	rua_feedback_free(&fb1);
	rua_feedback_free(&fb2);
	rua_feedback_free(&fb3);
}

/* More evaluations than one expiring transaction deletes (5000). */
static void
test_expire_many(struct rua_store *st)
{
	size_t n = 12001;
	struct rua_eval *b = calloc(n, sizeof(*b));
	char err[512];

	if (b == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		b[i] = eval_x(B - 86400 + (int64_t)(i % 1000));
		SET(b[i].pub.domain, "many.example");
	}
	ok(rua_store_add_evals(st, b, n, err, sizeof(err)) == 0,
	    "expire: 12001 evaluations added");
	is_int(rua_store_expire(st, B, err, sizeof(err)), n,
	    "expire: all deleted, in several transactions");
	is_int(due_n(st, "many.example"), 0, "expire: none left");
	free(b);
}

static void
test_expire(struct rua_store *st)
{
	struct rua_due *d = NULL;
	size_t n = 0;
	char err[512];
	long del;

	/* Before E + 1: every evaluation but nextday's, the sent mark, two
	 * reports and their five records. */
	del = rua_store_expire(st, E + 1, err, sizeof(err));
	is_int(del, (long)nevs - 1 + 1 + 2 + 5, "expire: rows deleted");
	ok(rua_store_due(st, B - 86400, E + 86400, NULL, &d, &n, err,
	    sizeof(err)) == 0 && n == 1 &&
	    strcmp(d[0].domain, "nextday.example") == 0,
	    "expire: newer evaluations kept");
	free(d);
	is_int(rua_store_was_sent(st, "example.org", "mailto:dmarc@example.net",
	    B, E, err, sizeof(err)), 0, "expire: the sent mark is gone");
	is_int(received(st, NULL, 0).n, 3, "expire: the newer report kept");
	is_int(rua_store_expire(st, E + 1, err, sizeof(err)), 0,
	    "expire: nothing more");
	test_expire_many(st);
}

static void
test_sqlite_file(void)
{
	struct stat sb;
	char path[1100];
	sqlite3 *db;
	sqlite3_stmt *s;
	const char *mode = "";

	ok(stat(url, &sb) == 0 && (sb.st_mode & 07777) == 0640,
	    "sqlite: the file is made mode 0640");
	if (sqlite3_open(url, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			mode = (const char *)sqlite3_column_text(s, 0);
		is_str(mode, "wal", "sqlite: in WAL mode");
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	snprintf(path, sizeof(path), "%s-wal", url);
	ok(stat(path, &sb) != 0 || (sb.st_mode & 07777) == 0640,
	    "sqlite: the WAL has the file's mode");
}

/* A child of test_sqlite_race: open the new file, add a batch. */
static int
race_child(const char *path, int k)
{
	struct rua_eval b[50];
	char err[512];
	struct rua_store *st = rua_store_open(path, err, sizeof(err));

	if (st == NULL) {
		printf("# child %d: %s\n", k, err);
		return 1;
	}
	for (int i = 0; i < 50; i++) {
		b[i] = eval_x(B + i);
		snprintf(b[i].pub.domain, sizeof(b[i].pub.domain),
		    "race%d.example", k);
	}
	if (rua_store_add_evals(st, b, 50, err, sizeof(err)) != 0) {
		printf("# child %d: %s\n", k, err);
		rua_store_close(st);
		return 1;
	}
	rua_store_close(st);
	return 0;
}

/* Four processes create one new SQLite file and write to it at once
 * (the daemon's writer and authfilter-reports share it): BEGIN
 * IMMEDIATE and busy_timeout make them wait for each other. */
static void
test_sqlite_race(void)
{
	char path[1100], err[512];
	pid_t pid[4];
	int fails = 0, status;
	struct rua_store *st;
	struct rua_due *d = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/race.db", tmpdir);
	fflush(stdout);
	for (int k = 0; k < 4; k++)
		if ((pid[k] = fork()) == 0) {
			int rc = race_child(path, k);

			fflush(stdout);
			_exit(rc);
		}
	for (int k = 0; k < 4; k++)
		if (pid[k] < 0 || waitpid(pid[k], &status, 0) != pid[k] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fails++;
	is_int(fails, 0, "sqlite: four processes create and write one file "
	    "at once");
	st = rua_store_open(path, err, sizeof(err));
	ok(st != NULL && rua_store_due(st, B, E, NULL, &d, &n, err,
	    sizeof(err)) == 0 && n == 4, "sqlite: ... and all four batches "
	    "are there");
	free(d);
	rua_store_close(st);
	remove_db(path);
}

/* "rua_store open": one rua_store_open() of AF_RUA_STORE_URL. */
static int
open_only(const char *env)
{
	char err[512];
	struct rua_store *st;

	if (env == NULL || (st = rua_store_open(env, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "%s\n", env == NULL ? "AF_RUA_STORE_URL unset" :
		    err);
		return 1;
	}
	rua_store_close(st);
	return 0;
}

/* "rua_store reconnect": a handle outlives a server restart. */
static int
reconnect(const char *env)
{
	struct rua_eval b[10];
	char err[512], line[16];
	struct rua_store *st;
	int rc;

	if (env == NULL || (st = rua_store_open(env, err, sizeof(err))) ==
	    NULL) {
		printf("open: %s\n", env == NULL ? "AF_RUA_STORE_URL unset" :
		    err);
		return 1;
	}
	for (int i = 0; i < 10; i++) {
		b[i] = eval_x(B + i);
		SET(b[i].pub.domain, "reconnect.example");
	}
	rc = rua_store_add_evals(st, b, 10, err, sizeof(err));
	printf("before: %s\nready\n", rc == 0 ? "ok" : err);
	fflush(stdout);
	if (rc != 0 || fgets(line, sizeof(line), stdin) == NULL) {
		rua_store_close(st);
		return 1;
	}
	rc = rua_store_add_evals(st, b, 10, err, sizeof(err));
	printf("after: %s\n", rc == 0 ? "ok" : err);
	if (rc != 0) {
		rc = rua_store_add_evals(st, b, 10, err, sizeof(err));
		printf("again: %s\n", rc == 0 ? "ok" : err);
	}
	rua_store_close(st);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *env = getenv("AF_RUA_STORE_URL");
	struct rua_store *st;
	char err[512];

	if (argc > 1 && strcmp(argv[1], "open") == 0)
		return open_only(env);
	if (argc > 1 && strcmp(argv[1], "reconnect") == 0)
		return reconnect(env);

	umask(022);
	if (env != NULL && *env != '\0')
		snprintf(url, sizeof(url), "%s", env);
	else {
		if (mkdtemp(tmpdir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		snprintf(url, sizeof(url), "%s/reports.db", tmpdir);
	}
	is_sqlite = url[0] == '/';
	printf("# store: %s\n", url);

	test_feedback_array();
	test_open_errors();
	st = open_ok("open: the schema is created");
	if (st == NULL)
		return done_testing();
	is_str(rua_store_kind(st), is_sqlite ? "sqlite" : "postgresql",
	    "kind");
	if (is_sqlite)
		test_sqlite_file();
	nevs = make_batch(&evs);
	ok(rua_store_add_evals(st, evs, 0, err, sizeof(err)) == 0,
	    "add_evals: an empty batch");
	if (!ok(rua_store_add_evals(st, evs, nevs, err, sizeof(err)) == 0,
	    "add_evals: a batch of 162"))
		printf("#   %s\n", err);
	test_due(st);
	rua_store_close(st);
	st = open_ok("reopen: no error");
	if (st == NULL)
		return done_testing();
	test_feedback(st);
	test_sent(st);
	test_received(st);
	test_expire(st);
	test_batch_failure(st);
	rua_store_close(st);
	test_schema_version();
	free(evs);
	if (is_sqlite)
		test_sqlite_race();
	if (env == NULL || *env == '\0') {
		remove_db(url);
		rmdir(tmpdir);
	}
	return done_testing();
}
