/*
 * NAME
 *	signtable -- which key domain (d=) signs for which From
 * SYNOPSIS
 *	t = signtable_load(cfg->signing_table, &errs);
 *	e = signtable_lookup(t, "alice", "example.net");
 * DESCRIPTION
 *	signing_table, in Postfix lookup-table style:
 *
 *		# From pattern      key domain (d=)   [selectors]
 *		alice@example.net   example.net
 *		example.net         example.net
 *		.example.net        example.net
 *		example.com         hosting.example   s2026a,s2026b
 *		*                   hosting.example
 *
 *	A pattern is one From address, one From domain, ".domain" for
 *	the names below it, or "*" for any From.  The most specific
 *	pattern wins, not the first line: the address, then the domain,
 *	then the closest ".parent", then "*".  The key domain's active
 *	keys sign (only the selectors listed, when some are).  Domains and
 *	local parts are compared without regard to case.
 * DIAGNOSTICS
 *	"FILE:LINE: problem" for a bad pattern, domain or selector, a
 *	pattern listed twice, a line without a key domain.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/from.h"
#include "milter/signtable.h"

#define SIGNTABLE_MAX_BYTES (16 * 1024 * 1024)

struct signtable {
	struct signtable_entry *e;
	size_t		 n;
};

void
signtable_free(struct signtable *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t);
}

/* "alice@example.net", "example.net", ".example.net" or "*", checked and
 * normalised into e; 0 or -1. */
static int
pattern(const char *tok, struct signtable_entry *e)
{
	const char *at = strrchr(tok, '@'), *dom = tok;

	if (strcmp(tok, "*") == 0) {
		e->kind = ST_ANY;
		return 0;
	}
	if (at != NULL) {
		size_t n = (size_t)(at - tok);
		if (n == 0 || n > FROM_LOCAL_MAX)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (tok[i] <= ' ' || tok[i] == '"' || tok[i] == '@' ||
			    (unsigned char)tok[i] >= 0x7f)
				return -1;
		memcpy(e->local, tok, n);
		e->local[n] = '\0';
		e->kind = ST_ADDRESS;
		dom = at + 1;
	} else if (*tok == '.') {
		e->kind = ST_BELOW;
		dom = tok + 1;
	} else
		e->kind = ST_DOMAIN;
	return domain_normalise(dom, strlen(dom), e->domain,
	    sizeof(e->domain));
}

static void
parse_line(struct signtable *t, const char *src, unsigned lineno, char *line,
    struct config_errors *errs)
{
	struct signtable_entry e = { 0 }, *grown;
	char *save = NULL, *pat = strtok_r(line, " \t", &save);
	char *kd = strtok_r(NULL, " \t", &save);
	char *sels = strtok_r(NULL, " \t", &save);
	char *sel, *ssave = NULL;

	if (pat == NULL)
		return;
	e.line = lineno;
	if (pattern(pat, &e) != 0) {
		config_errors_add(errs, "%s:%u: \"%.80s\" is not a From "
		    "address, domain, .domain or *", src, lineno, pat);
		return;
	}
	if (kd == NULL) {
		config_errors_add(errs, "%s:%u: %.80s: expected a key domain "
		    "(d=) after the pattern", src, lineno, pat);
		return;
	}
	if (domain_normalise(kd, strlen(kd), e.key_domain,
	    sizeof(e.key_domain)) != 0) {
		config_errors_add(errs, "%s:%u: \"%.80s\" is not a domain name "
		    "(the key domain, d=)", src, lineno, kd);
		return;
	}
	for (sel = sels != NULL ? strtok_r(sels, ",", &ssave) : NULL;
	    sel != NULL; sel = strtok_r(NULL, ",", &ssave)) {
		if (e.nsel == SIGNTABLE_MAX_SELECTORS ||
		    !key_valid_selector(sel)) {
			config_errors_add(errs, "%s:%u: \"%.80s\" is not a "
			    "selector (or more than %d)", src, lineno, sel,
			    SIGNTABLE_MAX_SELECTORS);
			return;
		}
		snprintf(e.selector[e.nsel++], sizeof(e.selector[0]), "%s",
		    sel);
	}
	if (strtok_r(NULL, " \t", &save) != NULL) {
		config_errors_add(errs, "%s:%u: more than three columns (write "
		    "selectors as one list: s1,s2)", src, lineno);
		return;
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].kind == e.kind &&
		    strcasecmp(t->e[i].local, e.local) == 0 &&
		    strcmp(t->e[i].domain, e.domain) == 0) {
			config_errors_add(errs, "%s:%u: %s is already listed "
			    "at line %u", src, lineno, pat, t->e[i].line);
			return;
		}
	if ((grown = realloc(t->e, (t->n + 1) * sizeof(*grown))) == NULL) {
		config_errors_add(errs, "%s: out of memory", src);
		return;
	}
	t->e = grown;
	t->e[t->n++] = e;
}

struct parse_ctx {
	struct signtable	*t;
	const char		*src;
	struct config_errors	*errs;
};

static void
one_line(void *arg, unsigned lineno, char *line)
{
	struct parse_ctx *c = arg;

	parse_line(c->t, c->src, lineno, line, c->errs);
}

struct signtable *
signtable_parse(const char *src, const char *text, struct config_errors *errs)
{
	struct signtable *t = calloc(1, sizeof(*t));
	struct parse_ctx c = { t, src, errs };

	if (t == NULL) {
		config_errors_add(errs, "%s: out of memory", src);
		return NULL;
	}
	if (config_table_lines(src, text, one_line, &c, errs) != 0) {
		signtable_free(t);
		return NULL;
	}
	return t;
}

struct signtable *
signtable_load(const char *path, struct config_errors *errs)
{
	char *buf = config_read_file(path, SIGNTABLE_MAX_BYTES,
	    "a signing table", errs);
	struct signtable *t;

	if (buf == NULL)
		return NULL;
	t = signtable_parse(path, buf, errs);
	free(buf);
	return t;
}

static const struct signtable_entry *
find(const struct signtable *t, enum st_kind kind, const char *local,
    const char *domain)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].kind == kind &&
		    (kind == ST_ANY || strcasecmp(t->e[i].domain, domain) == 0) &&
		    (kind != ST_ADDRESS || strcasecmp(t->e[i].local, local) == 0))
			return &t->e[i];
	return NULL;
}

const struct signtable_entry *
signtable_lookup(const struct signtable *t, const char *local,
    const char *domain)
{
	const struct signtable_entry *e;
	const char *d;

	if (t == NULL)
		return NULL;
	if (*local != '\0' && (e = find(t, ST_ADDRESS, local, domain)) != NULL)
		return e;
	if ((e = find(t, ST_DOMAIN, "", domain)) != NULL)
		return e;
	for (d = strchr(domain, '.'); d != NULL; d = strchr(d + 1, '.'))
		if ((e = find(t, ST_BELOW, "", d + 1)) != NULL)
			return e;
	return find(t, ST_ANY, "", "");
}

size_t
signtable_count(const struct signtable *t)
{
	return t != NULL ? t->n : 0;
}

const struct signtable_entry *
signtable_entry(const struct signtable *t, size_t i)
{
	return t != NULL && i < t->n ? &t->e[i] : NULL;
}

int
signtable_selects(const struct signtable_entry *e, const char *selector)
{
	if (e->nsel == 0)
		return 1;
	for (size_t i = 0; i < e->nsel; i++)
		if (strcmp(e->selector[i], selector) == 0)
			return 1;
	return 0;
}
