/*
 * NAME
 *	keys_cli -- what the commands of authfilter-keys share
 * DESCRIPTION
 *	Usage and error output, domain names as given on the command line,
 *	a key's public half and what DNS serves for it (keypub.c),
 *	activating a key when DNS serves it, creating and loading keys, the
 *	resolver, telling a running daemon to reload, and the crash points
 *	of the crash tests (AF_KEYS_CRASH_AFTER).  Used by authfilter_keys.c
 *	(new, list, dns, activate, check), keys_rotate_cmd.c (rotate,
 *	retire, revoke, remove), keys_import.c (import) and keys_opendkim.c
 *	(import-opendkim); none uses another's commands, except that
 *	import-opendkim imports each key with import_key().  See
 *	authfilter-keys(8).
 */
#include "buildconf.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "keys/keygen.h"
#include "keys/keys_cli.h"
#include "keys/keypub.h"
#include "keys/keystore.h"
#include "keys/rotate.h"
#include "lib/dns.h"
#include "lib/from.h"

void
usage(void)
{
	fprintf(stderr, "usage: authfilter-keys [-c FILE] [--key-dir DIR] "
	    "COMMAND ...\n"
	    "  new DOMAIN [--alg rsa|ed25519] [--bits N] [--selector S]\n"
	    "  list\n"
	    "  dns DOMAIN SELECTOR\n"
	    "  activate DOMAIN SELECTOR [--force]\n"
	    "  import DOMAIN SELECTOR FILE [--activate]\n"
	    "  import-opendkim [/etc/opendkim.conf] [--table FILE]\n"
	    "  check [DOMAIN...]\n"
	    "  rotate DOMAIN|--all [--alg rsa|ed25519|both] [--bits N] [--every D]\n"
	    "         [--grace D] [--remove-after D] [--now]\n"
	    "  retire DOMAIN SELECTOR [--force]\n"
	    "  revoke DOMAIN SELECTOR [--force] [--grace D]\n"
	    "  remove DOMAIN SELECTOR [--force]\n");
	exit(2);
}

void
vsay(const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "authfilter-keys: %s", kind);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
}

int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
	return 1;
}

int
norm_domain(const char *in, char *out, size_t outsz)
{
	return domain_normalise(in, strlen(in), out, outsz);
}

enum act
activate_key(struct ctx *c, struct dns *d, struct key *k, int force,
    char *err, size_t errsz)
{
	char derr[512] = "", *p;
	enum pub st;

	if (k->state == KEY_REVOKED) {
		snprintf(err, errsz, "%s %s is revoked; make a new key",
		    k->domain, k->selector);
		return ACT_ERROR;
	}
	if ((p = public_of(c->key_dir, k, err, errsz)) == NULL)
		return ACT_ERROR;
	st = dns_check(d, k, p, NULL, derr, sizeof(derr));
	free(p);
	if (st != PUB_OK && !force) {
		snprintf(err, errsz, "DNS does not serve the key of %s %s (%s%s%s)",
		    k->domain, k->selector, pub_names[st], derr[0] ? ": " : "",
		    derr);
		return ACT_NOT_SERVED;
	}
	if (st != PUB_OK) {
		openlog("authfilter-keys", LOG_PID, LOG_MAIL);
		syslog(LOG_WARNING, "activate --force %s %s although DNS says "
		    "%s", k->domain, k->selector, pub_names[st]);
		closelog();
		fprintf(stderr, "authfilter-keys: warning: activating %s %s "
		    "although DNS says %s (--force)\n", k->domain, k->selector,
		    pub_names[st]);
		k->forced = 1;
	}
	k->state = KEY_ACTIVE;
	k->activated = time(NULL);
	if (keystore_write_state(c->key_dir, k, c->owner, err, errsz) != 0)
		return ACT_ERROR;
	return ACT_DONE;
}

void
tell_daemon(const struct ctx *c)
{
	FILE *fp = NULL;
	long pid = 0;
	char path[64], comm[32] = "";
	int fd;

	if (*c->cfg->pid_file == '\0') {
		printf("reload a running authfilter to use it (systemctl "
		    "reload authfilter); with pid_file set, authfilter-keys "
		    "does that itself\n");
		return;
	}
	if ((fd = open(c->cfg->pid_file, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || (fp = fdopen(fd, "r")) == NULL) {
		if (fd >= 0)
			close(fd);
		printf("%s: %s: reload a running authfilter by hand\n",
		    c->cfg->pid_file, strerror(errno));
		return;
	}
	if (fscanf(fp, "%ld", &pid) == 1 && pid > 1) {
		/* A stale pid file may name some other process now: signal
		 * only an authfilter. */
		FILE *cf;
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if ((cf = fopen(path, "r")) != NULL) {
			if (fgets(comm, sizeof(comm), cf) == NULL)
				comm[0] = '\0';
			fclose(cf);
		}
		comm[strcspn(comm, "\n")] = '\0';
	}
	if (strcmp(comm, "authfilter") == 0 && kill((pid_t)pid, SIGHUP) == 0)
		printf("told authfilter (pid %ld) to reload\n", pid);
	else
		printf("%s names no running authfilter; reload authfilter by "
		    "hand\n", c->cfg->pid_file);
	fclose(fp);
}

/* Fault injection for the crash tests: AF_KEYS_CRASH_AFTER=N ends the
 * process after the Nth write to the store, as a power cut would. */
void
crash_point(void)
{
	static int writes;
	const char *e = getenv("AF_KEYS_CRASH_AFTER");

	if (e != NULL && ++writes == atoi(e))
		_exit(99);
}


/* A new pending key for domain in the store (selector sel, or a dated
 * one when sel is empty); prints the record to publish.  0 or -1. */
int
create_key(struct ctx *c, struct keystore *ks, const char *domain,
    enum key_alg alg, unsigned bits, const char *sel_arg, struct key *out)
{
	char err[512], date[16], sel[KEY_SELECTOR_MAX + 1], *pem;
	char *p = NULL, *rec = NULL, *line = NULL;
	struct key k;
	time_t now = time(NULL);
	int rc = -1;

	snprintf(sel, sizeof(sel), "%s", sel_arg);
	if (sel[0] == '\0') {
		/* r20261123 / e20261123, then -2, -3 on the same day */
		strftime(date, sizeof(date), "%Y%m%d", gmtime(&now));
		snprintf(sel, sizeof(sel), "%c%s", alg == KEY_RSA ? 'r' : 'e',
		    date);
		for (int n = 2; keystore_find(ks, domain, sel) != NULL; n++)
			snprintf(sel, sizeof(sel), "%c%s-%d",
			    alg == KEY_RSA ? 'r' : 'e', date, n);
	}
	if (keystore_find(ks, domain, sel) != NULL) {
		fail("%s/%s already exists", domain, sel);
		goto out;
	}
	if ((pem = keygen_new(alg, bits, err, sizeof(err))) == NULL) {
		fail("%s", err);
		goto out;
	}
	memset(&k, 0, sizeof(k));
	snprintf(k.domain, sizeof(k.domain), "%s", domain);
	snprintf(k.selector, sizeof(k.selector), "%s", sel);
	k.alg = alg;
	k.bits = alg == KEY_RSA ? bits : 256;
	k.state = KEY_PENDING;
	k.created = now;
	if ((p = keygen_public_b64(pem, strlen(pem), err, sizeof(err))) == NULL ||
	    keystore_write_private(c->key_dir, &k, pem, c->owner, err,
	    sizeof(err)) != 0 || (crash_point(), 0) ||
	    keystore_write_state(c->key_dir, &k, c->owner, err, sizeof(err)) != 0) {
		fail("%s", err);
		free_secret(pem);
		goto out;
	}
	free_secret(pem);
	crash_point();
	rec = keygen_record(alg, p);
	line = keygen_zone_line(domain, sel, rec);
	printf("created %s %s (%s, %u bits), state pending: it signs nothing "
	    "yet\n%s\n", domain, sel, key_alg_name(alg), k.bits, line);
	*out = k;
	rc = 0;
out:
	free(p);
	free(rec);
	free(line);
	return rc;
}

struct keystore *
load_or_fail(struct ctx *c)
{
	struct config_errors errs = { 0 };
	struct keystore *ks = keystore_load(c->key_dir, 0, c->owner, &errs);

	for (size_t i = 0; i < errs.n; i++)
		fail("%s", errs.msg[i]);
	config_errors_clear(&errs);
	return ks;
}

/* The store and the key named by DOMAIN SELECTOR arguments; NULL (said
 * on stderr) when the domain is bad, the store broken or the key absent. */
struct key *
load_key(struct ctx *c, const char *dom_arg, const char *sel,
    struct keystore **ks)
{
	char domain[KEY_DOMAIN_MAX + 1];
	struct key *k;

	*ks = NULL;
	if (norm_domain(dom_arg, domain, sizeof(domain)) != 0) {
		fail("\"%s\" is not a domain name", dom_arg);
		return NULL;
	}
	if ((*ks = load_or_fail(c)) == NULL)
		return NULL;
	if ((k = keystore_find(*ks, domain, sel)) == NULL)
		fail("no key %s %s in %s", domain, sel, c->key_dir);
	return k;
}

struct dns *
resolver(struct ctx *c)
{
	char err[512];
	struct dns *d = dns_new(c->cfg->dns_resolver, c->cfg->dns_timeout * 1000,
	    (unsigned)c->cfg->dns_retries, c->cfg->dns_trust_anchor, err,
	    sizeof(err));

	if (d == NULL)
		fail("%s", err);
	return d;
}
