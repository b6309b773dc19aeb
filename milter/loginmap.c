/*
 * NAME
 *	loginmap -- which From domains each SASL login may sign for
 * SYNOPSIS
 *	map = loginmap_load(cfg->sender_login_map, &errs);
 *	if (!loginmap_allows(map, "alice", "example.org")) ...
 * DESCRIPTION
 *	A stolen password must not buy DKIM signatures for every domain
 *	we host.  With sender_login_map set, authenticated mail is signed
 *	only when the login may use the From domain; a login missing from
 *	the map may use none.  The file:
 *
 *		# login            domains
 *		alice@example.org  example.org, example.net
 *		relay-bot          *
 *
 *	Logins are matched exactly (SASL names are case-sensitive);
 *	domains without regard to case.
 * DIAGNOSTICS
 *	"FILE:LINE: problem" for a line without domains, a bad domain, a
 *	login listed twice.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/from.h"
#include "milter/loginmap.h"

/* A map larger than this is a mistake (a log, a mailbox). */
#define LOGINMAP_MAX_BYTES (16 * 1024 * 1024)

struct entry {
	char	 *login;
	char	**domains;	/* normalised; "*" for any */
	size_t	  n;
};

struct loginmap {
	struct entry	*e;
	size_t		 n;
};

void
loginmap_free(struct loginmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		for (size_t j = 0; j < m->e[i].n; j++)
			free(m->e[i].domains[j]);
		free(m->e[i].domains);
		free(m->e[i].login);
	}
	free(m->e);
	free(m);
}

static int
parse_line(struct loginmap *m, const char *src, unsigned lineno, char *line,
    struct config_errors *errs)
{
	char *save = NULL, *tok, norm[FROM_DOMAIN_MAX + 1];
	struct entry e = { 0 }, *grown;
	char **g;

	tok = strtok_r(line, " \t", &save);
	if (tok == NULL)
		return 0;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].login, tok) == 0) {
			config_errors_add(errs, "%s:%u: login \"%.64s\" is "
			    "already listed", src, lineno, tok);
			return -1;
		}
	if ((e.login = strdup(tok)) == NULL)
		return -1;
	while ((tok = strtok_r(NULL, ", \t", &save)) != NULL) {
		if (strcmp(tok, "*") == 0)
			snprintf(norm, sizeof(norm), "*");
		else if (domain_normalise(tok, strlen(tok), norm,
		    sizeof(norm)) != 0) {
			config_errors_add(errs, "%s:%u: \"%.64s\" is not a "
			    "domain name", src, lineno, tok);
			goto fail;
		}
		if ((g = realloc(e.domains, (e.n + 1) * sizeof(*g))) == NULL)
			goto fail;
		e.domains = g;
		if ((e.domains[e.n] = strdup(norm)) == NULL)
			goto fail;
		e.n++;
	}
	if (e.n == 0) {
		config_errors_add(errs, "%s:%u: \"%.64s\" has no domains",
		    src, lineno, e.login);
		goto fail;
	}
	if ((grown = realloc(m->e, (m->n + 1) * sizeof(*grown))) == NULL)
		goto fail;
	m->e = grown;
	m->e[m->n++] = e;
	return 0;
fail:
	for (size_t j = 0; j < e.n; j++)
		free(e.domains[j]);
	free(e.domains);
	free(e.login);
	return -1;
}

struct parse_ctx {
	struct loginmap		*m;
	const char		*src;
	struct config_errors	*errs;
};

static void
one_line(void *arg, unsigned lineno, char *line)
{
	struct parse_ctx *c = arg;

	parse_line(c->m, c->src, lineno, line, c->errs);
}

struct loginmap *
loginmap_parse(const char *src, const char *text, struct config_errors *errs)
{
	struct loginmap *m = calloc(1, sizeof(*m));
	struct parse_ctx c = { m, src, errs };

	if (m == NULL) {
		config_errors_add(errs, "%s: out of memory", src);
		return NULL;
	}
	if (config_table_lines(src, text, one_line, &c, errs) != 0) {
		loginmap_free(m);
		return NULL;
	}
	return m;
}

struct loginmap *
loginmap_load(const char *path, struct config_errors *errs)
{
	char *buf = config_read_file(path, LOGINMAP_MAX_BYTES, "a login map",
	    errs);
	struct loginmap *m;

	if (buf == NULL)
		return NULL;
	m = loginmap_parse(path, buf, errs);
	free(buf);
	return m;
}

int
loginmap_allows(const struct loginmap *m, const char *login,
    const char *domain)
{
	for (size_t i = 0; m != NULL && i < m->n; i++) {
		if (strcmp(m->e[i].login, login) != 0)
			continue;
		for (size_t j = 0; j < m->e[i].n; j++)
			if (strcmp(m->e[i].domains[j], "*") == 0 ||
			    strcasecmp(m->e[i].domains[j], domain) == 0)
				return 1;
		return 0;
	}
	return 0;
}
