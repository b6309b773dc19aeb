/*
 * NAME
 *	doctor_dns -- the address and name lookups authfilter doctor makes
 * SYNOPSIS
 *	n = doctor_addresses(dns, "mail.example.org", addr, 16, &st);
 *	n = doctor_ptr(dns, "192.0.2.25", names, 8, &st);
 *	v = doctor_void(dns, "example.org", 15);
 * DESCRIPTION
 *	Synchronous questions through the configured resolver (lib/dns.h,
 *	dns_rrset()): the A and AAAA records of a name as text, the PTR
 *	names of an address (RFC 1035 3.5, RFC 3596 2.5), and whether a
 *	lookup is void in the sense of RFC 7208 4.6.4.
 * DIAGNOSTICS
 *	A status (enum dns_status) in *st; DNS_TEMPFAIL when the resolver
 *	gave no answer.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "doctor/doctor.h"
#include "lib/dns.h"

#define RR_A		1
#define RR_PTR		12
#define RR_AAAA		28

/* The worse of two outcomes for "is there any answer". */
static int
worse(int a, int b)
{
	if (a == DNS_TEMPFAIL || b == DNS_TEMPFAIL)
		return DNS_TEMPFAIL;
	if (a == DNS_NODATA || b == DNS_NODATA)
		return DNS_NODATA;
	return DNS_NXDOMAIN;
}

size_t
doctor_addresses(struct dns *d, const char *name, char (*out)[46],
    size_t max, int *st)
{
	static const int types[] = { RR_A, RR_AAAA };
	struct dns_rrset rs;
	char err[300];
	size_t n = 0;
	int s[2];

	for (size_t t = 0; t < 2; t++) {
		s[t] = dns_rrset(d, name, types[t], &rs, err, sizeof(err));
		if (s[t] != DNS_OK)
			continue;
		for (size_t i = 0; i < rs.n && n < max; i++)
			if (rs.len[i] == (types[t] == RR_A ? 4u : 16u) &&
			    inet_ntop(types[t] == RR_A ? AF_INET : AF_INET6,
			    rs.data[i], out[n], 46) != NULL)
				n++;
		dns_rrset_free(&rs);
	}
	*st = n > 0 ? DNS_OK : worse(s[0], s[1]);
	return n;
}

/* The name of the PTR record of ip (in-addr.arpa or ip6.arpa); -1 if
 * ip is not an address. */
static int
reverse_name(const char *ip, char *out, size_t outsz)
{
	unsigned char a[16];
	size_t o = 0;

	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2],
		    a[1], a[0]);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1 || outsz < 74)
		return -1;
	for (int i = 15; i >= 0; i--)
		o += (size_t)snprintf(out + o, outsz - o, "%x.%x.", a[i] & 0xf,
		    a[i] >> 4);
	snprintf(out + o, outsz - o, "ip6.arpa");
	return 0;
}

size_t
doctor_ptr(struct dns *d, const char *ip, char (*out)[256], size_t max,
    int *st)
{
	struct dns_rrset rs;
	char rev[80], err[300];
	size_t n = 0;

	if (reverse_name(ip, rev, sizeof(rev)) != 0) {
		*st = DNS_NXDOMAIN;
		return 0;
	}
	if ((*st = dns_rrset(d, rev, RR_PTR, &rs, err, sizeof(err))) !=
	    DNS_OK)
		return 0;
	for (size_t i = 0; i < rs.n && n < max; i++)
		if (dns_name_text(rs.data[i], rs.len[i], out[n], 256) == 0)
			n++;
	dns_rrset_free(&rs);
	if (n == 0)
		*st = DNS_NODATA;	/* only names we cannot use */
	return n;
}

int
doctor_void(struct dns *d, const char *name, int type)
{
	struct dns_rrset rs;
	char err[300];
	enum dns_status st = dns_rrset(d, name, type, &rs, err, sizeof(err));

	if (st == DNS_OK)
		dns_rrset_free(&rs);
	return st == DNS_TEMPFAIL ? -1 : st != DNS_OK;
}
