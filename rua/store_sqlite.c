/*
 * NAME
 *	store_sqlite -- the report store in a SQLite file
 * SYNOPSIS
 *	report_db = /var/lib/authfilter/reports.db
 * DESCRIPTION
 *	The file is created, when missing, with mode 0640 (less the
 *	umask) by this process, so the daemon's user owns it; SQLite gives
 *	its -wal and -shm files the same mode.  Its directory must exist:
 *	nothing else is created.
 *
 *	The database runs in WAL mode (PRAGMA journal_mode=WAL, a setting
 *	kept in the file) with synchronous=NORMAL: the daemon's writer and
 *	authfilter-reports read and write the file at once; a commit is
 *	durable once the WAL is checkpointed, and a crash never leaves it
 *	corrupt.  A writer waits up to 5 s (busy_timeout) for another.
 *	Each handle is opened SQLITE_OPEN_NOMUTEX: one thread uses it.
 *	Write transactions are BEGIN IMMEDIATE, so two writers queue
 *	instead of failing half-way.  Statements are prepared once per
 *	handle (SQLITE_PREPARE_PERSISTENT) and their parameters, $1, $2,
 *	..., bound by number.
 * DIAGNOSTICS
 *	"directory D does not exist", "D is not a directory", "not a
 *	regular file", "cannot use the WAL journal (journal_mode is X)",
 *	else SQLite's message, e.g. "unable to open database file" or
 *	"database is locked".
 * SEE ALSO
 *	https://sqlite.org/wal.html
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rua/store_impl.h"

#define SQ_BUSY_MS	5000	/* wait for another writer, at most */

static int
sq_err(struct rua_store *st, char *err, size_t errsz)
{
	snprintf(err, errsz, "%s", sqlite3_errmsg(st->db));
	return -1;
}

static void
sq_close(struct rua_store *st)
{
	for (int q = 0; q < Q_N; q++)
		sqlite3_finalize(st->stmt[q]);
	sqlite3_close(st->db);
	st->db = NULL;
}

static int
sq_exec(struct rua_store *st, const char *sql, char *err, size_t errsz)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_err(st, err, errsz);
	return 0;
}

static int
sq_begin(struct rua_store *st, int schema, char *err, size_t errsz)
{
	(void)schema;		/* BEGIN IMMEDIATE locks out every writer */
	return sq_exec(st, "BEGIN IMMEDIATE", err, errsz);
}

static int
sq_commit(struct rua_store *st, char *err, size_t errsz)
{
	return sq_exec(st, "COMMIT", err, errsz);
}

static void
sq_rollback(struct rua_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Parameters are bound by number, so the SQL must number them $1, $2,
 * ... in the order they first appear (SQLite numbers $NAMEs so); the
 * common code's SQL does, and a query that did not would fail here,
 * at its first use in any test. */
static int
sq_check_params(sqlite3_stmt *s, size_t n, char *err, size_t errsz)
{
	int count = sqlite3_bind_parameter_count(s);

	if ((size_t)count != n) {
		snprintf(err, errsz, "query has %d parameters, given %zu",
		    count, n);
		return -1;
	}
	for (int idx = 1; idx <= count; idx++) {
		const char *name = sqlite3_bind_parameter_name(s, idx);
		char want[24];

		snprintf(want, sizeof(want), "$%d", idx);
		if (name == NULL || strcmp(name, want) != 0) {
			snprintf(err, errsz, "query parameter %d is %s, not %s",
			    idx, name != NULL ? name : "?", want);
			return -1;
		}
	}
	return 0;
}

static int
sq_bind(struct rua_store *st, sqlite3_stmt *s, const struct store_params *sp,
    char *err, size_t errsz)
{
	for (size_t i = 0; i < sp->n; i++) {
		int rc = sp->p[i].is_int ?
		    sqlite3_bind_int64(s, (int)i + 1, sp->p[i].i) :
		    sqlite3_bind_text(s, (int)i + 1, sp->p[i].s, -1,
		    SQLITE_STATIC);

		if (rc != SQLITE_OK)
			return sq_err(st, err, errsz);
	}
	return 0;
}

static long
sq_run(struct rua_store *st, enum store_q q, const char *sql,
    const struct store_params *sp, store_row_fn fn, void *arg, char *err,
    size_t errsz)
{
	sqlite3_stmt *s = st->stmt[q];
	struct store_row row = { st, NULL, 0 };
	long changes = 0;
	int rc;

	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
			return sq_err(st, err, errsz);
		if (sq_check_params(s, sp->n, err, errsz) != 0) {
			sqlite3_finalize(s);
			return -1;
		}
		st->stmt[q] = s;
	}
	if (sq_bind(st, s, sp, err, errsz) != 0) {
		sqlite3_clear_bindings(s);
		return -1;
	}
	row.res = s;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn != NULL && fn(arg, &row) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		changes = sq_err(st, err, errsz);
	else if (!sqlite3_stmt_readonly(s))
		changes = sqlite3_changes(st->db);
	/* Unbound text would point into a reused arena; a reset statement
	 * holds no read lock. */
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return changes;
}

static const char *
sq_text(const struct store_row *row, int i)
{
	const unsigned char *t = sqlite3_column_text(row->res, i);

	return t != NULL ? (const char *)t : "";
}

static int64_t
sq_integer(const struct store_row *row, int i)
{
	return sqlite3_column_int64(row->res, i);
}

static const struct store_ops sq_ops = {
	.kind = "sqlite",
	.id_type = "INTEGER PRIMARY KEY",
	.close = sq_close,
	.exec = sq_exec,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.run = sq_run,
	.text = sq_text,
	.integer = sq_integer,
};

/* The file's directory must exist; the file, if there, be a file.  A
 * missing file is made here with mode 0640 (SQLite would use 0644). */
static int
sq_prepare_file(const char *path, char *err, size_t errsz)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat sb;
	int fd;

	if ((size_t)(slash - path) >= sizeof(dir)) {
		snprintf(err, errsz, "path too long");
		return -1;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (dir[0] == '\0')
		store_copy(dir, sizeof(dir), "/");
	if (stat(dir, &sb) != 0) {
		snprintf(err, errsz, errno == ENOENT ? "directory %s does not "
		    "exist" : "directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errsz, "%s is not a directory", dir);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd >= 0) {
		/* Made by root (authfilter-reports run from a root shell)
		 * in the daemon's directory: the daemon's, or it could never
		 * write it.  SQLite gives the -wal and -shm files made by
		 * root the owner of this file. */
		if (geteuid() == 0 && sb.st_uid != 0 &&
		    fchown(fd, sb.st_uid, sb.st_gid) != 0) {
			snprintf(err, errsz, "chown to the owner of %s: %s",
			    dir, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -1;
	}
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "not a regular file");
		return -1;
	}
	return 0;
}

static int
wal_row(void *arg, int ncol, char **val, char **name)
{
	(void)name;
	if (ncol > 0 && val[0] != NULL)
		store_copy(arg, 16, val[0]);
	return 0;
}

int
store_sqlite_open(struct rua_store *st, const char *path, char *err,
    size_t errsz)
{
	sqlite3 *db = NULL;
	char mode[16] = "";

	if (sq_prepare_file(path, err, errsz) != 0)
		return -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s", db != NULL ? sqlite3_errmsg(db) :
		    "out of memory");
		sqlite3_close(db);
		return -1;
	}
	st->ops = &sq_ops;
	st->db = db;
	sqlite3_busy_timeout(db, SQ_BUSY_MS);
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", wal_row, mode,
	    NULL) != SQLITE_OK || sq_exec(st, "PRAGMA synchronous=NORMAL",
	    err, errsz) != 0 || sq_exec(st, "PRAGMA foreign_keys=ON", err,
	    errsz) != 0) {
		sq_err(st, err, errsz);
		sqlite3_close(db);
		return -1;
	}
	if (strcasecmp(mode, "wal") != 0) {
		snprintf(err, errsz, "cannot use the WAL journal (journal_mode "
		    "is %s)", mode);
		sqlite3_close(db);
		return -1;
	}
	return 0;
}
