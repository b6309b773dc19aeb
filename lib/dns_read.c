/*
 * NAME
 *	dns_read -- DNS answers in the forms the checks want
 * SYNOPSIS
 *	st = dns_txt(d, "s1._domainkey.example.org", &txt, &n, err, sizeof(err));
 *	st = dns_rrset(d, "example.org", 15, &rs, err, sizeof(err));
 *	st = dns_query_raw(d, name, 16, buf, sizeof(buf), &len, &secure);
 * DESCRIPTION
 *	Each asks dns_resolve() (dns.c: cache, queries in flight, deadline
 *	and budget) and turns the answer into a status and data: TXT
 *	strings joined (RFC 6376 3.6.2.2), every record's rdata, or the raw
 *	reply packet for libraries that parse DNS themselves (libopendkim).
 * DIAGNOSTICS
 *	Every failure is a status; err says what happened.  A truncated or
 *	malformed TXT record is DNS_TEMPFAIL, never a partial answer.
 */
#include "buildconf.h"

#include <arpa/nameser.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "lib/dns.h"
#include "lib/dns_answer.h"
#include "lib/dns_internal.h"

#define RR_TYPE_TXT	16

void
dns_txt_free(char **txt)
{
	if (txt == NULL)
		return;
	for (size_t i = 0; txt[i] != NULL; i++)
		free(txt[i]);
	free(txt);
}

enum dns_status
dns_query_raw(struct dns *d, const char *name, int type, unsigned char *buf,
    size_t bufsz, size_t *len, int *secure)
{
	struct dns_answer *a = NULL;
	enum dns_status st;
	int ttl;

	*len = 0;
	*secure = 0;
	if (dns_resolve(d, name, type, &a, &ttl) != 0 || a == NULL)
		return DNS_TEMPFAIL;
	if (a->bogus || a->packet == NULL || a->packet_len > bufsz ||
	    (a->rcode != 0 && !a->nxdomain))
		st = DNS_TEMPFAIL;	/* SERVFAIL, REFUSED, too big */
	else {
		memcpy(buf, a->packet, a->packet_len);
		*len = a->packet_len;
		*secure = a->secure;
		st = a->nxdomain ? DNS_NXDOMAIN : a->havedata ? DNS_OK :
		    DNS_NODATA;
	}
	dns_answer_unref(a);
	return st;
}

long
dns_txt_join(const unsigned char *rd, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = rd[i++];
		if (n > len - i)
			return -1;
		memcpy(out + o, rd + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return (long)o;
}

char *
dns_txt_string(const unsigned char *rd, size_t len, size_t *outlen)
{
	char *out = malloc(len + 1);
	long n = -1;

	if (out != NULL && ((n = dns_txt_join(rd, len, out)) < 0 ||
	    strlen(out) != (size_t)n)) {
		free(out);
		return NULL;
	}
	if (out != NULL && outlen != NULL)
		*outlen = (size_t)n;
	return out;
}

const char *
dns_type_name(int type)
{
	switch (type) {
	case 1:		return "A";
	case 12:	return "PTR";
	case 15:	return "MX";
	case 16:	return "TXT";
	case 28:	return "AAAA";
	case 99:	return "SPF";
	default:	return "such";
	}
}

/* RFC 1035 4.1.1 and RFC 2136 2.2 names of the response codes, as dig
 * and the DNS servers' logs print them. */
static const char *
rcode_name(int rcode, char *buf, size_t bufsz)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
	    "NOTAUTH", "NOTZONE" };

	if (rcode >= 0 && (size_t)rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, bufsz, "DNS rcode %d", rcode);
	return buf;
}

/* What an answer (or its absence: err, an ub error code or -1 for a
 * timeout) means; err filled for every status but DNS_OK. */
enum dns_status
dns_classify(const struct dns_answer *a, int err, const char *name, int type,
    char *errbuf, size_t errsz)
{
	char rc[24];

	if (a == NULL) {
		snprintf(errbuf, errsz, "%s: %s", name, err > 0 || err < -1 ?
		    ub_strerror(err) : dns_budget_spent() ?
		    "DNS budget of this message used up" :
		    "no answer within dns_timeout");
		return DNS_TEMPFAIL;
	}
	if (a->bogus) {
		snprintf(errbuf, errsz, "%s: DNSSEC validation failed: %s",
		    name, a->why_bogus != NULL ? a->why_bogus : "bogus");
		return DNS_TEMPFAIL;
	}
	if (a->nxdomain) {
		snprintf(errbuf, errsz, "%s: no such name", name);
		return DNS_NXDOMAIN;
	}
	if (a->rcode != 0) {
		snprintf(errbuf, errsz, "%s: %s", name, rcode_name(a->rcode,
		    rc, sizeof(rc)));
		return DNS_TEMPFAIL;
	}
	if (!a->havedata || a->n == 0) {
		snprintf(errbuf, errsz, "%s: no %s record", name,
		    dns_type_name(type));
		return DNS_NODATA;
	}
	return DNS_OK;
}

/* Resolve and sort the answer: DNS_OK with *a holding data, else the
 * status with err filled (and no answer). */
static enum dns_status
resolve_classified(struct dns *d, const char *name, int type,
    struct dns_answer **a, int *ttl, char *err, size_t errsz)
{
	int rc = dns_resolve(d, name, type, a, ttl);
	enum dns_status st = dns_classify(*a, rc, name, type, err, errsz);

	if (st != DNS_OK) {
		dns_answer_unref(*a);
		*a = NULL;
	}
	return st;
}

enum dns_status
dns_txt(struct dns *d, const char *name, char ***txt, size_t *n,
    char *err, size_t errsz)
{
	unsigned ttl;

	return dns_txt_ttl(d, name, txt, n, &ttl, err, errsz);
}

/* The strings of TXT rdata joined: a NULL-terminated array. */
static enum dns_status
txt_strings(const char *name, size_t count, unsigned char *const *data,
    const size_t *len, char ***txt, char *err, size_t errsz)
{
	if ((*txt = calloc(count + 1, sizeof(char *))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return DNS_TEMPFAIL;
	}
	for (size_t i = 0; i < count; i++)
		if (((*txt)[i] = dns_txt_string(data[i], len[i], NULL)) == NULL) {
			snprintf(err, errsz, "%s: malformed TXT record", name);
			dns_txt_free(*txt);
			*txt = NULL;
			return DNS_TEMPFAIL;
		}
	return DNS_OK;
}

enum dns_status
dns_txt_ttl(struct dns *d, const char *name, char ***txt, size_t *n,
    unsigned *ttl, char *err, size_t errsz)
{
	struct dns_answer *a = NULL;
	enum dns_status st;
	int left = 0;

	*txt = NULL;
	*n = 0;
	*ttl = 0;
	if ((st = resolve_classified(d, name, RR_TYPE_TXT, &a, &left, err,
	    errsz)) != DNS_OK)
		return st;
	*ttl = left > 0 ? (unsigned)left : 0;
	if ((st = txt_strings(name, a->n, a->data, a->len, txt, err, errsz)) ==
	    DNS_OK)
		*n = a->n;
	dns_answer_unref(a);
	return st;
}

enum dns_status
dns_then_txt(const char *name, size_t n, unsigned char *const *data,
    const size_t *len, char ***txt, char *err, size_t errsz)
{
	return txt_strings(name, n, data, len, txt, err, errsz);
}

void
dns_rrset_free(struct dns_rrset *rs)
{
	if (rs->data != NULL)
		for (size_t i = 0; i < rs->n; i++)
			free(rs->data[i]);
	free(rs->data);
	free(rs->len);
	memset(rs, 0, sizeof(*rs));
}

enum dns_status
dns_rrset(struct dns *d, const char *name, int type, struct dns_rrset *rs,
    char *err, size_t errsz)
{
	struct dns_answer *a = NULL;
	enum dns_status st;
	int ttl = 0;

	memset(rs, 0, sizeof(*rs));
	if ((st = resolve_classified(d, name, type, &a, &ttl, err, errsz)) !=
	    DNS_OK)
		return st;
	if ((rs->data = calloc(a->n, sizeof(*rs->data))) == NULL ||
	    (rs->len = calloc(a->n, sizeof(*rs->len))) == NULL) {
		snprintf(err, errsz, "out of memory");
		st = DNS_TEMPFAIL;
		goto out;
	}
	for (; rs->n < a->n; rs->n++) {
		size_t len = a->len[rs->n];
		if ((rs->data[rs->n] = malloc(len + 1)) == NULL) {
			snprintf(err, errsz, "out of memory");
			st = DNS_TEMPFAIL;
			goto out;
		}
		memcpy(rs->data[rs->n], a->data[rs->n], len + 1);
		rs->len[rs->n] = len;
	}
	rs->ttl = ttl > 0 ? (unsigned)ttl : 0;
out:
	if (st != DNS_OK)
		dns_rrset_free(rs);
	dns_answer_unref(a);
	return st;
}

int
dns_name_text(const unsigned char *wire, size_t len, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	if (outsz == 0)
		return -1;
	while (i < len && wire[i] != 0) {
		size_t n = wire[i++];
		if (n > 63 || n > len - i)
			return -1;	/* compressed or truncated: not ours */
		if (o != 0) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '.';
		}
		for (size_t k = 0; k < n; k++, i++) {
			unsigned char c = wire[i];
			if (c <= ' ' || c >= 0x7f || c == '.' || c == '\\')
				return -1;	/* no name we would look up */
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)c;
		}
	}
	if (i >= len)
		return -1;		/* no root label */
	out[o] = '\0';
	return 0;
}

/* The SOA in a reply's answer or authority section: its TTL and its
 * MINIMUM field; -1 if there is none. */
static int
soa_of(const unsigned char *pkt, size_t len, unsigned *ttl, unsigned *min)
{
	ns_msg msg;
	ns_rr rr;

	if (ns_initparse(pkt, (int)len, &msg) != 0)
		return -1;
	for (int sect = ns_s_an; sect <= ns_s_ns; sect++)
		for (int i = 0; i < ns_msg_count(msg, (ns_sect)sect); i++) {
			if (ns_parserr(&msg, (ns_sect)sect, i, &rr) != 0)
				return -1;
			if (ns_rr_type(rr) != ns_t_soa)
				continue;
			/* MNAME, RNAME (names), then 5 32-bit numbers:
			 * MINIMUM is the last. */
			if (ns_rr_rdlen(rr) < 20)
				return -1;
			*ttl = ns_rr_ttl(rr);
			*min = ns_get32(ns_rr_rdata(rr) + ns_rr_rdlen(rr) - 4);
			return 0;
		}
	return -1;
}

enum dns_status
dns_negative_ttl(struct dns *d, const char *name, unsigned *ttl, char *err,
    size_t errsz)
{
	struct dns_answer *a = NULL;
	unsigned soa_ttl, min;
	enum dns_status st;
	int left, rc = dns_resolve(d, name, ns_t_soa, &a, &left);

	*ttl = 0;
	if ((st = dns_classify(a, rc, name, ns_t_soa, err, errsz)) ==
	    DNS_TEMPFAIL)
		goto out;
	if (a->packet == NULL || soa_of(a->packet, a->packet_len, &soa_ttl,
	    &min) != 0) {
		snprintf(err, errsz, "%s: no SOA in the answer", name);
		st = DNS_NODATA;
		goto out;
	}
	*ttl = soa_ttl < min ? soa_ttl : min;	/* RFC 2308 section 5 */
	st = DNS_OK;
out:
	dns_answer_unref(a);
	return st;
}
