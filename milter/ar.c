/*
 * NAME
 *	ar -- write and parse Authentication-Results header fields
 * SYNOPSIS
 *	ar_format(buf, sizeof(buf), "mx.example", results, n);
 *	ar_parse(value, len, &hdr);
 *	if (ar_is_ours(value, len, "mx.example")) ...
 * DESCRIPTION
 *	RFC 8601.  The writer emits one header value: the authserv-id,
 *	then "; method=result (comment) reason=... ptype.property=value"
 *	for each result, or "; none" when nothing was evaluated.  Property
 *	values that are not RFC 2045 tokens (or local-part@domain forms)
 *	are written as quoted-strings, so a hostile value such as
 *	"example.net(.example.com" (CVE-2020-12272) cannot change how a
 *	reader splits the header.
 *
 *	The parser follows the RFC 8601 section 2.2 grammar: comments
 *	(nested) and folding white space may appear between any two
 *	elements; values are tokens or quoted-strings.  It exists to find
 *	headers that carry our authserv-id (RFC 8601 section 5: they must
 *	be removed before ours is added) and for tests to read ours back.
 * DIAGNOSTICS
 *	ar_parse() returns -1 on a syntax error; it never reads past len.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "milter/ar.h"
#include "lib/cfws.h"

/* RFC 2045 tspecials plus space and controls end a token. */
static int
is_token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Values we can write bare: tokens, and [local-part]@domain made of
 * token characters (RFC 8601 pvalue). */
static int
is_bare_value(const char *v)
{
	int at = 0;

	if (*v == '\0')
		return 0;
	for (; *v != '\0'; v++) {
		if (*v == '@' && !at) {
			at = 1;
			continue;
		}
		if (!is_token_char((unsigned char)*v))
			return 0;
	}
	return 1;
}

struct wbuf {
	char	*p;
	size_t	 size, len;
	int	 overflow;
};

static void
w_str(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	if (w->len + n + 1 > w->size) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p + w->len, s, n + 1);
	w->len += n;
}

static void
w_char(struct wbuf *w, char c)
{
	char s[2] = { c, '\0' };

	w_str(w, s);
}

static void
w_value(struct wbuf *w, const char *v)
{
	if (is_bare_value(v)) {
		w_str(w, v);
		return;
	}
	w_char(w, '"');
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '"' || c == '\\')
			w_char(w, '\\');
		/* Line breaks and controls would fold or corrupt the header. */
		w_char(w, c < ' ' || c == 0x7f ? '?' : (char)c);
	}
	w_char(w, '"');
}

/* Comment text: parentheses and backslashes are escaped (RFC 5322 ctext). */
static void
w_comment(struct wbuf *w, const char *c)
{
	w_str(w, " (");
	for (; *c != '\0'; c++) {
		unsigned char ch = (unsigned char)*c;
		if (ch == '(' || ch == ')' || ch == '\\')
			w_char(w, '\\');
		w_char(w, ch < ' ' || ch == 0x7f ? '?' : (char)ch);
	}
	w_char(w, ')');
}

int
ar_result_prop(struct ar_result *r, const char *ptype, const char *property,
    const char *value)
{
	struct ar_prop *p;

	if (r->nprops >= AR_MAX_PROPS)
		return -1;
	p = &r->props[r->nprops++];
	snprintf(p->ptype, sizeof(p->ptype), "%s", ptype);
	snprintf(p->property, sizeof(p->property), "%s", property);
	snprintf(p->value, sizeof(p->value), "%s", value);
	return 0;
}

int
ar_format(char *dst, size_t dstsz, const char *authserv_id,
    const struct ar_result *res, size_t n)
{
	struct wbuf w = { dst, dstsz, 0, 0 };

	if (dstsz == 0)
		return -1;
	dst[0] = '\0';
	w_value(&w, authserv_id);
	if (n == 0)
		w_str(&w, "; none");
	for (size_t i = 0; i < n; i++) {
		w_str(&w, ";\n\t");
		w_str(&w, res[i].method);
		w_char(&w, '=');
		w_str(&w, res[i].result);
		if (res[i].comment[0] != '\0')
			w_comment(&w, res[i].comment);
		if (res[i].reason[0] != '\0') {
			w_str(&w, " reason=");
			w_value(&w, res[i].reason);
		}
		for (size_t j = 0; j < res[i].nprops; j++) {
			const struct ar_prop *p = &res[i].props[j];
			w_char(&w, ' ');
			w_str(&w, p->ptype);
			w_char(&w, '.');
			w_str(&w, p->property);
			w_char(&w, '=');
			w_value(&w, p->value);
		}
	}
	return w.overflow ? -1 : (int)w.len;
}

/* ---- parser ---- */

struct cur {
	const char	*p, *end;
};

static int
skip_cfws(struct cur *c)
{
	const char *p = cfws_skip(c->p, c->end);

	if (p == NULL)
		return -1;
	c->p = p;
	return 0;
}

/* Copy into buf (truncating) while advancing. */
static void
put(char *buf, size_t bufsz, size_t *len, char ch)
{
	if (*len + 1 < bufsz)
		buf[(*len)++] = ch;
	buf[*len < bufsz ? *len : bufsz - 1] = '\0';
}

static int
read_quoted(struct cur *c, char *buf, size_t bufsz, size_t *len)
{
	c->p++;				/* opening quote */
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\' && c->p + 1 < c->end)
			c->p++;
		put(buf, bufsz, len, *c->p++);
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	return 0;
}

/* method, result, ptype, property: Keyword (RFC 5321 Ldh-str; "_" is
 * seen in the IANA registry's property names too). */
static int
is_keyword_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_';
}

/* A non-empty run of characters for which ok() holds. */
static int
read_run(struct cur *c, char *buf, size_t bufsz, int (*ok)(unsigned char))
{
	size_t len = 0;

	buf[0] = '\0';
	while (c->p < c->end && ok((unsigned char)*c->p))
		put(buf, bufsz, &len, *c->p++);
	return len > 0 ? 0 : -1;
}

static int
read_token(struct cur *c, char *buf, size_t bufsz)
{
	return read_run(c, buf, bufsz, is_token_char);
}

static int
read_keyword(struct cur *c, char *buf, size_t bufsz)
{
	return read_run(c, buf, bufsz, is_keyword_char);
}

/* value = token / quoted-string */
static int
read_value(struct cur *c, char *buf, size_t bufsz)
{
	size_t len = 0;

	buf[0] = '\0';
	if (c->p < c->end && *c->p == '"')
		return read_quoted(c, buf, bufsz, &len);
	return read_token(c, buf, bufsz);
}

/* pvalue = value / [ [ local-part ] "@" ] domain-name */
static int
read_pvalue(struct cur *c, char *buf, size_t bufsz)
{
	size_t len = 0;

	buf[0] = '\0';
	if (c->p < c->end && *c->p == '"' &&
	    read_quoted(c, buf, bufsz, &len) != 0)
		return -1;
	while (c->p < c->end && (is_token_char((unsigned char)*c->p) ||
	    *c->p == '@'))
		put(buf, bufsz, &len, *c->p++);
	return len > 0 ? 0 : -1;
}

static int
expect(struct cur *c, char ch)
{
	if (skip_cfws(c) != 0 || c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	return skip_cfws(c);
}

int
ar_authserv_id(const char *value, size_t len, char *buf, size_t bufsz)
{
	struct cur c = { value, value + len };

	if (bufsz == 0)
		return -1;
	buf[0] = '\0';
	if (skip_cfws(&c) != 0)
		return -1;
	return read_value(&c, buf, bufsz);
}

static int
parse_resinfo(struct cur *c, struct ar_result *r)
{
	char word[AR_VALUE_MAX];
	const char *save;

	memset(r, 0, sizeof(*r));
	if (read_keyword(c, r->method, sizeof(r->method)) != 0)
		return -1;
	if (expect(c, '/') == 0) {	/* method-version, ignored */
		if (read_keyword(c, word, sizeof(word)) != 0)
			return -1;
	}
	if (expect(c, '=') != 0 ||
	    read_keyword(c, r->result, sizeof(r->result)) != 0)
		return -1;
	for (;;) {
		if (skip_cfws(c) != 0)
			return -1;
		if (c->p >= c->end || *c->p == ';')
			return 0;
		save = c->p;
		if (read_keyword(c, word, sizeof(word)) != 0)
			return -1;
		if (strcasecmp(word, "reason") == 0 && expect(c, '=') == 0) {
			if (read_value(c, r->reason, sizeof(r->reason)) != 0)
				return -1;
			continue;
		}
		c->p = save;
		if (r->nprops >= AR_MAX_PROPS)
			return -1;
		struct ar_prop *p = &r->props[r->nprops];
		if (read_keyword(c, p->ptype, sizeof(p->ptype)) != 0 ||
		    expect(c, '.') != 0 ||
		    read_keyword(c, p->property, sizeof(p->property)) != 0 ||
		    expect(c, '=') != 0 ||
		    read_pvalue(c, p->value, sizeof(p->value)) != 0)
			return -1;
		r->nprops++;
	}
}

int
ar_parse(const char *value, size_t len, struct ar_header *out)
{
	struct cur c = { value, value + len };
	char word[32];

	memset(out, 0, sizeof(*out));
	if (skip_cfws(&c) != 0 ||
	    read_value(&c, out->authserv_id, sizeof(out->authserv_id)) != 0)
		return -1;
	if (skip_cfws(&c) != 0)
		return -1;
	if (c.p < c.end && isdigit((unsigned char)*c.p)) {	/* version */
		while (c.p < c.end && isdigit((unsigned char)*c.p))
			c.p++;
	}
	for (;;) {
		if (skip_cfws(&c) != 0)
			return -1;
		if (c.p >= c.end)
			return out->nres > 0 || out->none ? 0 : -1;
		if (*c.p != ';')
			return -1;
		c.p++;
		if (skip_cfws(&c) != 0)
			return -1;
		const char *save = c.p;
		if (out->nres == 0 && !out->none &&
		    read_keyword(&c, word, sizeof(word)) == 0 &&
		    strcasecmp(word, "none") == 0) {
			if (skip_cfws(&c) != 0 || c.p != c.end)
				return -1;
			out->none = 1;
			return 0;
		}
		c.p = save;
		if (out->none || out->nres >= AR_MAX_RESULTS)
			return -1;
		if (parse_resinfo(&c, &out->res[out->nres]) != 0)
			return -1;
		out->nres++;
	}
}

static size_t
id_len(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

int
ar_is_ours(const char *value, size_t len, const char *our_id)
{
	char id[AR_VALUE_MAX];
	size_t a, b;

	if (ar_authserv_id(value, len, id, sizeof(id)) != 0)
		return 0;
	a = id_len(id);
	b = id_len(our_id);
	return a == b && a > 0 && strncasecmp(id, our_id, a) == 0;
}
