/*
 * NAME
 *	keypub -- a stored key's public half, and what DNS serves for it
 * SYNOPSIS
 *	p = public_of(key_dir, k, err, sizeof(err));
 *	st = dns_check(dns, k, p, NULL, err, sizeof(err));
 * DESCRIPTION
 *	The comparison `authfilter-keys check` and `activate` make, and
 *	`authfilter doctor` repeats: the p= of the key's private key file
 *	(key_dir/DOMAIN/SELECTOR.pem) against the TXT records at
 *	SELECTOR._domainkey.DOMAIN.  A published record matches when it
 *	carries the same p= and a k= that agrees (keygen_record_matches()).
 * DIAGNOSTICS
 *	dns_check() returns PUB_OK, or what is wrong, with err saying more
 *	where there is more to say.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "keys/keygen.h"
#include "keys/keypub.h"
#include "lib/dns.h"

const char *const pub_names[] = { "published", "missing", "differs",
    "ambiguous", "dns-error" };

void
free_secret(char *s)
{
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

char *
read_pem(const char *key_dir, const char *domain, const char *selector,
    size_t *len)
{
	char path[4096];
	FILE *fp;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s/%s.pem", key_dir, domain,
	    selector);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	buf = calloc(1, 65537);
	if (buf != NULL)
		*len = fread(buf, 1, 65536, fp);
	fclose(fp);
	return buf;
}

char *
public_of(const char *key_dir, const struct key *k, char *err, size_t errsz)
{
	size_t len = 0;
	char *pem = read_pem(key_dir, k->domain, k->selector, &len), *p;

	if (pem == NULL) {
		snprintf(err, errsz, "%s/%s/%s.pem: %s", key_dir, k->domain,
		    k->selector, strerror(errno));
		return NULL;
	}
	p = keygen_public_b64(pem, len, err, errsz);
	free_secret(pem);
	return p;
}

/* What DNS serves for k compared with its public key p. */
enum pub
dns_check(struct dns *d, const struct key *k, const char *p, unsigned *ttl,
    char *err, size_t errsz)
{
	char name[KEY_SELECTOR_MAX + KEY_DOMAIN_MAX + 16], **txt;
	size_t n, dkim = 0, match = 0;
	enum dns_status st;
	unsigned t;

	snprintf(name, sizeof(name), "%s._domainkey.%s", k->selector,
	    k->domain);
	st = dns_txt_ttl(d, name, &txt, &n, ttl != NULL ? ttl : &t, err,
	    errsz);
	if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		return PUB_MISSING;
	if (st != DNS_OK)
		return PUB_DNS_ERROR;
	for (size_t i = 0; i < n; i++) {
		if (strstr(txt[i], "p=") == NULL)
			continue;
		dkim++;
		match += keygen_record_matches(txt[i], k->alg, p);
	}
	dns_txt_free(txt);
	if (dkim > 1) {
		snprintf(err, errsz, "%s: %zu key records; verifiers may pick "
		    "any of them", name, dkim);
		return PUB_AMBIGUOUS;
	}
	if (dkim == 0)
		return PUB_MISSING;
	if (match == 1 && ttl != NULL) {
		/* Resolvers that looked before the record existed keep "no
		 * such record" for the zone's negative TTL (RFC 2308), not
		 * the record's: wait for the longer of the two. */
		unsigned neg;
		char nerr[300];
		if (dns_negative_ttl(d, name, &neg, nerr, sizeof(nerr)) ==
		    DNS_OK && neg > *ttl)
			*ttl = neg;
	}
	return match == 1 ? PUB_OK : PUB_DIFFERS;
}
