/*
 * NAME
 *	spf -- SPF (RFC 7208) of incoming mail: libspf2 over our resolver
 * SYNOPSIS
 *	lib = spf_lib_new(dns, "mx.example", err, sizeof(err));
 *	spf_check_mailfrom(lib, "192.0.2.1", "mx.example.org",
 *	    "<a@example.org>", &v);
 *	spf_check_helo(lib, "192.0.2.1", "mx.example.org", &v);
 * DESCRIPTION
 *	libspf2 evaluates the record; every DNS query it makes comes to
 *	af_lookup() below, which asks dns.c (libunbound: our cache, our
 *	timeout, our dns_resolver).  Where libspf2 departs from RFC 7208,
 *	the repair is here, each with a test (t/e2e/spf-conformance.t,
 *	t/e2e/spf.t) and listed in doc/spf-conformance.md:
 *
 *	-  libspf2 passes every loopback client ("localhost free ride").
 *	   We run its query steps ourselves without that shortcut: the
 *	   direction (internal_networks) decides who is trusted, not SPF.
 *	-  No void-lookup limit (RFC 7208 4.6.4): counted here; a third
 *	   lookup that returns nothing makes the result permerror.
 *	-  It counts DNS-querying terms per record, not per check, and
 *	   takes the first 10 of more than 10 MX names: both permerror
 *	   here (RFC 7208 4.6.4).
 *	-  It asks for type SPF (99) records first; RFC 7208 3.1 says
 *	   not to.  Answered locally as "no data", without a query.
 *	-  Explanations (exp=) cost DNS queries after the verdict; we do
 *	   not use them, so none are fetched.
 *	-  A record that does not compile ends with result "invalid";
 *	   RFC 7208 4.6 says permerror.
 *	-  Mail with a MAIL FROM domain that is not a multi-label domain
 *	   name gets none without any lookup (RFC 7208 4.3).
 *
 *	Bounded work: a check stops asking DNS after its first timeout
 *	(the answer is temperror anyway) and after SPF_MAX_QUERIES.
 *
 *	libspf2 keeps no state between requests except its server object,
 *	which is read-only here; the per-check counters live in a
 *	thread-local pointer because its DNS hook gets no request.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>

#include "milter/dns.h"
#include "milter/log.h"
#include "milter/spf.h"

/* 10 terms x (1 + 10 MX or PTR names) + their records, with room. */
#define SPF_MAX_QUERIES	150
#define SPF_MAX_VOIDS	2
#define SPF_MAX_TERMS	10	/* DNS-querying terms, RFC 7208 4.6.4 */
#define SPF_MAX_NAMES	10	/* MX or PTR names looked at */

struct spf_lib {
	SPF_dns_server_t layer;
	SPF_server_t	*server;
	struct dns	*dns;
};

/* One check in progress in this thread. */
struct spf_run {
	unsigned	 queries;
	unsigned	 voids;
	int		 timed_out;	/* a query failed: the rest fail too */
	int		 too_many;
	char		 void_name[256];	/* the lookup past the limit */
	unsigned	 terms;		/* lookups that stand for a term */
	int		 mx_over;	/* an MX answer with > 10 names */
	/* Names from the last MX or PTR answer: their address lookups
	 * belong to that term, they are not terms of their own. */
	char		 hosts[SPF_MAX_NAMES * 2][256];
	size_t		 nhosts;
	int		 hosts_ptr;	/* those names came from a PTR answer */
};

static _Thread_local struct spf_run *cur_run;

/* A name DNS can carry: labels of 1..63 octets, at most 253 in all. */
static int
name_ok(const char *name)
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

static SPF_dns_rr_t *
rr_status(SPF_dns_server_t *srv, const char *domain, ns_type type,
    enum dns_status st)
{
	int herrno = st == DNS_NXDOMAIN ? HOST_NOT_FOUND : st == DNS_NODATA ?
	    NO_DATA : st == DNS_OK ? NETDB_SUCCESS : TRY_AGAIN;

	return SPF_dns_rr_new_init(srv, domain, type, 0, herrno);
}

/* Copy one answer into libspf2's form; records of the wrong shape are
 * dropped (an A record that is not 4 octets is no address). */
static void
rr_add(SPF_dns_rr_t *rr, ns_type type, const unsigned char *data,
    size_t len)
{
	char name[256];
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
		if (dns_name_text(data, len, name, sizeof(name)) != 0 ||
		    name[0] == '\0' ||
		    SPF_dns_rr_buf_realloc(rr, i, strlen(name) + 1) != 0)
			return;
		strcpy(type == ns_t_mx ? rr->rr[i]->mx : rr->rr[i]->ptr, name);
		break;
	default:
		return;
	}
	rr->num_rr++;
}

static SPF_dns_rr_t *
lookup_txt(SPF_dns_server_t *srv, struct dns *d, const char *domain,
    enum dns_status *st)
{
	SPF_dns_rr_t *rr;
	char **txt, err[300];
	size_t n;

	if ((*st = dns_txt(d, domain, &txt, &n, err, sizeof(err))) != DNS_OK)
		return rr_status(srv, domain, ns_t_txt, *st);
	if ((rr = rr_status(srv, domain, ns_t_txt, DNS_OK)) != NULL)
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(txt[i]);
			if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, len + 1) != 0)
				break;
			memcpy(rr->rr[rr->num_rr]->txt, txt[i], len + 1);
			rr->num_rr++;
		}
	dns_txt_free(txt);
	return rr;
}

/* libspf2 counts DNS-querying terms only within one record, so an
 * include: with ten more of them passes; RFC 7208 4.6.4 counts them
 * over the whole check.  Every query is a term except the first (the
 * record itself), PTR queries and the address lookups of names an MX
 * or PTR answer gave.  More than 10 names in an MX answer is permerror too. */
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
		snprintf(run->hosts[run->nhosts++], sizeof(run->hosts[0]), "%s",
		    type == ns_t_mx ? rr->rr[i]->mx : rr->rr[i]->ptr);
}

static SPF_dns_rr_t *
af_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
    int should_cache)
{
	struct spf_lib *lib = srv->hook;
	struct spf_run *run = cur_run;
	struct dns_rrset rs;
	enum dns_status st;
	SPF_dns_rr_t *rr;
	char err[300];
	int host;

	(void)should_cache;
	if (type == ns_t_spf)		/* RFC 7208 3.1: TXT only */
		return rr_status(srv, domain, type, DNS_NODATA);
	if (run != NULL && (run->timed_out || run->too_many))
		return rr_status(srv, domain, type, DNS_TEMPFAIL);
	if (run != NULL && ++run->queries > SPF_MAX_QUERIES) {
		run->too_many = 1;
		return rr_status(srv, domain, type, DNS_TEMPFAIL);
	}
	if (!name_ok(domain)) {		/* as pyspf: a void lookup */
		st = DNS_NXDOMAIN;
		rr = rr_status(srv, domain, type, st);
	} else if (type == ns_t_txt)
		rr = lookup_txt(srv, lib->dns, domain, &st);
	else if ((st = dns_rrset(lib->dns, domain, type, &rs, err,
	    sizeof(err))) != DNS_OK)
		rr = rr_status(srv, domain, type, st);
	else {
		/* RFC 7208 4.6.4: of a PTR answer only the first 10 names
		 * count ("all records other than the first 10 MUST be
		 * ignored"); libspf2 makes more than 10 a permerror. */
		size_t n = type == ns_t_ptr && rs.n > SPF_MAX_NAMES ?
		    SPF_MAX_NAMES : rs.n;
		if ((rr = rr_status(srv, domain, type, DNS_OK)) != NULL)
			for (size_t i = 0; i < n; i++)
				rr_add(rr, type, rs.data[i], rs.len[i]);
		dns_rrset_free(&rs);
	}
	/* RFC 7208 5.5: a DNS error on the PTR lookup of "ptr" (or of %{p})
	 * is no match, and on the address lookup of a name it returned,
	 * that name is skipped: neither makes the check a temperror. */
	/* The address lookup of a name the last MX or PTR answer gave
	 * belongs to that term: no term of its own, and (RFC 7208 4.6.4
	 * counts void lookups per term) no void lookup either. */
	host = run != NULL && (type == ns_t_a || type == ns_t_aaaa) &&
	    is_host(run, domain);
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
		snprintf(run->void_name, sizeof(run->void_name), "%s", domain);
	return rr;
}

/* No exp= lookups: the explanation is never shown to anyone. */
static SPF_errcode_t
af_get_exp(SPF_server_t *server, const char *domain, char **buf,
    size_t *buflen)
{
	static const char text[] = "SPF check failed";

	(void)server;
	(void)domain;
	if (*buflen < sizeof(text)) {
		char *p = realloc(*buf, sizeof(text));
		if (p == NULL)
			return SPF_E_NO_MEMORY;
		*buf = p;
		*buflen = sizeof(text);
	}
	memcpy(*buf, text, sizeof(text));
	return SPF_E_SUCCESS;
}

static void
spf_log_warning(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_msg(LOG_DEBUG, "libspf2: %s", msg);
}

static void
spf_log_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

struct spf_lib *
spf_lib_new(struct dns *d, const char *receiver, char *err, size_t errsz)
{
	struct spf_lib *lib = calloc(1, sizeof(*lib));

	if (lib == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	/* libspf2 prints warnings on stderr by default. */
	SPF_warning_handler = spf_log_warning;
	SPF_info_handler = spf_log_quiet;
	SPF_debug_handler = spf_log_quiet;
	lib->dns = d;
	lib->layer.destroy = NULL;	/* ours, freed with lib */
	lib->layer.lookup = af_lookup;
	lib->layer.get_exp = af_get_exp;
	lib->layer.name = "authfilter";
	lib->layer.hook = lib;
	if ((lib->server = SPF_server_new_dns(&lib->layer, 0)) == NULL) {
		snprintf(err, errsz, "libspf2: cannot create a server");
		free(lib);
		return NULL;
	}
	if (receiver != NULL && *receiver != '\0')
		(void)SPF_server_set_rec_dom(lib->server, receiver);
	return lib;
}

void
spf_lib_free(struct spf_lib *lib)
{
	if (lib == NULL)
		return;
	SPF_server_free(lib->server);
	free(lib);
}

const char *
spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPFR_NONE:		return "none";
	case SPFR_NEUTRAL:	return "neutral";
	case SPFR_PASS:		return "pass";
	case SPFR_FAIL:		return "fail";
	case SPFR_SOFTFAIL:	return "softfail";
	case SPFR_TEMPERROR:	return "temperror";
	case SPFR_PERMERROR:	return "permerror";
	}
	return "temperror";
}

static void
verdict(struct spf_verdict *v, enum spf_result r, const char *domain,
    const char *fmt, const char *arg)
{
	v->result = r;
	v->checked = 1;
	snprintf(v->domain, sizeof(v->domain), "%s", domain);
	snprintf(v->reason, sizeof(v->reason), fmt, arg);
}

/* The client address for libspf2; IPv4-mapped IPv6 as IPv4. */
static int
set_client(SPF_request_t *req, const char *ip)
{
	if (strncasecmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.') != NULL)
		ip += 7;
	if (strchr(ip, ':') != NULL)
		return SPF_request_set_ipv6_str(req, ip) == SPF_E_SUCCESS ? 0 :
		    -1;
	return SPF_request_set_ipv4_str(req, ip) == SPF_E_SUCCESS ? 0 : -1;
}

/* The first error libspf2 recorded, as plain text for a comment. */
static void
first_error(SPF_response_t *resp, char *out, size_t outsz)
{
	out[0] = '\0';
	for (int i = 0; i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);
		if (e == NULL || !SPF_error_errorp(e) ||
		    SPF_error_message(e) == NULL)
			continue;
		snprintf(out, outsz, "%s", SPF_error_message(e));
		break;
	}
	for (char *p = out; *p != '\0'; p++)
		if (*p == '(' || *p == ')' || *p == '\\' || *p == '"' ||
		    !isprint((unsigned char)*p))
			*p = ' ';
}

/* check_host(ip, domain, sender) per RFC 7208 section 4 (run the way
 * SPF_request_query_mailfrom does, without its loopback pass). */
static void
check_host(struct spf_lib *lib, const char *ip, const char *helo,
    const char *sender, const char *domain, struct spf_verdict *v)
{
	SPF_request_t *req;
	SPF_response_t *resp;
	SPF_record_t *rec = NULL;
	struct spf_run run;
	char why[160];
	enum spf_result r;

	memset(&run, 0, sizeof(run));
	if ((req = SPF_request_new(lib->server)) == NULL) {
		verdict(v, SPFR_TEMPERROR, domain, "%s", "out of memory");
		return;
	}
	if (set_client(req, ip) != 0) {
		verdict(v, SPFR_NONE, domain, "client address %s not usable",
		    ip);
		SPF_request_free(req);
		return;
	}
	if ((helo != NULL && SPF_request_set_helo_dom(req, helo) != 0) ||
	    SPF_request_set_env_from(req, sender) != 0 ||
	    (resp = SPF_response_new(req)) == NULL) {
		verdict(v, SPFR_TEMPERROR, domain, "%s", "out of memory");
		SPF_request_free(req);
		return;
	}
	req->cur_dom = req->env_from_dp;
	cur_run = &run;
	if (SPF_server_get_record(lib->server, req, resp, &rec) !=
	    SPF_E_SUCCESS) {
		if (rec != NULL)
			SPF_record_free(rec);
		/* A record that does not compile leaves the result at
		 * "invalid"; RFC 7208 4.6 says permerror. */
		if (resp->result == SPF_RESULT_INVALID)
			resp->result = SPF_RESULT_PERMERROR;
		SPF_i_done(resp, resp->result, resp->reason, resp->err);
	} else {
		resp->spf_record_exp = rec;
		(void)SPF_record_interpret(rec, req, resp, 0);
		SPF_record_free(rec);
	}
	cur_run = NULL;

	switch (SPF_response_result(resp)) {
	case SPF_RESULT_PASS:		r = SPFR_PASS; break;
	case SPF_RESULT_FAIL:		r = SPFR_FAIL; break;
	case SPF_RESULT_SOFTFAIL:	r = SPFR_SOFTFAIL; break;
	case SPF_RESULT_NEUTRAL:	r = SPFR_NEUTRAL; break;
	case SPF_RESULT_NONE:		r = SPFR_NONE; break;
	case SPF_RESULT_PERMERROR:	r = SPFR_PERMERROR; break;
	default:			r = SPFR_TEMPERROR; break;
	}
	first_error(resp, why, sizeof(why));
	if (run.too_many)
		verdict(v, SPFR_PERMERROR, domain, "more than %s DNS queries",
		    "150");
	else if (run.terms > SPF_MAX_TERMS && r != SPFR_TEMPERROR)
		verdict(v, SPFR_PERMERROR, domain, "more than %s DNS-querying "
		    "terms", "10");
	else if (run.mx_over && r != SPFR_TEMPERROR)
		verdict(v, SPFR_PERMERROR, domain, "more than %s MX names",
		    "10");
	else if (run.voids > SPF_MAX_VOIDS && r != SPFR_TEMPERROR)
		/* RFC 7208 4.6.4: the lookup past the limit ends the check
		 * with permerror, whatever would have matched later. */
		verdict(v, SPFR_PERMERROR, domain, "void lookup limit "
		    "exceeded at %.180s", run.void_name);
	else if (run.timed_out)
		verdict(v, SPFR_TEMPERROR, domain, "%s", "DNS lookup failed");
	else
		verdict(v, r, domain, "%s", r == SPFR_PERMERROR ||
		    r == SPFR_TEMPERROR ? why : "");
	SPF_response_free(resp);
	SPF_request_free(req);
}

/* RFC 7208 4.3: a domain that is not a multi-label name gets none. */
static int
multi_label(const char *domain)
{
	const char *dot = strchr(domain, '.');

	return name_ok(domain) && dot != NULL && dot != domain &&
	    dot[1] != '\0' && domain[0] != '[';
}

/* The domain as reported: lower case, no final dot (name_ok() has
 * bounded it to 254 octets). */
static void
lower_domain(const char *in, char *out, size_t outsz)
{
	size_t len;

	snprintf(out, outsz, "%s", in);
	len = strlen(out);
	if (len > 0 && out[len - 1] == '.')
		out[len - 1] = '\0';
	for (char *p = out; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

void
spf_check_mailfrom(struct spf_lib *lib, const char *ip, const char *helo,
    const char *sender, struct spf_verdict *v)
{
	char addr[1024], dom[256], *at;
	size_t len;

	memset(v, 0, sizeof(*v));
	while (*sender == ' ')
		sender++;
	len = strlen(sender);
	if (len >= 2 && sender[0] == '<' && sender[len - 1] == '>') {
		sender++;
		len -= 2;
	}
	if (len == 0)
		return;			/* null sender: HELO counts */
	if (len >= sizeof(addr)) {
		verdict(v, SPFR_NONE, "", "%s", "MAIL FROM too long");
		return;
	}
	memcpy(addr, sender, len);
	addr[len] = '\0';
	if ((at = strrchr(addr, '@')) == NULL || !multi_label(at + 1)) {
		verdict(v, SPFR_NONE, at != NULL && name_ok(at + 1) &&
		    at[1] != '[' ? at + 1 : "", "%s",
		    "MAIL FROM has no usable domain");
		return;
	}
	lower_domain(at + 1, dom, sizeof(dom));
	if (ip == NULL || *ip == '\0') {
		verdict(v, SPFR_NONE, dom, "%s", "no client address");
		return;
	}
	check_host(lib, ip, helo, addr, dom, v);
}

void
spf_check_helo(struct spf_lib *lib, const char *ip, const char *helo,
    struct spf_verdict *v)
{
	char dom[256];

	memset(v, 0, sizeof(*v));
	if (helo == NULL || *helo == '\0' || !multi_label(helo)) {
		verdict(v, SPFR_NONE, "", "%s", "HELO is not a domain name");
		return;
	}
	lower_domain(helo, dom, sizeof(dom));
	if (ip == NULL || *ip == '\0') {
		verdict(v, SPFR_NONE, dom, "%s", "no client address");
		return;
	}
	/* libspf2 makes postmaster@HELO of a sender without '@'. */
	check_host(lib, ip, helo, helo, dom, v);
}
