/*
 * NAME
 *	dkimkey -- fetch a DKIM key record through authfilter's resolver
 * SYNOPSIS
 *	st = dkimkey_fetch(dns, "sel", "example.org", &rec, &len, &secure,
 *	    why, sizeof(why));
 * DESCRIPTION
 *	libopendkim's own key lookup reads the DNS answer into an 8 KiB
 *	buffer (a bigger answer is a temperror) and copies the record into
 *	1 KiB (a longer one is cut).  verify.c fetches the record here
 *	instead, whole: the reply packet from dns.c (one cache, one
 *	timeout, DNSSEC status) up to the largest DNS message, parsed with
 *	libresolv's ns_parserr(), every TXT string of the record joined
 *	(RFC 6376 3.6.2.2).  Several TXT records are reported, not chosen
 *	from: which one the signer meant cannot be known.
 * DIAGNOSTICS
 *	DKIMKEY_TEMP when the resolver fails (SERVFAIL, timeout, REFUSED,
 *	DNSSEC bogus); DKIMKEY_BAD for an answer that does not parse or a
 *	record with a NUL byte.
 * SEE ALSO
 *	dns.c, verify.c
 */
#include "buildconf.h"

#include <arpa/nameser.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter/dkimkey.h"
#include "lib/dns.h"

/* The largest DNS message (RFC 1035 4.2.2: a 16-bit length over TCP). */
#define DKIMKEY_DNS_MAX 65535

/* The one TXT record of the answer section of pkt. */
static enum dkimkey_status
answer_txt(const unsigned char *pkt, size_t plen, const char *name,
    char **rec, size_t *len, char *why, size_t whysz)
{
	ns_msg msg;
	ns_rr rr;
	int ntxt = 0;

	if (ns_initparse(pkt, (int)plen, &msg) != 0) {
		snprintf(why, whysz, "%s: malformed DNS answer", name);
		return DKIMKEY_BAD;
	}
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) {
			snprintf(why, whysz, "%s: malformed DNS answer", name);
			free(*rec);
			*rec = NULL;
			return DKIMKEY_BAD;
		}
		/* CNAMEs (already followed) and RRSIGs are not the key */
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;
		if (++ntxt > 1)
			continue;
		*rec = dns_txt_string(ns_rr_rdata(rr), ns_rr_rdlen(rr), len);
		if (*rec == NULL) {
			snprintf(why, whysz, "%s: malformed TXT record (or a "
			    "NUL byte in it)", name);
			return DKIMKEY_BAD;
		}
	}
	if (ntxt > 1) {
		free(*rec);
		*rec = NULL;
		snprintf(why, whysz, "%s: %d key records", name, ntxt);
		return DKIMKEY_MANY;
	}
	if (ntxt == 0) {
		snprintf(why, whysz, "%s: no TXT record", name);
		return DKIMKEY_NONE;
	}
	return DKIMKEY_OK;
}

enum dkimkey_status
dkimkey_fetch(struct dns *d, const char *selector, const char *domain,
    char **rec, size_t *len, int *secure, char *why, size_t whysz)
{
	char name[NS_MAXDNAME];
	unsigned char *pkt;
	size_t plen = 0;
	enum dkimkey_status ks;
	int n;

	*rec = NULL;
	*len = 0;
	*secure = 0;
	n = snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		snprintf(why, whysz, "key name too long");
		return DKIMKEY_BAD;
	}
	if ((pkt = malloc(DKIMKEY_DNS_MAX)) == NULL) {
		snprintf(why, whysz, "out of memory");
		return DKIMKEY_TEMP;
	}
	switch (dns_query_raw(d, name, ns_t_txt, pkt, DKIMKEY_DNS_MAX, &plen,
	    secure)) {
	case DNS_OK:
		ks = answer_txt(pkt, plen, name, rec, len, why, whysz);
		break;
	case DNS_NXDOMAIN:
		snprintf(why, whysz, "%s: no such name", name);
		ks = DKIMKEY_NONE;
		break;
	case DNS_NODATA:
		snprintf(why, whysz, "%s: no TXT record", name);
		ks = DKIMKEY_NONE;
		break;
	default:
		snprintf(why, whysz, "%s: DNS failure", name);
		ks = DKIMKEY_TEMP;
	}
	free(pkt);
	return ks;
}
