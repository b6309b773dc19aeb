/*
 * NAME
 *	store_codec -- a DMARC record's lists as one text column
 * SYNOPSIS
 *	codec_dkim(buf, sizeof(buf), rec);	codec_dkim_read(text, rec);
 *	codec_spf(...);			codec_spf_read(...);
 *	codec_reasons(...);		codec_reasons_read(...);
 * DESCRIPTION
 *	A record's <auth_results> (up to RUA_DKIM_MAX dkim, RUA_SPF_MAX
 *	spf) and its <reason>s are kept as one TEXT column each, so that
 *	the store can group equal evaluations with SQL's GROUP BY and
 *	both databases keep the same schema.  Each item is one line, its
 *	fields separated by tabs, in the order of the struct; "%", tab and
 *	newline inside a field are written %25, %09 and %0A.  Domains are
 *	lower-cased.  Equal lists give equal text.
 *
 *	Reading fills the record's arrays, each field cut to its size; a
 *	line beyond the array's size is ignored.
 * DIAGNOSTICS
 *	Writing returns -1 when out is too small (it cannot be with the
 *	sizes of store_impl.h), else 0.
 */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "rua/store_impl.h"

struct codec_out {
	char	*p;
	size_t	 sz, len;
	int	 full;
};

static void
out_char(struct codec_out *o, char c)
{
	if (o->len + 1 >= o->sz) {
		o->full = 1;
		return;
	}
	o->p[o->len++] = c;
	o->p[o->len] = '\0';
}

/* One field: escaped, lower-cased when it is a domain, then sep ('\t'
 * after a field, '\n' after an item, 0 for none). */
static void
out_field(struct codec_out *o, const char *s, size_t max, int lower, char sep)
{
	for (size_t i = 0; i < max && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%' || c == '\t' || c == '\n') {
			char hex[4];

			snprintf(hex, sizeof(hex), "%%%02X", c);
			out_char(o, hex[0]);
			out_char(o, hex[1]);
			out_char(o, hex[2]);
		} else
			out_char(o, lower && c >= 'A' && c <= 'Z' ?
			    (char)(c - 'A' + 'a') : (char)c);
	}
	if (sep != 0)
		out_char(o, sep);
}

static void
out_start(struct codec_out *o, char *out, size_t outsz)
{
	o->p = out;
	o->sz = outsz;
	o->len = 0;
	o->full = outsz == 0;
	if (outsz > 0)
		out[0] = '\0';
}

#define FIELD(o, f, lower, sep)	out_field((o), (f), sizeof(f), (lower), (sep))

int
codec_dkim(char *out, size_t outsz, const struct rua_record *r)
{
	struct codec_out o;
	size_t n = r->ndkim < RUA_DKIM_MAX ? r->ndkim : RUA_DKIM_MAX;

	out_start(&o, out, outsz);
	for (size_t i = 0; i < n; i++) {
		const struct rua_dkim *d = &r->dkim_res[i];

		FIELD(&o, d->domain, 1, '\t');
		FIELD(&o, d->selector, 0, '\t');
		FIELD(&o, d->result, 0, '\t');
		FIELD(&o, d->human_result, 0, '\n');
	}
	return o.full ? -1 : 0;
}

int
codec_spf(char *out, size_t outsz, const struct rua_record *r)
{
	struct codec_out o;
	size_t n = r->nspf < RUA_SPF_MAX ? r->nspf : RUA_SPF_MAX;

	out_start(&o, out, outsz);
	for (size_t i = 0; i < n; i++) {
		const struct rua_spf *s = &r->spf_res[i];

		FIELD(&o, s->domain, 1, '\t');
		FIELD(&o, s->scope, 0, '\t');
		FIELD(&o, s->result, 0, '\t');
		FIELD(&o, s->human_result, 0, '\n');
	}
	return o.full ? -1 : 0;
}

int
codec_reasons(char *out, size_t outsz, const struct rua_record *r)
{
	struct codec_out o;
	size_t n = r->nreason < RUA_REASON_MAX ? r->nreason : RUA_REASON_MAX;

	out_start(&o, out, outsz);
	for (size_t i = 0; i < n; i++) {
		FIELD(&o, r->reason[i].type, 0, '\t');
		FIELD(&o, r->reason[i].comment, 0, '\n');
	}
	return o.full ? -1 : 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Read one field of *sp into dst (cut to dstsz), up to a tab, newline
 * or the end; *sp is left after the tab. */
static void
in_field(const char **sp, char *dst, size_t dstsz)
{
	const char *s = *sp;
	size_t len = 0;

	while (*s != '\0' && *s != '\t' && *s != '\n') {
		char c = *s++;

		if (c == '%' && hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
			c = (char)(hexval(s[0]) * 16 + hexval(s[1]));
			s += 2;
		}
		if (len + 1 < dstsz)
			dst[len++] = c;
	}
	dst[len] = '\0';
	if (*s == '\t')
		s++;
	*sp = s;
}

/* The start of the next line after s's current one, or NULL. */
static const char *
next_line(const char *s)
{
	const char *nl = strchr(s, '\n');

	return nl != NULL && nl[1] != '\0' ? nl + 1 : NULL;
}

#define IN(sp, f)	in_field((sp), (f), sizeof(f))

void
codec_dkim_read(const char *s, struct rua_record *r)
{
	r->ndkim = 0;
	for (; s != NULL && *s != '\0' && r->ndkim < RUA_DKIM_MAX;
	    s = next_line(s)) {
		struct rua_dkim *d = &r->dkim_res[r->ndkim++];
		const char *p = s;

		IN(&p, d->domain);
		IN(&p, d->selector);
		IN(&p, d->result);
		IN(&p, d->human_result);
	}
}

void
codec_spf_read(const char *s, struct rua_record *r)
{
	r->nspf = 0;
	for (; s != NULL && *s != '\0' && r->nspf < RUA_SPF_MAX;
	    s = next_line(s)) {
		struct rua_spf *f = &r->spf_res[r->nspf++];
		const char *p = s;

		IN(&p, f->domain);
		IN(&p, f->scope);
		IN(&p, f->result);
		IN(&p, f->human_result);
	}
}

void
codec_reasons_read(const char *s, struct rua_record *r)
{
	r->nreason = 0;
	for (; s != NULL && *s != '\0' && r->nreason < RUA_REASON_MAX;
	    s = next_line(s)) {
		struct rua_reason *x = &r->reason[r->nreason++];
		const char *p = s;

		IN(&p, x->type);
		IN(&p, x->comment);
	}
}
