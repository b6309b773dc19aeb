/*
 * NAME
 *	overrides -- per-domain policy overrides with an expiry date
 * SYNOPSIS
 *	o = overrides_load(cfg->policy_overrides, &errs);
 *	ovr = overrides_find(o, "partner.example", time(NULL));
 * DESCRIPTION
 *	The file policy_overrides says, per From domain, what to do instead
 *	of the global policy while a domain owner fixes its setup:
 *
 *	    # domain         what        until            why
 *	    partner.example  monitor     until=2027-01-31 DMARC being fixed
 *	    bank.example     reject                       always enforce
 *
 *	monitor / enforce change policy_mode for that domain; accept,
 *	quarantine and reject replace what a DMARC failure leads to.  A
 *	line applies to the domain and its subdomains; the most specific
 *	line wins.  until= is a date (UTC): the line applies through that
 *	day and stops applying after it (authfilter -t lists it as
 *	expired).  Read at start and on SIGHUP like the configuration: a
 *	bad line keeps the old set serving.
 */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/from.h"
#include "policy/overrides.h"

/* A file larger than this is a mistake. */
#define OVERRIDES_MAX_BYTES (4 * 1024 * 1024)

struct overrides {
	char		*src;
	struct override	*e;
	size_t		 n;
};

static const char *const kinds[] = { "monitor", "enforce", "accept",
	"quarantine", "reject", NULL };

const char *
override_kind_name(enum override_kind k)
{
	return kinds[k];
}

void
overrides_free(struct overrides *o)
{
	if (o == NULL)
		return;
	free(o->src);
	free(o->e);
	free(o);
}

/* "YYYY-MM-DD" -> the first second (UTC) of the next day; 0 if bad. */
static time_t
day_after(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0' || strlen(s) != 10)
		return 0;
	tm.tm_mday++;		/* timegm normalises the overflow */
	return timegm(&tm);
}

struct parse_ctx {
	struct overrides	*o;
	struct config_errors	*errs;
};

static void
parse_line(void *arg, unsigned lineno, char *line)
{
	struct parse_ctx *c = arg;
	struct override e;
	char *save = NULL, *tok, *grown;
	size_t k;

	memset(&e, 0, sizeof(e));
	e.line = lineno;
	tok = strtok_r(line, " \t\r", &save);
	if (domain_normalise(tok, strlen(tok), e.domain, sizeof(e.domain))
	    != 0) {
		config_errors_add(c->errs, "%s:%u: \"%.64s\" is not a domain "
		    "name", c->o->src, lineno, tok);
		return;
	}
	if ((tok = strtok_r(NULL, " \t\r", &save)) == NULL) {
		config_errors_add(c->errs, "%s:%u: %s: expected monitor, "
		    "enforce, accept, quarantine or reject", c->o->src, lineno,
		    e.domain);
		return;
	}
	for (k = 0; kinds[k] != NULL && strcmp(kinds[k], tok) != 0; k++)
		;
	if (kinds[k] == NULL) {
		config_errors_add(c->errs, "%s:%u: \"%.32s\": expected "
		    "monitor, enforce, accept, quarantine or reject",
		    c->o->src, lineno, tok);
		return;
	}
	e.kind = (enum override_kind)k;
	tok = strtok_r(NULL, " \t\r", &save);
	if (tok != NULL && strncmp(tok, "until=", 6) == 0) {
		if ((e.until = day_after(tok + 6)) == 0) {
			config_errors_add(c->errs, "%s:%u: \"%.32s\": expected "
			    "until=YYYY-MM-DD", c->o->src, lineno, tok);
			return;
		}
		snprintf(e.date, sizeof(e.date), "%s", tok + 6);
		tok = strtok_r(NULL, "\r", &save);
	} else if (tok != NULL) {
		char *rest = strtok_r(NULL, "\r", &save);
		if (rest != NULL)
			rest[-1] = ' ';		/* rejoin the reason */
	}
	if (tok != NULL) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		snprintf(e.reason, sizeof(e.reason), "%s", tok);
	}
	for (size_t i = 0; i < c->o->n; i++)
		if (strcmp(c->o->e[i].domain, e.domain) == 0) {
			config_errors_add(c->errs, "%s:%u: %s is already on "
			    "line %u", c->o->src, lineno, e.domain,
			    c->o->e[i].line);
			return;
		}
	grown = realloc(c->o->e, (c->o->n + 1) * sizeof(e));
	if (grown == NULL) {
		config_errors_add(c->errs, "%s: out of memory", c->o->src);
		return;
	}
	c->o->e = (struct override *)grown;
	c->o->e[c->o->n++] = e;
}

struct overrides *
overrides_parse(const char *src, const char *text, struct config_errors *errs)
{
	struct overrides *o = calloc(1, sizeof(*o));
	struct parse_ctx c = { o, errs };

	if (o == NULL || (o->src = strdup(src)) == NULL) {
		overrides_free(o);
		config_errors_add(errs, "%s: out of memory", src);
		return NULL;
	}
	if (config_table_lines(src, text, parse_line, &c, errs) != 0) {
		overrides_free(o);
		return NULL;
	}
	return o;
}

struct overrides *
overrides_load(const char *path, struct config_errors *errs)
{
	char *buf = config_read_file(path, OVERRIDES_MAX_BYTES,
	    "a policy overrides file", errs);
	struct overrides *o;

	if (buf == NULL)
		return NULL;
	o = overrides_parse(path, buf, errs);
	free(buf);
	return o;
}

const struct override *
overrides_find(const struct overrides *o, const char *domain, time_t now)
{
	const struct override *best = NULL;

	for (size_t i = 0; o != NULL && i < o->n; i++) {
		const struct override *e = &o->e[i];
		if (e->until != 0 && now >= e->until)
			continue;
		if (!domain_at_or_below(domain, e->domain))
			continue;
		if (best == NULL || strlen(e->domain) > strlen(best->domain))
			best = e;
	}
	return best;
}

size_t
overrides_report_expired(const struct overrides *o, time_t now, FILE *fp)
{
	size_t n = 0;

	for (size_t i = 0; o != NULL && i < o->n; i++)
		if (o->e[i].until != 0 && now >= o->e[i].until) {
			fprintf(fp, "%s:%u: override for %s expired on %s (no "
			    "longer applies)\n", o->src, o->e[i].line,
			    o->e[i].domain, o->e[i].date);
			n++;
		}
	return n;
}

size_t
overrides_count(const struct overrides *o)
{
	return o != NULL ? o->n : 0;
}

const struct override *
overrides_at(const struct overrides *o, size_t i)
{
	return o != NULL && i < o->n ? &o->e[i] : NULL;
}
