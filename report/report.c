/*
 * NAME
 *	report -- per From domain: messages, DMARC results, actions taken
 *	and the actions enforce would take, read back from the log
 * SYNOPSIS
 *	authfilter report [-c CONFIG] [--since WHEN] [--html FILE] LOGFILE...
 *	authfilter report --outbound [DOMAIN] [-c CONFIG] [--since WHEN]
 * DESCRIPTION
 *	The table an admin reads before moving a domain from monitor to
 *	enforce.  Counts authfilter's own per-message records only
 *	(logline.c), in either log format, per From domain (inbound) and
 *	per signing domain (outbound), each table closed by its totals
 *	(tally.c).  --since skips records dated before a day (YYYY-MM-DD,
 *	today, yesterday, Nd); records without a date are counted.
 *	--html FILE also writes the page of html.c; -c CONFIG names the
 *	configuration whose policy_overrides the page lists.  --outbound
 *	reads the DMARC reports receivers sent instead (outbound_cmd.c).
 * DIAGNOSTICS
 *	Exit status 1 when a file cannot be read or written (the others are
 *	still read), 2 for a usage error.
 * SEE ALSO
 *	authfilter-report(8)
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "policy/overrides.h"
#include "report/html.h"
#include "report/outbound.h"
#include "report/report.h"
#include "report/tally.h"

/* --since Nd: a bound, not a limit anyone needs (a century). */
#define SINCE_DAYS_MAX 36500

struct report_opts {
	const char	*since_arg, *html, *config;
	char		 since[11];	/* "" for none */
	int		 first_log;	/* index of the first LOGFILE */
};

static void
usage(void)
{
	fprintf(stderr, "usage: authfilter report [-c CONFIG] [--since "
	    "YYYY-MM-DD|today|yesterday|Nd] [--html FILE] LOGFILE...\n"
	    "       authfilter report --outbound [DOMAIN] [-c CONFIG] "
	    "[--since WHEN]\n");
}

static void
date_of(const struct tm *tm, char out[11])
{
	snprintf(out, 11, "%04u-%02u-%02u",
	    (unsigned)(tm->tm_year + 1900) % 10000u,
	    (unsigned)(tm->tm_mon + 1) % 100u, (unsigned)tm->tm_mday % 100u);
}

/* A real calendar day: mktime must not have moved it. */
static int
valid_date(const char *s)
{
	struct tm tm = { 0 };
	char back[11];

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	if (mktime(&tm) == (time_t)-1)
		return 0;
	date_of(&tm, back);
	return strcmp(back, s) == 0;
}

int
report_since(const char *when, const struct tm *today, char out[11])
{
	struct tm tm = *today;
	long days;
	char *end;

	if (valid_date(when)) {
		memcpy(out, when, 11);
		return 0;
	}
	if (strcmp(when, "today") == 0)
		days = 0;
	else if (strcmp(when, "yesterday") == 0)
		days = 1;
	else {
		if (!isdigit((unsigned char)when[0]))
			return -1;
		days = strtol(when, &end, 10);
		if (strcmp(end, "d") != 0 || days > SINCE_DAYS_MAX)
			return -1;
	}
	tm.tm_mday -= (int)days;
	tm.tm_hour = 12;		/* clear of any DST change */
	tm.tm_isdst = -1;
	if (mktime(&tm) == (time_t)-1)
		return -1;
	date_of(&tm, out);
	return 0;
}

void
report_date_complete(struct report_rec *r, const struct tm *today)
{
	int year = today->tm_year + 1900;

	if (r->date[0] != '\0' || r->mon == 0)
		return;
	/* A stamp without a year is the latest such day not after today
	 * (a log of December read in January). */
	if (r->mon > today->tm_mon + 1 ||
	    (r->mon == today->tm_mon + 1 && r->mday > today->tm_mday))
		year--;
	snprintf(r->date, sizeof(r->date), "%04u-%02u-%02u",
	    (unsigned)year % 10000u, (unsigned)r->mon % 100u,
	    (unsigned)r->mday % 100u);
}

static int
read_log(FILE *fp, const char *since, const struct tm *today,
    struct tally *t)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	while (rc == 0 && (len = getline(&line, &cap, fp)) != -1) {
		struct report_rec r;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (report_parse_line(line, &r) != 0)
			continue;
		report_date_complete(&r, today);
		if (since[0] != '\0' && r.date[0] != '\0' &&
		    strcmp(r.date, since) < 0)
			continue;
		rc = tally_add(t, &r);
	}
	free(line);
	return ferror(fp) || rc != 0 ? -1 : 0;
}

static void
print_table(FILE *out, const char *title, const struct tally_table *t,
    const char *const *names, size_t ncols)
{
	unsigned long sum[TI_N];

	fprintf(out, "%-32s", title);
	for (size_t c = 0; c < ncols; c++)
		fprintf(out, " %s", names[c]);
	fputc('\n', out);
	for (size_t r = 0; r < t->nrows; r++) {
		fprintf(out, "%-32s", t->rows[r].key);
		for (size_t c = 0; c < ncols; c++)
			fprintf(out, " %*lu", (int)strlen(names[c]),
			    t->rows[r].n[c]);
		fputc('\n', out);
	}
	tally_sum(t, sum, ncols);
	fprintf(out, "%-32s", TALLY_TOTAL);
	for (size_t c = 0; c < ncols; c++)
		fprintf(out, " %*lu", (int)strlen(names[c]), sum[c]);
	fputc('\n', out);
}

/* 0, or 2 after printing the usage. */
static int
parse_args(int argc, char **argv, const struct tm *today,
    struct report_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc) {
			usage();
			return 2;
		}
		if (strcmp(opt, "--since") == 0)
			o->since_arg = argv[++i];
		else if (strcmp(opt, "--html") == 0)
			o->html = argv[++i];
		else if (strcmp(opt, "-c") == 0)
			o->config = argv[++i];
		else {
			usage();
			return 2;
		}
	}
	if (o->since_arg != NULL &&
	    report_since(o->since_arg, today, o->since) != 0) {
		fprintf(stderr, "authfilter report: --since wants YYYY-MM-DD, "
		    "today, yesterday or Nd (days before today), not \"%s\"\n",
		    o->since_arg);
		return 2;
	}
	if (i >= argc) {
		usage();
		return 2;
	}
	o->first_log = i;
	return 0;
}

/* The configuration's policy_mode and policy_overrides, for the page:
 * 0, or 1 after printing what is wrong. */
static int
load_config(const char *path, struct config **cfg, struct overrides **ovr)
{
	struct config_errors errs = { 0 };

	*cfg = config_load(path, &errs);
	if (*cfg != NULL && *(*cfg)->policy_overrides != '\0')
		*ovr = overrides_load((*cfg)->policy_overrides, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "authfilter report: %s\n", errs.msg[i]);
	config_errors_clear(&errs);
	if (*cfg == NULL ||
	    (*(*cfg)->policy_overrides != '\0' && *ovr == NULL))
		return 1;
	return 0;
}

static int
write_html(const struct report_opts *o, const struct tally *t, time_t now)
{
	struct config *cfg = NULL;
	struct overrides *ovr = NULL;
	struct html_context ctx = { o->config, NULL, NULL,
	    o->since[0] ? o->since : NULL, now };
	FILE *fp = NULL;
	int rc = 0, werr;

	if (o->config != NULL && load_config(o->config, &cfg, &ovr) != 0)
		rc = 1;
	else if ((fp = fopen(o->html, "w")) == NULL) {
		fprintf(stderr, "authfilter report: %s: cannot write\n",
		    o->html);
		rc = 1;
	}
	if (fp != NULL) {
		if (cfg != NULL)
			ctx.policy_mode = cfg->policy_mode == POLICY_ENFORCE ?
			    "enforce" : "monitor";
		ctx.overrides = ovr;
		werr = html_write(fp, t, &ctx) != 0;
		if (fclose(fp) != 0 || werr) {
			fprintf(stderr, "authfilter report: %s: write error\n",
			    o->html);
			rc = 1;
		}
	}
	overrides_free(ovr);
	config_free(cfg);
	return rc;
}

int
report_main(int argc, char **argv, FILE *out)
{
	struct tally t = { 0 };
	struct report_opts o;
	time_t now = time(NULL);
	struct tm today;
	int rc = 0;

	/* The reports receivers sent us, not the log (outbound_cmd.c). */
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--outbound") == 0)
			return report_outbound_main(argc, argv, out);
	localtime_r(&now, &today);
	if (parse_args(argc, argv, &today, &o) != 0)
		return 2;
	for (int i = o.first_log; i < argc; i++) {
		FILE *fp = strcmp(argv[i], "-") == 0 ? stdin :
		    fopen(argv[i], "r");
		if (fp == NULL) {
			fprintf(stderr, "authfilter report: %s: cannot open\n",
			    argv[i]);
			rc = 1;
			continue;
		}
		if (read_log(fp, o.since, &today, &t) != 0) {
			fprintf(stderr, "authfilter report: %s: read error "
			    "(or out of memory)\n", argv[i]);
			rc = 1;
		}
		if (fp != stdin)
			fclose(fp);
	}
	tally_sort(&t.in);
	tally_sort(&t.out);
	print_table(out, "from_domain", &t.in, tally_in_names, TI_N);
	fputc('\n', out);
	print_table(out, "sign_domain", &t.out, tally_out_names, TO_N);
	if (o.html != NULL && write_html(&o, &t, now) != 0)
		rc = 1;
	tally_free(&t);
	return rc;
}
