/*
 * NAME
 *	sign -- DKIM signatures for outgoing mail
 * SYNOPSIS
 *	opts = sign_opts_new(ttl, &cfg->sign_headers, &cfg->oversign_headers,
 *	    err, sizeof(err));
 *	s = signer_new(opts, keys, n, hdrs, nhdrs, err, sizeof(err));
 *	signer_body(s, chunk, len, ...);	... for each body chunk
 *	signer_finish(s, &values, &n, ...);
 * DESCRIPTION
 *	Every active key of the author domain signs in one pass.  Each body
 *	chunk is canonicalized once and hashed once: all our signatures use
 *	c=relaxed/relaxed and SHA-256, so rsa-sha256 and ed25519-sha256
 *	(RFC 8463) share the body hash.  No l=, t= always, x= when a TTL is
 *	set.  The keys were decoded when the store was loaded: decoding a
 *	PEM key costs OpenSSL 3 more than an RSA signature and ten times an
 *	Ed25519 one, and libopendkim (which still verifies) can only take
 *	a key as PEM bytes, for every message.  Hence this signer of our
 *	own: canonicalization (canon.c), the header text and the tag list;
 *	the hashing and signing are OpenSSL's.
 *
 *	Signed header fields are those of sign_headers (by default what RFC
 *	6376 section 5.4.1 recommends), when present, listed in message
 *	order; each listed name takes the next instance from the bottom, as
 *	verifiers select them (5.4.2).  Those of oversign_headers are
 *	listed once more than they occur, so
 *	nobody can add a second From or Subject and keep the signature
 *	valid (RFC 6376 section 8.15); like libopendkim, that extra entry
 *	is there even when the field is absent.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "milter/canon.h"
#include "lib/metrics.h"
#include "milter/keyproc.h"
#include "milter/sign.h"

/* Folded lines stay under this many characters. */
#define SIGN_LINE 76

struct sign_opts {
	unsigned	 ttl;	/* signature_ttl: x= is t= + ttl; 0: no x= */
	char		**sign;		/* sign_headers, NULL-terminated */
	char		**over;		/* oversign_headers, NULL-terminated */
};

struct md_sink {
	EVP_MD_CTX	*md;
	int		 error;
};

struct signer {
	const struct sign_opts *opts;
	const struct key *key[SIGN_MAX_KEYS];
	size_t		 n;
	EVP_MD_CTX	*hdr;	/* SHA-256 of the selected canonical headers */
	struct md_sink	 body;	/* SHA-256 of the canonical body */
	struct canon_body cb;
	char		*hlist;	/* h= value, folded */
};

/* A NULL-terminated copy of a word list; NULL when out of memory. */
static char **
names_of(const struct wordlist *wl)
{
	char **v = calloc(wl->n + 1, sizeof(char *));

	for (size_t i = 0; v != NULL && i < wl->n; i++)
		if ((v[i] = strdup(wl->w[i])) == NULL) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
	return v;
}

static int
listed(const char *name, char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcasecmp(name, list[i]) == 0)
			return 1;
	return 0;
}

struct sign_opts *
sign_opts_new(unsigned ttl, const struct wordlist *sign,
    const struct wordlist *over, char *err, size_t errsz)
{
	struct sign_opts *so = calloc(1, sizeof(*so));

	if (so == NULL || (so->sign = names_of(sign)) == NULL ||
	    (so->over = names_of(over)) == NULL) {
		snprintf(err, errsz, "out of memory");
		sign_opts_free(so);
		return NULL;
	}
	so->ttl = ttl;
	/* RFC 6376 5.4: "The From header field MUST be signed". */
	if (!listed("From", so->sign)) {
		snprintf(err, errsz, "sign_headers: must include From (RFC "
		    "6376 5.4)");
		sign_opts_free(so);
		return NULL;
	}
	return so;
}

void
sign_opts_free(struct sign_opts *so)
{
	for (size_t i = 0; so != NULL && so->sign != NULL && so->sign[i]; i++)
		free(so->sign[i]);
	for (size_t i = 0; so != NULL && so->over != NULL && so->over[i]; i++)
		free(so->over[i]);
	if (so != NULL) {
		free(so->sign);
		free(so->over);
	}
	free(so);
}

void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->hdr);
	EVP_MD_CTX_free(s->body.md);
	free(s->hlist);
	free(s);
}

/* Canonical bytes into a digest (canon_sink). */
static void
md_sink(void *arg, const void *buf, size_t len)
{
	struct md_sink *h = arg;

	if (EVP_DigestUpdate(h->md, buf, len) != 1)
		h->error = 1;
}

/* A growing string. */
struct str {
	char	*p;
	size_t	 len, cap;
	int	 nomem;
};

static void
str_add(struct str *b, const char *t, size_t n)
{
	if (b->nomem)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *g = realloc(b->p, cap);
		if (g == NULL) {
			b->nomem = 1;
			return;
		}
		b->p = g;
		b->cap = cap;
	}
	memcpy(b->p + b->len, t, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
str_cat(struct str *b, const char *t)
{
	str_add(b, t, strlen(t));
}

/* Length of the text after the last line break. */
static size_t
str_col(const struct str *b)
{
	size_t i = b->len;

	while (i > 0 && b->p[i - 1] != '\n')
		i--;
	return b->len - i;
}

/* Add one name to the h= list, folding before it when the line is full. */
static void
hlist_add(struct str *h, const char *name)
{
	if (h->len > 0) {
		str_cat(h, ":");
		if (str_col(h) + strlen(name) + 1 > SIGN_LINE)
			str_cat(h, "\n\t");
	}
	str_cat(h, name);
}

/* Choose the header fields, write the h= list, hash them (5.4.2: each
 * listed name takes the next unused instance from the bottom). */
static int
select_headers(struct signer *s, const struct header *hdrs, size_t nhdrs)
{
	struct str h = { 0 };
	struct md_sink sink = { .md = s->hdr };
	unsigned char *used = calloc(nhdrs + 1, 1);
	size_t nover = 0;
	const char **names;

	while (s->opts->over[nover] != NULL)
		nover++;
	names = calloc(nhdrs + nover + 1, sizeof(*names));
	size_t nnames = 0;

	if (used == NULL || names == NULL) {
		free(used);
		free(names);
		return -1;
	}
	for (size_t j = 0; j < nhdrs; j++)
		if (listed(hdrs[j].name, s->opts->sign))
			names[nnames++] = hdrs[j].name;
	for (size_t i = 0; s->opts->over[i] != NULL; i++)
		names[nnames++] = s->opts->over[i];
	for (size_t i = 0; i < nnames; i++) {
		hlist_add(&h, names[i]);
		for (size_t j = nhdrs; j > 0; j--) {
			const struct header *hd = &hdrs[j - 1];

			if (used[j - 1] || strcasecmp(hd->name, names[i]) != 0)
				continue;
			used[j - 1] = 1;
			canon_header(hd->name, hd->value, hd->vlen, 1,
			    md_sink, &sink);
			break;
		}
	}
	free(used);
	free(names);
	if (h.nomem || sink.error) {
		free(h.p);
		return -1;
	}
	s->hlist = h.p;
	return 0;
}

struct signer *
signer_new(const struct sign_opts *so, const struct key **keys, size_t n,
    const struct header *hdrs, size_t nhdrs, char *err, size_t errsz)
{
	struct signer *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->hdr = EVP_MD_CTX_new()) == NULL ||
	    (s->body.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->hdr, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(s->body.md, EVP_sha256(), NULL) != 1) {
		snprintf(err, errsz, "cannot start SHA-256");
		signer_free(s);
		return NULL;
	}
	s->opts = so;
	for (size_t i = 0; i < n && i < SIGN_MAX_KEYS; i++) {
		s->key[s->n++] = keys[i];
	}
	if (select_headers(s, hdrs, nhdrs) != 0) {
		snprintf(err, errsz, "headers: out of memory or hash error");
		signer_free(s);
		return NULL;
	}
	canon_body_init(&s->cb, md_sink, &s->body);
	return s;
}

int
signer_body(struct signer *s, const unsigned char *buf, size_t len,
    char *err, size_t errsz)
{
	canon_body_add(&s->cb, buf, len);
	if (s->body.error) {
		snprintf(err, errsz, "body: hash error");
		return -1;
	}
	return 0;
}

/* Append base64 text folded into lines of SIGN_LINE. */
static void
add_folded(struct str *b, const char *t)
{
	size_t len = strlen(t);

	while (len > 0) {
		size_t col = str_col(b), room;

		if (col + 8 >= SIGN_LINE) {
			str_cat(b, "\n\t");
			col = 1;
		}
		room = SIGN_LINE - col;
		if (room > len)
			room = len;
		str_add(b, t, room);
		t += room;
		len -= room;
	}
}

/* One DKIM-Signature value for key k. */
static char *
sign_one(struct signer *s, const struct key *k,
    const char *bh, time_t now, char *err, size_t errsz)
{
	struct str v = { 0 };
	struct md_sink sink = { 0 };
	unsigned char dg[EVP_MAX_MD_SIZE], sig[KEYPROC_SIG_MAX], b64[1400];
	unsigned int dglen = 0;
	size_t siglen = sizeof(sig);
	char num[64], why[256];

	str_cat(&v, "v=1; a=");
	str_cat(&v, k->alg == KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256");
	str_cat(&v, "; c=relaxed/relaxed; d=");
	str_cat(&v, k->domain);
	str_cat(&v, "; s=");
	str_cat(&v, k->selector);
	str_cat(&v, ";\n\tt=");
	snprintf(num, sizeof(num), "%lld", (long long)now);
	str_cat(&v, num);
	if (s->opts->ttl > 0) {
		snprintf(num, sizeof(num), "; x=%lld",
		    (long long)now + (long long)s->opts->ttl);
		str_cat(&v, num);
	}
	str_cat(&v, "; bh=");
	str_cat(&v, bh);
	str_cat(&v, ";\n\th=");
	str_cat(&v, s->hlist);
	str_cat(&v, ";\n\tb=");
	if (v.nomem) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	/* RFC 6376 3.7: the header data ends with this field as it will
	 * be inserted, b= empty, canonicalized, without its CRLF. */
	if ((sink.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_MD_CTX_copy_ex(sink.md, s->hdr) != 1) {
		snprintf(err, errsz, "cannot copy the header hash");
		goto fail;
	}
	canon_header("DKIM-Signature", v.p, v.len, 0, md_sink, &sink);
	if (sink.error || EVP_DigestFinal_ex(sink.md, dg, &dglen) != 1) {
		snprintf(err, errsz, "%s/%s: header hash error", k->domain,
		    k->selector);
		goto fail;
	}
	/* RFC 8463 3: Ed25519 signs the digest too, as RSA does. */
	if (keyproc_sign(k, dg, dglen, sig, &siglen, why, sizeof(why)) != 0 ||
	    siglen > (sizeof(b64) - 1) / 4 * 3) {
		snprintf(err, errsz, "%s/%s: %s", k->domain, k->selector,
		    siglen > (sizeof(b64) - 1) / 4 * 3 ? "signature too long" :
		    why);
		goto fail;
	}
	EVP_EncodeBlock(b64, sig, (int)siglen);
	add_folded(&v, (char *)b64);
	if (v.nomem) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	EVP_MD_CTX_free(sink.md);
	return v.p;
fail:
	EVP_MD_CTX_free(sink.md);
	free(v.p);
	return NULL;
}

int
signer_finish(struct signer *s, char ***values, size_t *n, char *err,
    size_t errsz)
{
	unsigned char dg[EVP_MAX_MD_SIZE], bh[EVP_MAX_MD_SIZE * 2];
	unsigned int dglen = 0;
	char **out = calloc(s->n + 1, sizeof(char *));
	time_t now = time(NULL);

	*values = NULL;
	*n = 0;
	if (out == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	canon_body_finish(&s->cb);
	if (s->body.error || EVP_DigestFinal_ex(s->body.md, dg, &dglen) != 1) {
		snprintf(err, errsz, "body: hash error");
		free(out);
		return -1;
	}
	EVP_EncodeBlock(bh, dg, (int)dglen);
	for (size_t i = 0; i < s->n; i++)
		if ((out[i] = sign_one(s, s->key[i], (char *)bh, now,
		    err, errsz)) == NULL)
			goto fail;
	for (size_t i = 0; i < s->n; i++)
		metrics_count("authfilter_signatures_total", 1, "algorithm",
		    key_alg_name(s->key[i]->alg), "domain", s->key[i]->domain,
		    NULL);
	*values = out;
	*n = s->n;
	return 0;
fail:
	for (size_t i = 0; out[i] != NULL; i++)
		free(out[i]);
	free(out);
	return -1;
}

void
signer_describe(const struct signer *s, char *buf, size_t bufsz)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; s != NULL && i < s->n && o < bufsz; i++)
		o += (size_t)snprintf(buf + o, bufsz - o, "%s%s/%s",
		    i ? "," : "", s->key[i]->domain, s->key[i]->selector);
}
