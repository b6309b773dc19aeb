/*
 * NAME
 *	authfilter-keys -- create, publish and activate DKIM keys
 * SYNOPSIS
 *	authfilter-keys [-c FILE] [--key-dir DIR] COMMAND ...
 *	  new DOMAIN [--alg rsa|ed25519] [--bits N] [--selector S]
 *	  list
 *	  dns DOMAIN SELECTOR
 *	  activate DOMAIN SELECTOR [--force]
 *	  import DOMAIN SELECTOR FILE [--activate]
 *	  import-opendkim [OPENDKIM.CONF] [--table FILE]
 *	  check [DOMAIN...]
 *	  rotate DOMAIN|--all [--alg rsa|ed25519|both] [--every D] [--grace D]
 *	  retire | revoke | remove DOMAIN SELECTOR [--force]
 * DESCRIPTION
 *	Reads key_dir, dns_resolver, user and pid_file from the daemon's
 *	configuration (the same parser as authfilter -t).  New keys start
 *	pending: they sign nothing until "activate" has seen DNS serve the
 *	matching record; "import" brings a key made elsewhere, and
 *	"import-opendkim" every key of an OpenDKIM configuration
 *	(keys_import.c, keys_opendkim.c).  Files are written owned by the
 *	daemon's user.
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
#include "lib/dns.h"
#include "lib/from.h"
#include "keys/keys_cli.h"

#define DEFAULT_CONFIG AF_CONFDIR "/authfilter.conf"



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

		if ((p = public_of(c->key_dir, k, err, sizeof(err))) != NULL)
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
	} else if ((p = public_of(c->key_dir, k, err, sizeof(err))) == NULL) {
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
	char err[512] = "";
	struct keystore *ks;
	struct dns *d = NULL;
	struct key *k;
	int force = 0, rc = 1;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--force")))
		usage();
	force = argc == 3;
	if ((k = load_key(c, argv[0], argv[1], &ks)) == NULL)
		goto out;
	if (k->state == KEY_ACTIVE) {
		printf("%s %s is already active\n", k->domain, k->selector);
		rc = 0;
		goto out;
	}
	if ((d = resolver(c)) == NULL)
		goto out;
	switch (activate_key(c, d, k, force, err, sizeof(err))) {
	case ACT_DONE:
		printf("%s %s is active: it signs from the next reload\n",
		    k->domain, k->selector);
		tell_daemon(c);
		rc = 0;
		break;
	case ACT_NOT_SERVED:
		fail("%s; publish the record from \"authfilter-keys dns %s %s\" "
		    "and try again, or use --force", err, k->domain,
		    k->selector);
		break;
	case ACT_ERROR:
		fail("%s", err);
		break;
	}
out:
	dns_free(d);
	keystore_free(ks);
	return rc;
}

/* The keys of the named domains (all without names) as the daemon loads
 * them: mode, owner (`user`), decoding and size of every active key.
 * Prints each key it would refuse; returns how many. */
static int
check_daemon_load(const struct ctx *c, int argc, char **argv)
{
	struct config_errors errs = { 0 };
	struct passwd *pw = *c->cfg->user != '\0' ?
	    getpwnam(c->cfg->user) : NULL;
	struct keystore *ks = keystore_load(c->key_dir, 1,
	    pw != NULL ? pw->pw_uid : geteuid(), &errs);
	char dom[KEY_DOMAIN_MAX + 3];
	int problems = 0, named;

	for (size_t i = 0; i < errs.n; i++) {
		named = argc == 0;
		for (int a = 0; a < argc && !named; a++) {
			if (norm_domain(argv[a], dom + 1, sizeof(dom) - 2) != 0)
				continue;
			dom[0] = '/';
			strcat(dom, "/");
			named = strstr(errs.msg[i], dom) != NULL;
		}
		if (named) {
			printf("%s (authfilter refuses this key)\n",
			    errs.msg[i]);
			problems++;
		}
	}
	config_errors_clear(&errs);
	keystore_free(ks);
	return problems;
}

/* For monitoring: every active and retiring key (of the named domains,
 * or all) must be served by DNS exactly as its private key says, be long
 * enough, and be one the daemon loads.  One line per problem; exit 1 when
 * there is any. */
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
		if ((p = public_of(c->key_dir, k, err, sizeof(err))) == NULL) {
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
		char *pem = read_pem(c->key_dir, k->domain, k->selector, &len);
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
	problems += check_daemon_load(c, argc, argv);
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
	/* new, activate and the imports change the store: the lock (held
	 * until exit), like rotate, retire, revoke and remove take it
	 * themselves. */
	if ((strcmp(cmd, "new") == 0 || strcmp(cmd, "activate") == 0 ||
	    strcmp(cmd, "import") == 0 ||
	    strcmp(cmd, "import-opendkim") == 0) && take_lock(&c) < 0) {
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
	else if (strcmp(cmd, "import") == 0)
		rc = cmd_import(&c, n, rest);
	else if (strcmp(cmd, "import-opendkim") == 0)
		rc = cmd_import_opendkim(&c, n, rest);
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
