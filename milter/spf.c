/*
 * NAME
 *	spf -- SPF (RFC 7208) of incoming mail: libspf2 over our resolver
 * SYNOPSIS
 *	lib = spf_lib_new(dns, "mx.example", err, sizeof(err));
 *	spf_check_mailfrom(lib, "192.0.2.1", "mx.example.org",
 *	    "<a@example.org>", &v);
 *	spf_check_helo(lib, "192.0.2.1", "mx.example.org", &v);
 * DESCRIPTION
 *	libspf2 evaluates the record through its public API
 *	(SPF_request_query_mailfrom()); every DNS query it makes goes to
 *	spf_dns.c, which asks dns.c (libunbound: our cache, our timeout,
 *	our dns_resolver), counts what RFC 7208 limits, and checks each
 *	record against the RFC 7208 grammar (spf_record.c) before libspf2
 *	sees it.  Where libspf2 departs from RFC 7208, the repair is in
 *	one of those three files, each with a test (t/e2e/spf.t,
 *	t/e2e/spf-conformance.t, t/unit/spf_record.c) and listed in
 *	doc/spf-conformance.md.  Here:
 *
 *	-  libspf2 passes every loopback client ("localhost free ride"):
 *	   hide_loopback() below.  The direction (internal_networks)
 *	   decides who is trusted, not SPF.
 *	-  Limits counted by spf_dns.c decide the verdict: more than 10
 *	   DNS-querying terms, more than 10 MX names, more than 2 void
 *	   lookups, a record the grammar refuses: permerror; a failed
 *	   query: temperror.
 *	-  A record libspf2 cannot compile ends with result "invalid";
 *	   RFC 7208 4.6 says permerror.
 *	-  Mail with a MAIL FROM domain that is not a multi-label domain
 *	   name gets none without any lookup (RFC 7208 4.3).
 *
 *	libspf2 keeps no state between requests except its server object,
 *	which is read-only here.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>

#include "lib/from.h"
#include "lib/log.h"
#include "milter/spf.h"
#include "milter/spf_dns.h"

struct spf_lib {
	SPF_dns_server_t layer;
	SPF_server_t	*server;
};

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
	spf_dns_layer_init(&lib->layer, d);
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

static void
verdict(struct spf_verdict *v, enum spf_result r, const char *domain,
    const char *fmt, const char *arg)
{
	v->result = r;
	v->checked = 1;
	snprintf(v->domain, sizeof(v->domain), "%s", domain);
	snprintf(v->reason, sizeof(v->reason), fmt, arg);
}

/* The client address for libspf2 and the run; IPv4-mapped IPv6 as
 * IPv4 (RFC 7208 5: it is an IPv4 client). */
static int
set_client(SPF_request_t *req, const char *ip, struct spf_run *run)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strncasecmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.') != NULL)
		ip += 7;
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		memcpy(run->addr, &a4, 4);
		return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
	}
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		run->client_ip6 = 1;
		memcpy(run->addr, &a6, 16);
		return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS ? 0 : -1;
	}
	return -1;
}

/*
 * SPF_request_query_mailfrom() passes every loopback client (127/8,
 * ::1) without a look at the record (libspf2 spf_request.c, "Give
 * localhost a free ride"); no setting turns that off, and its other
 * entry points do the same.  RFC 7208 has no such rule.  The test comes
 * before anything else and before the first DNS query, and nothing is
 * evaluated before the record is fetched: so until then the request
 * carries a documentation address of the same family, and spf_dns.c
 * sets the real one, with the public setter, on that first query.
 * t/e2e/spf.t checks both ways (a loopback client fails on a record
 * that does not list it, passes on one that does).
 */
static int
hide_loopback(SPF_request_t *req, struct spf_run *run)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!SPF_request_is_loopback(req))
		return 0;
	run->hidden = req;
	if (run->client_ip6) {
		(void)inet_pton(AF_INET6, "2001:db8::1", &a6);
		return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS ? 0 : -1;
	}
	(void)inet_pton(AF_INET, "192.0.2.1", &a4);
	return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
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

static enum spf_result
our_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:		return SPFR_PASS;
	case SPF_RESULT_FAIL:		return SPFR_FAIL;
	case SPF_RESULT_SOFTFAIL:	return SPFR_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return SPFR_NEUTRAL;
	case SPF_RESULT_NONE:		return SPFR_NONE;
	/* A record that does not compile leaves the result at "invalid";
	 * RFC 7208 4.6 says permerror. */
	case SPF_RESULT_INVALID:
	case SPF_RESULT_PERMERROR:	return SPFR_PERMERROR;
	default:			return SPFR_TEMPERROR;
	}
}

/* The verdict from libspf2's result and what spf_dns.c counted. */
static void
decide(const struct spf_run *run, enum spf_result r, const char *why,
    const char *domain, struct spf_verdict *v)
{
	if (run->too_many)
		verdict(v, SPFR_PERMERROR, domain, "more than %s DNS queries",
		    "150");
	else if (run->terms > SPF_MAX_TERMS && r != SPFR_TEMPERROR)
		verdict(v, SPFR_PERMERROR, domain, "more than %s DNS-querying "
		    "terms", "10");
	else if (run->mx_over && r != SPFR_TEMPERROR)
		verdict(v, SPFR_PERMERROR, domain, "more than %s MX names",
		    "10");
	else if (run->voids > SPF_MAX_VOIDS && r != SPFR_TEMPERROR)
		/* RFC 7208 4.6.4: the lookup past the limit ends the check
		 * with permerror, whatever would have matched later. */
		verdict(v, SPFR_PERMERROR, domain, "void lookup limit "
		    "exceeded at %.180s", run->void_name);
	else if (run->bad[0] != '\0' && r == SPFR_PERMERROR)
		verdict(v, SPFR_PERMERROR, domain, "%s", run->bad);
	else if (run->timed_out)
		verdict(v, SPFR_TEMPERROR, domain, "%s", "DNS lookup failed");
	else if (run->hidden != NULL)	/* never asked DNS: see above */
		verdict(v, SPFR_TEMPERROR, domain, "%s", "no record lookup");
	else
		verdict(v, r, domain, "%s", r == SPFR_PERMERROR ||
		    r == SPFR_TEMPERROR ? why : "");
}

/* check_host(ip, domain, sender) per RFC 7208 section 4. */
static void
check_host(struct spf_lib *lib, const char *ip, const char *helo,
    const char *sender, const char *domain, struct spf_verdict *v)
{
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	struct spf_run run;
	char why[160];

	memset(&run, 0, sizeof(run));
	if ((req = SPF_request_new(lib->server)) == NULL) {
		verdict(v, SPFR_TEMPERROR, domain, "%s", "out of memory");
		return;
	}
	if (set_client(req, ip, &run) != 0) {
		verdict(v, SPFR_NONE, domain, "client address %s not usable",
		    ip);
		SPF_request_free(req);
		return;
	}
	if ((helo != NULL && SPF_request_set_helo_dom(req, helo) != 0) ||
	    SPF_request_set_env_from(req, sender) != 0 ||
	    hide_loopback(req, &run) != 0) {
		verdict(v, SPFR_TEMPERROR, domain, "%s", "out of memory");
		SPF_request_free(req);
		return;
	}
	spf_dns_run(&run);
	(void)SPF_request_query_mailfrom(req, &resp);
	spf_dns_run(NULL);
	if (resp == NULL)
		verdict(v, SPFR_TEMPERROR, domain, "%s", "out of memory");
	else {
		first_error(resp, why, sizeof(why));
		decide(&run, our_result(SPF_response_result(resp)), why,
		    domain, v);
		SPF_response_free(resp);
	}
	SPF_request_free(req);
}

/* RFC 7208 4.3: a domain that is not a multi-label name gets none. */
static int
multi_label(const char *domain)
{
	const char *dot = strchr(domain, '.');

	return spf_dns_name_ok(domain) && dot != NULL && dot != domain &&
	    dot[1] != '\0' && domain[0] != '[';
}

/* The domain as reported: lower case, no final dot (spf_dns_name_ok() has
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
	/* SMTPUTF8: the domain checked is the A-label (RFC 8616 4). */
	if ((at = strrchr(addr, '@')) != NULL) {
		if (domain_to_ascii(at + 1, strlen(at + 1), dom,
		    sizeof(dom)) != 0 || (size_t)(at + 1 - addr) +
		    strlen(dom) >= sizeof(addr))
			at[1] = '\0';		/* not a valid IDN */
		else
			memcpy(at + 1, dom, strlen(dom) + 1);
	}
	if (at == NULL || !multi_label(at + 1)) {
		verdict(v, SPFR_NONE, at != NULL && spf_dns_name_ok(at + 1) &&
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
