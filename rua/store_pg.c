/*
 * NAME
 *	store_pg -- the report store in a PostgreSQL database (libpq)
 * SYNOPSIS
 *	report_db = postgresql://authfilter@db.example.org/authfilter
 * DESCRIPTION
 *	The URL is handed to libpq as it is (its connection URI: host,
 *	port, user, dbname, sslmode=..., a password or ~/.pgpass), after
 *	defaults the URL may override: connect_timeout=10,
 *	tcp_user_timeout=30000 (ms) and TCP keepalives (60 s idle, then 3
 *	probes 10 s apart), so that a server gone silent fails a write in
 *	about half a minute instead of the kernel's quarter of an hour.  The client encoding is UTF8; the server's notices
 *	("already exists, skipping") are not printed.  Several hosts may
 *	write to one database: creating or migrating the schema takes
 *	pg_advisory_xact_lock(STORE_PG_LOCK) first.
 *
 *	Each query is prepared once per connection (PQprepare, named
 *	"rua_qN", with its parameter types: int8 or text) and run with
 *	PQexecPrepared, parameters as text; a batch of evaluations is
 *	sent in pipeline mode (libpq 14 and later), 64 INSERTs before their
 *	results are read.  When the server goes away,
 *	the call fails and the next one reconnects (PQreset) and prepares
 *	again.
 * DIAGNOSTICS
 *	The server's or libpq's message, its first line.
 * SEE ALSO
 *	https://www.postgresql.org/docs/current/libpq-connect.html
 */
#include "buildconf.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rua/store_impl.h"

/* pg_advisory_xact_lock key of the schema: "afrua" in ASCII. */
#define STORE_PG_LOCK	"418330604897"
#define PG_INT8_OID	20	/* pg_type.h; stable since PostgreSQL 7 */
#define PG_TEXT_OID	25
/* A server that stops answering must not hold the writer thread (or
 * `authfilter-reports`) for the kernel's 15 minutes of retransmission:
 * a connection takes at most this long, unacknowledged data fails the
 * connection after this, and an idle one is probed by keepalives. */
#define PG_CONNECT_TIMEOUT	"10"
#define PG_TCP_USER_TIMEOUT_MS	"30000"

#ifdef LIBPQ_HAS_PIPELINING
static int	pg_sync(struct rua_store *, char *, size_t);
#endif

/* Its first line into err. */
static int
pg_msg(const char *msg, char *err, size_t errsz)
{
	snprintf(err, errsz, "%.*s", (int)strcspn(msg, "\n"), msg);
	return -1;
}

static void
pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* After a failure: a lost connection is reset for the next call, and
 * its prepared statements with it. */
static void
pg_check_conn(struct rua_store *st)
{
	if (PQstatus(st->db) != CONNECTION_BAD)
		return;
	PQreset(st->db);
	PQsetNoticeProcessor(st->db, pg_quiet, NULL);
	for (int q = 0; q < Q_N; q++)
		st->stmt[q] = NULL;
	st->pending = 0;
}

/* The server's message without its "ERROR:  ", else libpq's. */
static int
pg_res_msg(struct rua_store *st, const PGresult *res, char *err,
    size_t errsz)
{
	const char *msg = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (msg == NULL || *msg == '\0')
		msg = res != NULL ? PQresultErrorMessage(res) : "";
	return pg_msg(*msg != '\0' ? msg : PQerrorMessage(st->db), err,
	    errsz);
}

static int
pg_fail(struct rua_store *st, PGresult *res, char *err, size_t errsz)
{
	pg_res_msg(st, res, err, errsz);
	PQclear(res);
	pg_check_conn(st);
	return -1;
}

static void
pg_close(struct rua_store *st)
{
	PQfinish(st->db);
	st->db = NULL;
}

static int
pg_exec(struct rua_store *st, const char *sql, char *err, size_t errsz)
{
	PGresult *res = PQexec(st->db, sql);
	ExecStatusType s = PQresultStatus(res);

	if (res == NULL || (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK))
		return pg_fail(st, res, err, errsz);
	PQclear(res);
	return 0;
}

static int
pg_begin(struct rua_store *st, int schema, char *err, size_t errsz)
{
	if (pg_exec(st, "BEGIN", err, errsz) != 0)
		return -1;
	if (schema && pg_exec(st, "SELECT pg_advisory_xact_lock("
	    STORE_PG_LOCK ")", err, errsz) != 0) {
		(void)pg_exec(st, "ROLLBACK", err, errsz);
		return -1;
	}
	return 0;
}

static int
pg_commit(struct rua_store *st, char *err, size_t errsz)
{
	PGresult *res = PQexec(st->db, "COMMIT");

	/* A failed transaction "commits" as ROLLBACK, without an error. */
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK ||
	    strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			return pg_msg("transaction rolled back", err, errsz);
		}
		return pg_fail(st, res, err, errsz);
	}
	PQclear(res);
	return 0;
}

static void
pg_rollback(struct rua_store *st)
{
#ifdef LIBPQ_HAS_PIPELINING
	char err[8];

	(void)pg_sync(st, err, sizeof(err));
#endif
	if (PQtransactionStatus(st->db) != PQTRANS_IDLE)
		PQclear(PQexec(st->db, "ROLLBACK"));
}

static int
pg_prepare(struct rua_store *st, enum store_q q, const char *name,
    const char *sql, const struct store_params *sp, char *err, size_t errsz)
{
	Oid types[STORE_PARAMS_MAX];
	PGresult *res;

	for (size_t i = 0; i < sp->n; i++)
		types[i] = sp->p[i].is_int ? PG_INT8_OID : PG_TEXT_OID;
	res = PQprepare(st->db, name, sql, (int)sp->n, types);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(st, res, err, errsz);
	PQclear(res);
	st->stmt[q] = st;		/* prepared on this connection */
	return 0;
}

/* The parameters as text. */
struct pg_values {
	const char	*v[STORE_PARAMS_MAX];
	char		 num[STORE_PARAMS_MAX][24];
};

static void
pg_values(const struct store_params *sp, struct pg_values *pv)
{
	for (size_t i = 0; i < sp->n; i++) {
		if (!sp->p[i].is_int) {
			pv->v[i] = sp->p[i].s;
			continue;
		}
		snprintf(pv->num[i], sizeof(pv->num[i]), "%" PRId64,
		    sp->p[i].i);
		pv->v[i] = pv->num[i];
	}
}

static long
pg_run(struct rua_store *st, enum store_q q, const char *sql,
    const struct store_params *sp, store_row_fn fn, void *arg, char *err,
    size_t errsz)
{
	struct pg_values pv;
	char name[16];
	struct store_row row = { st, NULL, 0 };
	PGresult *res;
	long changes = 0;

	snprintf(name, sizeof(name), "rua_q%d", (int)q);
	if (st->stmt[q] == NULL &&
	    pg_prepare(st, q, name, sql, sp, err, errsz) != 0)
		return -1;
	pg_values(sp, &pv);
	res = PQexecPrepared(st->db, name, (int)sp->n, pv.v, NULL, NULL, 0);
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
		row.res = res;
		for (row.row = 0; row.row < PQntuples(res); row.row++)
			if (fn != NULL && fn(arg, &row) != 0)
				break;
		break;
	case PGRES_COMMAND_OK:
		changes = strtol(PQcmdTuples(res), NULL, 10);
		break;
	default:
		return pg_fail(st, res, err, errsz);
	}
	PQclear(res);
	return changes;
}

#ifdef LIBPQ_HAS_PIPELINING
/* Query q into the pipeline (entered here, after q is prepared). */
static int
pg_send(struct rua_store *st, enum store_q q, const char *sql,
    const struct store_params *sp, char *err, size_t errsz)
{
	struct pg_values pv;
	char name[16];

	snprintf(name, sizeof(name), "rua_q%d", (int)q);
	if (PQpipelineStatus(st->db) == PQ_PIPELINE_OFF) {
		if (st->stmt[q] == NULL &&
		    pg_prepare(st, q, name, sql, sp, err, errsz) != 0)
			return -1;
		if (PQenterPipelineMode(st->db) != 1)
			return pg_fail(st, NULL, err, errsz);
	} else if (st->stmt[q] == NULL)
		return pg_msg("query not prepared before the pipeline", err,
		    errsz);
	pg_values(sp, &pv);
	if (PQsendQueryPrepared(st->db, name, (int)sp->n, pv.v, NULL, NULL,
	    0) != 1)
		return pg_fail(st, NULL, err, errsz);
	st->pending++;
	return 0;
}

/* One queued query's result (then the NULL that ends it): 0 when it
 * succeeded; else its message in err, if err is still empty. */
static int
pg_sync_one(struct rua_store *st, char *err, size_t errsz)
{
	PGresult *res = PQgetResult(st->db);
	int rc = 0;

	if (res == NULL)
		return pg_msg(PQerrorMessage(st->db), err, errsz);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = -1;
		if (*err == '\0')	/* the first: the others were aborted */
			pg_res_msg(st, res, err, errsz);
	}
	PQclear(res);
	while ((res = PQgetResult(st->db)) != NULL)
		PQclear(res);
	return rc;
}

/* Wait for every queued query, and leave the pipeline. */
static int
pg_sync(struct rua_store *st, char *err, size_t errsz)
{
	PGresult *res;
	int rc = 0;

	if (PQpipelineStatus(st->db) == PQ_PIPELINE_OFF)
		return 0;
	*err = '\0';
	if (PQpipelineSync(st->db) != 1) {
		st->pending = 0;
		return pg_fail(st, NULL, err, errsz);
	}
	for (; st->pending > 0; st->pending--)
		if (pg_sync_one(st, err, errsz) != 0)
			rc = -1;
	res = PQgetResult(st->db);
	if (PQresultStatus(res) != PGRES_PIPELINE_SYNC && rc == 0)
		rc = pg_msg("no pipeline sync", err, errsz);
	PQclear(res);
	if (PQexitPipelineMode(st->db) != 1 && rc == 0)
		rc = pg_msg(PQerrorMessage(st->db), err, errsz);
	if (rc != 0)
		pg_check_conn(st);
	return rc;
}
#endif

static const char *
pg_text(const struct store_row *row, int i)
{
	return PQgetvalue(row->res, row->row, i);
}

static int64_t
pg_integer(const struct store_row *row, int i)
{
	return strtoll(PQgetvalue(row->res, row->row, i), NULL, 10);
}

static const struct store_ops pg_ops = {
	.kind = "postgresql",
	.id_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.close = pg_close,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.run = pg_run,
#ifdef LIBPQ_HAS_PIPELINING
	.send = pg_send,
	.sync = pg_sync,
#endif
	.text = pg_text,
	.integer = pg_integer,
};

int
store_pg_open(struct rua_store *st, const char *url, char *err, size_t errsz)
{
	/* Before dbname: the URL's own settings win over these. */
	static const char *const keys[] = { "connect_timeout",
	    "tcp_user_timeout", "keepalives_idle", "keepalives_interval",
	    "keepalives_count", "dbname", NULL };
	const char *vals[] = { PG_CONNECT_TIMEOUT, PG_TCP_USER_TIMEOUT_MS,
	    "60", "10", "3", url, NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);

	if (conn == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		pg_msg(PQerrorMessage(conn), err, errsz);
		PQfinish(conn);
		return -1;
	}
	if (PQsetClientEncoding(conn, "UTF8") != 0) {
		pg_msg(PQerrorMessage(conn), err, errsz);
		PQfinish(conn);
		return -1;
	}
	PQsetNoticeProcessor(conn, pg_quiet, NULL);
	st->ops = &pg_ops;
	st->db = conn;
	return 0;
}
