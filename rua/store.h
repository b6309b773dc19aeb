/*
 * store.h -- the DMARC report store: the daemon's own evaluations (for
 * the aggregate reports we send), the reports we sent, and the reports
 * others sent us (imported).  One interface over two databases:
 *
 *	report_db = /var/lib/authfilter/reports.db	SQLite (WAL)
 *	report_db = postgresql://user@host/db		PostgreSQL (libpq)
 *
 * so several MX hosts can write to one database.  The schema carries a
 * version and is created or migrated by rua_store_open().
 *
 * A handle is used by one thread at a time (the writer thread owns its
 * own).  Every call returns 0 (or a count) on success, -1 with "what
 * failed" in err.
 *
 * Text is stored as UTF-8: a byte that is not part of a UTF-8 character
 * is stored as "?".  Domains (policy, identifiers, auth results) are
 * stored, and compared, lower-cased.
 */
#ifndef AUTHFILTER_RUA_STORE_H
#define AUTHFILTER_RUA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rua/feedback.h"

struct rua_store;

/* Open (creating the file and the schema, or migrating an older
 * schema).  url as report_db takes it. */
struct rua_store *rua_store_open(const char *url, char *err, size_t errsz);
void		 rua_store_close(struct rua_store *);
/* "sqlite" or "postgresql". */
const char	*rua_store_kind(const struct rua_store *);

/* ---- our evaluations (the writer thread) ---- */

/* n evaluations, in one transaction. */
int	rua_store_add_evals(struct rua_store *, const struct rua_eval *,
	    size_t n, char *err, size_t errsz);

/* ---- reports we send (authfilter-reports send) ---- */

/* A report due: a policy domain with evaluations in the period, and
 * the rua= of its latest evaluation ("" when that policy had none). */
struct rua_due {
	char	 domain[RUA_DOMAIN_MAX];
	char	 rua[512];
};

/* The policy domains (only `domain` when not NULL) with evaluations in
 * [begin, end), in domain order: *out is malloc'd, *n of them. */
int	rua_store_due(struct rua_store *, int64_t begin, int64_t end,
	    const char *domain, struct rua_due **out, size_t *n,
	    char *err, size_t errsz);

/* The records of a policy domain's evaluations in [begin, end): equal
 * evaluations (same source IP, identifiers, results, disposition and
 * reasons) are one record with their count.  fb->pub is the policy of
 * the latest evaluation, fb->begin/end the period; the rest of the
 * report metadata is the caller's.  Records are appended to fb->rec
 * (start from a zeroed fb); on an error fb's records are freed. */
int	rua_store_feedback(struct rua_store *, const char *domain,
	    int64_t begin, int64_t end, struct rua_feedback *fb,
	    char *err, size_t errsz);

/* Remember a report sent (or written, with --dry-run: not recorded) to
 * one destination, and ask: 1 when already sent, 0 when not. */
int	rua_store_mark_sent(struct rua_store *, const char *domain,
	    const char *dest, int64_t begin, int64_t end,
	    const char *report_id, char *err, size_t errsz);
int	rua_store_was_sent(struct rua_store *, const char *domain,
	    const char *dest, int64_t begin, int64_t end, char *err,
	    size_t errsz);

/* ---- reports others sent us (authfilter-reports import) ---- */

/* Store a report read from a file or e-mail: 0 stored, 1 already
 * stored (same org_name and report_id: nothing changed). */
int	rua_store_add_feedback(struct rua_store *, const struct rua_feedback *,
	    char *err, size_t errsz);

/* Every imported record about `domain` (NULL: all; the policy domain or
 * a subdomain of it as header_from) from reports whose period ends at
 * or after `since`: fn(arg, report, record), where report has its
 * metadata and policy but nrec 0.  fn returns non-zero to stop; it
 * must not use the store handle. */
typedef int (*rua_store_each_fn)(void *arg, const struct rua_feedback *report,
    const struct rua_record *rec);
int	rua_store_received(struct rua_store *, const char *domain,
	    int64_t since, rua_store_each_fn fn, void *arg, char *err,
	    size_t errsz);

/* Delete evaluations made before `before`, and sent marks and imported
 * reports (with their records) whose period ended before it; returns
 * the number of rows deleted. */
long	rua_store_expire(struct rua_store *, int64_t before, char *err,
	    size_t errsz);

#endif
