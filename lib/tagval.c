/*
 * NAME
 *	tagval -- tag=value lists (RFC 6376 3.2), read strictly
 * SYNOPSIS
 *	if (tagval_check(value, len, why, sizeof(why)) != 0) ...
 *	tagval_get(value, len, "d", d, sizeof(d));
 * DESCRIPTION
 *	The one reader of tag=value lists: DKIM-Signature values and key
 *	records (verify.c, dkimcheck.c, check_dkim.c, keys/keygen.c).
 *
 *	Syntax (RFC 6376 3.2): tag-name = ALPHA *(ALPHA / DIGIT / "_"),
 *	then "=", then a value of printable ASCII other than ";" and
 *	folding white space.  Empty tag-specs (";;", a lone ";") are
 *	accepted, as libopendkim and other verifiers accept them: refusing
 *	them would fail signatures for no safety gained.  Tag names are
 *	case-sensitive; two that differ only in case count as a duplicate
 *	(libopendkim would take one for the other).
 * SEE ALSO
 *	t/unit/dkimcheck.c, t/unit/tagval.c
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/tagval.h"

static int
is_fws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_namechar(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

/* RFC 6376 3.2 VALCHAR: %x21-3A / %x3C-7E */
static int
is_valchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != ';';
}

/* One tag-spec between separators: 0 (t filled), 1 (empty), -1 bad. */
static int
parse_spec(const char *p, size_t n, struct tagval_spec *t, char *why,
    size_t whysz)
{
	size_t i = 0, j;

	while (i < n && is_fws((unsigned char)p[i]))
		i++;
	if (i == n)
		return 1;
	if (!is_alpha((unsigned char)p[i])) {
		/* p is no string: at most what is left of this spec */
		snprintf(why, whysz, "malformed tag name at \"%.*s\"",
		    (int)(n - i < 16 ? n - i : 16), p + i);
		return -1;
	}
	for (j = i; j < n && is_namechar((unsigned char)p[j]); j++)
		;
	t->name.p = p + i;
	t->name.n = j - i;
	while (j < n && is_fws((unsigned char)p[j]))
		j++;
	if (j == n || p[j] != '=') {
		snprintf(why, whysz, "tag \"%.*s\" has no \"=\"",
		    (int)(t->name.n > 16 ? 16 : t->name.n), t->name.p);
		return -1;
	}
	for (j++; j < n && is_fws((unsigned char)p[j]); j++)
		;
	t->value.p = p + j;
	for (; j < n; j++)
		if (!is_valchar((unsigned char)p[j]) &&
		    !is_fws((unsigned char)p[j])) {
			snprintf(why, whysz, "tag \"%.*s\": byte 0x%02x in "
			    "its value", (int)(t->name.n > 16 ? 16 :
			    t->name.n), t->name.p, (unsigned char)p[j]);
			return -1;
		}
	while (j > (size_t)(t->value.p - p) && is_fws((unsigned char)p[j - 1]))
		j--;
	t->value.n = (size_t)(p + j - t->value.p);
	return 0;
}

/* Split s into at most max tag-specs.  strict: the first bad spec or one
 * too many fails the list (-1, why); else they are skipped.  Returns the
 * number of specs. */
int
tagval_split(const char *s, size_t len, struct tagval_spec *t, size_t max, int strict,
    char *why, size_t whysz)
{
	struct tagval_spec one;
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ';')
			continue;
		int rc = parse_spec(s + start, i - start, &one, why, whysz);
		start = i + 1;
		if (rc < 0 && strict)
			return -1;
		if (rc != 0)
			continue;
		if (n == max) {
			if (!strict)
				continue;
			snprintf(why, whysz, "more than %zu tags", max);
			return -1;
		}
		t[n++] = one;
	}
	return (int)n;
}

int
tagval_is(const struct tagval_span *a, const char *s)
{
	return a->n == strlen(s) && memcmp(a->p, s, a->n) == 0;
}

/* Duplicate names, exact or differing in case only: 0 none, else -1. */
int
tagval_duplicates(const struct tagval_spec *t, size_t n, char *why, size_t whysz)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			const struct tagval_span *a = &t[i].name, *b = &t[j].name;
			int w = a->n > 16 ? 16 : (int)a->n;

			if (a->n != b->n || strncasecmp(a->p, b->p, a->n) != 0)
				continue;
			if (memcmp(a->p, b->p, a->n) == 0)
				snprintf(why, whysz, "tag \"%.*s\" occurs twice "
				    "(RFC 6376 3.2)", w, a->p);
			else
				/* libopendkim would take one for the other */
				snprintf(why, whysz, "tags \"%.*s\" and "
				    "\"%.*s\" differ only in case", w, a->p,
				    w, b->p);
			return -1;
		}
	return 0;
}

int
tagval_check(const char *s, size_t len, char *why, size_t whysz)
{
	struct tagval_spec t[TAGVAL_MAX_TAGS];
	int n = tagval_split(s, len, t, TAGVAL_MAX_TAGS, 1, why, whysz);

	if (n < 0)
		return -1;
	return tagval_duplicates(t, (size_t)n, why, whysz);
}

/* The value without white space into out; -1 if it does not fit. */
int
tagval_squeeze(const struct tagval_span *v, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < v->n; i++) {
		if (is_fws((unsigned char)v->p[i]))
			continue;
		if (o + 1 >= outsz) {
			if (outsz > 0)
				out[0] = '\0';
			return -1;
		}
		out[o++] = v->p[i];
	}
	if (outsz > 0)
		out[o] = '\0';
	return 0;
}

int
tagval_get(const char *s, size_t len, const char *tag, char *out,
    size_t outsz)
{
	struct tagval_spec t[TAGVAL_MAX_TAGS];
	char why[8];
	int n = tagval_split(s, len, t, TAGVAL_MAX_TAGS, 0, why, sizeof(why));

	if (outsz > 0)
		out[0] = '\0';
	for (int i = n - 1; i >= 0; i--)
		if (tagval_is(&t[i].name, tag))
			return tagval_squeeze(&t[i].value, out, outsz) == 0 ? 1 : -1;
	return 0;
}
