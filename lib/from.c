/*
 * NAME
 *	from -- the author domains of a From header field
 * SYNOPSIS
 *	st = from_parse(value, len, &res);
 * DESCRIPTION
 *	RFC 5322 section 3.4 address lists: mailboxes ("name <addr>" or a
 *	bare addr-spec), groups ("team: a@x, b@y;"), comments anywhere
 *	(nested, with quoted-pairs), quoted strings in display names and
 *	local parts, and obsolete forms with routes (<@relay:a@x>).
 *
 *	What matters for DKIM and DMARC is the domain of each addr-spec
 *	and how many there are; display names and comments never supply a
 *	domain ("Composition Kills", Chen et al. 2020: display names that
 *	look like addresses fooled real checkers).  Anything we cannot
 *	parse with certainty is FROM_SYNTAX, never a guess.
 * DIAGNOSTICS
 *	FROM_SYNTAX for unbalanced quotes, comments or brackets, NUL bytes,
 *	domain literals ([192.0.2.1]), empty or invalid domains, more than
 *	FROM_MAX_ADDRS addresses.
 */
#include "buildconf.h"

#include <ctype.h>
#include <idn2.h>
#include <string.h>
#include <strings.h>

#include "lib/cfws.h"
#include "lib/from.h"

struct cur {
	const char	*p, *end;
	int		 bad;
};

static void
skip_cfws(struct cur *c)
{
	const char *p = cfws_skip(c->p, c->end);

	if (p == NULL)
		c->bad = 1;
	else
		c->p = p;
}

/* atext plus "." (dot-atom and the obsolete local-part forms) */
static int
is_atext(unsigned char ch)
{
	return ch > ' ' && ch < 0x7f && strchr("()<>[]:;@\\,\".", ch) == NULL;
}

static void
skip_quoted(struct cur *c)
{
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\')
			c->p++;
		c->p++;
	}
	if (c->p >= c->end)
		c->bad = 1;
	else
		c->p++;
}

/* A word sequence (display name or local part): atoms, dots, quoted
 * strings and CFWS.  Returns the number of words read. */
static int
skip_phrase(struct cur *c)
{
	int words = 0;

	for (;;) {
		skip_cfws(c);
		if (c->bad || c->p >= c->end)
			return words;
		if (*c->p == '"')
			skip_quoted(c);
		else if (is_atext((unsigned char)*c->p) || *c->p == '.' ||
		    (unsigned char)*c->p >= 0x80) {
			/* 8-bit: RFC 6532 UTF-8 in names and local parts */
			while (c->p < c->end && (is_atext((unsigned char)*c->p)
			    || *c->p == '.' || (unsigned char)*c->p >= 0x80))
				c->p++;
		} else
			return words;
		if (c->bad)
			return words;
		words++;
	}
}

int
domain_to_ascii(const char *in, size_t len, char *out, size_t outsz)
{
	/* A label of 63 characters of 4 bytes each, and the dots. */
	char buf[FROM_DOMAIN_MAX * 4 + 1], *ascii = NULL;
	int plain = 1;
	size_t n;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\0')
			return -1;
		if ((unsigned char)in[i] >= 0x80)
			plain = 0;
	}
	if (plain) {
		if (len + 1 > outsz)
			return -1;
		memcpy(out, in, len);
		out[len] = '\0';
		return 0;
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, in, len);
	buf[len] = '\0';
	if (idn2_to_ascii_8z(buf, &ascii, IDN2_NFC_INPUT |
	    IDN2_NONTRANSITIONAL) != IDN2_OK)
		return -1;
	n = strlen(ascii);
	if (n + 1 > outsz) {
		idn2_free(ascii);
		return -1;
	}
	memcpy(out, ascii, n + 1);
	idn2_free(ascii);
	return 0;
}

int
domain_normalise(const char *in, size_t len, char *out, size_t outsz)
{
	char alabel[FROM_DOMAIN_MAX + 1];
	size_t i, label = 0;

	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80) {
			/* RFC 8616: U-labels count as their A-labels. */
			if (domain_to_ascii(in, len, alabel,
			    sizeof(alabel)) != 0)
				return -1;
			return domain_normalise(alabel, strlen(alabel), out,
			    outsz);
		}
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > FROM_DOMAIN_MAX - 1 || len + 1 > outsz)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch == '.') {
			if (label == 0 || in[i - 1] == '-')
				return -1;
			label = 0;
		} else if (isalnum(ch) || ch == '-' || ch == '_') {
			if (label == 0 && ch == '-')
				return -1;
			if (++label > 63)
				return -1;
		} else
			return -1;
		out[i] = (char)tolower(ch);
	}
	if (in[len - 1] == '-')
		return -1;
	out[len] = '\0';
	return 0;
}

/* domain of an addr-spec: dot-atom only; a domain literal is refused. */
static void
read_domain(struct cur *c, struct from_result *out)
{
	const char *start;
	char tmp[FROM_DOMAIN_MAX + 1];
	size_t n = 0;

	skip_cfws(c);
	if (c->p < c->end && *c->p == '[') {
		c->bad = 1;		/* IP literal: no DNS name to check */
		return;
	}
	/* Between labels only CFWS may appear; collect the labels. */
	for (;;) {
		start = c->p;
		/* RFC 6532: UTF-8 labels too (domain_normalise() makes
		 * A-labels of them or refuses them). */
		while (c->p < c->end && (is_atext((unsigned char)*c->p) ||
		    (unsigned char)*c->p >= 0x80))
			c->p++;
		if (c->p == start || n + (size_t)(c->p - start) + 1 >= sizeof(tmp)) {
			c->bad = 1;
			return;
		}
		memcpy(tmp + n, start, (size_t)(c->p - start));
		n += (size_t)(c->p - start);
		skip_cfws(c);
		if (c->p < c->end && *c->p == '.') {
			tmp[n++] = '.';
			c->p++;
			skip_cfws(c);
			if (c->p >= c->end || !(is_atext((unsigned char)*c->p) ||
			    (unsigned char)*c->p >= 0x80)) {
				/* trailing dot: allowed, normalised away */
				break;
			}
			continue;
		}
		break;
	}
	if (out->n >= FROM_MAX_ADDRS ||
	    domain_normalise(tmp, n, out->domain[out->n],
	    sizeof(out->domain[0])) != 0) {
		c->bad = 1;
		return;
	}
	out->n++;
}

/* The local part [start, end) as a plain dot-atom into out, else "". */
static void
keep_local(const char *start, const char *end, char *out)
{
	size_t n;

	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	n = (size_t)(end - start);
	out[0] = '\0';
	if (n == 0 || n > FROM_LOCAL_MAX)
		return;
	for (const char *p = start; p < end; p++)
		if (*p != '.' && !is_atext((unsigned char)*p))
			return;
	memcpy(out, start, n);
	out[n] = '\0';
}

/* addr-spec after the local part's start */
static void
read_addr_spec(struct cur *c, struct from_result *out)
{
	const char *start = c->p, *end;
	size_t before = out->n;

	if (skip_phrase(c) == 0 || c->bad) {
		c->bad = 1;
		return;
	}
	if (c->p >= c->end || *c->p != '@') {
		c->bad = 1;
		return;
	}
	end = c->p;
	c->p++;
	read_domain(c, out);
	if (out->n > before)
		keep_local(start, end, out->local[out->n - 1]);
}

/* "<" [obs-route] addr-spec ">" */
static void
read_angle(struct cur *c, struct from_result *out)
{
	c->p++;				/* '<' */
	skip_cfws(c);
	if (c->p < c->end && *c->p == '@') {	/* obs-route: @a,@b: */
		while (c->p < c->end && *c->p != ':' && *c->p != '>')
			c->p++;
		if (c->p >= c->end || *c->p != ':') {
			c->bad = 1;
			return;
		}
		c->p++;
	}
	read_addr_spec(c, out);
	skip_cfws(c);
	if (c->bad || c->p >= c->end || *c->p != '>') {
		c->bad = 1;
		return;
	}
	c->p++;
}

/* One mailbox or group; the cursor ends before "," or ";" or the end. */
static void
read_address(struct cur *c, struct from_result *out, int in_group)
{
	const char *start = c->p;
	int words;

	skip_cfws(c);
	if (c->p < c->end && *c->p == '<') {
		read_angle(c, out);
		return;
	}
	words = skip_phrase(c);
	if (c->bad)
		return;
	if (c->p < c->end && *c->p == '<') {	/* name-addr */
		read_angle(c, out);
		return;
	}
	if (c->p < c->end && *c->p == ':' && !in_group && words > 0) {
		c->p++;				/* group */
		for (;;) {
			skip_cfws(c);
			if (c->bad || c->p >= c->end) {
				c->bad = 1;	/* group without ";" */
				return;
			}
			if (*c->p == ';') {
				c->p++;
				return;
			}
			if (*c->p == ',') {
				c->p++;
				continue;
			}
			read_address(c, out, 1);
			if (c->bad)
				return;
		}
	}
	if (c->p < c->end && *c->p == '@' && words > 0) {	/* addr-spec */
		c->p = start;
		skip_cfws(c);
		read_addr_spec(c, out);
		return;
	}
	c->bad = 1;
}

enum from_status
from_parse(const char *value, size_t len, struct from_result *out)
{
	struct cur c = { value, value + len, 0 };

	memset(out, 0, sizeof(*out));
	if (memchr(value, '\0', len) != NULL)
		return FROM_SYNTAX;
	for (;;) {
		skip_cfws(&c);
		if (c.bad)
			return FROM_SYNTAX;
		if (c.p >= c.end)
			break;
		if (*c.p == ',') {		/* obs: empty list elements */
			c.p++;
			continue;
		}
		read_address(&c, out, 0);
		if (c.bad)
			return FROM_SYNTAX;
		skip_cfws(&c);
		if (c.bad)
			return FROM_SYNTAX;
		if (c.p < c.end && *c.p != ',')
			return FROM_SYNTAX;
	}
	return out->n > 0 ? FROM_OK : FROM_EMPTY;
}

void
envelope_domain(const char *sender, char *out, size_t outsz)
{
	const char *at = sender != NULL ? strrchr(sender, '@') : NULL;
	size_t n;

	out[0] = '\0';
	if (at == NULL || at[1] == '[')
		return;
	n = strcspn(at + 1, ">");
	/* A U-label domain (SMTPUTF8) as its A-label; not an IDN: none. */
	if (n > 0 && domain_to_ascii(at + 1, n, out, outsz) != 0)
		out[0] = '\0';
}

int
domain_at_or_below(const char *domain, const char *parent)
{
	size_t dl = strlen(domain), pl = strlen(parent);

	if (strcasecmp(domain, parent) == 0)
		return 1;
	return dl > pl && domain[dl - pl - 1] == '.' &&
	    strcasecmp(domain + dl - pl, parent) == 0;
}
