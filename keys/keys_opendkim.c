/*
 * NAME
 *	keys_opendkim -- import-opendkim: OpenDKIM's keys and signing rules
 * SYNOPSIS
 *	authfilter-keys import-opendkim [/etc/opendkim.conf] [--table FILE]
 * DESCRIPTION
 *	Reads OpenDKIM's configuration (keys/odkconf.c): KeyTable and
 *	SigningTable (file or refile), or the single-key form Domain,
 *	Selector, KeyFile (and SubDomains); InternalHosts and
 *	ExternalIgnoreList.  Imports every key a signing rule uses, each as
 *	"import --activate" would (import_key): active when DNS serves it,
 *	else pending.  Prints on stdout the authfilter.conf settings
 *	(internal_networks, signing_table) and the signing table, or writes
 *	the table to FILE, so that authfilter signs what OpenDKIM signed
 *	with the same d= and selectors, and no DNS change.
 *
 *	OpenDKIM's refile is first-match in file order; a signing_table is
 *	most-specific-wins.  A refile line that an earlier line covers is
 *	never used by OpenDKIM and is left out; with MultipleSignatures,
 *	lines whose patterns overlap with different d= cannot be written
 *	as a signing table and are reported.
 * DIAGNOSTICS
 *	What cannot be carried over is said on stderr with FILE:LINE and
 *	the exit status is then 1; so is a key left pending.  Notes that
 *	change nothing (a line OpenDKIM never used, an i= dropped) do not
 *	change the exit status.  2 on bad usage.
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys/keys_cli.h"
#include "keys/keystore.h"
#include "keys/odkconf.h"
#include "lib/dns.h"

#define DEFAULT_OPENDKIM_CONF "/etc/opendkim.conf"
/* A KeyTable of a large hosting provider: 100,000 lines of ~80 bytes. */
#define ODK_FILE_MAX (16 * 1024 * 1024)
#define PATTERN_MAX (KEY_DOMAIN_MAX + 80)

struct okey {				/* a KeyTable entry */
	char		 name[256];
	char		 domain[KEY_DOMAIN_MAX + 1];
	char		 sel[KEY_SELECTOR_MAX + 1];
	char		 path[4096];
	int		 used, failed;
};

struct orule {				/* a signing_table line to be */
	char		 pattern[PATTERN_MAX];
	size_t		 key;
	unsigned	 line;
};

struct run {
	struct ctx	*c;
	const char	*conf;
	struct odk_conf	 oc;
	struct okey	*keys;
	size_t		 nkeys;
	struct orule	*rules;
	size_t		 nrules;
	char		*nets;		/* internal_networks value */
	int		 problems;
	int		 active, pending;	/* keys in the store now */
};

/* What could not be carried over: exit status 1. */
static void
problem(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
problem(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
	r->problems++;
}

/* What changes no d= or s=. */
static void
note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("note: ", fmt, ap);
	va_end(ap);
}

/* "Setting (FILE:LINE)" for messages about a setting. */
static const char *
where(const struct run *r, enum odk_setting s, const char *name, char *buf,
    size_t bufsz)
{
	snprintf(buf, bufsz, "%s:%u: %s", r->conf, r->oc.line[s], name);
	return buf;
}

/* The entries of the data set a setting names; *refile says which kind
 * it was and *file the file read ("" for a list).  -1 when it cannot be
 * read (said). */
static int
read_dataset(struct run *r, enum odk_setting s, const char *name,
    struct odk_list *out, int *refile, const char **file)
{
	struct config_errors errs = { 0 };
	enum odk_ds kind = odk_dataset(r->oc.value[s], file);
	char w[512], *text;
	int rc;

	*refile = kind == ODK_DS_REFILE;
	where(r, s, name, w, sizeof(w));
	if (kind == ODK_DS_OTHER) {
		problem(r, "%s %s: a database; authfilter-keys reads flat "
		    "files only: export it to a file (file: or refile:)",
		    w, r->oc.value[s]);
		return -1;
	}
	if (kind == ODK_DS_CSL) {
		*file = "";
		if (odk_list_parse(r->oc.value[s] + (strncmp(r->oc.value[s],
		    "csl:", 4) == 0 ? 4 : 0), 1, out) != 0)
			return problem(r, "out of memory"), -1;
		return 0;
	}
	if ((text = config_read_file(*file, ODK_FILE_MAX, name,
	    &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			problem(r, "%s: %s", w, errs.msg[i]);
		config_errors_clear(&errs);
		return -1;
	}
	rc = odk_list_parse(text, 0, out);
	free(text);
	if (rc != 0)
		problem(r, "out of memory");
	return rc;
}

static struct okey *
add_key(struct run *r)
{
	struct okey *grown = realloc(r->keys, (r->nkeys + 1) * sizeof(*grown));

	if (grown == NULL)
		return NULL;
	r->keys = grown;
	memset(&grown[r->nkeys], 0, sizeof(*grown));
	return &grown[r->nkeys++];
}

static int
add_rule(struct run *r, const char *pattern, size_t key, unsigned line)
{
	struct orule *grown = realloc(r->rules, (r->nrules + 1) *
	    sizeof(*grown));

	if (grown == NULL)
		return -1;
	r->rules = grown;
	snprintf(grown[r->nrules].pattern, PATTERN_MAX, "%s", pattern);
	grown[r->nrules].key = key;
	grown[r->nrules].line = line;
	r->nrules++;
	r->keys[key].used = 1;
	return 0;
}

static int
load_keytable(struct run *r)
{
	struct odk_list l;
	const char *file;
	char err[512];
	int refile;

	if (read_dataset(r, ODK_KEYTABLE, "KeyTable", &l, &refile, &file) != 0)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		struct okey *k = add_key(r);

		if (k == NULL) {
			odk_list_free(&l);
			return problem(r, "out of memory"), -1;
		}
		snprintf(k->name, sizeof(k->name), "%s", l.e[i].key);
		if (odk_keytable_value(l.e[i].value, k->domain,
		    sizeof(k->domain), k->sel, sizeof(k->sel), k->path,
		    sizeof(k->path), err, sizeof(err)) != 0 ||
		    (k->path[0] != '/' && snprintf(err, sizeof(err),
		    "relative key path %s: OpenDKIM reads it from its working "
		    "directory; write it absolute", k->path) > 0)) {
			problem(r, "%s:%u: key %s: %s", file, l.e[i].line,
			    k->name, err);
			k->failed = 1;
		}
		for (size_t j = 0; j + 1 < r->nkeys; j++)
			if (strcmp(r->keys[j].name, k->name) == 0) {
				problem(r, "%s:%u: key name %s twice", file,
				    l.e[i].line, k->name);
				k->failed = 1;
			}
	}
	odk_list_free(&l);
	return 0;
}

static struct okey *
find_key(struct run *r, const char *name, size_t *idx)
{
	for (size_t i = 0; i < r->nkeys; i++)
		if (strcmp(r->keys[i].name, name) == 0) {
			*idx = i;
			return &r->keys[i];
		}
	return NULL;
}

/* Can rule (pattern, key) join the table after the rules so far?  0 yes,
 * 1 no but nothing changes (OpenDKIM never used it), -1 a problem. */
static int
overlap(struct run *r, const char *pat, size_t key, int refile, int multi,
    char *why, size_t whysz)
{
	const char *dom = r->keys[key].domain;

	for (size_t j = 0; j < r->nrules; j++) {
		const struct orule *o = &r->rules[j];
		int same = strcmp(o->pattern, pat) == 0;
		int samedom = strcmp(r->keys[o->key].domain, dom) == 0;

		if (same && !multi) {
			snprintf(why, whysz, "never used by OpenDKIM: line %u "
			    "has the same pattern", o->line);
			return 1;
		}
		if (same && samedom)
			continue;	/* one more selector of that line */
		if (!multi && refile && odk_pattern_covers(o->pattern, pat)) {
			snprintf(why, whysz, "never used by OpenDKIM: line %u "
			    "(%s) matches first", o->line, o->pattern);
			return 1;
		}
		if (multi && (same || odk_pattern_covers(o->pattern, pat) ||
		    odk_pattern_covers(pat, o->pattern))) {
			snprintf(why, whysz, "with MultipleSignatures, OpenDKIM "
			    "signs mail matching both this line and line %u "
			    "with d=%s and d=%s; a signing_table signs with "
			    "the most specific line only", o->line, dom,
			    r->keys[o->key].domain);
			return -1;
		}
	}
	return 0;
}

static int
load_signingtable(struct run *r)
{
	int multi = odk_bool(r->oc.value[ODK_MULTIPLESIGS]), refile;
	char pat[PATTERN_MAX], err[1024], name[256], signer[256];
	struct odk_list l;
	const char *file;

	if (read_dataset(r, ODK_SIGNINGTABLE, "SigningTable", &l, &refile,
	    &file) != 0)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		const struct odk_entry *e = &l.e[i];
		struct okey *k;
		size_t ki = 0;
		int n;

		signer[0] = '\0';
		n = sscanf(e->value, "%255s %255s", name, signer);
		if (n < 1) {
			problem(r, "%s:%u: no key name", file, e->line);
			continue;
		}
		if (strcmp(name, "%") == 0) {
			problem(r, "%s:%u: key name \"%%\" (the From domain) "
			    "has no signing_table equivalent; write one line "
			    "per domain", file, e->line);
			continue;
		}
		if ((k = find_key(r, name, &ki)) == NULL) {
			problem(r, "%s:%u: key name %s is not in the KeyTable",
			    file, e->line, name);
			continue;
		}
		if (odk_pattern(e->key, refile, pat, sizeof(pat), err,
		    sizeof(err)) != 0) {
			problem(r, "%s:%u: %s", file, e->line, err);
			continue;
		}
		switch (overlap(r, pat, ki, refile, multi, err, sizeof(err))) {
		case 1:
			note("%s:%u: %s %s: %s; left out", file, e->line,
			    e->key, name, err);
			continue;
		case -1:
			problem(r, "%s:%u: %s: %s", file, e->line, e->key, err);
			continue;
		}
		if (n == 2)
			note("%s:%u: signer %s: authfilter signs without i= "
			    "(it defaults to @%s, RFC 6376 3.5)", file, e->line,
			    signer, k->domain);
		if (add_rule(r, pat, ki, e->line) != 0) {
			odk_list_free(&l);
			return problem(r, "out of memory"), -1;
		}
	}
	odk_list_free(&l);
	return 0;
}

/* Domain, Selector, KeyFile: one key for every domain of Domain (and
 * its subdomains with SubDomains), d= the From domain. */
static int
load_single_key(struct run *r)
{
	int sub = odk_bool(r->oc.value[ODK_SUBDOMAINS]), refile;
	const char *sel = r->oc.value[ODK_SELECTOR],
	    *path = r->oc.value[ODK_KEYFILE], *file;
	char pat[PATTERN_MAX], err[512], w[512];
	struct odk_list l;

	if (r->oc.value[ODK_DOMAIN] == NULL || sel == NULL || path == NULL) {
		problem(r, "%s: neither KeyTable and SigningTable nor Domain, "
		    "Selector and KeyFile: OpenDKIM signs nothing here",
		    r->conf);
		return -1;
	}
	if (!key_valid_selector(sel) || path[0] != '/') {
		problem(r, "%s: Selector %s, KeyFile %s: %s", r->conf, sel,
		    path, path[0] != '/' ? "write the path absolute" :
		    "not a valid selector");
		return -1;
	}
	if (read_dataset(r, ODK_DOMAIN, "Domain", &l, &refile, &file) != 0)
		return -1;
	where(r, ODK_DOMAIN, "Domain", w, sizeof(w));
	for (size_t i = 0; i < l.n; i++) {
		struct okey *k;

		if (refile || odk_pattern(l.e[i].key, 0, pat, sizeof(pat), err,
		    sizeof(err)) != 0 || pat[0] == '.' || pat[0] == '*' ||
		    strchr(pat, '@') != NULL) {
			problem(r, "%s: \"%s\" is not a domain name", w,
			    l.e[i].key);
			continue;
		}
		if ((k = add_key(r)) == NULL) {
			problem(r, "out of memory");
			break;
		}
		memcpy(k->name, pat, strlen(pat) + 1);
		memcpy(k->domain, pat, strlen(pat) + 1);
		snprintf(k->sel, sizeof(k->sel), "%s", sel);
		snprintf(k->path, sizeof(k->path), "%s", path);
		if (add_rule(r, pat, r->nkeys - 1, r->oc.line[ODK_DOMAIN]) != 0) {
			problem(r, "out of memory");
			break;
		}
		if (sub) {
			char dot[PATTERN_MAX + 1];
			snprintf(dot, sizeof(dot), ".%s", pat);
			if (add_rule(r, dot, r->nkeys - 1,
			    r->oc.line[ODK_SUBDOMAINS]) != 0) {
				problem(r, "out of memory");
				break;
			}
		}
	}
	odk_list_free(&l);
	return 0;
}

/* Every key a rule uses, into the store; a key that cannot be imported
 * takes its rules with it. */
static void
import_keys(struct run *r, struct keystore *ks, struct dns *d)
{
	for (size_t i = 0; i < r->nkeys; i++) {
		struct okey *k = &r->keys[i];
		struct imp_req req = { k->domain, k->sel, k->path, 1, 1 };
		struct imp_res res;
		size_t j;

		if (k->failed)
			continue;
		if (!k->used) {
			note("KeyTable key %s (%s %s) is used by no SigningTable "
			    "line; not imported", k->name, k->domain, k->sel);
			continue;
		}
		/* Several key names for one d= and selector: one key. */
		for (j = 0; j < i; j++)
			if (r->keys[j].used && !r->keys[j].failed &&
			    strcmp(r->keys[j].domain, k->domain) == 0 &&
			    strcmp(r->keys[j].sel, k->sel) == 0)
				break;
		if (j < i) {
			if (strcmp(r->keys[j].path, k->path) != 0) {
				problem(r, "keys %s and %s: %s %s from two files "
				    "(%s, %s)", r->keys[j].name, k->name,
				    k->domain, k->sel, r->keys[j].path, k->path);
				k->failed = 1;
			}
			continue;
		}
		switch (import_key(r->c, ks, d, &req, &res)) {
		case IMP_ACTIVE:
			fprintf(stderr, "imported %s %s (%s, %u bits) from %s: "
			    "active\n", k->domain, k->sel,
			    key_alg_name(res.key.alg), res.key.bits, k->path);
			r->active++;
			break;
		case IMP_SAME:
			if (res.key.state != KEY_ACTIVE) {
				problem(r, "%s %s: already in the store, %s: it "
				    "does not sign", k->domain, k->sel,
				    key_state_name(res.key.state));
				break;
			}
			fprintf(stderr, "%s %s: already in the store (active)\n",
			    k->domain, k->sel);
			r->active++;
			break;
		case IMP_PENDING:
		case IMP_NOT_SERVED:
			r->pending++;
			problem(r, "imported %s %s from %s, but it stays "
			    "pending: %s; publish\n%s\nthen run: authfilter-keys "
			    "activate %s %s", k->domain, k->sel, k->path,
			    res.err, res.zone ? res.zone : "", k->domain,
			    k->sel);
			break;
		case IMP_ERROR:
			problem(r, "key %s: %s", k->name, res.err);
			k->failed = 1;
			break;
		}
		if (res.loose)
			note("%s was readable by group or others", k->path);
		free(res.zone);
	}
}

/* internal_networks from InternalHosts (OpenDKIM's default: 127.0.0.1).
 * ExternalIgnoreList only quiets a log line of OpenDKIM: its hosts are
 * not signed for, so they do not become internal. */
static void
convert_hosts(struct run *r)
{
	struct odk_list in = { 0 }, ex = { 0 };
	char net[128], err[512];
	const char *file;
	size_t len = 0;
	int refile;

	if (r->oc.value[ODK_INTERNALHOSTS] == NULL) {
		if ((r->oc.value[ODK_INTERNALHOSTS] = strdup("127.0.0.1")) == NULL)
			return;
		note("InternalHosts not set: OpenDKIM's default 127.0.0.1");
	}
	if (read_dataset(r, ODK_INTERNALHOSTS, "InternalHosts", &in, &refile,
	    &file) != 0)
		return;
	if ((r->nets = calloc(in.n + 1, sizeof(net) + 2)) == NULL)
		goto out;
	for (size_t i = 0; i < in.n; i++) {
		if (refile && strchr(in.e[i].key, '*') != NULL)
			snprintf(err, sizeof(err), "\"%s\" is a pattern",
			    in.e[i].key);
		else if (odk_host_network(in.e[i].key, net, sizeof(net), err,
		    sizeof(err)) == 0) {
			len += (size_t)sprintf(r->nets + len, "%s%s",
			    len ? ", " : "", net);
			continue;
		}
		problem(r, "InternalHosts %s%s%u: %s: not converted", *file ?
		    file : r->conf, ":", in.e[i].line ? in.e[i].line :
		    r->oc.line[ODK_INTERNALHOSTS], err);
	}
	if (r->oc.value[ODK_EXTERNALIGNORE] == NULL ||
	    read_dataset(r, ODK_EXTERNALIGNORE, "ExternalIgnoreList", &ex,
	    &refile, &file) != 0)
		goto out;
	for (size_t i = 0; i < ex.n; i++) {
		size_t j;
		for (j = 0; j < in.n && strcmp(in.e[j].key, ex.e[i].key); j++)
			;
		if (j == in.n)
			note("ExternalIgnoreList %s: OpenDKIM did not sign its "
			    "mail (the list only quiets a log line); not made "
			    "internal", ex.e[i].key);
	}
out:
	odk_list_free(&in);
	odk_list_free(&ex);
}

/* The table: one line per pattern, every selector of its d=. */
static void
print_table(const struct run *r, FILE *fp)
{
	fprintf(fp, "# signing_table converted from %s by authfilter-keys "
	    "import-opendkim\n# PATTERN  KEYDOMAIN  SELECTORS\n", r->conf);
	for (size_t i = 0; i < r->nrules; i++) {
		const struct orule *o = &r->rules[i];
		size_t j;

		if (r->keys[o->key].failed)
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(r->rules[j].pattern, o->pattern) == 0)
				break;
		if (j < i)
			continue;	/* printed with the first */
		fprintf(fp, "%-32s %-32s %s", o->pattern,
		    r->keys[o->key].domain, r->keys[o->key].sel);
		for (j = i + 1; j < r->nrules; j++)
			if (strcmp(r->rules[j].pattern, o->pattern) == 0 &&
			    !r->keys[r->rules[j].key].failed)
				fprintf(fp, ",%s", r->keys[r->rules[j].key].sel);
		fprintf(fp, "\n");
	}
}

static int
write_table(struct run *r, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	int bad;

	if (fp == NULL) {
		problem(r, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	print_table(r, fp);
	bad = fflush(fp) != 0 || fsync(fd) != 0;
	if (fclose(fp) != 0 || bad) {
		problem(r, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
run_free(struct run *r)
{
	odk_conf_free(&r->oc);
	free(r->keys);
	free(r->rules);
	free(r->nets);
}

int
cmd_import_opendkim(struct ctx *c, int argc, char **argv)
{
	struct config_errors errs = { 0 };
	struct run r = { .c = c, .conf = DEFAULT_OPENDKIM_CONF };
	const char *table = NULL;
	char tabpath[4096], *text;
	struct keystore *ks = NULL;
	struct dns *d = NULL;
	int have_conf = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--table") == 0 && i + 1 < argc)
			table = argv[++i];
		else if (argv[i][0] != '-' && !have_conf++)
			r.conf = argv[i];
		else
			usage();
	}
	if (table != NULL && strlen(table) >= sizeof(tabpath) / 2)
		return fail("--table: path too long");
	if (table != NULL && access(table, F_OK) == 0)
		return fail("%s exists; import-opendkim writes a new table "
		    "only", table);
	if (table == NULL)
		snprintf(tabpath, sizeof(tabpath), "%s/signing_table",
		    AF_CONFDIR);
	else if (table[0] != '/' && getcwd(tabpath, sizeof(tabpath) -
	    strlen(table) - 2) != NULL)
		snprintf(tabpath + strlen(tabpath), sizeof(tabpath) -
		    strlen(tabpath), "/%s", table);
	else
		snprintf(tabpath, sizeof(tabpath), "%s", table);
	if ((text = config_read_file(r.conf, ODK_FILE_MAX,
	    "OpenDKIM configuration", &errs)) == NULL ||
	    odk_conf_parse(r.conf, text, &r.oc, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			r.problems++, fail("%s", errs.msg[i]);
		config_errors_clear(&errs);
		if (text == NULL)
			return 1;
	}
	free(text);
	if (r.oc.value[ODK_KEYTABLE] != NULL) {
		if (r.oc.value[ODK_SIGNINGTABLE] == NULL)
			problem(&r, "%s: KeyTable without SigningTable: "
			    "OpenDKIM signs nothing here", r.conf);
		else if (load_keytable(&r) == 0)
			load_signingtable(&r);
	} else
		load_single_key(&r);
	convert_hosts(&r);
	if (r.oc.value[ODK_SIGNHEADERS] != NULL ||
	    r.oc.value[ODK_OVERSIGNHEADERS] != NULL)
		note("%s: SignHeaders/OversignHeaders are not converted: "
		    "authfilter signs its own list (sign_headers, "
		    "oversign_headers in authfilter.conf(5))", r.conf);
	if ((ks = load_or_fail(c)) == NULL || (d = resolver(c)) == NULL) {
		r.problems++;
		goto out;
	}
	import_keys(&r, ks, d);
	printf("# authfilter.conf settings converted from %s by "
	    "authfilter-keys import-opendkim\n# keys imported into key_dir = "
	    "%s\n", r.conf, c->key_dir);
	if (r.nets != NULL && r.nets[0] != '\0')
		printf("internal_networks = %s\n", r.nets);
	printf("signing_table = %s\n", tabpath);
	if (table != NULL) {
		if (write_table(&r, table) == 0)
			fprintf(stderr, "wrote %s\n", table);
	} else {
		printf("\n");
		print_table(&r, stdout);
	}
	/* The daemon needs the new settings first: no SIGHUP from here. */
	fprintf(stderr, "%d key(s) active, %d pending; add the settings to "
	    "authfilter.conf, check it with authfilter -t, then reload "
	    "authfilter\n", r.active, r.pending);
out:
	dns_free(d);
	keystore_free(ks);
	run_free(&r);
	return r.problems > 0 ? 1 : 0;
}
