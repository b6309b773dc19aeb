/*
 * NAME
 *	doctor -- authfilter doctor: what makes one's own mail land in spam
 * SYNOPSIS
 *	authfilter doctor [-c FILE] [--json] [DOMAIN...]
 * DESCRIPTION
 *	For every domain authfilter signs for (the key store's domains and
 *	the From domains of signing_table's address and domain lines), or
 *	the domains named, checks SPF (doctor_spf.c), the DKIM keys
 *	(doctor_dkim.c) and DMARC (doctor_dmarc.c); then the sending
 *	host's reverse DNS and HELO name (doctor_host.c), and derives the
 *	large mailbox providers' sender requirements (doctor_req.c).
 *	Every question goes to live DNS through dns_resolver.  The report
 *	(doctor_out.c) has one line per check, with one line of advice
 *	per problem.  See authfilter-doctor(8).
 * DIAGNOSTICS
 *	Exit status as a monitoring plugin's (Nagios): 0 every check OK,
 *	1 warnings only, 2 a check failed, 3 nothing failed but something
 *	could not be checked (DNS unreachable, a key file unreadable), or
 *	a usage or configuration error.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "doctor/doctor.h"
#include "keys/keystore.h"
#include "lib/config.h"
#include "lib/dns.h"
#include "lib/from.h"
#include "milter/dmarc.h"
#include "milter/signtable.h"
#include "milter/state.h"
#include "milter/spf.h"

/* Domains checked in one run: a hosting provider's table may be long,
 * but every domain costs some dozen lookups. */
#define DOCTOR_MAX_DOMAINS	1000
#define EXIT_UNKNOWN		3

static const char *const status_names[] = { "OK", "WARN", "UNKNOWN",
    "FAIL" };
static const int exit_codes[] = { 0, 1, 3, 2 };

const char *
doctor_status_name(enum doctor_status s)
{
	return status_names[s];
}

/* What DNS served reaches the terminal and the JSON: no control bytes,
 * and no bytes that would make the JSON invalid UTF-8. */
static void
printable(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			*p = '?';
}

void
doctor_add(struct doctor_checks *c, const char *area, const char *check,
    enum doctor_status st, const char *advice, const char *fmt, ...)
{
	struct doctor_check *grown, *k;
	va_list ap;

	if ((grown = realloc(c->c, (c->n + 1) * sizeof(*grown))) == NULL)
		return;
	c->c = grown;
	k = &c->c[c->n++];
	snprintf(k->area, sizeof(k->area), "%s", area);
	snprintf(k->check, sizeof(k->check), "%s", check);
	k->status = st;
	snprintf(k->advice, sizeof(k->advice), "%s", advice);
	va_start(ap, fmt);
	vsnprintf(k->detail, sizeof(k->detail), fmt, ap);
	va_end(ap);
	printable(k->detail);
	printable(k->advice);
}

void
doctor_checks_free(struct doctor_checks *c)
{
	free(c->c);
	c->c = NULL;
	c->n = 0;
}

static enum doctor_status
worst(const struct doctor_checks *c)
{
	enum doctor_status w = DOC_OK;

	for (size_t i = 0; i < c->n; i++)
		if (c->c[i].status > w)
			w = c->c[i].status;
	return w;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: authfilter doctor [-c FILE] [--json] "
	    "[DOMAIN...]\n");
}

struct domains {
	struct doctor_domain *d;
	size_t		 n;
};

/* Add from (signed with key_domain) unless it is there already. */
static int
add_domain(struct domains *ds, const char *from, const char *key_domain)
{
	struct doctor_domain *grown;

	for (size_t i = 0; i < ds->n; i++)
		if (strcmp(ds->d[i].from, from) == 0)
			return 0;
	if (ds->n >= DOCTOR_MAX_DOMAINS ||
	    (grown = realloc(ds->d, (ds->n + 1) * sizeof(*grown))) == NULL)
		return -1;
	ds->d = grown;
	memset(&ds->d[ds->n], 0, sizeof(ds->d[0]));
	snprintf(ds->d[ds->n].from, sizeof(ds->d[0].from), "%s", from);
	snprintf(ds->d[ds->n].key_domain, sizeof(ds->d[0].key_domain), "%s",
	    key_domain);
	ds->n++;
	return 0;
}

/* The key domain that signs mail from `from`: signing_table's, else
 * the From domain's own keys. */
static const char *
key_domain_of(const struct signtable *st, const char *from)
{
	const struct signtable_entry *e = st != NULL ?
	    signtable_lookup(st, "", from) : NULL;

	return e != NULL ? e->key_domain : from;
}

/* The domains named, or every domain signed for.  0, or -1 (said). */
static int
collect(const struct keystore *ks, const struct signtable *st, int argc,
    char **argv, struct domains *ds)
{
	char dom[FROM_DOMAIN_MAX + 1];

	for (int i = 0; i < argc; i++) {
		if (domain_normalise(argv[i], strlen(argv[i]), dom,
		    sizeof(dom)) != 0) {
			fprintf(stderr, "authfilter doctor: \"%s\" is not a "
			    "domain name\n", argv[i]);
			return -1;
		}
		if (add_domain(ds, dom, key_domain_of(st, dom)) != 0)
			return -1;
	}
	if (argc > 0)
		return 0;
	for (size_t i = 0; ks != NULL && i < ks->n; i++)
		if (ks->keys[i].state != KEY_REVOKED &&
		    add_domain(ds, ks->keys[i].domain, key_domain_of(st,
		    ks->keys[i].domain)) != 0)
			return -1;
	for (size_t i = 0; st != NULL && i < signtable_count(st); i++) {
		const struct signtable_entry *e = signtable_entry(st, i);
		/* ".domain" and "*" name no domain of their own. */
		if ((e->kind == ST_ADDRESS || e->kind == ST_DOMAIN) &&
		    add_domain(ds, e->domain, key_domain_of(st, e->domain)) !=
		    0)
			return -1;
	}
	return 0;
}

/* What a run needs besides the configuration; 0, or -1 (said). */
static int
open_env(struct doctor_env *env, struct keystore **ks, struct signtable **st)
{
	const struct config *cfg = env->cfg;
	struct config_errors errs = { 0 };
	char err[512];

	if ((env->dns = dns_new(cfg->dns_resolver, cfg->dns_timeout * 1000,
	    (unsigned)cfg->dns_retries, cfg->dns_trust_anchor, err,
	    sizeof(err))) == NULL ||
	    (env->spf = spf_lib_new(env->dns, cfg->authserv_id, err,
	    sizeof(err))) == NULL ||
	    (env->dmarc = dmarc_lib_new(env->dns, state_suffix_list(cfg), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "authfilter doctor: %s\n", err);
		return -1;
	}
	/* Metadata only: a broken store is a finding, not an end. */
	*ks = keystore_load(cfg->key_dir, 0, geteuid(), &errs);
	for (size_t i = 0; *ks == NULL && i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	config_errors_clear(&errs);
	env->ks = *ks;
	if (*cfg->signing_table != '\0' &&
	    (*st = signtable_load(cfg->signing_table, &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		config_errors_clear(&errs);
		return -1;
	}
	return 0;
}

static int
run(struct doctor_env *env, int argc, char **argv, int json)
{
	struct keystore *ks = NULL;
	struct signtable *st = NULL;
	struct domains ds = { NULL, 0 };
	struct doctor_checks host = { NULL, 0 };
	struct doctor_requirement req[DOCTOR_NREQ];
	struct doctor_report r;
	int rc = EXIT_UNKNOWN;

	if (open_env(env, &ks, &st) != 0 ||
	    collect(ks, st, argc, argv, &ds) != 0)
		goto out;
	if (ds.n == 0) {
		fprintf(stderr, "authfilter doctor: no domain to check: the "
		    "key store %s and signing_table name none; name them: "
		    "authfilter doctor DOMAIN...\n", env->cfg->key_dir);
		goto out;
	}
	doctor_host_identity(env, &host);
	for (size_t i = 0; i < ds.n; i++) {
		doctor_spf(env, &ds.d[i]);
		doctor_dkim(env, &ds.d[i]);
		doctor_dmarc(env, &ds.d[i]);
	}
	doctor_host(env, &host);
	doctor_requirements(env, ds.d, ds.n, &host, req);

	memset(&r, 0, sizeof(r));
	r.env = env;
	r.dom = ds.d;
	r.ndom = ds.n;
	r.host = &host;
	r.req = req;
	r.status = worst(&host);
	for (size_t i = 0; i < ds.n; i++)
		if (worst(&ds.d[i].checks) > r.status)
			r.status = worst(&ds.d[i].checks);
	r.exit_code = rc = exit_codes[r.status];
	if (json)
		doctor_print_json(&r, stdout);
	else
		doctor_print_text(&r, stdout);
out:
	for (size_t i = 0; i < ds.n; i++)
		doctor_checks_free(&ds.d[i].checks);
	free(ds.d);
	doctor_checks_free(&host);
	signtable_free(st);
	keystore_free(ks);
	return rc;
}

int
doctor_main(int argc, char **argv, const char *default_config)
{
	const char *path = default_config;
	struct config_errors errs = { 0 };
	struct doctor_env env;
	struct config *cfg;
	int i, json = 0, rc;

	for (i = 0; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return EXIT_UNKNOWN;
		}
	}
	memset(&env, 0, sizeof(env));
	env.now = time(NULL);
	if ((cfg = config_load(path, &errs)) == NULL) {
		for (size_t j = 0; j < errs.n; j++)
			fprintf(stderr, "%s\n", errs.msg[j]);
		config_errors_clear(&errs);
		return EXIT_UNKNOWN;
	}
	env.cfg = cfg;
	rc = run(&env, argc - i, argv + i, json);
	spf_lib_free(env.spf);
	dmarc_lib_free(env.dmarc);
	dns_free(env.dns);
	config_free(cfg);
	return rc;
}
