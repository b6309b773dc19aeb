/*
 * store_impl.h -- inside the DMARC report store: what rua/store*.c
 * share, and the vtable each database (store_sqlite.c, store_pg.c)
 * fills.  Not for callers of rua/store.h.
 *
 * All SQL is written once, in the common code, and runs unchanged on
 * both databases: parameters are named $1, $2, ... (SQLite binds them by
 * name), types are BIGINT and TEXT, and the only difference, the type of
 * an id column, is ops->id_type.  Each query has a fixed number (enum
 * store_q) so a backend prepares it once per handle and reuses it.
 */
#ifndef AUTHFILTER_RUA_STORE_IMPL_H
#define AUTHFILTER_RUA_STORE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "rua/store.h"

/* The prepared queries of a handle. */
enum store_q {
	Q_META_GET, Q_META_SET,
	Q_EVAL_ADD, Q_DUE_DOMAINS, Q_DUE_RUA, Q_FB_PUB, Q_FB_RECORDS,
	Q_SENT_ADD, Q_SENT_GET,
	Q_RCV_ADD, Q_RCV_ID, Q_RCV_REC_ADD, Q_RCV_EACH,
	Q_EXP_EVALS, Q_EXP_SENT, Q_EXP_RECORDS, Q_EXP_REPORTS,
	Q_N
};

/* One parameter: an integer, or text (never NULL). */
struct store_param {
	int		 is_int;
	int64_t		 i;
	const char	*s;
};

#define STORE_PARAMS_MAX	48
#define STORE_ARENA		65536	/* the text of one row's parameters */

/* A query's parameters, their text copied (made valid UTF-8, domains
 * lower-cased) into the handle's arena. */
struct store_params {
	size_t		 n;
	struct store_param p[STORE_PARAMS_MAX];
	char		 arena[STORE_ARENA];
	size_t		 used;
	int		 overflow;
};

/* A result row, read through the backend. */
struct store_row {
	struct rua_store *st;
	void		*res;
	int		 row;
};
typedef int (*store_row_fn)(void *arg, const struct store_row *);

struct store_ops {
	const char	*kind;		/* rua_store_kind() */
	const char	*id_type;	/* an auto-numbered primary key */
	void	 (*close)(struct rua_store *);
	/* SQL without parameters or results (DDL). */
	int	 (*exec)(struct rua_store *, const char *sql, char *err,
		     size_t errsz);
	/* schema: also lock out other hosts creating or migrating it. */
	int	 (*begin)(struct rua_store *, int schema, char *err,
		     size_t errsz);
	int	 (*commit)(struct rua_store *, char *err, size_t errsz);
	void	 (*rollback)(struct rua_store *);
	/* Run query q (prepared on first use); fn, if not NULL, sees each
	 * row and stops the query by returning non-zero.  Returns the rows
	 * changed (INSERT, DELETE), 0 for a SELECT, -1 on an error. */
	long	 (*run)(struct rua_store *, enum store_q q, const char *sql,
		     const struct store_params *, store_row_fn fn, void *arg,
		     char *err, size_t errsz);
	/* Optional (NULL: send runs, sync does nothing): queue query q
	 * without waiting for its result; sync waits for every queued one
	 * and fails if one did (PostgreSQL's pipeline: a batch of INSERTs
	 * costs one round trip instead of one each). */
	int	 (*send)(struct rua_store *, enum store_q q, const char *sql,
		     const struct store_params *, char *err, size_t errsz);
	int	 (*sync)(struct rua_store *, char *err, size_t errsz);
	/* Column i of a row: "" for NULL. */
	const char *(*text)(const struct store_row *, int i);
	int64_t	 (*integer)(const struct store_row *, int i);
};

struct rua_store {
	const struct store_ops *ops;
	char		 name[512];	/* report_db, any password hidden */
	void		*db;		/* sqlite3 *, PGconn * */
	void		*stmt[Q_N];	/* the backend's prepared queries */
	size_t		 pending;	/* sent, not yet synced */
	struct store_params params;
	char		 scratch[3][16384];	/* encoded lists of a row */
};

/* Backends: the handle is st, its name set; fill ops and db. */
int	store_sqlite_open(struct rua_store *, const char *path, char *err,
	    size_t errsz);
int	store_pg_open(struct rua_store *, const char *url, char *err,
	    size_t errsz);

/* store.c: the schema this build writes, and its creation. */
#define STORE_SCHEMA_VERSION	1
int	store_schema_ensure(struct rua_store *, char *err, size_t errsz);

/* store.c: parameters and errors. */
struct store_params *store_params(struct rua_store *);
void	sp_int(struct store_params *, int64_t);
void	sp_text(struct store_params *, const char *);
void	sp_domain(struct store_params *, const char *);
long	store_run(struct rua_store *, enum store_q, const char *sql,
	    store_row_fn, void *arg, const char *what, char *err,
	    size_t errsz);
int	store_send(struct rua_store *, enum store_q, const char *sql,
	    const char *what, char *err, size_t errsz);
int	store_sync(struct rua_store *, const char *what, char *err,
	    size_t errsz);
int	store_fail(struct rua_store *, const char *what, char *err,
	    size_t errsz);
void	store_copy(char *dst, size_t dstsz, const char *src);
/* The 9 columns of a policy and the 10 of a record (REC_COLS): added as
 * parameters, read from a row at column c (returning the next column). */
#define POL_COLS	"policy_domain, p, sp, np, adkim, aspf, testing, " \
	"discovery_method, fo"
#define REC_COLS	"source_ip, envelope_to, envelope_from, header_from, " \
	"disposition, dkim, spf, reasons, dkim_results, spf_results"
void	sp_policy(struct store_params *, const struct rua_policy *);
void	sp_record(struct rua_store *, const struct rua_record *);
int	store_row_policy(const struct store_row *, int c, struct rua_policy *);
int	store_row_record(const struct store_row *, int c, struct rua_record *);

/* store_codec.c: a record's lists (auth results, reasons) as text, one
 * item a line, fields separated by tabs, "%", tab and newline escaped as
 * %25, %09, %0A.  Equal lists give equal text, so SQL can group them. */
int	codec_dkim(char *out, size_t outsz, const struct rua_record *);
int	codec_spf(char *out, size_t outsz, const struct rua_record *);
int	codec_reasons(char *out, size_t outsz, const struct rua_record *);
void	codec_dkim_read(const char *, struct rua_record *);
void	codec_spf_read(const char *, struct rua_record *);
void	codec_reasons_read(const char *, struct rua_record *);

#endif
