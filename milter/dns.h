/*
 * dns.h -- the one DNS resolver of authfilter (libunbound).
 */
#ifndef AUTHFILTER_DNS_H
#define AUTHFILTER_DNS_H

#include <stddef.h>

struct dns;

enum dns_status {
	DNS_OK,			/* records found */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, no record of the type */
	DNS_TEMPFAIL		/* SERVFAIL, timeout, REFUSED, bad answer */
};

/* spec "" uses the system's resolvers (/etc/resolv.conf, /etc/hosts);
 * "ADDR" or "ADDR@PORT" sends every query there.  A query that has no
 * answer after timeout_ms is DNS_TEMPFAIL.  trust_anchor "" does no
 * DNSSEC validation; a file of DS/DNSKEY records (e.g. the root key of
 * Debian's dns-root-data) turns it on: bogus answers are DNS_TEMPFAIL,
 * secure ones say so.  NULL + err on failure. */
struct dns	*dns_new(const char *spec, unsigned timeout_ms,
		    unsigned retries, const char *trust_anchor, char *err,
		    size_t errsz);
void		 dns_free(struct dns *);

/* TXT records of name, each one's strings joined (RFC 6376 3.6.2.2).
 * *txt is a NULL-terminated array for dns_txt_free(). */
enum dns_status	 dns_txt(struct dns *, const char *name, char ***txt,
		    size_t *n, char *err, size_t errsz);
/* The same, with the records' TTL (seconds) in *ttl. */
enum dns_status	 dns_txt_ttl(struct dns *, const char *name, char ***txt,
		    size_t *n, unsigned *ttl, char *err, size_t errsz);
void		 dns_txt_free(char **txt);

/* The raw reply packet for (name, type, class IN) into buf: what
 * libraries that parse DNS themselves (libopendkim) want.  *len is the
 * packet's length; *secure is 1 when DNSSEC validated it. */
enum dns_status	 dns_query_raw(struct dns *, const char *name, int type,
		    unsigned char *buf, size_t bufsz, size_t *len, int *secure);

/* Every record of (name, type): rdata as sent (names uncompressed),
 * each NUL-terminated for convenience. */
struct dns_rrset {
	size_t		  n;
	unsigned char	**data;
	size_t		 *len;
	unsigned	  ttl;
};
enum dns_status	 dns_rrset(struct dns *, const char *name, int type,
		    struct dns_rrset *, char *err, size_t errsz);
void		 dns_rrset_free(struct dns_rrset *);
/* An uncompressed wire-format name (as in MX or PTR rdata) as text
 * without the final dot; -1 for anything not a plain host name. */
int		 dns_name_text(const unsigned char *wire, size_t len, char *out,
		    size_t outsz);

#endif
