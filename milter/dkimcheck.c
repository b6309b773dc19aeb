/*
 * NAME
 *	dkimcheck -- strict checks of DKIM-Signature values and key records
 * SYNOPSIS
 *	if (dkimcheck_taglist(value, len, why, sizeof(why)) != 0) ...
 *	dkimcheck_tag(value, len, "a", alg, sizeof(alg));
 *	dkimcheck_key_alg(k, a, why, sizeof(why));
 *	dkimcheck_key_record(txt, len, buf, buflen, why, sizeof(why));
 * DESCRIPTION
 *	libopendkim reads a tag=value list leniently: a tag given twice
 *	silently takes the last value, and tag names are compared without
 *	case although RFC 6376 3.2 makes them case-sensitive, so "D=" would
 *	replace "d=".  RFC 6376 3.2: "if a tag name does occur more than
 *	once, the entire tag-list is invalid".  These functions look at the
 *	text first, so such a signature or key record gets a verdict of its
 *	own (permerror) instead of whatever the library made of it.
 *
 *	Syntax (RFC 6376 3.2): tag-name = ALPHA *(ALPHA / DIGIT / "_"),
 *	then "=", then a value of printable ASCII other than ";" and
 *	folding white space.  Empty tag-specs (";;", a lone ";") are
 *	accepted, as libopendkim and other verifiers accept them: refusing
 *	them would fail signatures for no safety gained.
 *
 *	A key record is at most a DNS message (64 KiB) but libopendkim
 *	copies it into a 1 KiB buffer, cutting longer ones (a long n= note
 *	before p= loses the key).  dkimcheck_key_record() keeps only what a
 *	verifier reads, so any record whose key fits gets a real verdict.
 * SEE ALSO
 *	verify.c, t/unit/dkimcheck.c
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "milter/dkimcheck.h"

struct span {
	const char	*p;
	size_t		 n;
};

struct tagspec {
	struct span	 name;
	struct span	 value;
};

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
parse_spec(const char *p, size_t n, struct tagspec *t, char *why,
    size_t whysz)
{
	size_t i = 0, j;

	while (i < n && is_fws((unsigned char)p[i]))
		i++;
	if (i == n)
		return 1;
	if (!is_alpha((unsigned char)p[i])) {
		snprintf(why, whysz, "malformed tag name at \"%.16s\"", p + i);
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
static int
split(const char *s, size_t len, struct tagspec *t, size_t max, int strict,
    char *why, size_t whysz)
{
	struct tagspec one;
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

static int
span_is(const struct span *a, const char *s)
{
	return a->n == strlen(s) && memcmp(a->p, s, a->n) == 0;
}

/* Duplicate names, exact or differing in case only: 0 none, else -1. */
static int
duplicates(const struct tagspec *t, size_t n, char *why, size_t whysz)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			const struct span *a = &t[i].name, *b = &t[j].name;
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
dkimcheck_taglist(const char *s, size_t len, char *why, size_t whysz)
{
	struct tagspec t[DKIMCHECK_MAX_TAGS];
	int n = split(s, len, t, DKIMCHECK_MAX_TAGS, 1, why, whysz);

	if (n < 0)
		return -1;
	return duplicates(t, (size_t)n, why, whysz);
}

/* The value without white space into out; -1 if it does not fit. */
static int
squeeze(const struct span *v, char *out, size_t outsz)
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
dkimcheck_tag(const char *s, size_t len, const char *tag, char *out,
    size_t outsz)
{
	struct tagspec t[DKIMCHECK_MAX_TAGS];
	char why[8];
	int n = split(s, len, t, DKIMCHECK_MAX_TAGS, 0, why, sizeof(why));

	if (outsz > 0)
		out[0] = '\0';
	for (int i = n - 1; i >= 0; i--)
		if (span_is(&t[i].name, tag))
			return squeeze(&t[i].value, out, outsz) == 0 ? 1 : -1;
	return 0;
}

int
dkimcheck_key_alg(const char *k, const char *a, char *why, size_t whysz)
{
	const char *type;

	/* RFC 6376 3.5 a= and 3.6.1 k= (default "rsa"); RFC 8463 3. */
	if (strcasecmp(a, "rsa-sha256") == 0 || strcasecmp(a, "rsa-sha1") == 0)
		type = "rsa";
	else if (strcasecmp(a, "ed25519-sha256") == 0)
		type = "ed25519";
	else
		return 0;
	if (k == NULL)
		k = "rsa";
	if (strcasecmp(k, type) == 0)
		return 0;
	/* RFC 6376 6.1.2 step 8: a key not suitable for the a= and k=
	 * algorithm: "PERMFAIL (inappropriate key algorithm)". */
	snprintf(why, whysz, "key k=%.16s does not fit a=%.16s", k, a);
	return -1;
}

int
dkimcheck_key_record(const char *rec, size_t len, char *out, size_t outsz,
    char *why, size_t whysz)
{
	static const char *keep[] = { "v", "h", "k", "s", "t", "p" };
	struct tagspec t[DKIMCHECK_MAX_TAGS];
	size_t o = 0;
	int n;

	if (outsz == 0)
		return -2;
	out[0] = '\0';
	if ((n = split(rec, len, t, DKIMCHECK_MAX_TAGS, 1, why, whysz)) < 0 ||
	    duplicates(t, (size_t)n, why, whysz) != 0)
		return -1;	/* RFC 6376 6.1.2 step 5: key syntax error */
	if (n == 0) {
		snprintf(why, whysz, "empty key record");
		return -1;
	}
	for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
		for (int i = 0; i < n; i++) {
			if (!span_is(&t[i].name, keep[k]))
				continue;
			/* o < outsz: out + o is always a string's end */
			o += (size_t)snprintf(out + o, outsz - o, "%s%s=",
			    o > 0 ? "; " : "", keep[k]);
			if (o >= outsz || squeeze(&t[i].value, out + o,
			    outsz - o) != 0) {
				out[0] = '\0';
				snprintf(why, whysz, "key record too long for "
				    "the verifier: %s= of %zu characters",
				    keep[k], t[i].value.n);
				return -2;
			}
			o += strlen(out + o);
		}
	return 0;
}
