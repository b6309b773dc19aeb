/*
 * NAME
 *	keys_rotate_cmd -- authfilter-keys rotate, retire, revoke, remove
 * DESCRIPTION
 *	The commands that move keys through their life cycle, and the lock
 *	that every command changing the store takes.  The plan of a
 *	rotation is keys/rotate.c (no I/O); this file carries it out: state
 *	files written one by one (each write atomic, AF_KEYS_CRASH_AFTER
 *	ends the process after the Nth for the crash tests), DNS asked
 *	through the daemon's resolver, the daemon told to reload.
 *	See authfilter-keys(8).
 */
#include "buildconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "keys/keygen.h"
#include "keys/keys_cli.h"
#include "keys/keystore.h"
#include "keys/rotate.h"
#include "lib/dns.h"

static int
save(struct ctx *c, const struct key *k)
{
	char err[512];

	if (keystore_write_state(c->key_dir, k, c->owner, err,
	    sizeof(err)) != 0)
		return fail("%s", err), -1;
	crash_point();
	return 0;
}

static void
print_date(const char *what, time_t t)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%s%s", what, buf);
}

/* The revocation record: the selector stays, its key is empty. */
static void
print_revoked_record(const struct key *k)
{
	char rec[64], *line;

	snprintf(rec, sizeof(rec), "v=DKIM1; k=%s; p=", key_alg_short(k->alg));
	line = keygen_zone_line(k->domain, k->selector, rec);
	printf("%s\n", line);
	free(line);
}

/* Serialise every command that changes the store: a second one fails
 * at once, so `activate` cannot be undone by a rotate that loaded the
 * store before it. */
int
take_lock(struct ctx *c)
{
	char path[4096], err[512];
	int fd;

	/* The first command on a new host creates the store's parents too
	 * (/etc/authfilter/keys). */
	if (keystore_make_dirs(c->key_dir, c->owner, err, sizeof(err)) != 0)
		return fail("%s", err), -1;
	snprintf(path, sizeof(path), "%s/.rotate.lock", c->key_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0)
		return fail("%s: %s", path, strerror(errno)), -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return fail("another authfilter-keys command is changing the "
		    "store (%s)", path), -1;
	}
	return fd;		/* held until exit */
}

enum { ROT_EXIT_NOTHING = 0, ROT_EXIT_ERROR = 1, ROT_EXIT_ADVANCED = 3,
	ROT_EXIT_WAITING = 4 };

/* One domain and algorithm: plan, then carry out each step.  Without
 * may_create, no new key is made (rotate --all for a domain and algorithm
 * whose keys are all retiring or revoked: someone stopped that signing). */
static int
rotate_one(struct ctx *c, struct keystore *ks, struct dns *d,
    const char *domain, enum key_alg alg, unsigned bits, int may_create,
    const struct rot_policy *pol, int *advanced, int *waiting,
    int *signing_changed)
{
	enum rot_dns *dns = calloc(ks->n + 1, sizeof(*dns));
	unsigned *ttl = calloc(ks->n + 1, sizeof(*ttl));
	struct rot_step steps[64];
	char err[512], *p, *rec, *line;
	time_t now = time(NULL);
	size_t ns;
	int rc = 0;

	if (dns == NULL || ttl == NULL) {
		free(dns);
		free(ttl);
		return fail("out of memory"), -1;
	}
	for (size_t i = 0; i < ks->n; i++) {
		const struct key *k = &ks->keys[i];
		if (k->state != KEY_PENDING || k->alg != alg ||
		    strcmp(k->domain, domain) != 0)
			continue;
		err[0] = '\0';
		if ((p = public_of(c->key_dir, k, err, sizeof(err))) == NULL) {
			fail("%s", err);
			rc = -1;
			goto out;
		}
		enum pub st = dns_check(d, k, p, &ttl[i], err, sizeof(err));
		free(p);
		if (st == PUB_DNS_ERROR) {
			fail("DNS lookup for %s %s failed: %s", k->domain,
			    k->selector, err);
			rc = -1;
			goto out;
		}
		dns[i] = st == PUB_OK ? ROT_DNS_SERVED : ROT_DNS_NOT_SERVED;
	}
	ns = rotate_plan(ks->keys, ks->n, domain, alg, dns, ttl, now, pol,
	    steps, sizeof(steps) / sizeof(steps[0]));
	for (size_t i = 0; i < ns && rc == 0; i++) {
		struct key *k = steps[i].kind == ROT_CREATE ? NULL :
		    &ks->keys[steps[i].key];
		struct key nk;
		switch (steps[i].kind) {
		case ROT_CREATE:
			if (!may_create)
				break;
			if (create_key(c, ks, domain, alg, bits, "", &nk) != 0)
				rc = -1;
			else
				printf("publish it; a later run activates it "
				    "once DNS has served it for its TTL\n");
			*advanced = 1;
			break;
		case ROT_SEEN:
			k->published = now;
			k->ttl = ttl[steps[i].key];
			rc = save(c, k);
			printf("%s %s: DNS serves the record; ", domain,
			    k->selector);
			print_date("it can be activated from ",
			    now + (time_t)k->ttl);
			printf(" (its TTL)\n");
			*waiting = 1;
			break;
		case ROT_UNSEEN:
			k->published = 0;
			rc = save(c, k);
			printf("%s %s: DNS no longer serves the record\n",
			    domain, k->selector);
			break;
		case ROT_WAIT:
			print_date("", now);
			printf(": %s %s waits for the TTL of its record\n",
			    domain, k->selector);
			*waiting = 1;
			break;
		case ROT_WAIT_DNS:
			if ((p = public_of(c->key_dir, k, err, sizeof(err))) != NULL) {
				rec = keygen_record(k->alg, p);
				line = keygen_zone_line(k->domain, k->selector,
				    rec);
				printf("%s %s is pending: DNS does not serve "
				    "its record yet; publish:\n%s\n", domain,
				    k->selector, line);
				free(line);
				free(rec);
				free(p);
			}
			*waiting = 1;
			break;
		case ROT_ACTIVATE:
			k->state = KEY_ACTIVE;
			k->activated = now;
			rc = save(c, k);
			printf("%s %s is active: it signs from the next "
			    "reload\n", domain, k->selector);
			*advanced = *signing_changed = 1;
			break;
		case ROT_RETIRE:
			k->state = KEY_RETIRING;
			k->retired = now;
			rc = save(c, k);
			printf("%s %s is retiring: it no longer signs; keep its "
			    "record published until ", domain, k->selector);
			print_date("", now + pol->grace);
			printf("\n");
			*advanced = *signing_changed = 1;
			break;
		case ROT_REVOKE:
			k->state = KEY_REVOKED;
			k->revoked = now;
			rc = save(c, k);
			printf("%s %s is revoked: replace its record with\n",
			    domain, k->selector);
			print_revoked_record(k);
			*advanced = 1;
			break;
		case ROT_REMOVE:
			if (keystore_remove(c->key_dir, k, err,
			    sizeof(err)) != 0) {
				fail("%s", err);
				rc = -1;
			} else {
				crash_point();
				printf("%s %s removed from the store; delete its "
				    "record %s._domainkey.%s from DNS\n",
				    domain, k->selector, k->selector, domain);
			}
			*advanced = 1;
			break;
		}
	}
out:
	free(dns);
	free(ttl);
	return rc;
}

/* The (domain, algorithm) pairs that rotate --all takes: every pair of
 * the store, each once; may_create when the pair has an active or a
 * pending key.  Returns how many were put in out (at most ks->n). */
struct rot_pair {
	char		 domain[KEY_DOMAIN_MAX + 1];
	enum key_alg	 alg;
	int		 may_create;
};

static size_t
store_pairs(const struct keystore *ks, int want_rsa, int want_ed,
    struct rot_pair *out)
{
	size_t n = 0, j;

	for (size_t i = 0; i < ks->n; i++) {
		const struct key *k = &ks->keys[i];
		int live = k->state == KEY_ACTIVE || k->state == KEY_PENDING;

		if ((k->alg == KEY_RSA && !want_rsa) ||
		    (k->alg == KEY_ED25519 && !want_ed))
			continue;
		for (j = 0; j < n; j++)
			if (out[j].alg == k->alg &&
			    strcmp(out[j].domain, k->domain) == 0)
				break;
		if (j == n) {
			snprintf(out[n].domain, sizeof(out[n].domain), "%s",
			    k->domain);
			out[n].alg = k->alg;
			out[n++].may_create = 0;
		}
		out[j].may_create |= live;
	}
	return n;
}

/* rotate DOMAIN|--all [--alg rsa|ed25519|both] [--bits N] [--every D]
 *        [--grace D] [--remove-after D] [--now] */
int
cmd_rotate(struct ctx *c, int argc, char **argv)
{
	char domain[KEY_DOMAIN_MAX + 1] = "";
	struct rot_policy pol = { ROT_EVERY_DEFAULT, ROT_GRACE_DEFAULT,
	    ROT_GRACE_DEFAULT, 0 };
	int want_rsa = 1, want_ed = 0, alg_given = 0, advanced = 0;
	int waiting = 0, signing_changed = 0, all, lock, rc = 0;
	unsigned bits = 2048, v;
	struct rot_pair *pairs = NULL;
	size_t npairs = 0;
	struct keystore *ks;
	struct dns *d;

	if (argc < 1)
		usage();
	all = strcmp(argv[0], "--all") == 0;
	if (!all && norm_domain(argv[0], domain, sizeof(domain)) != 0)
		return fail("\"%s\" is not a domain name", argv[0]);
	for (int i = 1; i < argc; i++) {
		time_t *dur = NULL;
		if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
			i++;
			want_rsa = strcmp(argv[i], "rsa") == 0 ||
			    strcmp(argv[i], "both") == 0;
			want_ed = strcmp(argv[i], "ed25519") == 0 ||
			    strcmp(argv[i], "both") == 0;
			if (!want_rsa && !want_ed)
				return fail("--alg: rsa, ed25519 or both");
			alg_given = 1;
			continue;
		}
		if (strcmp(argv[i], "--now") == 0) {
			pol.now = 1;
			continue;
		}
		if (strcmp(argv[i], "--bits") == 0 && i + 1 < argc) {
			bits = (unsigned)strtoul(argv[++i], NULL, 10);
			continue;
		}
		if (strcmp(argv[i], "--every") == 0)
			dur = &pol.every;
		else if (strcmp(argv[i], "--grace") == 0)
			dur = &pol.grace;
		else if (strcmp(argv[i], "--remove-after") == 0)
			dur = &pol.remove_after;
		if (dur == NULL || i + 1 >= argc)
			usage();
		if (config_parse_duration(argv[++i], &v) != 0)
			return fail("%s: \"%s\" is not a duration (e.g. 2w, "
			    "7d, 12h, 30s)", argv[i - 1], argv[i]);
		*dur = (time_t)v;
	}
	/* --all: the algorithms each domain has keys of, unless --alg. */
	if (all && !alg_given)
		want_rsa = want_ed = 1;
	if ((lock = take_lock(c)) < 0)
		return ROT_EXIT_ERROR;
	if ((ks = load_or_fail(c)) == NULL || (d = resolver(c)) == NULL) {
		keystore_free(ks);
		close(lock);
		return ROT_EXIT_ERROR;
	}
	if (all) {
		if ((pairs = calloc(ks->n + 1, sizeof(*pairs))) == NULL) {
			fail("out of memory");
			rc = ROT_EXIT_ERROR;
		} else
			npairs = store_pairs(ks, want_rsa, want_ed, pairs);
	} else if ((pairs = calloc(2, sizeof(*pairs))) != NULL) {
		for (int a = 0; a < 2; a++)
			if (a == 0 ? want_rsa : want_ed) {
				snprintf(pairs[npairs].domain,
				    sizeof(pairs[npairs].domain), "%s", domain);
				pairs[npairs].alg = a == 0 ? KEY_RSA :
				    KEY_ED25519;
				pairs[npairs++].may_create = 1;
			}
	} else {
		fail("out of memory");
		rc = ROT_EXIT_ERROR;
	}
	for (size_t i = 0; i < npairs; i++) {
		/* The pass before may have changed the store: read it again.
		 * With --all one domain's failure does not stop the others. */
		if (i > 0) {
			keystore_free(ks);
			if ((ks = load_or_fail(c)) == NULL) {
				rc = ROT_EXIT_ERROR;
				break;
			}
		}
		if (rotate_one(c, ks, d, pairs[i].domain, pairs[i].alg,
		    pairs[i].alg == KEY_RSA ? bits : 256, pairs[i].may_create,
		    &pol, &advanced, &waiting, &signing_changed) != 0) {
			rc = ROT_EXIT_ERROR;
			if (!all)
				break;
		}
	}
	if (signing_changed)
		tell_daemon(c);
	if (rc == 0)
		rc = advanced ? ROT_EXIT_ADVANCED : waiting ?
		    ROT_EXIT_WAITING : ROT_EXIT_NOTHING;
	if (rc == ROT_EXIT_NOTHING)
		printf("%s: nothing to do\n", all ? (npairs > 0 ?
		    "every domain" : "no keys in the store") : domain);
	free(pairs);
	dns_free(d);
	keystore_free(ks);
	close(lock);
	return rc;
}

/* retire / revoke / remove DOMAIN SELECTOR [--force] [--grace D] */
int
cmd_manual(struct ctx *c, const char *cmd, int argc, char **argv)
{
	struct keystore *ks;
	struct key *k;
	time_t now = time(NULL), grace = 7 * 86400;
	int force = 0, rc = 1, lock;
	unsigned v;

	if (argc < 2)
		usage();
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc &&
		    config_parse_duration(argv[i + 1], &v) == 0) {
			grace = (time_t)v;
			i++;
		} else
			usage();
	}
	if ((lock = take_lock(c)) < 0)
		return 1;
	if ((k = load_key(c, argv[0], argv[1], &ks)) == NULL)
		goto out;
	if (strcmp(cmd, "retire") == 0) {
		size_t others = 0;
		for (size_t i = 0; i < ks->n; i++)
			others += ks->keys[i].state == KEY_ACTIVE &&
			    &ks->keys[i] != k && ks->keys[i].alg == k->alg &&
			    strcmp(ks->keys[i].domain, k->domain) == 0;
		if (k->state != KEY_ACTIVE) {
			fail("%s %s is %s, not active", k->domain, k->selector,
			    key_state_name(k->state));
			goto out;
		}
		if (others == 0 && !force) {
			fail("%s %s is the only active %s key of %s: mail "
			    "would leave without that signature (use rotate, "
			    "or --force)", k->domain, k->selector,
			    key_alg_short(k->alg), k->domain);
			goto out;
		}
		k->state = KEY_RETIRING;
		k->retired = now;
		if (save(c, k) != 0)
			goto out;
		printf("%s %s is retiring; keep its record published until ",
		    k->domain, k->selector);
		print_date("", now + grace);
		printf("\n");
		tell_daemon(c);
	} else if (strcmp(cmd, "revoke") == 0) {
		if (k->state == KEY_REVOKED) {
			printf("%s %s is already revoked\n", k->domain,
			    k->selector);
			rc = 0;
			goto out;
		}
		if (!force && (k->state != KEY_RETIRING ||
		    now - k->retired < grace)) {
			fail("%s %s is %s%s: mail it signed may still be on "
			    "its way (use --force to revoke anyway)", k->domain,
			    k->selector, key_state_name(k->state),
			    k->state == KEY_RETIRING ? " within its grace "
			    "period" : "");
			goto out;
		}
		k->state = KEY_REVOKED;
		k->revoked = now;
		if (save(c, k) != 0)
			goto out;
		printf("%s %s is revoked: replace its record with\n", k->domain,
		    k->selector);
		print_revoked_record(k);
		tell_daemon(c);
	} else {
		char err[512];
		if (!force && k->state != KEY_REVOKED &&
		    k->state != KEY_PENDING) {
			fail("%s %s is %s: revoke it first (or --force)",
			    k->domain, k->selector, key_state_name(k->state));
			goto out;
		}
		if (keystore_remove(c->key_dir, k, err, sizeof(err)) != 0) {
			fail("%s", err);
			goto out;
		}
		printf("%s %s removed from the store; delete its record "
		    "%s._domainkey.%s from DNS\n", k->domain, k->selector,
		    k->selector, k->domain);
	}
	rc = 0;
out:
	keystore_free(ks);
	close(lock);
	return rc;
}
