/*
 * NAME
 *	outbound_cmd -- authfilter report --outbound: the tables of our
 *	mail as receivers reported it
 * SYNOPSIS
 *	authfilter report --outbound [DOMAIN] [-c CONFIG] [--since WHEN]
 * DESCRIPTION
 *	Reads the reports imported into report_db (CONFIG's, default
 *	AF_CONFDIR/authfilter.conf) whose period ends on or after WHEN
 *	(YYYY-MM-DD, today, yesterday, Nd; default 30d), about DOMAIN and
 *	its subdomains or all our domains, and prints two tables: per
 *	reporting organisation and per source IP, each with messages, the
 *	share passing DMARC, aligned DKIM and aligned SPF, and the
 *	receivers' dispositions.  Rows with DMARC failures come first,
 *	marked "!", and each failing source IP gets a hint line
 *	(outbound.c says which rules make it).
 * DIAGNOSTICS
 *	Exit 1 when the configuration or the store cannot be read, 2 for a
 *	usage error.
 * SEE ALSO
 *	authfilter-report(8), authfilter-reports(8) import
 */
#include "buildconf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/config.h"
#include "report/outbound.h"
#include "report/report.h"
#include "rua/store.h"

#define OUTBOUND_SINCE_DEFAULT	"30d"

struct ob_opts {
	const char	*domain, *config, *since_arg;
	char		 since[11];
};

static int
usage(void)
{
	fprintf(stderr, "usage: authfilter report --outbound [DOMAIN] "
	    "[-c CONFIG] [--since YYYY-MM-DD|today|yesterday|Nd]\n");
	return 2;
}

static int
parse_args(int argc, char **argv, struct ob_opts *o)
{
	time_t now = time(NULL);
	struct tm today;

	memset(o, 0, sizeof(*o));
	o->config = AF_CONFDIR "/authfilter.conf";
	o->since_arg = OUTBOUND_SINCE_DEFAULT;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--outbound") == 0) {
			if (i + 1 < argc && argv[i + 1][0] != '-')
				o->domain = argv[++i];
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			o->config = argv[++i];
		else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc)
			o->since_arg = argv[++i];
		else
			return usage();
	}
	localtime_r(&now, &today);
	if (report_since(o->since_arg, &today, o->since) != 0) {
		fprintf(stderr, "authfilter report: --since wants YYYY-MM-DD, "
		    "today, yesterday or Nd (days before today), not \"%s\"\n",
		    o->since_arg);
		return 2;
	}
	return 0;
}

/* Local midnight starting day (YYYY-MM-DD). */
static int64_t
day_start(const char *day)
{
	struct tm tm = { 0 };

	tm.tm_year = atoi(day) - 1900;
	tm.tm_mon = atoi(day + 5) - 1;
	tm.tm_mday = atoi(day + 8);
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static unsigned
pct(uint64_t part, uint64_t whole)
{
	return whole ? (unsigned)((part * 100.0L) / whole) : 0;
}

static void
print_table(FILE *out, const char *title, const struct ob_table *t,
    int hints)
{
	char hint[1024];

	fprintf(out, "  %-39s %10s %6s %6s %6s %10s %10s %10s\n", title,
	    "messages", "dmarc%", "dkim%", "spf%", "none", "quarantine",
	    "reject");
	for (size_t i = 0; i < t->nrows; i++) {
		const struct ob_row *r = &t->rows[i];
		fprintf(out, "%c %-39s %10" PRIu64 " %6u %6u %6u %10" PRIu64
		    " %10" PRIu64 " %10" PRIu64 "\n",
		    r->n[OB_DMARC] < r->n[OB_MSGS] ? '!' : ' ', r->key,
		    r->n[OB_MSGS], pct(r->n[OB_DMARC], r->n[OB_MSGS]),
		    pct(r->n[OB_DKIM], r->n[OB_MSGS]),
		    pct(r->n[OB_SPF], r->n[OB_MSGS]), r->n[OB_NONE],
		    r->n[OB_QUAR], r->n[OB_REJECT]);
	}
	if (!hints)
		return;
	for (size_t i = 0; i < t->nrows; i++) {
		outbound_hint(&t->rows[i], hint, sizeof(hint));
		if (hint[0] != '\0')
			fprintf(out, "%s %s\n", t->rows[i].key, hint);
	}
}

/* The store's records into ob: 0, or 1 after saying why not. */
static int
collect(const struct ob_opts *o, struct outbound *ob)
{
	struct config_errors errs = { 0 };
	struct config *cfg = config_load(o->config, &errs);
	struct rua_store *st = NULL;
	char err[512];
	int rc = 1;

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "authfilter report: %s\n", errs.msg[i]);
	config_errors_clear(&errs);
	if (cfg == NULL)
		return 1;
	if (cfg->report_db[0] == '\0')
		fprintf(stderr, "authfilter report: %s: report_db is empty: "
		    "no reports imported\n", o->config);
	else if ((st = rua_store_open(cfg->report_db, err, sizeof(err))) ==
	    NULL)
		fprintf(stderr, "authfilter report: %s\n", err);
	else if (rua_store_received(st, o->domain, day_start(o->since),
	    outbound_add, ob, err, sizeof(err)) < 0 && !ob->nomem)
		fprintf(stderr, "authfilter report: %s\n", err);
	else if (ob->nomem)
		fprintf(stderr, "authfilter report: out of memory\n");
	else
		rc = 0;
	if (st != NULL)
		rua_store_close(st);
	config_free(cfg);
	return rc;
}

int
report_outbound_main(int argc, char **argv, FILE *out)
{
	struct outbound ob;
	struct ob_opts o;
	int rc;

	if ((rc = parse_args(argc, argv, &o)) != 0)
		return rc;
	memset(&ob, 0, sizeof(ob));
	if (collect(&o, &ob) != 0) {
		outbound_free(&ob);
		return 1;
	}
	outbound_sort(&ob.org);
	outbound_sort(&ob.ip);
	fprintf(out, "Our mail as receivers reported it, since %s, %s%s: "
	    "%zu report%s\n\n", o.since, o.domain ? "for " : "all domains",
	    o.domain ? o.domain : "", ob.reports.nrows,
	    ob.reports.nrows == 1 ? "" : "s");
	print_table(out, "reporter", &ob.org, 0);
	fputc('\n', out);
	print_table(out, "source_ip", &ob.ip, 1);
	outbound_free(&ob);
	return 0;
}
