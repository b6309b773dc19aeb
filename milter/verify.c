/*
 * NAME
 *	verify -- DKIM verification of incoming mail (libopendkim)
 * SYNOPSIS
 *	vl = verify_lib_new(dns, max_sigs, err, sizeof(err));
 *	v = verifier_new(vl, queue_id, &msg, err, sizeof(err));
 *	verifier_body(v, chunk, len);		... each body chunk
 *	n = verifier_finish(v, results, max);
 * DESCRIPTION
 *	Every DKIM-Signature up to max_sigs is verified; the rest are
 *	reported as "policy" with the reason, never dropped silently.
 *	Results come in the order of the DKIM-Signature headers, top first.
 *
 *	Before libopendkim, each signature's tag-list is checked strictly
 *	(dkimcheck.c): one with a tag given twice is a permerror (RFC 6376
 *	3.2) and libopendkim does not spend a key lookup on it.  header.a
 *	is the signature's own a= text, whatever became of it.
 *
 *	Key records are fetched by our key-lookup callback (dkimkey.c,
 *	through dns.c, so dns_resolver, the cache, timeouts and DNSSEC
 *	apply), checked (no tag twice, RFC 6376 3.2 and 6.1.2 step 5) and
 *	handed to libopendkim rewritten to the tags it reads, since its key
 *	buffer holds 1 KiB: a record of up to 64 KiB gets a verdict.  A key
 *	whose k= does not fit the signature's a= is a permerror (RFC 6376
 *	6.1.2 step 8, "inappropriate key algorithm").
 *
 *	Results (RFC 8601 2.7.1 with RFC 6376 6.1 and RFC 8301):
 *	  pass       signature and body hash verify;
 *	  fail       they do not (bad signature, body changed, expired,
 *	             key revoked);
 *	  policy     cryptographically fine but not acceptable: rsa-sha1,
 *	             RSA keys under 1024 bits (RFC 8301), a key too long
 *	             for libopendkim (RSA over ~6000 bits), or beyond
 *	             max_sigs;
 *	  temperror  the key could not be fetched now (DNS failure);
 *	  permerror  the signature or its key record is unusable (syntax,
 *	             a tag twice, missing tags, no key, k= not fitting a=,
 *	             i= outside d=, several records).
 *	An l= that covers less than the canonical body passes for the part
 *	it covers only: partial_body is set and the reason says "l= covers
 *	N of M body bytes".  The canonical length is counted here (canon.c)
 *	only when a signature has l=; libopendkim stops counting at l=.
 *
 *	libopendkim leaves out of its list the signatures it cannot parse
 *	(a missing v= or b=, say) and stops early on a message without From.
 *	Every DKIM-Signature header still gets a result: the unlisted ones
 *	permerror with the library's reason, never "none".
 * SEE ALSO
 *	dkimcheck.c, dkimkey.c, t/e2e/verify.t, t/e2e/dkim-strict.t
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <opendkim/dkim.h>

#include "milter/canon.h"
#include "lib/tagval.h"
#include "milter/dkimcheck.h"
#include "milter/dkimhdr.h"
#include "lib/dns.h"
#include "lib/header.h"
#include "milter/dkimkey.h"
#include "milter/verify.h"

struct verify_lib {
	DKIM_LIB	*lib;
	struct dns	*dns;
	unsigned	 max_sigs;
};

/* One DKIM-Signature header, in message order. */
struct sigrow {
	char		 a[24], d[256], s[64];	/* "" if absent or too long */
	char		*b;		/* b= without white space, or NULL */
	char		 bad[128];	/* why the tag-list is refused, or "" */
	int		 lbody;		/* l= given: BODY_SIMPLE/BODY_RELAXED */
	DKIM_SIGINFO	*sig;		/* libopendkim's, if it listed it */
	int		 looked;	/* our key lookup ran for it */
	char		 kres[16];	/* a verdict from the key lookup */
	char		 kwhy[128];
	int		 dnssec;
};

#define BODY_SIMPLE	1
#define BODY_RELAXED	2

struct verifier {
	const struct verify_lib *vl;
	DKIM		*h;
	int		 dead;	/* a library error: report temperror */
	struct sigrow	*rows;
	size_t		 nrows;
	int		 count;	/* BODY_* lengths wanted (an l= signature) */
	struct canon_simple_len simple;
	struct canon_body relaxed;
	unsigned long long relaxed_len;
};

/* ---- libopendkim DNS hooks ----
 * Key records come from key_lookup(); these hooks only make sure that
 * nothing in libopendkim ever asks the system resolver instead. */

static int
q_start(void *srv, int type, unsigned char *query, unsigned char *buf,
    size_t buflen, void **qh)
{
	(void)srv, (void)type, (void)query, (void)buf, (void)buflen, (void)qh;
	return DKIM_DNS_ERROR;
}

static int
q_init(void **srv)
{
	(void)srv;
	return 0;
}

static void
q_close(void *srv)
{
	(void)srv;
}

/* ---- our view of the signatures ---- */

static void
row_parse(struct sigrow *r, const char *value, size_t len)
{
	char c[64], b[4096];
	const char *slash;
	int ok;

	(void)tagval_check(value, len, r->bad, sizeof(r->bad));
	(void)tagval_get(value, len, "d", r->d, sizeof(r->d));
	(void)tagval_get(value, len, "s", r->s, sizeof(r->s));
	(void)tagval_get(value, len, "a", r->a, sizeof(r->a));
	/* header.a is a value token (RFC 8601 2.2); anything else stays out */
	ok = r->a[0] != '\0';
	for (const char *p = r->a; *p != '\0' && ok; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-';
	if (!ok)
		r->a[0] = '\0';
	/* b= is 344 characters for RSA-2048, 2732 for RSA-16384 */
	if (tagval_get(value, len, "b", b, sizeof(b)) == 1)
		r->b = strdup(b);
	if (tagval_get(value, len, "l", c, sizeof(c)) != 0) {
		/* RFC 6376 3.5 c=: "header/body", body "simple" by default */
		if (tagval_get(value, len, "c", c, sizeof(c)) != 1)
			c[0] = '\0';
		slash = strchr(c, '/');
		r->lbody = slash != NULL && strcmp(slash + 1, "relaxed") == 0 ?
		    BODY_RELAXED : BODY_SIMPLE;
	}
}

/* The row of the header libopendkim made sig from: signatures are
 * listed in header order, so the next row with the same b=. */
static struct sigrow *
row_match(struct verifier *v, size_t *from, DKIM_SIGINFO *sig)
{
	const char *b = (const char *)dkim_sig_gettagvalue(sig, 0,
	    (unsigned char *)"b");

	for (size_t i = *from; b != NULL && i < v->nrows; i++)
		if (v->rows[i].b != NULL && strcmp(v->rows[i].b, b) == 0) {
			*from = i + 1;
			return &v->rows[i];
		}
	return NULL;
}

static struct sigrow *
row_of(struct verifier *v, DKIM_SIGINFO *sig)
{
	for (size_t i = 0; i < v->nrows; i++)
		if (v->rows[i].sig == sig)
			return &v->rows[i];
	return NULL;
}

/* Match libopendkim's signatures to our rows; leave refused ones and
 * those beyond the limit to the side (no key lookup, no hashing). */
static DKIM_CBSTAT
prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct verifier *v = dkim_get_user_context(dkim);
	unsigned verified = 0;
	size_t from = 0;

	for (int i = 0; i < nsigs; i++) {
		struct sigrow *r = row_match(v, &from, sigs[i]);

		if (r != NULL)
			r->sig = sigs[i];
		if ((r != NULL && r->bad[0] != '\0') ||
		    verified == v->vl->max_sigs)
			dkim_sig_ignore(sigs[i]);
		else
			verified++;
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* prefix: a dozen characters at most */
static void
key_verdict(struct sigrow *r, const char *res, const char *prefix,
    const char *why)
{
	snprintf(r->kres, sizeof(r->kres), "%s", res);
	snprintf(r->kwhy, sizeof(r->kwhy), "%s%.100s", prefix, why);
}

/* A p= too long for libopendkim's key buffer: a real key (RSA beyond
 * some 6000 bits) is our limit, not the sender's error: policy; bytes
 * that are no key at all are a permerror. */
static void
too_long(struct sigrow *r, const char *rec, size_t len)
{
	char *p = malloc(len + 1), why[64];
	unsigned char *der = malloc(len + 1);
	const unsigned char *q = der;
	EVP_PKEY *k = NULL;
	int n = 0;

	if (p != NULL && der != NULL &&
	    tagval_get(rec, len, "p", p, len + 1) == 1 &&
	    (n = EVP_DecodeBlock(der, (unsigned char *)p, (int)strlen(p))) > 0)
		k = d2i_PUBKEY(NULL, &q, n);
	if (k != NULL) {
		snprintf(why, sizeof(why), "%d-bit key is too long for the "
		    "verifier", EVP_PKEY_get_bits(k));
		key_verdict(r, "policy", "", why);
	} else
		key_verdict(r, "permerror", "key record: ", "p= is not a key");
	EVP_PKEY_free(k);
	free(der);
	free(p);
}

/* libopendkim's key lookup: the record, checked, rewritten into buf.
 * A record we refuse is "not found" to libopendkim (it then checks
 * nothing more); its verdict and reason are ours (key_verdict). */
static DKIM_CBSTAT
key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, unsigned char *buf, size_t buflen)
{
	struct verifier *v = dkim_get_user_context(dkim);
	struct sigrow *r = row_of(v, sig), scratch;
	const unsigned char *d = dkim_sig_getdomain(sig);
	const unsigned char *s = dkim_sig_getselector(sig);
	char why[128], *rec = NULL;
	size_t len;
	int rc;

	if (r == NULL) {
		memset(&scratch, 0, sizeof(scratch));
		r = &scratch;
	}
	r->looked = 1;
	if (d == NULL || s == NULL)
		return DKIM_CBSTAT_NOTFOUND;
	switch (dkimkey_fetch(v->vl->dns, (const char *)s, (const char *)d,
	    &rec, &len, &r->dnssec, why, sizeof(why))) {
	case DKIMKEY_OK:
		break;
	case DKIMKEY_TEMP:
		key_verdict(r, "temperror", "", why);
		return DKIM_CBSTAT_NOTFOUND;
	case DKIMKEY_NONE:
		key_verdict(r, "permerror", "no key: ", why);
		return DKIM_CBSTAT_NOTFOUND;
	default:	/* RFC 6376 3.6.2.2: several records, do not guess */
		key_verdict(r, "permerror", "", why);
		return DKIM_CBSTAT_NOTFOUND;
	}
	rc = dkimcheck_key_record(rec, len, (char *)buf, buflen, why,
	    sizeof(why));
	if (rc == -2)
		too_long(r, rec, len);
	else if (rc != 0)
		key_verdict(r, "permerror", "key record: ", why);
	free(rec);
	return rc == 0 ? DKIM_CBSTAT_CONTINUE : DKIM_CBSTAT_NOTFOUND;
}

struct verify_lib *
verify_lib_new(struct dns *d, unsigned max_sigs, char *err, size_t errsz)
{
	struct verify_lib *vl = calloc(1, sizeof(*vl));
	/* DELAYSIGPROC: keys are fetched at end of message, where the
	 * message's DNS budget applies, not at end of headers in the
	 * connection's thread (check_dkim.c has started the lookups). */
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_DELAYSIGPROC;
	/* RFC 8301 3.2: verifiers must not accept RSA keys < 1024 bits. */
	unsigned int minbits = 1024;

	if (vl == NULL || (vl->lib = dkim_init(NULL, NULL)) == NULL) {
		snprintf(err, errsz, "cannot initialise libopendkim");
		free(vl);
		return NULL;
	}
	vl->dns = d;
	vl->max_sigs = max_sigs;
	if (dkim_options(vl->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(vl->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS,
	    &minbits, sizeof(minbits)) != DKIM_STAT_OK ||
	    dkim_set_prescreen(vl->lib, prescreen) != DKIM_STAT_OK ||
	    dkim_set_key_lookup(vl->lib, key_lookup) != DKIM_STAT_OK) {
		snprintf(err, errsz, "libopendkim refused our verify options");
		verify_lib_free(vl);
		return NULL;
	}
	dkim_dns_set_init(vl->lib, q_init);
	dkim_dns_set_close(vl->lib, q_close);
	dkim_dns_set_query_start(vl->lib, q_start);
	return vl;
}

void
verify_lib_free(struct verify_lib *vl)
{
	if (vl == NULL)
		return;
	if (vl->lib != NULL)
		dkim_close(vl->lib);
	free(vl);
}

/* canon_sink that only counts */
static void
count_sink(void *arg, const void *buf, size_t len)
{
	(void)buf;
	*(unsigned long long *)arg += len;
}

/* Our rows, one per DKIM-Signature header; -1 when out of memory. */
static int
rows_new(struct verifier *v, const struct message *m)
{
	size_t n = 0;

	for (size_t j = 0; j < m->nhdrs; j++)
		n += header_name_is(m->hdrs[j].name, "DKIM-Signature");
	if (n == 0)
		return 0;
	if ((v->rows = calloc(n, sizeof(*v->rows))) == NULL)
		return -1;
	for (size_t j = 0; j < m->nhdrs; j++) {
		struct sigrow *r = &v->rows[v->nrows];

		if (!header_name_is(m->hdrs[j].name, "DKIM-Signature"))
			continue;
		row_parse(r, m->hdrs[j].value, m->hdrs[j].vlen);
		v->count |= r->lbody;
		v->nrows++;
	}
	canon_body_init(&v->relaxed, count_sink, &v->relaxed_len);
	return 0;
}

struct verifier *
verifier_new(struct verify_lib *vl, const char *jobid,
    const struct message *m, char *err, size_t errsz)
{
	struct verifier *v = calloc(1, sizeof(*v));
	DKIM_STAT st;

	if (v == NULL || rows_new(v, m) != 0) {
		snprintf(err, errsz, "out of memory");
		verifier_free(v);
		return NULL;
	}
	v->vl = vl;
	v->h = dkim_verify(vl->lib, (const unsigned char *)jobid, NULL, &st);
	if (v->h == NULL) {
		snprintf(err, errsz, "dkim_verify: %s", dkim_getresultstr(st));
		verifier_free(v);
		return NULL;
	}
	dkim_set_user_context(v->h, v);
	/* A malformed header is the signature's problem, not ours: keep
	 * going; the results will say so. */
	st = dkimhdr_feed(v->h, m);
	if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG &&
	    st != DKIM_STAT_SYNTAX && st != DKIM_STAT_CANTVRFY)
		v->dead = 1;
	return v;
}

int
verifier_body(struct verifier *v, const unsigned char *buf, size_t len)
{
	if (v->dead)
		return 0;
	(void)dkim_body(v->h, (unsigned char *)buf, len);
	if (v->count & BODY_SIMPLE)
		canon_simple_len_add(&v->simple, buf, len);
	if (v->count & BODY_RELAXED)
		canon_body_add(&v->relaxed, buf, len);
	return 0;
}

/* A pass of an l= signature: does l= cover the whole canonical body? */
static void
check_length(struct verifier *v, const struct sigrow *row,
    struct dkim_result *r)
{
	ssize_t msglen = 0, canonlen = 0, signlen = -1;
	unsigned long long body = row->lbody == BODY_RELAXED ?
	    v->relaxed_len : v->simple.len;

	if (dkim_sig_getcanonlen(v->h, row->sig, &msglen, &canonlen,
	    &signlen) != DKIM_STAT_OK || signlen < 0 ||
	    (unsigned long long)signlen >= body)
		return;
	r->partial_body = 1;
	snprintf(r->reason, sizeof(r->reason), "l= covers %lld of %llu body "
	    "bytes", (long long)signlen, body);
}

static void
classify(struct verifier *v, const struct sigrow *row, struct dkim_result *r)
{
	DKIM_SIGINFO *sig = row->sig;
	int err = dkim_sig_geterror(sig);
	unsigned int flags = dkim_sig_getflags(sig), bits = 0;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	const unsigned char *k = dkim_sig_gettagvalue(sig, 1,
	    (unsigned char *)"k");
	char why[96];
	const char *res = "permerror";

	(void)dkim_sig_getsignalg(sig, &alg);
	(void)dkim_sig_getkeysize(sig, &bits);
	if (row->bad[0] != '\0') {
		snprintf(r->reason, sizeof(r->reason), "%s", row->bad);
	} else if (flags & DKIM_SIGFLAG_IGNORE) {
		res = "policy";
		snprintf(r->reason, sizeof(r->reason), "not verified: beyond "
		    "the signature limit");
	} else if (row->kres[0] != '\0') {
		res = row->kres;
		snprintf(r->reason, sizeof(r->reason), "%s", row->kwhy);
	} else if (k != NULL && dkimcheck_key_alg((const char *)k, row->a,
	    why, sizeof(why)) != 0) {
		/* RFC 6376 6.1.2 step 8: PERMFAIL (inappropriate key
		 * algorithm), whatever libopendkim made of the key */
		snprintf(r->reason, sizeof(r->reason), "%s", why);
	} else if (DKIM_SIG_CHECK(sig)) {
		res = "pass";
		if (alg == DKIM_SIGN_RSASHA1) {
			res = "policy";
			snprintf(r->reason, sizeof(r->reason), "rsa-sha1 is "
			    "not accepted (RFC 8301)");
		} else if (alg != DKIM_SIGN_ED25519SHA256 && bits < 1024) {
			res = "policy";
			snprintf(r->reason, sizeof(r->reason), "%u-bit key is "
			    "too small (RFC 8301)", bits);
		} else if (row->lbody != 0)
			check_length(v, row, r);
	} else if (!(flags & DKIM_SIGFLAG_PROCESSED) &&
	    err == DKIM_SIGERROR_OK) {
		snprintf(r->reason, sizeof(r->reason), "not verified: %s",
		    dkim_geterror(v->h) != NULL ? dkim_geterror(v->h) :
		    "unusable");
	} else {
		switch (err) {
		case DKIM_SIGERROR_KEYFAIL:
			res = "temperror";
			break;
		case DKIM_SIGERROR_BADSIG:
		case DKIM_SIGERROR_EXPIRED:
		case DKIM_SIGERROR_FUTURE:
		case DKIM_SIGERROR_KEYREVOKED:
		case DKIM_SIGERROR_OK:		/* processed, body hash differs */
			res = "fail";
			break;
		case DKIM_SIGERROR_KEYTOOSMALL:
			res = "policy";
			break;
		default:
			res = "permerror";
		}
		if (err == DKIM_SIGERROR_OK &&
		    dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
			snprintf(r->reason, sizeof(r->reason), "body hash did "
			    "not verify");
		else if (err == DKIM_SIGERROR_KEYTOOSMALL)
			snprintf(r->reason, sizeof(r->reason), "%u-bit key is "
			    "too small (RFC 8301)", bits);
		else if (err != DKIM_SIGERROR_OK)
			snprintf(r->reason, sizeof(r->reason), "%s",
			    dkim_sig_geterrorstr(err));
		else
			snprintf(r->reason, sizeof(r->reason), "not verified");
	}
	snprintf(r->result, sizeof(r->result), "%s", res);
}

/* DNSSEC status of row's key; a key libopendkim took over from another
 * signature with the same d= and s= has that one's. */
static int
row_dnssec(const struct verifier *v, const struct sigrow *row)
{
	if (row->looked)
		return row->dnssec;
	for (size_t i = 0; i < v->nrows; i++)
		if (v->rows[i].looked && strcmp(v->rows[i].d, row->d) == 0 &&
		    strcmp(v->rows[i].s, row->s) == 0)
			return v->rows[i].dnssec;
	return 0;
}

size_t
verifier_finish(struct verifier *v, struct dkim_result *out, size_t max)
{
	const char *why;
	size_t n = 0;

	if (max == 0)
		return 0;
	if (!v->dead) {
		DKIM_STAT st = dkim_eom(v->h, NULL);
		/* Resource or library failure: temperror, not permerror. */
		if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL)
			v->dead = 1;
	}
	v->simple.len = canon_simple_len_finish(&v->simple);
	canon_body_finish(&v->relaxed);
	why = v->h != NULL ? dkim_geterror(v->h) : NULL;
	for (; n < max; n++) {
		struct dkim_result *r = &out[n];
		const struct sigrow *row = n < v->nrows ? &v->rows[n] : NULL;

		memset(r, 0, sizeof(*r));
		if (row != NULL) {
			snprintf(r->domain, sizeof(r->domain), "%s", row->d);
			snprintf(r->selector, sizeof(r->selector), "%s",
			    row->s);
			snprintf(r->alg, sizeof(r->alg), "%s", row->a);
			if (row->b != NULL)
				snprintf(r->b, sizeof(r->b), "%s", row->b);
		}
		if (row != NULL && row->sig != NULL && !v->dead) {
			classify(v, row, r);
			r->dnssec = row_dnssec(v, row);
			continue;
		}
		snprintf(r->result, sizeof(r->result), "%s",
		    v->dead ? "temperror" : "permerror");
		if (!v->dead && row != NULL && row->bad[0] != '\0')
			snprintf(r->reason, sizeof(r->reason), "%s", row->bad);
		else
			snprintf(r->reason, sizeof(r->reason), "%s%s",
			    v->dead ? "verification failed: " :
			    "unusable signature: ", why != NULL && *why ?
			    why : "unknown error");
	}
	return n;
}

void
verifier_free(struct verifier *v)
{
	if (v == NULL)
		return;
	if (v->h != NULL)
		dkim_free(v->h);
	for (size_t i = 0; i < v->nrows; i++)
		free(v->rows[i].b);
	free(v->rows);
	free(v);
}
