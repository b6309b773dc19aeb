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

/* A continuation of a prefetch: the status and, for DNS_OK, the rdata
 * of each record (valid during the call only).  d is NULL when the
 * resolver is being freed: then only free arg.  Runs in the resolver's
 * thread, or in the caller's when the answer was cached: never block. */
typedef void	(*dns_then_fn)(struct dns *d, void *arg, enum dns_status,
		    size_t n, unsigned char *const *data, const size_t *len);

/* Start a query for (name, type) and return at once; its answer goes
 * into the cache, and a later question joins it. */
void		 dns_prefetch(struct dns *, const char *name, int type);
/* The same, then fn(arg, ...) with the answer (exactly once). */
void		 dns_prefetch_then(struct dns *, const char *name, int type,
		    dns_then_fn fn, void *arg);
/* The TXT strings of a continuation's rdata, as dns_txt() gives them. */
enum dns_status	 dns_then_txt(const char *name, size_t n,
		    unsigned char *const *data, const size_t *len, char ***txt,
		    char *err, size_t errsz);

/* A message's hold on the queries it started: while a thread has
 * entered it, dns_prefetch() keeps each query's outcome for the
 * message, and the message's later questions use it even when the
 * cache keeps nothing (TTL 0, an error, a timeout): one query per name
 * per message.  Free it when the message ends. */
struct dns_hold;
struct dns_hold	*dns_hold_new(void);
void		 dns_hold_free(struct dns_hold *);
void		 dns_hold_enter(struct dns_hold *);
void		 dns_hold_leave(void);

/* This thread's message may wait for DNS at most budget_ms from now, in
 * all; while it waits, progress(arg) is called about once a second.
 * After the budget, questions not yet answered are DNS_TEMPFAIL and no
 * new query is sent (cached answers still count). */
void		 dns_budget_begin(unsigned budget_ms, void (*progress)(void *),
		    void *arg);
void		 dns_budget_end(void);
int		 dns_budget_spent(void);

/* on: log every query that gets past the answer cache (log_dns). */
void		 dns_set_trace(struct dns *, int on);

/* Queries sent to the network since dns_new(), for tests and bench. */
unsigned long	 dns_queries(struct dns *);

/* The <length><bytes> strings of one TXT rdata (RFC 1035 3.3.14)
 * joined into out (at least len + 1 bytes; NUL-terminated): the joined
 * length, NUL bytes and all, or -1 if malformed. */
long		 dns_txt_join(const unsigned char *rd, size_t len, char *out);
/* The same as a new string (*outlen its length, if not NULL); NULL if
 * malformed, with a NUL byte, or out of memory. */
char		*dns_txt_string(const unsigned char *rd, size_t len,
		    size_t *outlen);

/* How long resolvers keep "no such record" for name: the TTL of the
 * negative answer, from the SOA of its zone (RFC 2308 section 5: the
 * smaller of the SOA's TTL and its MINIMUM).  DNS_OK with *ttl, or why
 * not. */
enum dns_status	 dns_negative_ttl(struct dns *, const char *name,
		    unsigned *ttl, char *err, size_t errsz);

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
