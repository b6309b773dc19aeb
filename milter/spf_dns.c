/*
 * NAME
 *	spf_dns -- libspf2's DNS layer over our resolver
 * SYNOPSIS
 *	spf_dns_layer_init(&layer, dns);
 *	server = SPF_server_new_dns(&layer, 0);
 *	spf_dns_run(&run);  ...SPF_request_query_mailfrom()...
 *	spf_dns_run(NULL);
 * DESCRIPTION
 *	SPF_dns_server_t is libspf2's documented way to plug in a
 *	resolver: every query of a check comes to af_lookup(), which asks
 *	dns.c (libunbound: our cache, our timeout, our dns_resolver) and
 *	counts, per check (struct spf_run), what RFC 7208 4.6.4 limits
 *	and libspf2 does not:
 *
 *	-  void lookups (more than 2: permerror);
 *	-  DNS-querying terms over the whole check, includes and all
 *	   (libspf2 counts per record): every query is a term except the
 *	   first (the record itself), PTR queries (they also serve %{p},
 *	   which is no term) and the address lookups of names an MX or PTR
 *	   answer gave;
 *	-  MX answers of more than 10 names (permerror; libspf2 takes the
 *	   first 10), PTR answers cut to their first 10 names (libspf2
 *	   makes more a permerror).
 *
 *	It also answers type SPF (99) queries with "no data" at once (RFC
 *	7208 3.1: TXT only), and stops asking after the first query that
 *	fails or after SPF_MAX_QUERIES.
 *
 *	Each SPF record in a TXT answer is checked against the RFC 7208
 *	grammar and rewritten for libspf2 (spf_record.c).  A record the
 *	grammar refuses reaches libspf2 as two records, which it makes a
 *	permerror at once without evaluating anything (RFC 7208 4.5); the
 *	reason is kept in the run for the verdict.  A TXT string with a
 *	NUL octet is such a record, not a DNS error.
 *
 *	Names ending in SPF_RECORD_ANY come from an "a" or "mx" with prefix
 *	length 0: the lookup is of the name without that label, an MX
 *	answer's names get it, and an address answer with any address of
 *	the client's family becomes the client's own address (libspf2
 *	then matches it with the full length it uses instead of 0).
 *
 *	libspf2's DNS hook gets no request, so the check in progress is a
 *	thread-local pointer (spf_dns_run()).
 */
#include "buildconf.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/dns.h"
#include "milter/spf_dns.h"
#include "milter/spf_record.h"

static _Thread_local struct spf_run *cur_run;

void
spf_dns_run(struct spf_run *run)
{
	cur_run = run;
}

int
spf_dns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (++label > 63)
			return 0;
	}
	return label > 0;
}

/* name without a final "." SPF_RECORD_ANY label into out; 1 if it had
 * one. */
static int
strip_any(const char *name, char *out, size_t outsz)
{
	static const char any[] = "." SPF_RECORD_ANY;
	size_t len = strlen(name), al = sizeof(any) - 1;
	int has = len > al && strcasecmp(name + len - al, any) == 0;

	snprintf(out, outsz, "%.*s", (int)(has ? len - al : len), name);
	return has;
}

static SPF_dns_rr_t *
rr_status(SPF_dns_server_t *srv, const char *domain, ns_type type,
    enum dns_status st)
{
	int herrno = st == DNS_NXDOMAIN ? HOST_NOT_FOUND : st == DNS_NODATA ?
	    NO_DATA : st == DNS_OK ? NETDB_SUCCESS : TRY_AGAIN;

	return SPF_dns_rr_new_init(srv, domain, type, 0, herrno);
}

/* Copy one answer into libspf2's form; records of the wrong shape are
 * dropped (an A record that is not 4 octets is no address).  MX and PTR
 * names get SPF_RECORD_ANY appended when any is set. */
static void
rr_add(SPF_dns_rr_t *rr, ns_type type, const unsigned char *data,
    size_t len, int any)
{
	char name[256 + sizeof(SPF_RECORD_ANY)];
	int i = rr->num_rr;

	switch (type) {
	case ns_t_a:
		if (len != 4 || SPF_dns_rr_buf_realloc(rr, i, 4) != 0)
			return;
		memcpy(&rr->rr[i]->a, data, 4);
		break;
	case ns_t_aaaa:
		if (len != 16 || SPF_dns_rr_buf_realloc(rr, i, 16) != 0)
			return;
		memcpy(&rr->rr[i]->aaaa, data, 16);
		break;
	case ns_t_mx:
	case ns_t_ptr:
		if (type == ns_t_mx) {
			if (len < 3)
				return;
			data += 2;
			len -= 2;
		}
		/* "." (a null MX, RFC 7505) names no host. */
		if (dns_name_text(data, len, name, 256) != 0 ||
		    name[0] == '\0')
			return;
		if (any)
			strcat(name, "." SPF_RECORD_ANY);
		if (SPF_dns_rr_buf_realloc(rr, i, strlen(name) + 1) != 0)
			return;
		strcpy(type == ns_t_mx ? rr->rr[i]->mx : rr->rr[i]->ptr, name);
		break;
	default:
		return;
	}
	rr->num_rr++;
}

static int
txt_add(SPF_dns_rr_t *rr, const char *s)
{
	size_t len = strlen(s);

	if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, len + 1) != 0)
		return -1;
	memcpy(rr->rr[rr->num_rr]->txt, s, len + 1);
	rr->num_rr++;
	return 0;
}

/* One SPF record for libspf2: checked and rewritten, or, refused, as
 * two records (see DESCRIPTION). */
static int
txt_add_spf(SPF_dns_rr_t *rr, const char *domain, const char *txt,
    size_t len, struct spf_run *run)
{
	char err[200], *out = NULL;
	int rc;

	/* spf_record.c refuses a record over SPF_RECORD_MAX: no buffer. */
	if (len <= SPF_RECORD_MAX &&
	    (out = malloc(SPF_RECORD_OUTSZ(len))) == NULL)
		return -1;
	if (out == NULL)
		(void)spf_record_check(txt, len, err, sizeof(err));
	else if (spf_record_rewrite(txt, len, run != NULL && run->client_ip6,
	    out, SPF_RECORD_OUTSZ(len), err, sizeof(err)) == 0) {
		rc = txt_add(rr, out);
		free(out);
		return rc;
	}
	free(out);
	if (run != NULL && run->bad[0] == '\0')
		snprintf(run->bad, sizeof(run->bad), "%.60s: %.180s", domain,
		    err);
	if (txt_add(rr, "v=spf1") != 0)
		return -1;
	return txt_add(rr, "v=spf1");
}

/* TXT answers for libspf2.  Only SPF records matter to it; other
 * strings are handed over empty.  With more than one SPF record the
 * answer is a permerror anyway (RFC 7208 4.5): handed over unchecked. */
static SPF_dns_rr_t *
txt_answer(SPF_dns_server_t *srv, const char *domain,
    const struct dns_rrset *rs, struct spf_run *run)
{
	SPF_dns_rr_t *rr = rr_status(srv, domain, ns_t_txt, DNS_OK);
	char **txt = calloc(rs->n + 1, sizeof(*txt));
	size_t *len = calloc(rs->n + 1, sizeof(*len)), nspf = 0, i;
	int rc = rr == NULL || txt == NULL || len == NULL ? -1 : 0;

	for (i = 0; rc == 0 && i < rs->n; i++) {
		long n;
		if ((txt[i] = malloc(rs->len[i] + 1)) == NULL ||
		    (n = dns_txt_join(rs->data[i], rs->len[i], txt[i])) < 0) {
			rc = -1;
			break;
		}
		len[i] = (size_t)n;
		if (spf_record_is_spf(txt[i], len[i]))
			nspf++;
		else
			txt[i][0] = '\0';
	}
	for (i = 0; rc == 0 && i < rs->n; i++)
		rc = nspf == 1 && txt[i][0] != '\0' ? txt_add_spf(rr, domain,
		    txt[i], len[i], run) : txt_add(rr, txt[i]);
	for (i = 0; txt != NULL && i < rs->n; i++)
		free(txt[i]);
	free(txt);
	free(len);
	if (rc != 0 && rr != NULL) {
		SPF_dns_rr_free(rr);
		rr = NULL;
	}
	return rr;
}

static SPF_dns_rr_t *
lookup_txt(SPF_dns_server_t *srv, struct dns *d, const char *domain,
    struct spf_run *run, enum dns_status *st)
{
	struct dns_rrset rs;
	SPF_dns_rr_t *rr;
	char err[300];

	if ((*st = dns_rrset(d, domain, ns_t_txt, &rs, err, sizeof(err))) !=
	    DNS_OK)
		return rr_status(srv, domain, ns_t_txt, *st);
	rr = txt_answer(srv, domain, &rs, run);
	dns_rrset_free(&rs);
	if (rr == NULL) {		/* out of memory, or malformed */
		*st = DNS_TEMPFAIL;
		rr = rr_status(srv, domain, ns_t_txt, *st);
	}
	return rr;
}

/* Domain names equal but for case and a trailing dot. */
static int
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static int
is_host(const struct spf_run *run, const char *domain)
{
	for (size_t i = 0; i < run->nhosts; i++)
		if (same_name(run->hosts[i], domain))
			return 1;
	return 0;
}

static void
count_term(struct spf_run *run, ns_type type, const SPF_dns_rr_t *rr,
    int host)
{
	/* PTR queries also serve the %{p} macro, which is no term. */
	if (run->queries > 1 && !host && type != ns_t_ptr)
		run->terms++;
	if ((type != ns_t_mx && type != ns_t_ptr) || rr == NULL)
		return;
	if (type == ns_t_mx && rr->num_rr > SPF_MAX_NAMES)
		run->mx_over = 1;
	run->nhosts = 0;
	run->hosts_ptr = type == ns_t_ptr;
	for (int i = 0; i < rr->num_rr &&
	    run->nhosts < sizeof(run->hosts) / sizeof(run->hosts[0]); i++)
		(void)strip_any(type == ns_t_mx ? rr->rr[i]->mx :
		    rr->rr[i]->ptr, run->hosts[run->nhosts++],
		    sizeof(run->hosts[0]));
}

/* An address lookup for an "a" or "mx" with prefix length 0: any
 * address of the client's family matches, so the client's own stands
 * for them (see DESCRIPTION). */
static SPF_dns_rr_t *
any_address(SPF_dns_server_t *srv, const char *domain, ns_type type,
    SPF_dns_rr_t *rr, const struct spf_run *run)
{
	if (rr == NULL || rr->num_rr == 0 || run == NULL ||
	    type != (run->client_ip6 ? ns_t_aaaa : ns_t_a))
		return rr;
	SPF_dns_rr_free(rr);
	if ((rr = rr_status(srv, domain, type, DNS_OK)) != NULL)
		rr_add(rr, type, run->addr, run->client_ip6 ? 16 : 4, 0);
	return rr;
}

/* The client's real address, once libspf2 is past its loopback test
 * (spf.c, hide_loopback()). */
static void
unhide(struct spf_run *run)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (run->client_ip6) {
		memcpy(&a6, run->addr, 16);
		(void)SPF_request_set_ipv6(run->hidden, a6);
	} else {
		memcpy(&a4, run->addr, 4);
		(void)SPF_request_set_ipv4(run->hidden, a4);
	}
	run->hidden = NULL;
}

static SPF_dns_rr_t *
af_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
    int should_cache)
{
	struct dns *d = srv->hook;
	struct spf_run *run = cur_run;
	struct dns_rrset rs;
	enum dns_status st;
	SPF_dns_rr_t *rr;
	char err[300], name[256];
	int host, any;

	(void)should_cache;
	if (run != NULL && run->hidden != NULL)
		unhide(run);
	if (type == ns_t_spf)		/* RFC 7208 3.1: TXT only */
		return rr_status(srv, domain, type, DNS_NODATA);
	if (run != NULL && (run->timed_out || run->too_many))
		return rr_status(srv, domain, type, DNS_TEMPFAIL);
	if (run != NULL && ++run->queries > SPF_MAX_QUERIES) {
		run->too_many = 1;
		return rr_status(srv, domain, type, DNS_TEMPFAIL);
	}
	any = strip_any(domain, name, sizeof(name));
	if (!spf_dns_name_ok(name)) {	/* as pyspf: a void lookup */
		st = DNS_NXDOMAIN;
		rr = rr_status(srv, domain, type, st);
	} else if (type == ns_t_txt)
		rr = lookup_txt(srv, d, name, run, &st);
	else if ((st = dns_rrset(d, name, type, &rs, err, sizeof(err))) !=
	    DNS_OK)
		rr = rr_status(srv, domain, type, st);
	else {
		/* RFC 7208 4.6.4: of a PTR answer only the first 10 names
		 * count ("all records other than the first 10 MUST be
		 * ignored"); libspf2 makes more than 10 a permerror. */
		size_t n = type == ns_t_ptr && rs.n > SPF_MAX_NAMES ?
		    SPF_MAX_NAMES : rs.n;
		if ((rr = rr_status(srv, domain, type, DNS_OK)) != NULL)
			for (size_t i = 0; i < n; i++)
				rr_add(rr, type, rs.data[i], rs.len[i], any);
		dns_rrset_free(&rs);
		if (any && (type == ns_t_a || type == ns_t_aaaa))
			rr = any_address(srv, domain, type, rr, run);
	}
	/* RFC 7208 5.5: a DNS error on the PTR lookup of "ptr" (or of %{p})
	 * is no match, and on the address lookup of a name it returned,
	 * that name is skipped: neither makes the check a temperror. */
	/* The address lookup of a name the last MX or PTR answer gave
	 * belongs to that term: no term of its own, and (RFC 7208 4.6.4
	 * counts void lookups per term) no void lookup either. */
	host = run != NULL && (type == ns_t_a || type == ns_t_aaaa) &&
	    is_host(run, name);
	if (run != NULL && st == DNS_TEMPFAIL && (type == ns_t_ptr ||
	    (host && run->hosts_ptr))) {
		SPF_dns_rr_free(rr);
		rr = rr_status(srv, domain, type, DNS_NODATA);
		count_term(run, type, rr, host);
		return rr;	/* not a void lookup either */
	}
	if (run != NULL)
		count_term(run, type, rr, host);
	if (run != NULL && st == DNS_TEMPFAIL)
		run->timed_out = 1;
	if (run != NULL && rr != NULL && st != DNS_TEMPFAIL && !host &&
	    rr->num_rr == 0 && ++run->voids == SPF_MAX_VOIDS + 1)
		snprintf(run->void_name, sizeof(run->void_name), "%s", name);
	return rr;
}

void
spf_dns_layer_init(SPF_dns_server_t *layer, struct dns *d)
{
	memset(layer, 0, sizeof(*layer));
	layer->destroy = NULL;		/* the caller's, freed with it */
	layer->lookup = af_lookup;
	layer->name = "authfilter";
	layer->hook = d;
}
