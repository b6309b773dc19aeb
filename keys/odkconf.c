/*
 * NAME
 *	odkconf -- read OpenDKIM's configuration for import-opendkim
 * SYNOPSIS
 *	odk_conf_parse("/etc/opendkim.conf", text, &conf, &errs);
 *	odk_dataset(conf.value[ODK_SIGNINGTABLE], &file) == ODK_DS_REFILE
 *	odk_list_parse(file_text, 0, &list);
 *	odk_pattern("*@example.net", 1, pat, sizeof(pat), err, sizeof(err));
 * DESCRIPTION
 *	Functions over buffers; authfilter-keys (keys_import_cmd.c) reads
 *	the files and does the importing.  The formats are those of
 *	opendkim.conf(5) and opendkim(8) DATA SETS: "Name value" lines with
 *	"#" comments, names in any case; data sets "file:PATH" or a path
 *	starting with "/" (key, white space, value), "refile:PATH" (the
 *	key is a pattern where "*" matches anything), "csl:LIST" or any
 *	other string (a comma-separated list).  Databases (db:, dsn:,
 *	ldap:, lua:, memcache:, erlang:, *.db) are not read.
 *
 *	Signing table patterns are translated only where authfilter's
 *	signing_table means the same thing; the rest is reported, never
 *	guessed.
 * DIAGNOSTICS
 *	"PATH:LINE: problem" for the configuration; err strings for single
 *	entries, which the caller prefixes with the file and line.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "keys/keystore.h"
#include "keys/odkconf.h"
#include "lib/from.h"
#include "lib/netlist.h"

static const char *const odk_names[ODK_NSETTINGS] = { "KeyTable",
    "SigningTable", "Domain", "Selector", "KeyFile", "InternalHosts",
    "ExternalIgnoreList", "MultipleSignatures", "SubDomains", "SignHeaders",
    "OversignHeaders" };

/* Settings that decide what is signed in ways a signing table cannot say. */
static const char *const odk_refused[] = { "Include", "SetupPolicyScript",
    "FinalPolicyScript", "SenderMacro", NULL };

int
odk_bool(const char *v)
{
	return v != NULL && strchr("TtYy1", v[0]) != NULL && v[0] != '\0';
}

struct conf_walk {
	const char		*path;
	struct odk_conf		*conf;
	struct config_errors	*errs;
	int			 bad;
};

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void
conf_line(void *arg, unsigned lineno, char *line)
{
	struct conf_walk *w = arg;
	char *name, *value;
	size_t i;

	line[strcspn(line, "#")] = '\0';	/* opendkim.conf(5) */
	name = trim(line);
	if (*name == '\0')
		return;
	value = name + strcspn(name, " \t");
	if (*value != '\0')
		*value++ = '\0';
	value = trim(value);
	for (i = 0; odk_refused[i] != NULL; i++)
		if (strcasecmp(name, odk_refused[i]) == 0) {
			config_errors_add(w->errs, "%s:%u: %s: authfilter-keys "
			    "cannot carry this over; convert it by hand",
			    w->path, lineno, odk_refused[i]);
			w->bad = 1;
			return;
		}
	for (i = 0; i < ODK_NSETTINGS; i++)
		if (strcasecmp(name, odk_names[i]) == 0)
			break;
	if (i == ODK_NSETTINGS)
		return;		/* not about what is signed with which key */
	free(w->conf->value[i]);	/* the last one counts */
	if ((w->conf->value[i] = strdup(value)) == NULL) {
		config_errors_add(w->errs, "out of memory");
		w->bad = 1;
	}
	w->conf->line[i] = lineno;
}

int
odk_conf_parse(const char *path, char *text, struct odk_conf *conf,
    struct config_errors *errs)
{
	struct conf_walk w = { path, conf, errs, 0 };

	memset(conf, 0, sizeof(*conf));
	config_each_line(text, conf_line, &w);
	return w.bad ? -1 : 0;
}

void
odk_conf_free(struct odk_conf *conf)
{
	for (size_t i = 0; i < ODK_NSETTINGS; i++)
		free(conf->value[i]);
	memset(conf, 0, sizeof(*conf));
}

enum odk_ds
odk_dataset(const char *spec, const char **rest)
{
	static const char *const other[] = { "db:", "dsn:", "ldap:", "ldaps:",
	    "ldapi:", "lua:", "memcache:", "erlang:", "mdb:", "redis:",
	    "socket:", NULL };
	size_t len = strlen(spec);

	*rest = spec;
	if (strncmp(spec, "file:", 5) == 0) {
		*rest = spec + 5;
		return ODK_DS_FILE;
	}
	if (strncmp(spec, "refile:", 7) == 0) {
		*rest = spec + 7;
		return ODK_DS_REFILE;
	}
	if (strncmp(spec, "csl:", 4) == 0) {
		*rest = spec + 4;
		return ODK_DS_CSL;
	}
	for (size_t i = 0; other[i] != NULL; i++)
		if (strncmp(spec, other[i], strlen(other[i])) == 0)
			return ODK_DS_OTHER;
	if (len > 3 && strcmp(spec + len - 3, ".db") == 0)
		return ODK_DS_OTHER;
	return spec[0] == '/' ? ODK_DS_FILE : ODK_DS_CSL;
}

static int
list_add(struct odk_list *l, const char *key, const char *value,
    unsigned line)
{
	struct odk_entry *grown = realloc(l->e, (l->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	l->e = grown;
	grown[l->n].key = strdup(key);
	grown[l->n].value = strdup(value);
	grown[l->n].line = line;
	l->n++;
	return grown[l->n - 1].key != NULL && grown[l->n - 1].value != NULL ?
	    0 : -1;
}

int
odk_list_parse(const char *text, int csl, struct odk_list *out)
{
	char *copy = strdup(text), *line, *next, *key, *value;
	unsigned lineno = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (copy == NULL)
		return -1;
	for (line = copy; line != NULL && rc == 0; line = next) {
		next = strchr(line, csl ? ',' : '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		if (!csl)
			line[strcspn(line, "#")] = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		value = key + strcspn(key, " \t");
		if (*value != '\0')
			*value++ = '\0';
		rc = list_add(out, key, trim(value), csl ? 0 : lineno);
	}
	free(copy);
	return rc;
}

void
odk_list_free(struct odk_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].key);
		free(l->e[i].value);
	}
	free(l->e);
	memset(l, 0, sizeof(*l));
}

/* "example.net" or ".example.net" normalised into out. */
static int
pattern_domain(const char *d, char *out, size_t outsz)
{
	int dot = d[0] == '.';

	if (outsz < 2 || domain_normalise(d + dot, strlen(d + dot), out + dot,
	    outsz - 1) != 0 || strchr(out + dot, '.') == NULL)
		return -1;	/* a top-level domain alone is no From domain */
	if (dot)
		out[0] = '.';
	return 0;
}

int
odk_pattern(const char *key, int refile, char *out, size_t outsz, char *err,
    size_t errsz)
{
	const char *at = strrchr(key, '@'), *dom;
	char d[KEY_DOMAIN_MAX + 2];
	size_t local;

	if (strcmp(key, "*") == 0 || (refile && strcmp(key, "*@*") == 0)) {
		snprintf(out, outsz, "*");
		return 0;
	}
	if (at == NULL) {
		/* A flat file's "host" or ".domain"; in a refile, a bare
		 * domain matches no address. */
		if (refile || pattern_domain(key, d, sizeof(d)) != 0)
			goto nope;
		snprintf(out, outsz, "%s", d);
		return 0;
	}
	local = (size_t)(at - key);
	dom = at + 1;
	if (refile && local == 1 && key[0] == '*') {
		/* *@example.net, *@*.example.net */
		if (strncmp(dom, "*.", 2) == 0)
			dom++;
		if (strchr(dom, '*') != NULL || pattern_domain(dom, d,
		    sizeof(d)) != 0)
			goto nope;
		snprintf(out, outsz, "%s", d);
		return 0;
	}
	/* One address: no wildcard, a plain domain. */
	if (local == 0 || memchr(key, '*', local) != NULL || dom[0] == '.' ||
	    strchr(dom, '*') != NULL || pattern_domain(dom, d, sizeof(d)) != 0)
		goto nope;
	snprintf(out, outsz, "%.*s@%s", (int)local, key, d);
	return 0;
nope:
	snprintf(err, errsz, "pattern \"%s\" has no signing_table equivalent "
	    "(user@example.net, example.net, %s, *)", key, refile ?
	    "*@example.net, *@*.example.net" : ".example.net");
	return -1;
}

int
odk_pattern_covers(const char *a, const char *b)
{
	const char *bdom = strchr(b, '@') != NULL ? strchr(b, '@') + 1 : b;
	size_t alen = strlen(a), blen = strlen(bdom);

	if (strcmp(a, "*") == 0 || strcasecmp(a, b) == 0)
		return 1;
	if (strcmp(b, "*") == 0 || strchr(a, '@') != NULL)
		return 0;
	if (a[0] != '.')	/* a domain covers its own addresses */
		return strchr(b, '@') != NULL && strcasecmp(a, bdom) == 0;
	/* .example.net covers every name that ends in it */
	return blen > alen && strcasecmp(bdom + blen - alen, a) == 0;
}

int
odk_keytable_value(const char *value, char *domain, size_t domsz,
    char *selector, size_t selsz, char *path, size_t pathsz, char *err,
    size_t errsz)
{
	const char *c1 = strchr(value, ':'), *c2 = c1 ? strchr(c1 + 1, ':') :
	    NULL, *p;
	char sel[KEY_SELECTOR_MAX + 1];

	if (c2 == NULL) {
		snprintf(err, errsz, "\"%s\" is not DOMAIN:SELECTOR:KEYPATH",
		    value);
		return -1;
	}
	p = c2 + 1;
	if (c1 - value == 1 && value[0] == '%') {
		snprintf(err, errsz, "domain \"%%\" (the From domain) has no "
		    "signing_table equivalent; write one line per domain");
		return -1;
	}
	if (domain_normalise(value, (size_t)(c1 - value), domain, domsz) != 0) {
		snprintf(err, errsz, "\"%.*s\" is not a domain name",
		    (int)(c1 - value), value);
		return -1;
	}
	if ((size_t)(c2 - c1 - 1) >= sizeof(sel)) {
		snprintf(err, errsz, "selector longer than %d characters",
		    KEY_SELECTOR_MAX);
		return -1;
	}
	memcpy(sel, c1 + 1, (size_t)(c2 - c1 - 1));
	sel[c2 - c1 - 1] = '\0';
	if (!key_valid_selector(sel)) {
		snprintf(err, errsz, "\"%s\" is not a valid selector", sel);
		return -1;
	}
	/* opendkim.conf(5): a path starts with "/", "./" or "../";
	 * anything else is the key itself. */
	if (p[0] != '/' && strncmp(p, "./", 2) != 0 &&
	    strncmp(p, "../", 3) != 0) {
		snprintf(err, errsz, "the key is written inside the KeyTable; "
		    "put it in a file and import that with authfilter-keys "
		    "import");
		return -1;
	}
	if (strlen(p) >= pathsz) {
		snprintf(err, errsz, "key path too long");
		return -1;
	}
	snprintf(selector, selsz, "%s", sel);
	snprintf(path, pathsz, "%s", p);
	return 0;
}

int
odk_host_network(const char *entry, char *out, size_t outsz, char *err,
    size_t errsz)
{
	char nerr[128];
	struct netlist *nl;

	if (entry[0] == '!') {
		snprintf(err, errsz, "\"%s\": internal_networks has no "
		    "exclusions; list the networks that remain", entry);
		return -1;
	}
	if (strlen(entry) >= outsz || strpbrk(entry, ", \t") != NULL ||
	    (nl = netlist_parse(entry, nerr, sizeof(nerr))) == NULL) {
		snprintf(err, errsz, "\"%s\" is not an address or CIDR network "
		    "(a host or domain name?): internal_networks takes "
		    "addresses only", entry);
		return -1;
	}
	netlist_free(nl);
	snprintf(out, outsz, "%s", entry);
	return 0;
}
