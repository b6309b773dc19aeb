/*
 * NAME
 *	dns -- the one DNS resolver of authfilter (libunbound)
 * SYNOPSIS
 *	d = dns_new(cfg->dns_resolver, err, sizeof(err));
 *	st = dns_txt(d, "s1._domainkey.example.org", &txt, &n, err, sizeof(err));
 * DESCRIPTION
 *	Every DNS query of authfilter and authfilter-keys goes through
 *	here: one cache, one place for timeouts, and one setting
 *	(dns_resolver) that points everything at a test server.  A
 *	forwarder on 127.0.0.1 is allowed (unbound refuses to query
 *	localhost by default).  The context is thread-safe.
 * DIAGNOSTICS
 *	Every failure is a status; err says what happened.  A truncated or
 *	malformed TXT record is DNS_TEMPFAIL, never a partial answer.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "milter/dns.h"

/* DNS types and classes (RFC 1035) */
#define RR_TYPE_TXT	16
#define RR_CLASS_IN	1

struct dns {
	struct ub_ctx	*ctx;
};

struct dns *
dns_new(const char *spec, char *err, size_t errsz)
{
	struct dns *d;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errsz, "cannot create a DNS resolver");
		free(d);
		return NULL;
	}
	if (*spec != '\0') {
		if ((rc = ub_ctx_set_option(d->ctx, "do-not-query-localhost:",
		    "no")) != 0 || (rc = ub_ctx_set_fwd(d->ctx, spec)) != 0) {
			snprintf(err, errsz, "dns_resolver %s: %s", spec,
			    ub_strerror(rc));
			dns_free(d);
			return NULL;
		}
	} else if ((rc = ub_ctx_resolvconf(d->ctx, NULL)) != 0 ||
	    (rc = ub_ctx_hosts(d->ctx, NULL)) != 0) {
		snprintf(err, errsz, "system resolver: %s", ub_strerror(rc));
		dns_free(d);
		return NULL;
	}
	return d;
}

void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	if (d->ctx != NULL)
		ub_ctx_delete(d->ctx);
	free(d);
}

void
dns_txt_free(char **txt)
{
	if (txt == NULL)
		return;
	for (size_t i = 0; txt[i] != NULL; i++)
		free(txt[i]);
	free(txt);
}

enum dns_status
dns_query_raw(struct dns *d, const char *name, int type, unsigned char *buf,
    size_t bufsz, size_t *len, int *secure)
{
	struct ub_result *res = NULL;
	enum dns_status st;

	*len = 0;
	*secure = 0;
	if (ub_resolve(d->ctx, name, type, RR_CLASS_IN, &res) != 0)
		return DNS_TEMPFAIL;
	if (res->answer_packet == NULL || res->answer_len <= 0 ||
	    (size_t)res->answer_len > bufsz ||
	    (res->rcode != 0 && !res->nxdomain))
		st = DNS_TEMPFAIL;	/* SERVFAIL, REFUSED, timeout, too big */
	else {
		memcpy(buf, res->answer_packet, (size_t)res->answer_len);
		*len = (size_t)res->answer_len;
		*secure = res->secure;
		st = res->nxdomain ? DNS_NXDOMAIN : res->havedata ? DNS_OK :
		    DNS_NODATA;
	}
	ub_resolve_free(res);
	return st;
}

/* Join the <length><bytes> strings of one TXT rdata; NULL if malformed. */
static char *
txt_join(const unsigned char *rd, size_t len)
{
	char *out = malloc(len + 1);
	size_t i = 0, o = 0;

	if (out == NULL)
		return NULL;
	while (i < len) {
		size_t n = rd[i++];
		if (n > len - i) {
			free(out);
			return NULL;
		}
		memcpy(out + o, rd + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	if (strlen(out) != o) {		/* a NUL byte inside: refuse */
		free(out);
		return NULL;
	}
	return out;
}

enum dns_status
dns_txt(struct dns *d, const char *name, char ***txt, size_t *n,
    char *err, size_t errsz)
{
	struct ub_result *res = NULL;
	enum dns_status st;
	size_t count = 0;
	int rc;

	*txt = NULL;
	*n = 0;
	rc = ub_resolve(d->ctx, name, RR_TYPE_TXT, RR_CLASS_IN, &res);
	if (rc != 0) {
		snprintf(err, errsz, "%s: %s", name, ub_strerror(rc));
		return DNS_TEMPFAIL;
	}
	if (res->nxdomain) {
		snprintf(err, errsz, "%s: no such name", name);
		st = DNS_NXDOMAIN;
		goto out;
	}
	if (res->rcode != 0) {
		snprintf(err, errsz, "%s: DNS rcode %d", name, res->rcode);
		st = DNS_TEMPFAIL;
		goto out;
	}
	if (!res->havedata) {
		snprintf(err, errsz, "%s: no TXT record", name);
		st = DNS_NODATA;
		goto out;
	}
	while (res->data[count] != NULL)
		count++;
	if ((*txt = calloc(count + 1, sizeof(char *))) == NULL) {
		snprintf(err, errsz, "out of memory");
		st = DNS_TEMPFAIL;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		(*txt)[i] = txt_join((unsigned char *)res->data[i],
		    (size_t)res->len[i]);
		if ((*txt)[i] == NULL) {
			snprintf(err, errsz, "%s: malformed TXT record", name);
			dns_txt_free(*txt);
			*txt = NULL;
			st = DNS_TEMPFAIL;
			goto out;
		}
	}
	*n = count;
	st = DNS_OK;
out:
	ub_resolve_free(res);
	return st;
}
