/*
 * NAME
 *	authfilter-keys -- create, publish and activate DKIM keys
 * SYNOPSIS
 *	authfilter-keys [-c FILE] [--key-dir DIR] COMMAND ...
 *	  new DOMAIN [--alg rsa|ed25519] [--bits N] [--selector S]
 *	  list
 *	  dns DOMAIN SELECTOR
 *	  activate DOMAIN SELECTOR [--force]
 *	  check [DOMAIN...]
 *	  rotate DOMAIN [--alg rsa|ed25519|both] [--every D] [--grace D]
 *	  retire | revoke | remove DOMAIN SELECTOR [--force]
 * DESCRIPTION
 *	Reads key_dir, dns_resolver, user and pid_file from the daemon's
 *	configuration (the same parser as authfilter -t).  New keys start
 *	pending: they sign nothing until "activate" has seen DNS serve the
 *	matching record.  Files are written owned by the daemon's user.
 *	After a change, a running daemon found through pid_file is told to
 *	reload.  See authfilter-keys(8).
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on an error (said on stderr), 2 on bad usage.
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
#include "keys/keystore.h"
#include "keys/rotate.h"
#include "milter/dns.h"
#include "milter/from.h"
#include "keys/keys_cli.h"

#define DEFAULT_CONFIG "/etc/authfilter/authfilter.conf"



void
usage(void)
{
	fprintf(stderr, "usage: authfilter-keys [-c FILE] [--key-dir DIR] "
	    "COMMAND ...\n"
	    "  new DOMAIN [--alg rsa|ed25519] [--bits N] [--selector S]\n"
	    "  list\n"
	    "  dns DOMAIN SELECTOR\n"
	    "  activate DOMAIN SELECTOR [--force]\n"
	    "  check [DOMAIN...]\n"
	    "  rotate DOMAIN [--alg rsa|ed25519|both] [--bits N] [--every D]\n"
	    "         [--grace D] [--remove-after D] [--now]\n"
	    "  retire DOMAIN SELECTOR [--force]\n"
	    "  revoke DOMAIN SELECTOR [--force] [--grace D]\n"
	    "  remove DOMAIN SELECTOR [--force]\n");
	exit(2);
}

int
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "authfilter-keys: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return 1;
}

static void
free_secret(char *s)
{
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

int
norm_domain(const char *in, char *out, size_t outsz)
{
	return domain_normalise(in, strlen(in), out, outsz);
}

/* The private key file of domain/selector, as text (caller frees). */
static char *
read_pem(const struct ctx *c, const char *domain, const char *selector,
    size_t *len)
{
	char path[4096];
	FILE *fp;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s/%s.pem", c->key_dir, domain,
	    selector);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	buf = calloc(1, 65537);
	if (buf != NULL)
		*len = fread(buf, 1, 65536, fp);
	fclose(fp);
	return buf;
}

char *
public_of(const struct ctx *c, const struct key *k, char *err, size_t errsz)
{
	size_t len = 0;
	char *pem = read_pem(c, k->domain, k->selector, &len), *p;

	if (pem == NULL) {
		snprintf(err, errsz, "%s/%s/%s.pem: %s", c->key_dir, k->domain,
		    k->selector, strerror(errno));
		return NULL;
	}
	p = keygen_public_b64(pem, len, err, errsz);
	free_secret(pem);
	return p;
}


static const char *pub_names[] = { "published", "missing", "differs",
    "ambiguous", "dns-error" };

/* What DNS serves for k compared with its public key p. */
enum pub
dns_check(struct dns *d, const struct key *k, const char *p, unsigned *ttl,
    char *err, size_t errsz)
{
	char name[KEY_SELECTOR_MAX + KEY_DOMAIN_MAX + 16], **txt;
	size_t n, dkim = 0, match = 0;
	enum dns_status st;
	unsigned t;

	snprintf(name, sizeof(name), "%s._domainkey.%s", k->selector,
	    k->domain);
	st = dns_txt_ttl(d, name, &txt, &n, ttl != NULL ? ttl : &t, err,
	    errsz);
	if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		return PUB_MISSING;
	if (st != DNS_OK)
		return PUB_DNS_ERROR;
	for (size_t i = 0; i < n; i++) {
		if (strstr(txt[i], "p=") == NULL)
			continue;
		dkim++;
		match += keygen_record_matches(txt[i], k->alg, p);
	}
	dns_txt_free(txt);
	if (dkim > 1) {
		snprintf(err, errsz, "%s: %zu key records; verifiers may pick "
		    "any of them", name, dkim);
		return PUB_AMBIGUOUS;
	}
	if (dkim == 0)
		return PUB_MISSING;
	return match == 1 ? PUB_OK : PUB_DIFFERS;
}

void
tell_daemon(const struct ctx *c)
{
	FILE *fp = NULL;
	long pid = 0;
	char path[64], comm[32] = "";
	int fd;

	if (*c->cfg->pid_file == '\0' || (fd = open(c->cfg->pid_file,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		printf("reload a running authfilter to use it: kill -HUP <pid>\n");
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


static int
cmd_new(struct ctx *c, int argc, char **argv)
{
	char domain[KEY_DOMAIN_MAX + 1], sel[KEY_SELECTOR_MAX + 1] = "";
	struct config_errors errs = { 0 };
	struct keystore *ks;
	struct key k;
	unsigned bits = 2048;
	enum key_alg alg = KEY_RSA;
	int rc;

	if (argc < 1 || norm_domain(argv[0], domain, sizeof(domain)) != 0)
		return argc < 1 ? (usage(), 2) :
		    fail("\"%s\" is not a domain name", argv[0]);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "rsa") == 0)
				alg = KEY_RSA;
			else if (strcmp(argv[i], "ed25519") == 0)
				alg = KEY_ED25519;
			else
				return fail("--alg: rsa or ed25519");
		} else if (strcmp(argv[i], "--bits") == 0 && i + 1 < argc)
			bits = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--selector") == 0 && i + 1 < argc)
			snprintf(sel, sizeof(sel), "%s", argv[++i]);
		else
			usage();
	}
	if ((ks = keystore_load(c->key_dir, 0, c->owner, &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fail("%s", errs.msg[i]);
		config_errors_clear(&errs);
		return 1;
	}
	if (sel[0] != '\0' && !key_valid_selector(sel)) {
		fail("\"%s\" is not a valid selector (letters, digits, '-', "
		    "'_', dots between labels)", sel);
		keystore_free(ks);
		return 1;
	}
	rc = create_key(c, ks, domain, alg, bits, sel, &k) == 0 ? 0 : 1;
	if (rc == 0)
		printf("publish this record in DNS, then run: authfilter-keys "
		    "activate %s %s\n", domain, k.selector);
	keystore_free(ks);
	return rc;
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

static int
cmd_list(struct ctx *c)
{
	struct keystore *ks = load_or_fail(c);
	struct dns *d;
	char err[512], age[32], *p;
	time_t now = time(NULL);

	if (ks == NULL || (d = resolver(c)) == NULL) {
		keystore_free(ks);
		return 1;
	}
	printf("%-30s %-16s %-15s %-5s %-9s %-6s %s\n", "DOMAIN", "SELECTOR",
	    "ALGORITHM", "BITS", "STATE", "AGE", "DNS");
	for (size_t i = 0; i < ks->n; i++) {
		const struct key *k = &ks->keys[i];
		const char *dns = "no-key-file";

		if ((p = public_of(c, k, err, sizeof(err))) != NULL)
			dns = pub_names[dns_check(d, k, p, NULL, err,
			    sizeof(err))];
		free(p);
		snprintf(age, sizeof(age), "%ldd",
		    (long)((now - k->created) / 86400));
		printf("%-30s %-16s %-15s %-5u %-9s %-6s %s\n", k->domain,
		    k->selector, key_alg_name(k->alg), k->bits,
		    key_state_name(k->state), age, dns);
	}
	dns_free(d);
	keystore_free(ks);
	return 0;
}

static int
cmd_dns(struct ctx *c, int argc, char **argv)
{
	char err[512], *p, *rec, *line;
	struct keystore *ks;
	struct key *k;
	int rc = 1;

	if (argc != 2)
		usage();
	if ((k = load_key(c, argv[0], argv[1], &ks)) == NULL) {
		/* said by load_key */
	} else if ((p = public_of(c, k, err, sizeof(err))) == NULL) {
		fail("%s", err);
	} else {
		rec = keygen_record(k->alg, p);
		line = keygen_zone_line(k->domain, k->selector, rec);
		printf("%s\n", line);
		free(line);
		free(rec);
		free(p);
		rc = 0;
	}
	keystore_free(ks);
	return rc;
}

static int
cmd_activate(struct ctx *c, int argc, char **argv)
{
	char err[512] = "", *p = NULL;
	const char *domain;
	struct keystore *ks;
	struct dns *d = NULL;
	struct key *k;
	enum pub st;
	int force = 0, rc = 1;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--force")))
		usage();
	force = argc == 3;
	if ((k = load_key(c, argv[0], argv[1], &ks)) == NULL)
		goto out;
	domain = k->domain;
	if (k->state == KEY_ACTIVE) {
		printf("%s %s is already active\n", domain, k->selector);
		rc = 0;
		goto out;
	}
	if (k->state == KEY_REVOKED) {
		fail("%s %s is revoked; make a new key", domain, k->selector);
		goto out;
	}
	if ((p = public_of(c, k, err, sizeof(err))) == NULL ||
	    (d = resolver(c)) == NULL) {
		if (p == NULL)
			fail("%s", err);
		goto out;
	}
	st = dns_check(d, k, p, NULL, err, sizeof(err));
	if (st != PUB_OK && !force) {
		fail("DNS does not serve the key of %s %s (%s%s%s); publish the "
		    "record from \"authfilter-keys dns %s %s\" and try again, "
		    "or use --force", domain, k->selector, pub_names[st],
		    err[0] ? ": " : "", err, domain, k->selector);
		goto out;
	}
	if (st != PUB_OK) {
		openlog("authfilter-keys", LOG_PID, LOG_MAIL);
		syslog(LOG_WARNING, "activate --force %s %s although DNS says "
		    "%s", domain, k->selector, pub_names[st]);
		closelog();
		fprintf(stderr, "authfilter-keys: warning: activating %s %s "
		    "although DNS says %s (--force)\n", domain, k->selector,
		    pub_names[st]);
		k->forced = 1;
	}
	k->state = KEY_ACTIVE;
	k->activated = time(NULL);
	if (keystore_write_state(c->key_dir, k, c->owner, err,
	    sizeof(err)) != 0) {
		fail("%s", err);
		goto out;
	}
	printf("%s %s is active: it signs from the next reload\n", domain,
	    k->selector);
	tell_daemon(c);
	rc = 0;
out:
	free(p);
	dns_free(d);
	keystore_free(ks);
	return rc;
}

/* For monitoring: every active and retiring key (of the named domains,
 * or all) must be served by DNS exactly as its private key says, and be
 * long enough.  One line per problem; exit 1 when there is any. */
static int
cmd_check(struct ctx *c, int argc, char **argv)
{
	struct keystore *ks = load_or_fail(c);
	struct dns *d;
	char err[512], *p;
	int problems = 0, checked = 0;
	unsigned char *seen = calloc((size_t)argc + 1, 1);

	if (seen == NULL || ks == NULL || (d = resolver(c)) == NULL) {
		free(seen);
		keystore_free(ks);
		return 1;
	}
	for (size_t i = 0; i < ks->n; i++) {
		const struct key *k = &ks->keys[i];
		int named = argc == 0;

		if (k->state != KEY_ACTIVE && k->state != KEY_RETIRING)
			continue;
		for (int a = 0; a < argc; a++) {
			char dom[KEY_DOMAIN_MAX + 1];
			if (norm_domain(argv[a], dom, sizeof(dom)) == 0 &&
			    strcmp(dom, k->domain) == 0)
				named = seen[a] = 1;
		}
		if (!named)
			continue;
		checked++;
		err[0] = '\0';
		if ((p = public_of(c, k, err, sizeof(err))) == NULL) {
			printf("%s %s: %s\n", k->domain, k->selector, err);
			problems++;
			continue;
		}
		enum pub st = dns_check(d, k, p, NULL, err, sizeof(err));
		free(p);
		if (st != PUB_OK) {
			printf("%s %s (%s): DNS record %s%s%s\n", k->domain,
			    k->selector, key_state_name(k->state), pub_names[st],
			    err[0] ? ": " : "", err);
			problems++;
		}
		size_t len = 0;
		char *pem = read_pem(c, k->domain, k->selector, &len);
		int bits = pem != NULL ? keygen_bits(pem, len) : -1;
		if (pem != NULL)
			free_secret(pem);
		if (k->alg == KEY_RSA && bits < (int)KEY_RSA_MIN_BITS) {
			printf("%s %s: RSA key of %d bits is too short (use at "
			    "least %u)\n", k->domain, k->selector, bits,
			    KEY_RSA_MIN_BITS);
			problems++;
		}
	}
	/* A domain named but not checked is a problem for monitoring: a
	 * typo must not read as "all well". */
	for (int a = 0; a < argc; a++)
		if (!seen[a]) {
			char dom[KEY_DOMAIN_MAX + 1];
			printf("%s: %s\n", argv[a], norm_domain(argv[a], dom,
			    sizeof(dom)) != 0 ? "not a domain name" :
			    "no active or retiring key in the store");
			problems++;
		}
	printf("checked %d key(s): %d problem(s)\n", checked, problems);
	free(seen);
	dns_free(d);
	keystore_free(ks);
	return problems > 0;
}

/* Write a key's state file; counts as a write for crash_point(). */
int
main(int argc, char **argv)
{
	const char *conf = NULL, *key_dir = NULL;
	struct config_errors errs = { 0 };
	struct ctx c;
	struct passwd *pw;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--key-dir") == 0 && i + 1 < argc)
			key_dir = argv[++i];
		else
			usage();
	}
	if (i >= argc)
		usage();
	memset(&c, 0, sizeof(c));
	if (conf == NULL && key_dir != NULL && access(DEFAULT_CONFIG, F_OK) != 0)
		c.cfg = config_parse("(defaults)", "", 0, &errs);
	else
		c.cfg = config_load(conf != NULL ? conf : DEFAULT_CONFIG, &errs);
	if (c.cfg == NULL) {
		for (size_t j = 0; j < errs.n; j++)
			fprintf(stderr, "%s\n", errs.msg[j]);
		config_errors_clear(&errs);
		return 1;
	}
	c.key_dir = key_dir != NULL ? key_dir : c.cfg->key_dir;
	c.owner = geteuid();
	if (geteuid() == 0 && *c.cfg->user != '\0' &&
	    (pw = getpwnam(c.cfg->user)) != NULL)
		c.owner = pw->pw_uid;

	const char *cmd = argv[i++];
	int rc, n = argc - i;
	char **rest = argv + i;
	/* new and activate change the store: the lock (held until exit),
	 * like rotate, retire, revoke and remove take it themselves. */
	if ((strcmp(cmd, "new") == 0 || strcmp(cmd, "activate") == 0) &&
	    take_lock(&c) < 0) {
		config_free(c.cfg);
		return 1;
	}
	if (strcmp(cmd, "new") == 0)
		rc = cmd_new(&c, n, rest);
	else if (strcmp(cmd, "list") == 0 && n == 0)
		rc = cmd_list(&c);
	else if (strcmp(cmd, "dns") == 0)
		rc = cmd_dns(&c, n, rest);
	else if (strcmp(cmd, "activate") == 0)
		rc = cmd_activate(&c, n, rest);
	else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(&c, n, rest);
	else if (strcmp(cmd, "rotate") == 0)
		rc = cmd_rotate(&c, n, rest);
	else if (strcmp(cmd, "retire") == 0 || strcmp(cmd, "revoke") == 0 ||
	    strcmp(cmd, "remove") == 0)
		rc = cmd_manual(&c, cmd, n, rest);
	else
		usage();
	config_free(c.cfg);
	return rc;
}
