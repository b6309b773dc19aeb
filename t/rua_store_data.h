/*
 * rua_store_data.h -- what t/unit/rua_store.c stores and checks: the
 * evaluations of one period, imported reports, SQL run beside the store.
 */
#ifndef AUTHFILTER_T_RUA_STORE_DATA_H
#define AUTHFILTER_T_RUA_STORE_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "rua/feedback.h"

#define B	INT64_C(1700000000)	/* the period [B, E) */
#define E	(B + 86400)
#define NX	150			/* evaluations equal to X */

/* Quotes, apostrophe, backslash, the codec's separators and escape,
 * UTF-8 (a 2-, 3- and 4-byte character). */
#define HOSTILE	"q\"uote 'apos' back\\slash tab\there nl\nhere %41 100% " \
	"Z\xc3\xbcrich \xe4\xbe\x8b \xf0\x9f\x93\xa7"

void	rua_t_set(char *dst, size_t sz, const char *s);
#define SET(f, s)	rua_t_set((f), sizeof(f), (s))

/* The evaluation X (example.org, 192.0.2.1, two DKIM results, one SPF). */
struct rua_eval eval_x(int64_t when);
/* The batch (*out malloc'd): X NX times; one each differing from X by
 * source IP (4 messages), a DKIM result, the disposition (count 0), a
 * reason; the latest, with another policy and rua=; two just outside
 * the period; another domain (3, one not UTF-8); two domains with
 * evaluations only after the period.  Returns how many. */
size_t	make_batch(struct rua_eval **out);
/* A report from org about domain, its period ending at end, and a
 * record of count messages from header_from `from`. */
void	make_report(struct rua_feedback *, const char *org, const char *id,
	    const char *domain, int64_t end);
void	add_rec(struct rua_feedback *, const char *from, uint64_t count);
/* SQL run beside the store, by sqlite3 or libpq: 0 when it worked. */
int	sql_exec(const char *url, const char *sql);
/* A SQLite file and its -wal, -shm and -journal removed. */
void	remove_db(const char *path);

#endif
