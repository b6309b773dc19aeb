/*
 * NAME
 *	store -- the DMARC report store: open, close, and what the
 *	queries share
 * SYNOPSIS
 *	st = rua_store_open(cfg->report_db, err, sizeof(err));
 *	rua_store_close(st);
 * DESCRIPTION
 *	rua_store_open() picks the database by report_db's form: an
 *	absolute path is a SQLite file (store_sqlite.c), a postgresql://
 *	or postgres:// URL a PostgreSQL database (store_pg.c).  It then
 *	creates the schema, or migrates an older one (store_schema.c).
 *
 *	The queries (store_evals.c, store_received.c) build their
 *	parameters here: text is copied into the handle's arena as valid
 *	UTF-8 (a byte that does not belong to a UTF-8 character becomes
 *	"?", since PostgreSQL refuses such text and a report is XML),
 *	domains lower-cased (ASCII), and the record and policy columns
 *	are added and read back by the same two functions.
 * DIAGNOSTICS
 *	Every error is "report_db NAME: what failed: the database's
 *	message", NAME being report_db with any password replaced by
 *	"***".
 * SEE ALSO
 *	rua/store.h, rua/store_impl.h
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rua/store_impl.h"

void
store_copy(char *dst, size_t dstsz, const char *src)
{
	size_t len = strlen(src);

	if (dstsz == 0)
		return;
	if (len >= dstsz)
		len = dstsz - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Append s[0..len) to dst (size dstsz), cut to fit. */
static void
append(char *dst, size_t dstsz, const char *s, size_t len)
{
	size_t have = strlen(dst);

	if (have + 1 >= dstsz)
		return;
	if (len > dstsz - have - 1)
		len = dstsz - have - 1;
	memcpy(dst + have, s, len);
	dst[have + len] = '\0';
}

/* report_db for messages: the password of a URL's user part, and of a
 * password= parameter, replaced by "***". */
static void
store_name(char *dst, size_t dstsz, const char *url)
{
	const char *auth = strstr(url, "://"), *p, *at = NULL, *colon = NULL;
	size_t alen;

	dst[0] = '\0';
	if (auth == NULL || url[0] == '/') {
		store_copy(dst, dstsz, url);
		return;
	}
	auth += 3;
	alen = strcspn(auth, "/?#");
	for (p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;
	if (at != NULL)
		colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon != NULL) {
		append(dst, dstsz, url, (size_t)(colon + 1 - url));
		append(dst, dstsz, "***", 3);
		p = at;
	} else
		p = url;
	/* The rest, each password= parameter's value hidden. */
	while (*p != '\0') {
		size_t n = strcspn(p, "?&");

		append(dst, dstsz, p, n + (p[n] != '\0'));
		p += n;
		if (*p == '\0')
			break;
		p++;
		if (strncmp(p, "password=", 9) == 0) {
			append(dst, dstsz, "password=***", 12);
			p += 9 + strcspn(p + 9, "&#");
		}
	}
}

struct rua_store *
rua_store_open(const char *url, char *err, size_t errsz)
{
	struct rua_store *st;
	int rc;

	if (url == NULL || *url == '\0') {
		snprintf(err, errsz, "report_db is empty: no report store");
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errsz, "report_db: out of memory");
		return NULL;
	}
	store_name(st->name, sizeof(st->name), url);
	if (url[0] == '/')
		rc = store_sqlite_open(st, url, err, errsz);
	else if (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0)
		rc = store_pg_open(st, url, err, errsz);
	else {
		snprintf(err, errsz, "expected an absolute path (SQLite) or "
		    "a postgresql:// URL");
		rc = -1;
	}
	if (rc != 0) {
		store_fail(st, NULL, err, errsz);
		free(st);
		return NULL;
	}
	if (store_schema_ensure(st, err, errsz) != 0) {
		rua_store_close(st);
		return NULL;
	}
	return st;
}

void
rua_store_close(struct rua_store *st)
{
	if (st == NULL)
		return;
	st->ops->close(st);
	free(st);
}

const char *
rua_store_kind(const struct rua_store *st)
{
	return st->ops->kind;
}

/* Prefix the backend's message in err with the store and what failed. */
int
store_fail(struct rua_store *st, const char *what, char *err, size_t errsz)
{
	char msg[512];

	store_copy(msg, sizeof(msg), err);
	if (what != NULL)
		snprintf(err, errsz, "report_db %s: %s: %s", st->name, what,
		    msg);
	else
		snprintf(err, errsz, "report_db %s: %s", st->name, msg);
	return -1;
}

/* ---- parameters ---- */

struct store_params *
store_params(struct rua_store *st)
{
	st->params.n = 0;
	st->params.used = 0;
	st->params.overflow = 0;
	return &st->params;
}

static struct store_param *
sp_next(struct store_params *sp)
{
	if (sp->n >= STORE_PARAMS_MAX) {
		sp->overflow = 1;
		return NULL;
	}
	return &sp->p[sp->n++];
}

void
sp_int(struct store_params *sp, int64_t v)
{
	struct store_param *p = sp_next(sp);

	if (p != NULL) {
		p->is_int = 1;
		p->i = v;
		p->s = NULL;
	}
}

/* The length of the valid UTF-8 character at s (RFC 3629 section 4),
 * 0 if there is none. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static void
sp_add_text(struct store_params *sp, const char *s, int lower)
{
	struct store_param *p = sp_next(sp);
	const unsigned char *u = (const unsigned char *)s;
	char *out;

	if (p == NULL)
		return;
	p->is_int = 0;
	p->s = "";
	if (sp->used + strlen(s) + 1 > sizeof(sp->arena)) {
		sp->overflow = 1;
		return;
	}
	out = sp->arena + sp->used;
	p->s = out;
	while (*u != '\0') {
		size_t n = utf8_len(u);

		if (n == 0) {
			*out++ = '?';
			u++;
		} else if (n == 1) {
			*out++ = lower && *u >= 'A' && *u <= 'Z' ?
			    (char)(*u - 'A' + 'a') : (char)*u;
			u++;
		} else
			for (; n > 0; n--)
				*out++ = (char)*u++;
	}
	*out++ = '\0';
	sp->used = (size_t)(out - sp->arena);
}

void
sp_text(struct store_params *sp, const char *s)
{
	sp_add_text(sp, s, 0);
}

void
sp_domain(struct store_params *sp, const char *s)
{
	sp_add_text(sp, s, 1);
}

/* Run query q with the handle's parameters; errors say `what`. */
long
store_run(struct rua_store *st, enum store_q q, const char *sql,
    store_row_fn fn, void *arg, const char *what, char *err, size_t errsz)
{
	long n;

	if (st->params.overflow) {
		snprintf(err, errsz, "report_db %s: %s: parameters too long",
		    st->name, what);
		return -1;
	}
	n = st->ops->run(st, q, sql, &st->params, fn, arg, err, errsz);
	if (n < 0)
		store_fail(st, what, err, errsz);
	return n;
}

/* Query q, its result not awaited where the backend can: the INSERTs
 * of a batch, followed by store_sync(). */
int
store_send(struct rua_store *st, enum store_q q, const char *sql,
    const char *what, char *err, size_t errsz)
{
	if (st->ops->send == NULL)
		return store_run(st, q, sql, NULL, NULL, what, err, errsz) < 0 ?
		    -1 : 0;
	if (st->params.overflow) {
		snprintf(err, errsz, "report_db %s: %s: parameters too long",
		    st->name, what);
		return -1;
	}
	if (st->ops->send(st, q, sql, &st->params, err, errsz) != 0)
		return store_fail(st, what, err, errsz);
	return 0;
}

int
store_sync(struct rua_store *st, const char *what, char *err, size_t errsz)
{
	if (st->ops->sync == NULL)
		return 0;
	if (st->ops->sync(st, err, errsz) != 0)
		return store_fail(st, what, err, errsz);
	return 0;
}

/* ---- the columns of a record and of a policy ---- */

void
sp_policy(struct store_params *sp, const struct rua_policy *p)
{
	sp_domain(sp, p->domain);
	sp_text(sp, p->p);
	sp_text(sp, p->sp);
	sp_text(sp, p->np);
	sp_text(sp, p->adkim);
	sp_text(sp, p->aspf);
	sp_text(sp, p->testing);
	sp_text(sp, p->discovery_method);
	sp_text(sp, p->fo);
}

void
sp_record(struct rua_store *st, const struct rua_record *r)
{
	struct store_params *sp = &st->params;

	sp_text(sp, r->source_ip);
	sp_domain(sp, r->envelope_to);
	sp_domain(sp, r->envelope_from);
	sp_domain(sp, r->header_from);
	sp_text(sp, r->disposition);
	sp_text(sp, r->dkim);
	sp_text(sp, r->spf);
	if (codec_reasons(st->scratch[0], sizeof(st->scratch[0]), r) != 0 ||
	    codec_dkim(st->scratch[1], sizeof(st->scratch[1]), r) != 0 ||
	    codec_spf(st->scratch[2], sizeof(st->scratch[2]), r) != 0)
		sp->overflow = 1;
	sp_text(sp, st->scratch[0]);
	sp_text(sp, st->scratch[1]);
	sp_text(sp, st->scratch[2]);
}

#define COL(row, i, f)	store_copy((f), sizeof(f), \
	(row)->st->ops->text((row), (i)))

int
store_row_policy(const struct store_row *row, int c, struct rua_policy *p)
{
	COL(row, c, p->domain);
	COL(row, c + 1, p->p);
	COL(row, c + 2, p->sp);
	COL(row, c + 3, p->np);
	COL(row, c + 4, p->adkim);
	COL(row, c + 5, p->aspf);
	COL(row, c + 6, p->testing);
	COL(row, c + 7, p->discovery_method);
	COL(row, c + 8, p->fo);
	return c + 9;
}

int
store_row_record(const struct store_row *row, int c, struct rua_record *r)
{
	const struct store_ops *ops = row->st->ops;

	COL(row, c, r->source_ip);
	COL(row, c + 1, r->envelope_to);
	COL(row, c + 2, r->envelope_from);
	COL(row, c + 3, r->header_from);
	COL(row, c + 4, r->disposition);
	COL(row, c + 5, r->dkim);
	COL(row, c + 6, r->spf);
	codec_reasons_read(ops->text(row, c + 7), r);
	codec_dkim_read(ops->text(row, c + 8), r);
	codec_spf_read(ops->text(row, c + 9), r);
	return c + 10;
}
