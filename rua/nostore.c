/*
 * NAME
 *	nostore -- TEMPORARY stand-in for the report store on branch
 *	rua-import, until rua-store (rua/store_*.c) is merged into main;
 *	delete this file and its line in Makefile.am on that merge.
 * DESCRIPTION
 *	Every call fails with "the report store is not built yet", so
 *	authfilter-reports import and authfilter report --outbound link
 *	and say why they cannot work.
 */
#include "buildconf.h"

#include <stdio.h>

#include "rua/store.h"

static const char nostore[] = "the report store is not built yet";

struct rua_store *
rua_store_open(const char *url, char *err, size_t errsz)
{
	snprintf(err, errsz, "%s: %s", url, nostore);
	return NULL;
}

void
rua_store_close(struct rua_store *st)
{
	(void)st;
}

int
rua_store_add_feedback(struct rua_store *st, const struct rua_feedback *fb,
    char *err, size_t errsz)
{
	(void)st;
	(void)fb;
	snprintf(err, errsz, "%s", nostore);
	return -1;
}

int
rua_store_received(struct rua_store *st, const char *domain, int64_t since,
    rua_store_each_fn fn, void *arg, char *err, size_t errsz)
{
	(void)st;
	(void)domain;
	(void)since;
	(void)fn;
	(void)arg;
	snprintf(err, errsz, "%s", nostore);
	return -1;
}
