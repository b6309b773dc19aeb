/*
 * NAME
 *	rua_store_data -- the data of t/unit/rua_store.c
 * DESCRIPTION
 *	See rua_store_data.h.  Every field is set (and domains in mixed
 *	case), so a column stored or read in the wrong place fails a test.
 */
#include "buildconf.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t/rua_store_data.h"

void
rua_t_set(char *dst, size_t sz, const char *s)
{
	snprintf(dst, sz, "%s", s);
}

/* The evaluation X: 150 of them in the batch. */
struct rua_eval
eval_x(int64_t when)
{
	struct rua_eval ev;
	struct rua_record *r = &ev.rec;

	memset(&ev, 0, sizeof(ev));
	ev.when = when;
	SET(ev.pub.domain, "Example.ORG");
	SET(ev.pub.p, "none");
	SET(ev.pub.adkim, "r");
	SET(ev.pub.aspf, "r");
	SET(ev.pub.testing, "n");
	SET(ev.pub.discovery_method, "treewalk");
	SET(ev.rua, "mailto:old@example.org");
	SET(r->source_ip, "192.0.2.1");
	r->count = 1;
	SET(r->disposition, "none");
	SET(r->dkim, "pass");
	SET(r->spf, "pass");
	SET(r->header_from, "Example.Org");
	SET(r->envelope_from, "Bounce.Example.org");
	SET(r->envelope_to, "example.net");
	SET(r->dkim_res[0].domain, "Example.Org");
	SET(r->dkim_res[0].selector, "s1");
	SET(r->dkim_res[0].result, "pass");
	SET(r->dkim_res[0].human_result, HOSTILE);
	SET(r->dkim_res[1].domain, "esp.example");
	SET(r->dkim_res[1].selector, "k");
	SET(r->dkim_res[1].result, "fail");
	r->ndkim = 2;
	SET(r->spf_res[0].domain, "example.org");
	SET(r->spf_res[0].scope, "mfrom");
	SET(r->spf_res[0].result, "pass");
	r->nspf = 1;
	return ev;
}

static struct rua_eval *
push(struct rua_eval *evs, size_t *n, struct rua_eval ev)
{
	evs[*n] = ev;
	return &evs[(*n)++];
}

size_t
make_batch(struct rua_eval **out)
{
	struct rua_eval *ev, *evs;
	size_t n = 0;

	if ((evs = *out = calloc(200, sizeof(*evs))) == NULL)
		return 0;
	for (int i = 0; i < NX; i++)
		push(evs, &n, eval_x(B + i));
	ev = push(evs, &n, eval_x(B + 1000));
	SET(ev->rec.source_ip, "192.0.2.2");
	ev->rec.count = 4;			/* four messages */
	ev = push(evs, &n, eval_x(B + 1001));
	SET(ev->rec.dkim_res[1].result, "pass");
	ev = push(evs, &n, eval_x(B + 1002));
	SET(ev->rec.disposition, "quarantine");
	ev->rec.count = 0;			/* taken for one */
	ev = push(evs, &n, eval_x(B + 1003));
	SET(ev->rec.reason[0].type, "forwarded");
	SET(ev->rec.reason[0].comment, HOSTILE);
	ev->rec.nreason = 1;
	ev = push(evs, &n, eval_x(E - 1));		/* the latest */
	SET(ev->rec.source_ip, "2001:db8::9");
	SET(ev->pub.p, "reject");
	SET(ev->pub.sp, "quarantine");
	SET(ev->pub.np, "none");
	SET(ev->pub.adkim, "s");
	SET(ev->pub.aspf, "s");
	SET(ev->pub.testing, "y");
	SET(ev->pub.discovery_method, "psl");
	SET(ev->pub.fo, "1:d");
	SET(ev->rua, "mailto:new@example.org,mailto:x@example.net");
	ev = push(evs, &n, eval_x(E));			/* the next period */
	ev = push(evs, &n, eval_x(B - 1));		/* the previous one */
	for (int i = 0; i < 3; i++) {
		ev = push(evs, &n, eval_x(B + 50 + i));
		SET(ev->pub.domain, "other.example");
		SET(ev->rua, "mailto:o@other.example");
		/* not UTF-8: stored as "caf?" */
		SET(ev->rec.dkim_res[0].human_result, "caf\xe9");
	}
	ev = push(evs, &n, eval_x(E + 10));
	SET(ev->pub.domain, "nextday.example");
	ev = push(evs, &n, eval_x(E));		/* only in the next period */
	SET(ev->pub.domain, "edge.example");
	return n;
}

int
sql_exec(const char *url, const char *sql)
{
	if (url[0] == '/') {
		sqlite3 *db;
		int rc;

		if (sqlite3_open(url, &db) != SQLITE_OK)
			return -1;
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		sqlite3_close(db);
		return rc == SQLITE_OK ? 0 : -1;
	} else {
		PGconn *c = PQconnectdb(url);
		PGresult *res = PQexec(c, sql);
		int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;

		PQclear(res);
		PQfinish(c);
		return rc;
	}
}

void
add_rec(struct rua_feedback *fb, const char *from, uint64_t count)
{
	struct rua_record *r = rua_feedback_add(fb);

	SET(r->source_ip, "198.51.100.7");
	r->count = count;
	SET(r->disposition, "none");
	SET(r->dkim, "fail");
	SET(r->spf, "pass");
	SET(r->header_from, from);
	SET(r->envelope_from, "Env.Example");
	SET(r->envelope_to, "rcpt.example");
	SET(r->reason[0].type, "local_policy");
	SET(r->reason[0].comment, "");
	SET(r->reason[1].type, "other");
	SET(r->reason[1].comment, HOSTILE);
	r->nreason = 2;
	SET(r->spf_res[0].domain, from);
	SET(r->spf_res[0].scope, "mfrom");
	SET(r->spf_res[0].result, "pass");
	SET(r->spf_res[0].human_result, HOSTILE);
	r->nspf = 1;
}

void
make_report(struct rua_feedback *fb, const char *org, const char *id,
    const char *domain, int64_t end)
{
	memset(fb, 0, sizeof(*fb));
	SET(fb->version, "1.0");
	fb->rfc9990 = 1;
	SET(fb->org_name, org);
	SET(fb->email, "dmarc@receiver.example");
	SET(fb->extra_contact_info, HOSTILE);
	SET(fb->report_id, id);
	fb->begin = end - 86400;
	fb->end = end;
	SET(fb->generator, "receiver 1.0");
	SET(fb->pub.domain, domain);
	SET(fb->pub.p, "quarantine");
	SET(fb->pub.sp, "none");
	SET(fb->pub.np, "reject");
	SET(fb->pub.adkim, "s");
	SET(fb->pub.aspf, "r");
	SET(fb->pub.testing, "n");
	SET(fb->pub.discovery_method, "treewalk");
	SET(fb->pub.fo, "0");
}

void
remove_db(const char *db)
{
	char path[1100];
	const char *sfx[] = { "", "-wal", "-shm", "-journal" };

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", db, sfx[i]);
		unlink(path);
	}
}
