/*
 * NAME
 *	xml_in -- read a DMARC aggregate report's XML into a rua_feedback
 * SYNOPSIS
 *	#include "rua/xml_in.h"
 *
 *	int rua_xml_read(const char *xml, size_t len,
 *	    struct rua_feedback *fb, char *err, size_t errsz);
 * DESCRIPTION
 *	Both formats: RFC 7489 appendix C (no namespace, <version>1.0 or
 *	none) and RFC 9990 (default namespace urn:ietf:params:xml:ns:
 *	dmarc-2.0); elements are matched by local name, so either reads.
 *
 *	The XML comes from anyone who can mail our rua address.  libxml2
 *	parses it without network access, without loading a DTD, without
 *	substituting entities, and without recovery: a document that is
 *	not well-formed (invalid_xml.xml), or not UTF-8 as it says
 *	(invalid_utf_8.xml), is refused whole.  A DOCTYPE is refused
 *	(reports have none; it is where entity bombs live).
 *
 *	Required, else the report is refused: <report_metadata> with
 *	<report_id>, <date_range> (<begin> <= <end>) and <org_name> (an
 *	empty org_name, as some reporters send, is the domain of <email>);
 *	<policy_published><domain>; per <record> a <source_ip> (an IPv4 or
 *	IPv6 address) and a <count>.  Identifiers, results and domains
 *	longer than their field, or holding control characters, refuse the
 *	report; free text (human_result, comment, contact info, selector)
 *	is cut to fit and control characters become spaces.
 * DIAGNOSTICS
 *	-1 and err: "XML line 5: ..." from libxml2, or what is missing or
 *	wrong ("record 3: <count>: not a number").
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "rua/xml_in.h"

enum want { OPTIONAL, REQUIRED };
enum fit { STRICT, CUT };	/* too long: refuse, or cut to fit */

struct ctx {
	char	*err;
	size_t	 errsz;
	char	 where[64];	/* "record 3" */
};

static int
fail(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* err = "where: what"; returns -1. */
static int
fail(struct ctx *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->where[0] != '\0')
		snprintf(c->err, c->errsz, "%s: %s", c->where, msg);
	else
		snprintf(c->err, c->errsz, "%s", msg);
	return -1;
}

static int
is_el(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

static xmlNode *
child(const xmlNode *p, const char *name)
{
	if (p == NULL)
		return NULL;
	for (xmlNode *n = p->children; n != NULL; n = n->next)
		if (is_el(n, name))
			return n;
	return NULL;
}

/* The trimmed text of n into dst: 0, or -1 and err. */
static int
text(struct ctx *c, const xmlNode *n, const char *name, char *dst,
    size_t dstsz, enum fit fit)
{
	xmlChar *raw = xmlNodeGetContent(n);
	const char *s, *e;
	size_t len;

	if (raw == NULL) {
		rua_nomem = 1;
		return fail(c, "<%s>: out of memory", name);
	}
	s = (const char *)raw;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	len = (size_t)(e - s);
	if (len >= dstsz) {
		if (fit == STRICT) {
			xmlFree(raw);
			return fail(c, "<%s>: too long", name);
		}
		len = dstsz - 1;
		/* Do not cut a UTF-8 sequence in two. */
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f) {
			if (fit == STRICT) {
				xmlFree(raw);
				return fail(c, "<%s>: control character",
				    name);
			}
			ch = ' ';
		}
		dst[i] = (char)ch;
	}
	dst[len] = '\0';
	xmlFree(raw);
	return 0;
}

/* The child `name` of p into dst. */
static int
get(struct ctx *c, const xmlNode *p, const char *name, char *dst,
    size_t dstsz, enum want want, enum fit fit)
{
	const xmlNode *n = child(p, name);

	dst[0] = '\0';
	if (n != NULL && text(c, n, name, dst, dstsz, fit) != 0)
		return -1;
	if (want == REQUIRED && dst[0] == '\0')
		return fail(c, "no <%s>", name);
	return 0;
}

/* A required unsigned integer child, at most max. */
static int
get_uint(struct ctx *c, const xmlNode *p, const char *name, uint64_t max,
    uint64_t *v)
{
	char buf[32];

	if (get(c, p, name, buf, sizeof(buf), REQUIRED, STRICT) != 0)
		return -1;
	*v = 0;
	for (const char *s = buf; *s != '\0'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (d > 9)
			return fail(c, "<%s>: \"%s\" is not a number", name,
			    buf);
		if (*v > (max - d) / 10)
			return fail(c, "<%s>: %s is too large", name, buf);
		*v = *v * 10 + d;
	}
	return 0;
}

static int
read_metadata(struct ctx *c, const xmlNode *root, struct rua_feedback *fb)
{
	const xmlNode *m = child(root, "report_metadata"), *dr;
	uint64_t b, e;
	const char *at;

	if (m == NULL)
		return fail(c, "no <report_metadata>");
	if (get(c, m, "email", fb->email, sizeof(fb->email), OPTIONAL,
	    CUT) != 0 ||
	    get(c, m, "org_name", fb->org_name, sizeof(fb->org_name),
	    OPTIONAL, STRICT) != 0 ||
	    get(c, m, "extra_contact_info", fb->extra_contact_info,
	    sizeof(fb->extra_contact_info), OPTIONAL, CUT) != 0 ||
	    get(c, m, "report_id", fb->report_id, sizeof(fb->report_id),
	    REQUIRED, STRICT) != 0 ||
	    get(c, m, "generator", fb->generator, sizeof(fb->generator),
	    OPTIONAL, CUT) != 0 ||
	    get(c, m, "error", fb->error, sizeof(fb->error), OPTIONAL,
	    CUT) != 0)
		return -1;
	/* Some reporters leave org_name empty: their e-mail's domain
	 * names them (and keeps org_name + report_id unique). */
	if (fb->org_name[0] == '\0' && (at = strrchr(fb->email, '@')) != NULL)
		snprintf(fb->org_name, sizeof(fb->org_name), "%s", at + 1);
	if (fb->org_name[0] == '\0')
		return fail(c, "no <org_name> (nor an <email> to name the "
		    "reporter)");
	if ((dr = child(m, "date_range")) == NULL)
		return fail(c, "no <date_range>");
	if (get_uint(c, dr, "begin", INT64_MAX, &b) != 0 ||
	    get_uint(c, dr, "end", INT64_MAX, &e) != 0)
		return -1;
	if (b > e)
		return fail(c, "<date_range>: <begin> after <end>");
	fb->begin = (int64_t)b;
	fb->end = (int64_t)e;
	return 0;
}

static int
read_policy(struct ctx *c, const xmlNode *root, struct rua_policy *p)
{
	const xmlNode *pp = child(root, "policy_published");

	if (pp == NULL)
		return fail(c, "no <policy_published>");
	snprintf(c->where, sizeof(c->where), "policy_published");
	if (get(c, pp, "domain", p->domain, sizeof(p->domain), REQUIRED,
	    STRICT) != 0 ||
	    get(c, pp, "p", p->p, sizeof(p->p), OPTIONAL, STRICT) != 0 ||
	    get(c, pp, "sp", p->sp, sizeof(p->sp), OPTIONAL, STRICT) != 0 ||
	    get(c, pp, "np", p->np, sizeof(p->np), OPTIONAL, STRICT) != 0 ||
	    get(c, pp, "adkim", p->adkim, sizeof(p->adkim), OPTIONAL,
	    STRICT) != 0 ||
	    get(c, pp, "aspf", p->aspf, sizeof(p->aspf), OPTIONAL,
	    STRICT) != 0 ||
	    get(c, pp, "testing", p->testing, sizeof(p->testing), OPTIONAL,
	    STRICT) != 0 ||
	    get(c, pp, "discovery_method", p->discovery_method,
	    sizeof(p->discovery_method), OPTIONAL, STRICT) != 0 ||
	    get(c, pp, "fo", p->fo, sizeof(p->fo), OPTIONAL, CUT) != 0)
		return -1;
	c->where[0] = '\0';
	return 0;
}

static int
read_row(struct ctx *c, const xmlNode *row, struct rua_record *r)
{
	const xmlNode *pe;
	unsigned char addr[16];

	if (row == NULL)
		return fail(c, "no <row>");
	if (get(c, row, "source_ip", r->source_ip, sizeof(r->source_ip),
	    REQUIRED, STRICT) != 0 ||
	    get_uint(c, row, "count", UINT64_MAX, &r->count) != 0)
		return -1;
	if (inet_pton(AF_INET, r->source_ip, addr) != 1 &&
	    inet_pton(AF_INET6, r->source_ip, addr) != 1)
		return fail(c, "<source_ip>: \"%s\" is not an IP address",
		    r->source_ip);
	if ((pe = child(row, "policy_evaluated")) == NULL)
		return 0;
	if (get(c, pe, "disposition", r->disposition,
	    sizeof(r->disposition), OPTIONAL, STRICT) != 0 ||
	    get(c, pe, "dkim", r->dkim, sizeof(r->dkim), OPTIONAL,
	    STRICT) != 0 ||
	    get(c, pe, "spf", r->spf, sizeof(r->spf), OPTIONAL, STRICT) != 0)
		return -1;
	for (const xmlNode *n = pe->children; n != NULL; n = n->next) {
		struct rua_reason *rs;
		if (!is_el(n, "reason") || r->nreason >= RUA_REASON_MAX)
			continue;
		rs = &r->reason[r->nreason++];
		if (get(c, n, "type", rs->type, sizeof(rs->type), OPTIONAL,
		    STRICT) != 0 ||
		    get(c, n, "comment", rs->comment, sizeof(rs->comment),
		    OPTIONAL, CUT) != 0)
			return -1;
	}
	return 0;
}

static int
read_auth(struct ctx *c, const xmlNode *ar, struct rua_record *r)
{
	for (const xmlNode *n = ar ? ar->children : NULL; n; n = n->next) {
		if (is_el(n, "dkim") && r->ndkim < RUA_DKIM_MAX) {
			struct rua_dkim *d = &r->dkim_res[r->ndkim++];
			if (get(c, n, "domain", d->domain, sizeof(d->domain),
			    OPTIONAL, STRICT) != 0 ||
			    get(c, n, "selector", d->selector,
			    sizeof(d->selector), OPTIONAL, CUT) != 0 ||
			    get(c, n, "result", d->result, sizeof(d->result),
			    OPTIONAL, STRICT) != 0 ||
			    get(c, n, "human_result", d->human_result,
			    sizeof(d->human_result), OPTIONAL, CUT) != 0)
				return -1;
		} else if (is_el(n, "spf") && r->nspf < RUA_SPF_MAX) {
			struct rua_spf *s = &r->spf_res[r->nspf++];
			if (get(c, n, "domain", s->domain, sizeof(s->domain),
			    OPTIONAL, STRICT) != 0 ||
			    get(c, n, "scope", s->scope, sizeof(s->scope),
			    OPTIONAL, STRICT) != 0 ||
			    get(c, n, "result", s->result, sizeof(s->result),
			    OPTIONAL, STRICT) != 0 ||
			    get(c, n, "human_result", s->human_result,
			    sizeof(s->human_result), OPTIONAL, CUT) != 0)
				return -1;
		}
	}
	return 0;
}

static int
read_record(struct ctx *c, const xmlNode *rec, struct rua_record *r)
{
	const xmlNode *id = child(rec, "identifiers");

	if (read_row(c, child(rec, "row"), r) != 0)
		return -1;
	if (id != NULL &&
	    (get(c, id, "envelope_to", r->envelope_to,
	    sizeof(r->envelope_to), OPTIONAL, STRICT) != 0 ||
	    get(c, id, "envelope_from", r->envelope_from,
	    sizeof(r->envelope_from), OPTIONAL, STRICT) != 0 ||
	    get(c, id, "header_from", r->header_from,
	    sizeof(r->header_from), OPTIONAL, STRICT) != 0))
		return -1;
	return read_auth(c, child(rec, "auth_results"), r);
}

static int
read_feedback(struct ctx *c, const xmlNode *root, struct rua_feedback *fb)
{
	size_t i = 0;

	if (root == NULL || !is_el(root, "feedback"))
		return fail(c, "the root element is not <feedback>");
	fb->rfc9990 = root->ns != NULL && root->ns->href != NULL &&
	    strcmp((const char *)root->ns->href, RUA_XMLNS_9990) == 0;
	if (get(c, root, "version", fb->version, sizeof(fb->version),
	    OPTIONAL, CUT) != 0 || read_metadata(c, root, fb) != 0 ||
	    read_policy(c, root, &fb->pub) != 0)
		return -1;
	/* Counted before any is read: refused before the memory is used. */
	for (const xmlNode *n = root->children; n != NULL; n = n->next)
		if (is_el(n, "record") && ++i > RUA_RECORDS_MAX)
			return fail(c, "more than %d records", RUA_RECORDS_MAX);
	i = 0;
	for (const xmlNode *n = root->children; n != NULL; n = n->next) {
		struct rua_record *r;
		if (!is_el(n, "record"))
			continue;
		i++;
		snprintf(c->where, sizeof(c->where), "record %zu", i);
		if ((r = rua_feedback_add(fb)) == NULL) {
			rua_nomem = 1;
			return fail(c, "out of memory");
		}
		if (read_record(c, n, r) != 0)
			return -1;
	}
	c->where[0] = '\0';
	if (fb->nrec == 0)
		return fail(c, "no <record>");
	return 0;
}

/* libxml2's first error (not its last: it goes on after the first
 * fatal one), on one line; nothing is printed. */
struct first_error {
	char	*err;
	size_t	 errsz;
	int	 seen;
};

static void
first_error(void *arg, xmlErrorPtr e)
{
	struct first_error *fe = arg;
	size_t n;

	if (fe->seen || e == NULL || e->level < XML_ERR_ERROR)
		return;
	fe->seen = 1;
	snprintf(fe->err, fe->errsz, "XML line %d: %s", e->line,
	    e->message ? e->message : "not well-formed");
	n = strlen(fe->err);
	while (n > 0 && (fe->err[n - 1] == '\n' || fe->err[n - 1] == ' '))
		fe->err[--n] = '\0';
	for (char *p = fe->err; (p = strchr(p, '\n')) != NULL; )
		*p = ' ';
}

int
rua_xml_read(const char *xml, size_t len, struct rua_feedback *fb,
    char *err, size_t errsz)
{
	struct ctx c = { err, errsz, "" };
	struct first_error fe = { err, errsz, 0 };
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	int rc;

	memset(fb, 0, sizeof(*fb));
	if (len > INT_MAX) {
		snprintf(err, errsz, "XML: too large");
		return -1;
	}
	/* Refused before libxml2 reads a DTD's entity declarations. */
	if (memmem(xml, len, "<!DOCTYPE", 9) != NULL) {
		snprintf(err, errsz, "XML: a DOCTYPE (reports have none; "
		    "entities are refused)");
		return -1;
	}
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		rua_nomem = 1;
		snprintf(err, errsz, "XML: out of memory");
		return -1;
	}
	/* No XML_PARSE_NOENT (entity substitution), DTDLOAD, XINCLUDE or
	 * RECOVER; NONET: nothing fetched. */
	xmlSetStructuredErrorFunc(&fe, first_error);
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "report.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOCDATA);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (doc == NULL || fe.seen) {
		if (!fe.seen)
			snprintf(err, errsz, "XML: not well-formed");
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return -1;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		/* A DOCTYPE the byte scan missed (UTF-16). */
		snprintf(err, errsz, "XML: a DOCTYPE (reports have none; "
		    "entities are refused)");
		rc = -1;
	} else
		rc = read_feedback(&c, xmlDocGetRootElement(doc), fb);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rc;
}
