/*
 * NAME
 *	dest -- the mailto: destinations of rua=, and their verification
 * SYNOPSIS
 *	n = rua_dest_parse("mailto:a@x.example!10m,mailto:b@y", d, max);
 *	v = rua_dest_verify(dns, dmarc, "example.com", d[0].host, name,
 *	    why, sizeof(why));
 * DESCRIPTION
 *	rua_dest_parse() reads the URIs of a rua= tag (RFC 9989 4.7, RFC
 *	7489 6.2): mailto: only, the address %-decoded, an optional size
 *	limit after "!" (k, m, g, t: powers of 1024).  The value comes from
 *	DNS: an address that is not a plain dot-atom local part at a host
 *	name is skipped, so nothing from it can reach a header unchecked.
 *
 *	rua_dest_verify() decides whether a domain owner may have reports
 *	about policy_domain sent to host: always when both are in one
 *	organizational domain (the daemon's tree walk, or the suffix list),
 *	else only when TXT <policy_domain>._report._dmarc.<host> holds a
 *	record starting with "v=DMARC1" (RFC 7489 7.1, RFC 9990 3.3).
 * SEE ALSO
 *	doctor_dmarc.c, send_cmd.c
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/dns.h"
#include "milter/dmarc.h"
#include "rua/dest.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 5322 atext, and "." between atoms. */
static int
local_ok(const char *s, size_t len)
{
	static const char special[] = "!#$%&'*+/=?^_`{|}~-.";

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && (s[i] == '\0' ||
		    strchr(special, s[i]) == NULL))
			return 0;
	return 1;
}

static int
host_ok(const char *s, size_t len)
{
	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

/* "10m" into bytes; 0 when malformed or absurd. */
static uint64_t
parse_size(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i = 0;
	int shift = 0;

	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		if (v > UINT64_MAX / 10 / ((uint64_t)1 << 40))
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return 0;
	if (i + 1 == len) {
		const char *u = strchr("kmgt", tolower((unsigned char)s[i]));
		if (s[i] == '\0' || u == NULL)
			return 0;
		shift = 10 * (int)(u - "kmgt" + 1);
	} else if (i != len)
		return 0;
	return v << shift;
}

/* One URI (trimmed) into d: 0, or -1 when not usable. */
static int
parse_one(const char *uri, size_t len, struct rua_dest *d)
{
	const char *bang;
	size_t alen, n = 0;
	char *at;

	if (len < 7 || strncasecmp(uri, "mailto:", 7) != 0)
		return -1;
	uri += 7;
	len -= 7;
	bang = memchr(uri, '!', len);
	alen = bang != NULL ? (size_t)(bang - uri) : len;
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < alen; i++) {
		int c = (unsigned char)uri[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= alen || (hi = hexval(uri[i + 1])) < 0 ||
			    (lo = hexval(uri[i + 2])) < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0' || n + 1 >= sizeof(d->addr))
			return -1;
		d->addr[n++] = (char)c;
	}
	d->addr[n] = '\0';
	if ((at = strrchr(d->addr, '@')) == NULL ||
	    !local_ok(d->addr, (size_t)(at - d->addr)) ||
	    !host_ok(at + 1, strlen(at + 1)))
		return -1;
	for (size_t i = 0; at[1 + i] != '\0'; i++)
		d->host[i] = (char)tolower((unsigned char)at[1 + i]);
	if (bang != NULL)
		d->max_size = parse_size(bang + 1, len - alen - 1);
	return 0;
}

size_t
rua_dest_parse(const char *rua, struct rua_dest *out, size_t max)
{
	size_t n = 0;
	const char *p = rua;

	while (*p != '\0' && n < max) {
		size_t len = strcspn(p, ",");
		const char *s = p, *e = p + len;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (parse_one(s, (size_t)(e - s), &out[n]) == 0)
			n++;
		p += len;
		if (*p == ',')
			p++;
	}
	return n;
}

enum rua_verify
rua_dest_verify(struct dns *dns, struct dmarc_lib *dmarc,
    const char *policy_domain, const char *host, char *name, char *why,
    size_t whysz)
{
	char own[256], org[256], err[300], **t;
	size_t n, ok = 0;
	enum dns_status st;
	int len;

	name[0] = '\0';
	why[0] = '\0';
	/* The policy domain's own address: no question to ask. */
	if (strcasecmp(policy_domain, host) == 0)
		return RUA_VERIFY_SAME_ORG;
	if (dmarc_org_domain(dmarc, policy_domain, own, sizeof(own)) != 0 ||
	    dmarc_org_domain(dmarc, host, org, sizeof(org)) != 0) {
		snprintf(why, whysz, "the organizational domain of %s or %s "
		    "could not be found: DNS failed", policy_domain, host);
		return RUA_VERIFY_TEMPFAIL;
	}
	if (strcmp(org, own) == 0)
		return RUA_VERIFY_SAME_ORG;
	len = snprintf(name, RUA_VERIFY_NAME_MAX, "%s._report._dmarc.%s",
	    policy_domain, host);
	if (len < 0 || len > 253) {
		snprintf(why, whysz, "%s._report._dmarc.%s is too long for a "
		    "domain name", policy_domain, host);
		return RUA_VERIFY_MISSING;
	}
	st = dns_txt(dns, name, &t, &n, err, sizeof(err));
	if (st == DNS_TEMPFAIL) {
		snprintf(why, whysz, "%s", err);
		return RUA_VERIFY_TEMPFAIL;
	}
	if (st == DNS_OK) {
		for (size_t i = 0; i < n; i++)
			ok += strncmp(t[i], "v=DMARC1", 8) == 0;
		dns_txt_free(t);
	}
	if (ok > 0)
		return RUA_VERIFY_OK;
	snprintf(why, whysz, "no v=DMARC1 record at %s", name);
	return RUA_VERIFY_MISSING;
}
