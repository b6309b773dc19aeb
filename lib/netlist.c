/*
 * NAME
 *	netlist -- lists of IPv4/IPv6 networks in CIDR form
 * SYNOPSIS
 *	nl = netlist_parse("127.0.0.0/8, [::1]/128", err, sizeof(err));
 *	if (netlist_match(nl, sa)) ...
 * DESCRIPTION
 *	Used for internal_networks: a client inside is treated as a
 *	sender of outgoing mail, so a mistake here means signing mail for
 *	strangers.  Entries are "ADDR" (a host) or "ADDR/LEN"; IPv6 may be
 *	written in brackets as in Postfix's mynetworks.  An address with
 *	host bits set under its prefix ("10.1.2.3/8") is refused, as it
 *	is almost always a typo.  IPv4-mapped IPv6 client addresses
 *	(::ffff:192.0.2.1) match IPv4 entries.
 * DIAGNOSTICS
 *	netlist_parse() names the entry and what is wrong with it.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/netlist.h"

struct net {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	unsigned	prefix;
};

struct netlist {
	struct net	*nets;
	size_t		 n;
};

static int
prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

static int
parse_one(const char *tok, struct net *net, char *err, size_t errsz)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *addr = buf, *end;
	unsigned maxbits;
	unsigned char masked[16];
	long len;

	if (strlen(tok) >= sizeof(buf)) {
		snprintf(err, errsz, "\"%.64s...\" is too long for a network",
		    tok);
		return -1;
	}
	strcpy(buf, tok);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (addr[0] == '[') {
		size_t l = strlen(addr);
		if (l < 2 || addr[l - 1] != ']') {
			snprintf(err, errsz, "\"%s\": unbalanced [ ]", tok);
			return -1;
		}
		addr[l - 1] = '\0';
		addr++;
	}
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, addr, net->addr) == 1) {
		net->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, addr, net->addr) == 1) {
		net->family = AF_INET6;
		maxbits = 128;
	} else {
		snprintf(err, errsz, "\"%s\" is not an IPv4 or IPv6 address",
		    tok);
		return -1;
	}
	net->prefix = maxbits;
	if (slash != NULL) {
		len = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || len < 0 ||
		    (unsigned long)len > maxbits) {
			snprintf(err, errsz, "\"%s\": prefix length must be "
			    "0..%u", tok, maxbits);
			return -1;
		}
		net->prefix = (unsigned)len;
	}
	/* Host bits set under the mask: refuse, it is likely a typo. */
	memcpy(masked, net->addr, sizeof(masked));
	for (unsigned bit = net->prefix; bit < maxbits; bit++)
		masked[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
	if (memcmp(masked, net->addr, maxbits / 8) != 0) {
		snprintf(err, errsz, "\"%s\": address has bits set beyond "
		    "the /%u prefix", tok, net->prefix);
		return -1;
	}
	return 0;
}

struct netlist *
netlist_parse(const char *text, char *err, size_t errsz)
{
	struct netlist *nl;
	char *copy, *tok, *save = NULL;
	struct net *grown;

	if ((nl = calloc(1, sizeof(*nl))) == NULL ||
	    (copy = strdup(text)) == NULL) {
		free(nl);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	for (tok = strtok_r(copy, ", \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t\r\n", &save)) {
		grown = realloc(nl->nets, (nl->n + 1) * sizeof(*grown));
		if (grown == NULL) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
		nl->nets = grown;
		if (parse_one(tok, &nl->nets[nl->n], err, errsz) != 0)
			goto fail;
		nl->n++;
	}
	free(copy);
	return nl;
fail:
	free(copy);
	netlist_free(nl);
	return NULL;
}

void
netlist_free(struct netlist *nl)
{
	if (nl == NULL)
		return;
	free(nl->nets);
	free(nl);
}

size_t
netlist_count(const struct netlist *nl)
{
	return nl == NULL ? 0 : nl->n;
}

static int
match_raw(const struct netlist *nl, int family, const unsigned char *addr)
{
	for (size_t i = 0; nl != NULL && i < nl->n; i++)
		if (nl->nets[i].family == family &&
		    prefix_match(nl->nets[i].addr, addr, nl->nets[i].prefix))
			return 1;
	return 0;
}

int
netlist_match(const struct netlist *nl, const struct sockaddr *sa)
{
	static const unsigned char v4mapped[12] =
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *a6;

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET)
		return match_raw(nl, AF_INET, (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family != AF_INET6)
		return 0;
	a6 = (const unsigned char *)
	    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (memcmp(a6, v4mapped, sizeof(v4mapped)) == 0)
		return match_raw(nl, AF_INET, a6 + 12);
	return match_raw(nl, AF_INET6, a6);
}

int
netlist_match_str(const struct netlist *nl, const char *ip)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		return netlist_match(nl, (struct sockaddr *)&sin);
	}
	if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		return netlist_match(nl, (struct sockaddr *)&sin6);
	}
	return 0;
}

int
netaddr_parse_hostport(const char *text, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errsz)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *colon;
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':')
			goto bad;
		hl = (size_t)(close - text - 1);
		colon = close + 1;
		text++;
	} else {
		if ((colon = strrchr(text, ':')) == NULL)
			goto bad;
		hl = (size_t)(colon - text);
	}
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, text, hl);
	host[hl] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || port == 0 ||
	    port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return 0;
	}
bad:
	snprintf(err, errsz, "expected ADDRESS:PORT, such as 127.0.0.1:9925 "
	    "or [::1]:9925");
	return -1;
}
