/*
 * NAME
 *	keys_import -- bring an existing private key into the key store
 * SYNOPSIS
 *	authfilter-keys import DOMAIN SELECTOR FILE [--activate]
 * DESCRIPTION
 *	The supported way for a key made elsewhere (opendkim-genkey,
 *	openssl) into key_dir: FILE is checked as the daemon checks its
 *	keys (keys/keyimport.c), written as PKCS#8 with mode 0600 and the
 *	daemon's user as owner (keystore_write_private, atomic), and starts
 *	pending.  With --activate it is made active by the check
 *	"authfilter-keys activate" makes (activate_key): only when DNS
 *	serves the matching record.  An existing selector is never
 *	replaced.  FILE must be a regular file, not a symbolic link: the
 *	key store refuses links too, and a link is how a root-run command
 *	is made to read what it was not meant to.
 *
 *	import_key() is also the step import-opendkim takes for each key
 *	(keys_opendkim.c).
 * DIAGNOSTICS
 *	Exit 0 when imported (and active with --activate), 1 on a refusal
 *	or when DNS does not serve the key (it is then in the store,
 *	pending), 2 on bad usage.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keys/keygen.h"
#include "keys/keyimport.h"
#include "keys/keys_cli.h"
#include "keys/keystore.h"
#include "lib/dns.h"
#include "lib/safefile.h"

/* The text of FILE: a regular file, no link, at most KEY_FILE_MAX bytes.
 * *mtime is when it was written (the key's age, as well as we know it);
 * *loose says whether others could read it. */
static char *
read_key_file(const char *file, size_t *len, time_t *mtime, int *loose,
    char *err, size_t errsz)
{
	char ferr[128], *buf;
	struct stat st;
	ssize_t got;
	int fd;

	if ((fd = safefile_open(file, KEY_FILE_MAX, 1, ferr,
	    sizeof(ferr))) < 0) {
		snprintf(err, errsz, "%s: %s%s", file, ferr, strstr(ferr,
		    "symbolic") != NULL ? "; name the file itself" : "");
		return NULL;
	}
	if (fstat(fd, &st) != 0 || (buf = calloc(1,
	    (size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "%s: %s", file, strerror(errno));
		close(fd);
		return NULL;
	}
	got = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		snprintf(err, errsz, "%s: short read", file);
		free_secret(buf);
		return NULL;
	}
	*len = (size_t)got;
	*mtime = st.st_mtime;
	*loose = (st.st_mode & 077) != 0;
	return buf;
}

/* The DNS record of k, as "authfilter-keys dns" prints it. */
static char *
zone_line_of(const struct ctx *c, const struct key *k)
{
	char err[512], *p = public_of(c->key_dir, k, err, sizeof(err)), *rec, *line;

	if (p == NULL)
		return NULL;
	rec = keygen_record(k->alg, p);
	line = rec != NULL ? keygen_zone_line(k->domain, k->selector, rec) :
	    NULL;
	free(rec);
	free(p);
	return line;
}

/* Does the store's key k hold the same key as the PKCS#8 pem? */
static int
same_key(const struct ctx *c, const struct key *k, const char *pem)
{
	char err[512], *a = public_of(c->key_dir, k, err, sizeof(err)),
	    *b = keygen_public_b64(pem, strlen(pem), err, sizeof(err));
	int same = a != NULL && b != NULL && strcmp(a, b) == 0;

	free(a);
	free(b);
	return same;
}

enum imp
import_key(struct ctx *c, struct keystore *ks, struct dns *d,
    const struct imp_req *req, struct imp_res *res)
{
	struct keyimport ki = { 0 };
	struct key k, *old;
	size_t len = 0;
	time_t mtime = 0, now = time(NULL);
	char *text;
	enum imp rc = IMP_ERROR;
	int loose = 0;

	memset(res, 0, sizeof(*res));
	if ((text = read_key_file(req->file, &len, &mtime, &loose, res->err,
	    sizeof(res->err))) == NULL)
		return IMP_ERROR;
	if (keyimport_decode(text, len, &ki, res->err, sizeof(res->err)) != 0) {
		char what[sizeof(res->err)];
		snprintf(what, sizeof(what), "%s", res->err);
		snprintf(res->err, sizeof(res->err), "%.200s %.500s",
		    req->file, what);
		free_secret(text);
		return IMP_ERROR;
	}
	free_secret(text);
	res->loose = loose;
	if ((old = keystore_find(ks, req->domain, req->selector)) != NULL) {
		res->key = *old;
		res->key.pkey = NULL;
		if (!req->same_ok || !same_key(c, old, ki.pem)) {
			snprintf(res->err, sizeof(res->err), "%s %s is already "
			    "in %s and holds %s key; import never replaces a "
			    "key (remove it first: authfilter-keys remove)",
			    req->domain, req->selector, c->key_dir,
			    same_key(c, old, ki.pem) ? "this" : "another");
			goto out;
		}
		rc = IMP_SAME;
		if (old->state != KEY_PENDING || !req->activate)
			goto out;
	} else {
		memset(&k, 0, sizeof(k));
		snprintf(k.domain, sizeof(k.domain), "%s", req->domain);
		snprintf(k.selector, sizeof(k.selector), "%s", req->selector);
		k.alg = ki.alg;
		k.bits = ki.bits;
		k.state = KEY_PENDING;
		k.created = mtime > 0 && mtime < now ? mtime : now;
		if (keystore_write_private(c->key_dir, &k, ki.pem, c->owner,
		    res->err, sizeof(res->err)) != 0 || (crash_point(), 0) ||
		    keystore_write_state(c->key_dir, &k, c->owner, res->err,
		    sizeof(res->err)) != 0)
			goto out;
		crash_point();
		res->key = k;
		rc = IMP_PENDING;
	}
	res->zone = zone_line_of(c, &res->key);
	if (!req->activate)
		goto out;
	switch (activate_key(c, d, &res->key, 0, res->err, sizeof(res->err))) {
	case ACT_DONE:
		rc = IMP_ACTIVE;
		break;
	case ACT_NOT_SERVED:
		rc = IMP_NOT_SERVED;
		break;
	case ACT_ERROR:
		rc = IMP_ERROR;
		break;
	}
out:
	keyimport_clear(&ki);
	return rc;
}

int
cmd_import(struct ctx *c, int argc, char **argv)
{
	char domain[KEY_DOMAIN_MAX + 1];
	struct imp_req req = { 0 };
	struct imp_res res;
	struct keystore *ks = NULL;
	struct dns *d = NULL;
	int rc = 1;

	if (argc < 3 || argc > 4 || (argc == 4 &&
	    strcmp(argv[3], "--activate") != 0))
		usage();
	if (norm_domain(argv[0], domain, sizeof(domain)) != 0)
		return fail("\"%s\" is not a domain name", argv[0]);
	if (!key_valid_selector(argv[1]))
		return fail("\"%s\" is not a valid selector (letters, digits, "
		    "'-', '_', dots between labels)", argv[1]);
	req.domain = domain;
	req.selector = argv[1];
	req.file = argv[2];
	req.activate = argc == 4;
	if ((ks = load_or_fail(c)) == NULL ||
	    (req.activate && (d = resolver(c)) == NULL))
		goto out;
	switch (import_key(c, ks, d, &req, &res)) {
	case IMP_ACTIVE:
		printf("imported %s %s (%s, %u bits), active: it signs from "
		    "the next reload\n", domain, req.selector,
		    key_alg_name(res.key.alg), res.key.bits);
		tell_daemon(c);
		rc = 0;
		break;
	case IMP_PENDING:
		printf("imported %s %s (%s, %u bits), state pending: it signs "
		    "nothing yet\n%s\npublish this record in DNS (unless it "
		    "is there already), then run: authfilter-keys activate "
		    "%s %s\n", domain, req.selector, key_alg_name(res.key.alg),
		    res.key.bits, res.zone ? res.zone : "", domain,
		    req.selector);
		rc = 0;
		break;
	case IMP_NOT_SERVED:
		printf("%s\n", res.zone ? res.zone : "");
		fail("imported %s %s, but it stays pending: %s; publish the "
		    "record above, then run: authfilter-keys activate %s %s",
		    domain, req.selector, res.err, domain, req.selector);
		break;
	case IMP_SAME:
	case IMP_ERROR:
		fail("%s", res.err);
		break;
	}
	if (res.loose)
		fprintf(stderr, "authfilter-keys: warning: %s was readable by "
		    "group or others; whoever could read it can sign as %s: "
		    "consider a new key (authfilter-keys rotate)\n", req.file,
		    domain);
	free(res.zone);
out:
	dns_free(d);
	keystore_free(ks);
	return rc;
}
