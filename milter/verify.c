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
 *	reported as "policy" with the reason, never dropped silently.  Key
 *	lookups go through authfilter's one resolver (dns.c) by libopendkim's
 *	DNS hooks, so dns_resolver, the cache and timeouts apply to DKIM too.
 *
 *	Results (RFC 8601 2.7.1 with RFC 6376 6.1 and RFC 8301):
 *	  pass       signature and body hash verify;
 *	  fail       they do not (bad signature, body changed, expired,
 *	             key revoked);
 *	  policy     cryptographically fine but not acceptable: rsa-sha1,
 *	             RSA keys under 1024 bits (RFC 8301), or beyond max_sigs;
 *	  temperror  the key could not be fetched now (DNS failure);
 *	  permerror  the signature or its key record is unusable (syntax,
 *	             missing tags, no key, i= outside d=, several records).
 *	An l= that covers less than the whole body passes only for the part
 *	it covers; the reason says how much is unsigned.
 *
 *	libopendkim leaves out of its list the signatures it cannot parse
 *	(a missing v= or b=, say) and stops early on a message without From.
 *	Every DKIM-Signature header still gets a result: the unlisted ones
 *	permerror with the library's reason, never "none".
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <opendkim/dkim.h>

#include "milter/dkimhdr.h"
#include "milter/dns.h"
#include "milter/verify.h"

/* Biggest DNS reply we accept for a key record (TCP-sized answers). */
#define VERIFY_DNS_MAX 65535

struct verify_lib {
	DKIM_LIB	*lib;
	struct dns	*dns;
	unsigned	 max_sigs;
};

struct verifier {
	DKIM		*h;
	int		 dead;	/* a library error: report temperror */
};

/* ---- libopendkim DNS hooks over dns.c (synchronous) ---- */

struct dnsq {
	size_t	len;
	int	error;
	int	secure;
};

static int
q_start(void *srv, int type, unsigned char *query, unsigned char *buf,
    size_t buflen, void **qh)
{
	struct dnsq *q = calloc(1, sizeof(*q));
	enum dns_status st;

	if (q == NULL)
		return DKIM_DNS_ERROR;
	st = dns_query_raw(srv, (const char *)query, type, buf, buflen,
	    &q->len, &q->secure);
	q->error = st == DNS_TEMPFAIL;
	*qh = q;
	return DKIM_DNS_SUCCESS;
}

static int
q_cancel(void *srv, void *qh)
{
	(void)srv;
	free(qh);
	return DKIM_DNS_SUCCESS;
}

static int
q_wait(void *srv, void *qh, struct timeval *tv, size_t *bytes, int *error,
    int *dnssec)
{
	struct dnsq *q = qh;

	(void)srv;
	(void)tv;
	*bytes = q->len;
	if (error != NULL)
		*error = q->error;
	if (dnssec != NULL)
		*dnssec = q->secure ? DKIM_DNSSEC_SECURE : DKIM_DNSSEC_INSECURE;
	return q->error ? DKIM_DNS_ERROR : DKIM_DNS_SUCCESS;
}

static int
q_init(void **srv)
{
	(void)srv;
	return 0;	/* the resolver is dns.c's; nothing of libresolv */
}

static void
q_close(void *srv)
{
	(void)srv;
}

/* ---- signature limit ---- */


static DKIM_CBSTAT
prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	unsigned max = *(unsigned *)dkim_get_user_context(dkim);

	for (int i = (int)max; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

struct verify_lib *
verify_lib_new(struct dns *d, unsigned max_sigs, char *err, size_t errsz)
{
	struct verify_lib *vl = calloc(1, sizeof(*vl));
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
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
	    dkim_set_prescreen(vl->lib, prescreen) != DKIM_STAT_OK) {
		snprintf(err, errsz, "libopendkim refused our verify options");
		verify_lib_free(vl);
		return NULL;
	}
	dkim_dns_set_query_service(vl->lib, d);
	dkim_dns_set_init(vl->lib, q_init);
	dkim_dns_set_close(vl->lib, q_close);
	dkim_dns_set_query_start(vl->lib, q_start);
	dkim_dns_set_query_cancel(vl->lib, q_cancel);
	dkim_dns_set_query_waitreply(vl->lib, q_wait);
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

struct verifier *
verifier_new(struct verify_lib *vl, const char *jobid,
    const struct message *m, char *err, size_t errsz)
{
	struct verifier *v = calloc(1, sizeof(*v));
	DKIM_STAT st;

	if (v == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	v->h = dkim_verify(vl->lib, (const unsigned char *)jobid, NULL, &st);
	if (v->h == NULL) {
		snprintf(err, errsz, "dkim_verify: %s", dkim_getresultstr(st));
		free(v);
		return NULL;
	}
	dkim_set_user_context(v->h, &vl->max_sigs);
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
	if (!v->dead)
		(void)dkim_body(v->h, (unsigned char *)buf, len);
	return 0;
}

static void
classify(DKIM *h, DKIM_SIGINFO *sig, struct dkim_result *r)
{
	int err = dkim_sig_geterror(sig);
	unsigned int flags = dkim_sig_getflags(sig), bits = 0;
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	ssize_t msglen = 0, canonlen = 0, signlen = 0;
	const char *res = "permerror";

	(void)dkim_sig_getsignalg(sig, &alg);
	(void)dkim_sig_getkeysize(sig, &bits);
	if (flags & DKIM_SIGFLAG_IGNORE) {
		res = "policy";
		snprintf(r->reason, sizeof(r->reason), "not verified: beyond "
		    "the signature limit");
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
		} else if (dkim_sig_getcanonlen(h, sig, &msglen, &canonlen,
		    &signlen) == DKIM_STAT_OK && signlen >= 0 &&
		    msglen > signlen)
			/* msglen: the whole body as received; signlen: l= */
			snprintf(r->reason, sizeof(r->reason), "l=%lld: only "
			    "%lld of %lld body bytes are signed",
			    (long long)signlen, (long long)signlen,
			    (long long)msglen);
	} else if (!(flags & DKIM_SIGFLAG_PROCESSED) &&
	    err == DKIM_SIGERROR_OK) {
		res = "permerror";
		snprintf(r->reason, sizeof(r->reason), "not verified: %s",
		    dkim_geterror(h) != NULL ? dkim_geterror(h) : "unusable");
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

size_t
verifier_finish(struct verifier *v, struct dkim_result *out, size_t max)
{
	DKIM_SIGINFO **sigs = NULL;
	const char *why;
	int nsigs = 0;
	size_t n = 0;

	if (max == 0)
		return 0;
	if (!v->dead) {
		DKIM_STAT st = dkim_eom(v->h, NULL);
		/* Resource or library failure: temperror, not permerror. */
		if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL)
			v->dead = 1;
	}
	if (!v->dead) {
		if (dkim_getsiglist(v->h, &sigs, &nsigs) != DKIM_STAT_OK)
			nsigs = 0;
	}
	for (int i = 0; i < nsigs && n < max; i++) {
		struct dkim_result *r = &out[n++];
		const unsigned char *s;
		dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
		size_t blen = sizeof(r->b);

		memset(r, 0, sizeof(*r));
		if ((s = dkim_sig_getdomain(sigs[i])) != NULL)
			snprintf(r->domain, sizeof(r->domain), "%s", s);
		if ((s = dkim_sig_getselector(sigs[i])) != NULL)
			snprintf(r->selector, sizeof(r->selector), "%s", s);
		(void)dkim_sig_getsignalg(sigs[i], &alg);
		snprintf(r->alg, sizeof(r->alg), "%s",
		    alg == DKIM_SIGN_RSASHA1 ? "rsa-sha1" :
		    alg == DKIM_SIGN_RSASHA256 ? "rsa-sha256" :
		    alg == DKIM_SIGN_ED25519SHA256 ? "ed25519-sha256" : "");
		if (dkim_get_sigsubstring(v->h, sigs[i], r->b, &blen) !=
		    DKIM_STAT_OK)
			r->b[0] = '\0';
		r->b[sizeof(r->b) - 1] = '\0';
		classify(v->h, sigs[i], r);
		r->dnssec = dkim_sig_getdnssec(sigs[i]) == DKIM_DNSSEC_SECURE;
	}
	why = v->h != NULL ? dkim_geterror(v->h) : NULL;
	for (; n < max; n++) {
		struct dkim_result *r = &out[n];
		memset(r, 0, sizeof(*r));
		snprintf(r->result, sizeof(r->result), "%s",
		    v->dead ? "temperror" : "permerror");
		snprintf(r->reason, sizeof(r->reason), "%s%s", v->dead ?
		    "verification failed: " : "unusable signature: ",
		    why != NULL && *why ? why : "unknown error");
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
	free(v);
}
