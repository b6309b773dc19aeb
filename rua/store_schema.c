/*
 * NAME
 *	store_schema -- the report store's tables, created or migrated
 * SYNOPSIS
 *	if (store_schema_ensure(st, err, sizeof(err)) != 0) ...
 * DESCRIPTION
 *	The table meta holds name = 'schema_version', value = the version
 *	of the schema in the database (STORE_SCHEMA_VERSION in this
 *	build).  A database without it is at version 0 (empty).  When the
 *	version is this build's, nothing is written.  Otherwise, in one
 *	transaction that other writers wait for (SQLite's BEGIN IMMEDIATE,
 *	PostgreSQL's pg_advisory_xact_lock, so that two hosts starting at
 *	once do not both create the tables), the steps from the
 *	database's version to this build's run in turn, and the version is
 *	written.  A later authfilter adds a step; it never edits one.
 *
 *	The SQL is the same for SQLite and PostgreSQL except the type of
 *	the id columns, @ID@ below.  Domains are stored lower-cased;
 *	times are seconds since 1970; a record's lists are text
 *	(store_codec.c).
 * DIAGNOSTICS
 *	"report_db NAME: schema version N is newer than this authfilter
 *	(M): upgrade authfilter"; or what failed, with the database's
 *	message.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rua/store_impl.h"

#define RECORD_DDL \
	"source_ip TEXT NOT NULL, envelope_to TEXT NOT NULL, " \
	"envelope_from TEXT NOT NULL, header_from TEXT NOT NULL, " \
	"disposition TEXT NOT NULL, dkim TEXT NOT NULL, spf TEXT NOT NULL, " \
	"reasons TEXT NOT NULL, dkim_results TEXT NOT NULL, " \
	"spf_results TEXT NOT NULL"
#define POLICY_DDL \
	"policy_domain TEXT NOT NULL, p TEXT NOT NULL, sp TEXT NOT NULL, " \
	"np TEXT NOT NULL, adkim TEXT NOT NULL, aspf TEXT NOT NULL, " \
	"testing TEXT NOT NULL, discovery_method TEXT NOT NULL, " \
	"fo TEXT NOT NULL"

/* Version 0 -> 1: everything. */
static const char *const schema_1[] = {
	/* The daemon's evaluations, one row per message and policy (or
	 * msg_count equal messages). */
	"CREATE TABLE evaluations (id @ID@, evaluated_at BIGINT NOT NULL, "
	POLICY_DDL ", rua TEXT NOT NULL, msg_count BIGINT NOT NULL, "
	RECORD_DDL ")",
	"CREATE INDEX evaluations_domain ON evaluations "
	"(policy_domain, evaluated_at)",
	"CREATE INDEX evaluations_at ON evaluations (evaluated_at)",
	/* Reports sent, one row per destination. */
	"CREATE TABLE sent_reports (id @ID@, domain TEXT NOT NULL, "
	"destination TEXT NOT NULL, period_begin BIGINT NOT NULL, "
	"period_end BIGINT NOT NULL, report_id TEXT NOT NULL, "
	"sent_at BIGINT NOT NULL, "
	"UNIQUE (domain, destination, period_begin, period_end))",
	"CREATE INDEX sent_reports_end ON sent_reports (period_end)",
	/* Reports received, and their records. */
	"CREATE TABLE received_reports (id @ID@, org_name TEXT NOT NULL, "
	"email TEXT NOT NULL, extra_contact_info TEXT NOT NULL, "
	"report_id TEXT NOT NULL, period_begin BIGINT NOT NULL, "
	"period_end BIGINT NOT NULL, version TEXT NOT NULL, "
	"rfc9990 INTEGER NOT NULL, generator TEXT NOT NULL, "
	"error TEXT NOT NULL, " POLICY_DDL ", imported_at BIGINT NOT NULL, "
	"UNIQUE (org_name, report_id))",
	"CREATE INDEX received_reports_domain ON received_reports "
	"(policy_domain, period_end)",
	"CREATE INDEX received_reports_end ON received_reports (period_end)",
	"CREATE TABLE received_records (id @ID@, report BIGINT NOT NULL "
	"REFERENCES received_reports (id) ON DELETE CASCADE, "
	"msg_count BIGINT NOT NULL, " RECORD_DDL ")",
	"CREATE INDEX received_records_report ON received_records (report)",
	"CREATE INDEX received_records_from ON received_records (header_from)",
	NULL
};

/* steps[v] takes the schema from version v to v + 1. */
static const char *const *const steps[STORE_SCHEMA_VERSION] = {
	schema_1,
};

static const char Q_META_GET_SQL[] =
	"SELECT value FROM meta WHERE name = 'schema_version'";
static const char Q_META_SET_SQL[] =
	"INSERT INTO meta (name, value) VALUES ('schema_version', $1) "
	"ON CONFLICT (name) DO UPDATE SET value = excluded.value";

/* sql with @ID@ replaced by the backend's id column type. */
static int
schema_sql(const struct rua_store *st, const char *sql, char *out,
    size_t outsz)
{
	const char *id;

	out[0] = '\0';
	while ((id = strstr(sql, "@ID@")) != NULL) {
		if ((size_t)snprintf(out + strlen(out), outsz - strlen(out),
		    "%.*s%s", (int)(id - sql), sql, st->ops->id_type) >=
		    outsz - strlen(out))
			return -1;
		sql = id + 4;
	}
	if ((size_t)snprintf(out + strlen(out), outsz - strlen(out), "%s",
	    sql) >= outsz - strlen(out))
		return -1;
	return 0;
}

static int
version_row(void *arg, const struct store_row *row)
{
	const char *v = row->st->ops->text(row, 0);
	char *end;
	long n = strtol(v, &end, 10);

	*(long *)arg = (*v == '\0' || *end != '\0' || n < 0) ? -2 : n;
	return 0;
}

/* The schema version in the database: 0 when none; -1 when it cannot
 * be read (no meta table, for one); -2 when it is not a number. */
static long
schema_version(struct rua_store *st, char *err, size_t errsz)
{
	long v = 0;

	store_params(st);
	if (st->ops->run(st, Q_META_GET, Q_META_GET_SQL, &st->params,
	    version_row, &v, err, errsz) < 0)
		return -1;
	return v;
}

static int
schema_step(struct rua_store *st, long from, char *err, size_t errsz)
{
	char sql[2048], what[64];

	snprintf(what, sizeof(what), "schema version %ld to %ld", from,
	    from + 1);
	for (const char *const *s = steps[from]; *s != NULL; s++) {
		if (schema_sql(st, *s, sql, sizeof(sql)) != 0) {
			snprintf(err, errsz, "statement too long");
			return store_fail(st, what, err, errsz);
		}
		if (st->ops->exec(st, sql, err, errsz) != 0)
			return store_fail(st, what, err, errsz);
	}
	return 0;
}

static int
schema_newer(struct rua_store *st, long v, char *err, size_t errsz)
{
	if (v == -2)
		snprintf(err, errsz, "report_db %s: schema version in table "
		    "meta is not a number", st->name);
	else
		snprintf(err, errsz, "report_db %s: schema version %ld is "
		    "newer than this authfilter (%d): upgrade authfilter",
		    st->name, v, STORE_SCHEMA_VERSION);
	return -1;
}

/* Under the lock: create meta, read the version again, migrate. */
static int
schema_migrate(struct rua_store *st, char *err, size_t errsz)
{
	char num[24];
	long v;

	if (st->ops->exec(st, "CREATE TABLE IF NOT EXISTS meta (name TEXT "
	    "PRIMARY KEY, value TEXT NOT NULL)", err, errsz) != 0)
		return store_fail(st, "creating table meta", err, errsz);
	if ((v = schema_version(st, err, errsz)) == -1)
		return store_fail(st, "reading the schema version", err, errsz);
	if (v < 0 || v > STORE_SCHEMA_VERSION)
		return schema_newer(st, v, err, errsz);
	if (v == STORE_SCHEMA_VERSION)
		return 0;		/* another process was first */
	for (; v < STORE_SCHEMA_VERSION; v++)
		if (schema_step(st, v, err, errsz) != 0)
			return -1;
	snprintf(num, sizeof(num), "%d", STORE_SCHEMA_VERSION);
	sp_text(store_params(st), num);
	if (store_run(st, Q_META_SET, Q_META_SET_SQL, NULL, NULL,
	    "writing the schema version", err, errsz) < 0)
		return -1;
	return 0;
}

int
store_schema_ensure(struct rua_store *st, char *err, size_t errsz)
{
	long v = schema_version(st, err, errsz);

	if (v == STORE_SCHEMA_VERSION)
		return 0;
	if (v > STORE_SCHEMA_VERSION || v == -2)
		return schema_newer(st, v, err, errsz);
	if (st->ops->begin(st, 1, err, errsz) != 0)
		return store_fail(st, "locking the schema", err, errsz);
	if (schema_migrate(st, err, errsz) != 0) {
		st->ops->rollback(st);
		return -1;
	}
	if (st->ops->commit(st, err, errsz) != 0) {
		st->ops->rollback(st);
		return store_fail(st, "creating the schema", err, errsz);
	}
	return 0;
}
