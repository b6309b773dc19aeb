/*
 * NAME
 *	send_cmd -- authfilter-reports send: our aggregate reports out
 * SYNOPSIS
 *	authfilter-reports [-c FILE] send [--dry-run DIR] [--domain D]
 *	    [--period BEGIN,END | --period yesterday | --period today]
 * DESCRIPTION
 *	For the period (by default the last complete report_period, on UTC
 *	multiples of it: yesterday 00:00 to 24:00 for a day), asks the
 *	store which policy domains had evaluations (rua_store_due()) and,
 *	for each mailto: destination of the domain's rua=, sends one
 *	report (rua_compose(): split when over report_max_size or the
 *	destination's "!size") through report_sendmail, then marks it sent
 *	so that a second run sends nothing again.  A destination in another
 *	organizational domain gets reports only when it published
 *	<domain>._report._dmarc.<host> (rua_dest_verify(), as doctor
 *	checks).  Last, rua_store_expire() deletes what is older than
 *	report_keep.
 *
 *	--dry-run DIR writes each report's .eml, .xml.gz and .xml into DIR
 *	instead of sending; it asks the DNS the same verification
 *	questions and says what would be skipped, marks nothing sent and
 *	expires nothing.
 *
 *	The XML leaves out the dmarc-2.0 namespace: Debian's Mail::DMARC
 *	(1.20211209) reads nothing of a report in it (t/e2e/rua-send.t
 *	shows it); everything else is RFC 9990's.
 * DIAGNOSTICS
 *	One line per report and destination on standard output ("sent",
 *	"wrote", "skipped"), errors on standard error.  Exit 0, 1 when a
 *	report could not be made or sent (the others still are), 2 on a
 *	usage or configuration error.
 * SEE ALSO
 *	authfilter-reports(8), compose.c, dest.c, sendmail.c, store.h
 */
#include "buildconf.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/config.h"
#include "lib/dns.h"
#include "milter/dmarc.h"
#include "milter/state.h"
#include "rua/compose.h"
#include "rua/dest.h"
#include "rua/reports_cli.h"
#include "rua/sendmail.h"
#include "rua/store.h"

#define P	"authfilter-reports send: "

struct send {
	const struct config *cfg;
	struct rua_store *store;
	struct dns	*dns;
	struct dmarc_lib *dmarc;
	const char	*dry;		/* --dry-run DIR, or NULL */
	int64_t		 begin, end;	/* [begin, end) */
	char		 period[72];	/* for the output */
	char		 org[256], email[256], receiver[256];
	time_t		 now;
	int		 failed;
};

static int
usage(void)
{
	fprintf(stderr, "usage: authfilter-reports [-c FILE] send "
	    "[--dry-run DIR] [--domain DOMAIN]\n"
	    "           [--period BEGIN,END | --period yesterday | "
	    "--period today]\n");
	return 2;
}

/* The period: 0, or -1 when arg is not one. */
static int
parse_period(const char *arg, unsigned period, time_t now, int64_t *begin,
    int64_t *end)
{
	long long b, e;
	int n = 0;

	if (arg == NULL) {		/* the last complete report_period */
		*end = (int64_t)now - (int64_t)now % period;
		*begin = *end - period;
		return 0;
	}
	if (strcmp(arg, "yesterday") == 0 || strcmp(arg, "today") == 0) {
		*begin = (int64_t)now - (int64_t)now % 86400;
		if (arg[0] == 'y')
			*begin -= 86400;
		*end = *begin + 86400;
		return 0;
	}
	if (sscanf(arg, "%lld,%lld%n", &b, &e, &n) != 2 ||
	    arg[n] != '\0' || b < 0 || e <= b)
		return -1;
	*begin = b;
	*end = e;
	return 0;
}

static void
human_size(size_t n, char *out, size_t outsz)
{
	if (n < 1000)
		snprintf(out, outsz, "%zu B", n);
	else if (n < 1000 * 1000)
		snprintf(out, outsz, "%.1f kB", (double)n / 1000);
	else
		snprintf(out, outsz, "%.1f MB", (double)n / 1e6);
}

/* Send (or write) the parts; 0, or -1 said. */
static int
deliver(struct send *s, const struct rua_compose *c, const char *domain,
    const char *to)
{
	char err[600];

	for (size_t i = 0; i < c->npart; i++) {
		const struct rua_part *p = &c->part[i];
		int rc = s->dry != NULL ?
		    rua_compose_save(p, s->dry, err, sizeof(err)) :
		    rua_sendmail(s->cfg->report_sendmail, s->email, p->msg,
		    p->msglen, s->cfg->report_sendmail_timeout, err,
		    sizeof(err));
		if (rc != 0) {
			fprintf(stderr, P "%s period %s to %s: report %s: %s\n",
			    domain, s->period, to, p->report_id, err);
			return -1;
		}
	}
	return 0;
}

/* One report (or its parts) of fb to one destination. */
static void
send_dest(struct send *s, struct rua_feedback *fb, const struct rua_dest *d)
{
	const char *domain = fb->pub.domain;
	char err[600], name[RUA_VERIFY_NAME_MAX], size[32];
	struct rua_compose_opts o;
	struct rua_compose c;
	size_t bytes = 0;
	uint64_t msgs = 0;
	int rc;

	rc = rua_store_was_sent(s->store, domain, d->addr, s->begin, s->end,
	    err, sizeof(err));
	if (rc != 0) {
		if (rc < 0) {
			fprintf(stderr, P "%s: %s\n", domain, err);
			s->failed = 1;
		} else
			printf("skipped %s period %s to %s: already sent\n",
			    domain, s->period, d->addr);
		return;
	}
	switch (rua_dest_verify(s->dns, s->dmarc, domain, d->host, name, err,
	    sizeof(err))) {
	case RUA_VERIFY_SAME_ORG:
	case RUA_VERIFY_OK:
		break;
	case RUA_VERIFY_MISSING:
		printf("skipped %s period %s to %s: external destination not "
		    "verified (%s)\n", domain, s->period, d->addr, err);
		return;
	case RUA_VERIFY_TEMPFAIL:
		fprintf(stderr, P "%s period %s to %s: external destination "
		    "not checked: %s\n", domain, s->period, d->addr, err);
		s->failed = 1;
		return;
	}
	memset(&o, 0, sizeof(o));
	o.receiver = s->receiver;
	o.from = s->email;
	o.to = d->addr;
	o.now = s->now;
	/* RFC 7489 6.2: the destination's "!size" when it is smaller. */
	o.max_size = s->cfg->report_max_size;
	if (d->max_size != 0 && d->max_size < o.max_size)
		o.max_size = (size_t)d->max_size;
	if (rua_compose(fb, &o, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, P "%s period %s to %s: %s\n", domain, s->period,
		    d->addr, err);
		s->failed = 1;
		return;
	}
	if (deliver(s, &c, domain, d->addr) != 0) {
		s->failed = 1;
		rua_compose_free(&c);
		return;
	}
	/* A period not over yet (--period today) is not marked: the
	 * timer's run after it ends sends the whole of it. */
	if (s->dry == NULL && s->end <= (int64_t)time(NULL) &&
	    rua_store_mark_sent(s->store, domain, d->addr,
	    s->begin, s->end, c.part[0].report_id, err, sizeof(err)) != 0) {
		fprintf(stderr, P "%s period %s to %s: sent, but not recorded "
		    "as sent (a next run sends it again): %s\n", domain,
		    s->period, d->addr, err);
		s->failed = 1;
	}
	for (size_t i = 0; i < c.npart; i++) {
		msgs += c.part[i].messages;
		bytes += c.part[i].msglen;
	}
	human_size(bytes, size, sizeof(size));
	printf("%s %s period %s to %s: %zu records, %" PRIu64 " messages, "
	    "%s", s->dry != NULL ? "wrote" : "sent", domain, s->period,
	    d->addr, fb->nrec, msgs, size);
	if (c.npart > 1)
		printf(" in %zu reports", c.npart);
	if (s->dry != NULL)
		printf(": %s/%s.eml%s", s->dry, c.part[0].name,
		    c.npart > 1 ? " ..." : "");
	printf("\n");
	fflush(stdout);
	rua_compose_free(&c);
}

/* Every destination of one policy domain. */
static void
send_domain(struct send *s, const struct rua_due *due)
{
	struct rua_dest d[RUA_DEST_MAX];
	struct rua_feedback fb;
	char err[600];
	size_t n = rua_dest_parse(due->rua, d, RUA_DEST_MAX);

	if (n == 0) {
		printf("skipped %s period %s: no mailto: destination in "
		    "rua=%s\n", due->domain, s->period, due->rua);
		return;
	}
	memset(&fb, 0, sizeof(fb));
	if (rua_store_feedback(s->store, due->domain, s->begin, s->end, &fb,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, P "%s: %s\n", due->domain, err);
		s->failed = 1;
		rua_feedback_free(&fb);
		return;
	}
	if (fb.nrec == 0) {
		printf("skipped %s period %s: no records\n", due->domain,
		    s->period);
		rua_feedback_free(&fb);
		return;
	}
	snprintf(fb.version, sizeof(fb.version), "1.0");
	fb.rfc9990 = 0;		/* see DESCRIPTION */
	snprintf(fb.org_name, sizeof(fb.org_name), "%s", s->org);
	snprintf(fb.email, sizeof(fb.email), "%s", s->email);
	snprintf(fb.generator, sizeof(fb.generator), "%s %s", PACKAGE_NAME,
	    PACKAGE_VERSION);
	/* RFC 9990 <date_range>: the last second, inclusive. */
	fb.begin = s->begin;
	fb.end = s->end - 1;
	if (fb.pub.domain[0] == '\0')
		snprintf(fb.pub.domain, sizeof(fb.pub.domain), "%s",
		    due->domain);
	for (size_t i = 0; i < n; i++)
		send_dest(s, &fb, &d[i]);
	rua_feedback_free(&fb);
}

/* The store, the resolver and the metadata: 0, or -1 said. */
static int
open_all(struct send *s)
{
	const struct config *cfg = s->cfg;
	char err[600];
	const char *at;

	snprintf(s->org, sizeof(s->org), "%s", *cfg->report_org_name ?
	    cfg->report_org_name : cfg->authserv_id);
	if (*cfg->report_email != '\0')
		snprintf(s->email, sizeof(s->email), "%s", cfg->report_email);
	else
		snprintf(s->email, sizeof(s->email), "postmaster@%s",
		    cfg->authserv_id);
	at = strrchr(s->email, '@');
	snprintf(s->receiver, sizeof(s->receiver), "%s", at ? at + 1 :
	    cfg->authserv_id);
	if (*cfg->report_db == '\0') {
		fprintf(stderr, P "report_db is empty: no evaluations are "
		    "kept, no report can be made\n");
		return -1;
	}
	if ((s->store = rua_store_open(cfg->report_db, err,
	    sizeof(err))) == NULL ||
	    (s->dns = dns_new(cfg->dns_resolver, cfg->dns_timeout * 1000,
	    (unsigned)cfg->dns_retries, cfg->dns_trust_anchor, err,
	    sizeof(err))) == NULL ||
	    (s->dmarc = dmarc_lib_new(s->dns, state_suffix_list(cfg), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, P "%s\n", err);
		return -1;
	}
	return 0;
}

static int
run(struct send *s, const char *domain)
{
	struct rua_due *due = NULL;
	size_t n = 0;
	char err[600];
	long gone;

	if (rua_store_due(s->store, s->begin, s->end, domain, &due, &n, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, P "%s\n", err);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		send_domain(s, &due[i]);
	free(due);
	if (s->dry == NULL && (gone = rua_store_expire(s->store,
	    (int64_t)s->now - s->cfg->report_keep, err, sizeof(err))) < 0) {
		fprintf(stderr, P "expiring old data: %s\n", err);
		s->failed = 1;
	}
	return s->failed ? 1 : 0;
}

int
reports_send_main(int argc, char **argv, const char *conf)
{
	struct config_errors errs = { 0 };
	const char *period = NULL, *domain = NULL;
	struct config *cfg;
	struct send s;
	char b[32], e[32];
	int rc = 2;

	memset(&s, 0, sizeof(s));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 && i + 1 < argc)
			s.dry = argv[++i];
		else if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc)
			domain = argv[++i];
		else if (strcmp(argv[i], "--period") == 0 && i + 1 < argc)
			period = argv[++i];
		else
			return usage();
	}
	if ((cfg = config_load(conf, &errs)) == NULL) {
		for (size_t j = 0; j < errs.n; j++)
			fprintf(stderr, "%s\n", errs.msg[j]);
		config_errors_clear(&errs);
		return 2;
	}
	s.cfg = cfg;
	s.now = time(NULL);
	if (parse_period(period, cfg->report_period, s.now, &s.begin,
	    &s.end) != 0) {
		fprintf(stderr, P "--period %s: not BEGIN,END (seconds since "
		    "1970, BEGIN < END), yesterday or today\n", period);
		goto out;
	}
	rua_compose_utc(s.begin, b, sizeof(b));
	rua_compose_utc(s.end, e, sizeof(e));
	snprintf(s.period, sizeof(s.period), "%s..%s", b, e);
	if (s.dry != NULL && mkdir(s.dry, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, P "%s: %s\n", s.dry, strerror(errno));
		goto out;
	}
	/* A sendmail that dies early is an error of its report, not ours. */
	signal(SIGPIPE, SIG_IGN);
	rc = open_all(&s) != 0 ? 1 : run(&s, domain);
out:
	dmarc_lib_free(s.dmarc);
	dns_free(s.dns);
	if (s.store != NULL)
		rua_store_close(s.store);
	config_free(cfg);
	return rc;
}
