/*
 * NAME
 *	state -- the settings the daemon serves with, swapped whole on reload
 * SYNOPSIS
 *	st = state_build(path, &errs);
 *	if (st != NULL) state_install(st);
 *	cur = state_acquire(); ... state_release(cur);
 * DESCRIPTION
 *	A reload builds and validates a complete new state first; only
 *	then does one pointer swap under a lock make it current.  Messages
 *	in progress keep the reference they took when they started and
 *	finish with the old state, which is freed when its last message
 *	releases it.  The key store and the resolver are part of the state,
 *	so a reload swaps them with the configuration.
 */
#include "buildconf.h"

#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/dns.h"
#include "milter/keyproc.h"
#include "milter/loginmap.h"
#include "milter/sign.h"
#include "milter/signtable.h"
#include "lib/netlist.h"
#include "milter/state.h"
#include "milter/dmarc.h"
#include "policy/overrides.h"
#include "milter/spf.h"
#include "milter/verify.h"

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct af_state *current;
static unsigned long generation;

uid_t
state_key_owner(const struct config *cfg)
{
	struct passwd *pw;

	if (*cfg->user != '\0' && (pw = getpwnam(cfg->user)) != NULL)
		return pw->pw_uid;
	return geteuid();
}

const char *
state_suffix_list(const struct config *cfg)
{
	return cfg->dmarc_discovery == DMARC_DISCOVERY_PSL ?
	    cfg->public_suffix_list : NULL;
}

static void
state_free(struct af_state *st)
{
	sign_opts_free(st->sign);
	verify_lib_free(st->verify);
	spf_lib_free(st->spf);
	dmarc_lib_free(st->dmarc);
	overrides_free(st->overrides);
	dns_free(st->dns);
	loginmap_free(st->logins);
	signtable_free(st->signtable);
	config_errors_clear(&st->warnings);
	keyproc_free(st->keys);
	config_free(st->cfg);
	free(st);
}

/* Sizes past which a file named by a setting is surely the wrong file. */
#define TRUST_ANCHOR_MAX	(1 << 20)
#define SUFFIX_LIST_MAX		(16 << 20)
#define TABLE_MAX		(16 << 20)	/* their readers cap lower */

/* Every file a setting names is a regular file before anything reads
 * it: a FIFO would block -t and a reload, a directory makes libunbound
 * spin (lib/safefile.c). */
static int
check_paths(const struct config *cfg, struct config_errors *errs)
{
	const struct { const char *name, *path; off_t max; } f[] = {
		{ "sender_login_map", cfg->sender_login_map, TABLE_MAX },
		{ "signing_table", cfg->signing_table, TABLE_MAX },
		{ "policy_overrides", cfg->policy_overrides, TABLE_MAX },
		{ "dns_trust_anchor", cfg->dns_trust_anchor, TRUST_ANCHOR_MAX },
		{ "public_suffix_list", cfg->dmarc_discovery ==
		    DMARC_DISCOVERY_PSL ? cfg->public_suffix_list : "",
		    SUFFIX_LIST_MAX },
	};
	int rc = 0;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (*f[i].path != '\0' && config_check_file(cfg, f[i].name,
		    f[i].path, f[i].max, errs) != 0)
			rc = -1;
	return rc;
}

/* The FILE:LINE of the setting a library's error names ("dns_trust_anchor
 * /x: ..."), or FILE. */
static const char *
where_of(const struct config *cfg, const char *err)
{
	static const char *const named[] = { "sign_headers", "dns_trust_anchor",
	    "dns_resolver", "dns_retries", "public_suffix_list" };
	static _Thread_local char where[300];

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strncmp(err, named[i], strlen(named[i])) == 0)
			return config_where(cfg, named[i], where,
			    sizeof(where));
	return cfg->source;
}

/* Every signing_table entry names keys the store has; a key domain
 * that cannot align with the From domains it signs for is a warning
 * (DMARC fails unless another signature or SPF aligns). */
static int
check_signtable(struct af_state *st, struct config_errors *errs)
{
	const char *src = st->cfg->signing_table;
	size_t before = errs->n;

	for (size_t i = 0; i < signtable_count(st->signtable); i++) {
		const struct signtable_entry *e = signtable_entry(
		    st->signtable, i);
		size_t have = 0;

		for (size_t k = 0; k < st->keys->n; k++)
			have += strcmp(st->keys->keys[k].domain,
			    e->key_domain) == 0;
		if (have == 0)
			config_errors_add(errs, "%s:%u: no keys for %s in "
			    "key_dir (authfilter-keys new %s)", src, e->line,
			    e->key_domain, e->key_domain);
		for (size_t j = 0; j < e->nsel; j++)
			if (keystore_find(st->keys, e->key_domain,
			    e->selector[j]) == NULL)
				config_errors_add(errs, "%s:%u: no key %s/%s in "
				    "key_dir", src, e->line, e->key_domain,
				    e->selector[j]);
		if (e->kind == ST_ANY)
			continue;
		/* No DNS while loading: what the names alone rule out. */
		if (!dmarc_may_align(st->dmarc, e->domain, e->key_domain))
			config_errors_add(&st->warnings, "%s:%u: mail from %s "
			    "signed with d=%s never aligns for DMARC (another "
			    "organizational domain): receivers see a "
			    "third-party signature", src, e->line, e->domain,
			    e->key_domain);
	}
	return errs->n > before ? -1 : 0;
}

/* A SQLite report_db set in a directory that does not exist records
 * nothing: said at -t and in the log, not an error (mail flows).  The
 * default's directory is made by the package (tmpfiles.d); when it is
 * missing the writer says so in the log. */
static void
check_report_db(struct af_state *st)
{
	const char *db = st->cfg->report_db;
	const char *slash = strrchr(db, '/');
	char dir[1024], where[300];
	struct stat sb;

	if (config_setting_line(st->cfg, "report_db") == 0 ||
	    db[0] != '/' || slash == NULL ||
	    (size_t)(slash - db) >= sizeof(dir))
		return;
	memcpy(dir, db, (size_t)(slash - db));
	dir[slash - db] = '\0';
	if (dir[0] != '\0' && (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
		config_errors_add(&st->warnings, "%s: report_db %s: no "
		    "directory %s: DMARC evaluations are not recorded for "
		    "aggregate reports (create it, writable by the daemon's "
		    "user, or set report_db empty)", config_where(st->cfg,
		    "report_db", where, sizeof(where)), db, dir);
}

/* Postfix hands the milter mail submitted on this host (sendmail,
 * cron, scripts, our own DMARC reports) as from 127.0.0.1: an
 * internal_networks without loopback checks it as inbound, and enforce
 * may refuse it.  Said, not refused: it may be meant. */
static void
check_internal_loopback(struct af_state *st)
{
	char where[300];

	if (netlist_match_str(st->cfg->internal_networks, "127.0.0.1"))
		return;
	config_errors_add(&st->warnings, "%s: internal_networks leaves out "
	    "127.0.0.1: mail submitted on this host (sendmail, cron, DMARC "
	    "reports), which Postfix hands over as from 127.0.0.1, is "
	    "checked as inbound and not signed (add 127.0.0.0/8)",
	    config_where(st->cfg, "internal_networks", where, sizeof(where)));
}

struct af_state *
state_build(const char *path, struct config_errors *errs)
{
	struct af_state *st;
	char err[512];

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->refs = 1;
	if ((st->cfg = config_load(path, errs)) == NULL ||
	    check_paths(st->cfg, errs) != 0)
		goto fail;
	st->keys = keyproc_load(st->cfg->key_dir, state_key_owner(st->cfg),
	    errs);
	if (st->keys == NULL)
		goto fail;
	if (*st->cfg->sender_login_map != '\0' &&
	    (st->logins = loginmap_load(st->cfg->sender_login_map,
	    errs)) == NULL)
		goto fail;
	if (*st->cfg->policy_overrides != '\0' &&
	    (st->overrides = overrides_load(st->cfg->policy_overrides,
	    errs)) == NULL)
		goto fail;
	if ((st->sign = sign_opts_new(st->cfg->signature_ttl,
	    &st->cfg->sign_headers, &st->cfg->oversign_headers, err,
	    sizeof(err))) == NULL ||
	    (st->dns = dns_new(st->cfg->dns_resolver,
	    st->cfg->dns_timeout * 1000, (unsigned)st->cfg->dns_retries,
	    st->cfg->dns_trust_anchor, err, sizeof(err))) == NULL ||
	    (dns_set_trace(st->dns, st->cfg->log_dns), 0) ||
	    (st->verify = verify_lib_new(st->dns,
	    (unsigned)st->cfg->dkim_max_signatures, err, sizeof(err))) == NULL ||
	    (st->spf = spf_lib_new(st->dns, st->cfg->authserv_id, err,
	    sizeof(err))) == NULL ||
	    (st->dmarc = dmarc_lib_new(st->dns, state_suffix_list(st->cfg),
	    err, sizeof(err))) == NULL) {
		config_errors_add(errs, "%s: %s", where_of(st->cfg, err), err);
		goto fail;
	}
	if (*st->cfg->signing_table != '\0' &&
	    ((st->signtable = signtable_load(st->cfg->signing_table,
	    errs)) == NULL || check_signtable(st, errs) != 0))
		goto fail;
	check_report_db(st);
	check_internal_loopback(st);
	return st;
fail:
	state_free(st);
	return NULL;
}

void
state_install(struct af_state *st)
{
	struct af_state *old;

	pthread_mutex_lock(&state_lock);
	old = current;
	current = st;
	st->generation = ++generation;
	pthread_mutex_unlock(&state_lock);
	if (old != NULL)
		state_release(old);
}

struct af_state *
state_acquire(void)
{
	struct af_state *st;

	pthread_mutex_lock(&state_lock);
	st = current;
	if (st != NULL)
		st->refs++;
	pthread_mutex_unlock(&state_lock);
	return st;
}

void
state_release(struct af_state *st)
{
	int last;

	pthread_mutex_lock(&state_lock);
	last = --st->refs == 0;
	pthread_mutex_unlock(&state_lock);
	if (last)
		state_free(st);
}

void
state_shutdown(void)
{
	struct af_state *old;

	pthread_mutex_lock(&state_lock);
	old = current;
	current = NULL;
	pthread_mutex_unlock(&state_lock);
	if (old != NULL)
		state_release(old);
}
