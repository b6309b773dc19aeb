/*
 * NAME
 *	xml_out -- an aggregate report as RFC 9990 XML
 * SYNOPSIS
 *	if (rua_xml_write(&fb, 0, fb.nrec, &xml, &len, err, sizeof(err)))
 *		...
 * DESCRIPTION
 *	Writes <feedback> with libxml2's xmlTextWriter, which does the
 *	escaping.  Elements come in the order of RFC 9990's schema (RFC
 *	7489 appendix C's order for the elements both have, the new ones
 *	after them: np, testing, discovery_method, generator), so the
 *	document is also what RFC 7489 readers expect.  Optional elements
 *	whose value is "" are left out; required ones are written even when
 *	empty.  <version> is fb->version, "1.0" when empty.
 *
 *	Text that came from outside (DNS, a client's HELO) may hold bytes
 *	XML 1.0 cannot carry: control characters and bytes that are not
 *	UTF-8 become "?".
 * DIAGNOSTICS
 *	-1 and "what failed" in err when libxml2 fails (out of memory).
 * SEE ALSO
 *	feedback.h, RFC 9990 appendix A
 */
#include "buildconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/chvalid.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>

#include "rua/xml_out.h"

/* The length of the UTF-8 sequence at s (at most n bytes) that XML 1.0
 * allows as a character, or 0.  xmlGetUTF8Char() decodes; older
 * libxml2 takes any lead byte and lets overlong forms and surrogates
 * through, so they are refused here. */
static size_t
xml_char_len(const unsigned char *s, size_t n)
{
	static const int least[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	static const unsigned char lead[5][2] = { { 0, 0 }, { 0, 0x7f },
	    { 0xc2, 0xdf }, { 0xe0, 0xef }, { 0xf0, 0xf4 } };
	int len = n > 4 ? 4 : (int)n, c;

	if ((c = xmlGetUTF8Char(s, &len)) < 0 || len < 1 || len > 4 ||
	    s[0] < lead[len][0] || s[0] > lead[len][1] || c < least[len] ||
	    (c >= 0xd800 && c <= 0xdfff) || !xmlIsCharQ(c))
		return 0;
	return (size_t)len;
}

/* in, each character XML cannot carry replaced by "?", into out (as
 * large as in: it never grows). */
static void
xml_clean(const char *in, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n;) {
		size_t len = xml_char_len(s + i, n - i);
		if (len == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
}

struct xw {
	xmlTextWriterPtr w;
	int	 failed;
};

static void
start(struct xw *x, const char *name)
{
	if (!x->failed && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->failed = 1;
}

static void
end(struct xw *x)
{
	if (!x->failed && xmlTextWriterEndElement(x->w) < 0)
		x->failed = 1;
}

/* <name>value</name>, written even when value is "". */
static void
elem(struct xw *x, const char *name, const char *value)
{
	size_t len = strlen(value);
	char small[512], *buf = small;

	if (x->failed)
		return;
	if (len >= sizeof(small) && (buf = malloc(len + 1)) == NULL) {
		x->failed = 1;
		return;
	}
	xml_clean(value, buf);
	if (xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST buf) < 0)
		x->failed = 1;
	if (buf != small)
		free(buf);
}

/* The same, left out when value is "". */
static void
opt(struct xw *x, const char *name, const char *value)
{
	if (value[0] != '\0')
		elem(x, name, value);
}

static void
num(struct xw *x, const char *name, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	elem(x, name, buf);
}

static void
write_metadata(struct xw *x, const struct rua_feedback *fb)
{
	start(x, "report_metadata");
	elem(x, "org_name", fb->org_name);
	elem(x, "email", fb->email);
	opt(x, "extra_contact_info", fb->extra_contact_info);
	elem(x, "report_id", fb->report_id);
	start(x, "date_range");
	num(x, "begin", fb->begin);
	num(x, "end", fb->end);
	end(x);
	opt(x, "error", fb->error);
	opt(x, "generator", fb->generator);
	end(x);
}

static void
write_policy(struct xw *x, const struct rua_policy *p)
{
	start(x, "policy_published");
	elem(x, "domain", p->domain);
	opt(x, "adkim", p->adkim);
	opt(x, "aspf", p->aspf);
	elem(x, "p", p->p[0] != '\0' ? p->p : "none");
	opt(x, "sp", p->sp);
	opt(x, "np", p->np);
	opt(x, "testing", p->testing);
	opt(x, "discovery_method", p->discovery_method);
	opt(x, "fo", p->fo);
	end(x);
}

static void
write_record(struct xw *x, const struct rua_record *r)
{
	char count[32];

	start(x, "record");
	start(x, "row");
	elem(x, "source_ip", r->source_ip);
	snprintf(count, sizeof(count), "%" PRIu64, r->count);
	elem(x, "count", count);
	start(x, "policy_evaluated");
	elem(x, "disposition", r->disposition);
	elem(x, "dkim", r->dkim);
	elem(x, "spf", r->spf);
	for (size_t i = 0; i < r->nreason && i < RUA_REASON_MAX; i++) {
		start(x, "reason");
		elem(x, "type", r->reason[i].type);
		opt(x, "comment", r->reason[i].comment);
		end(x);
	}
	end(x);
	end(x);
	start(x, "identifiers");
	opt(x, "envelope_to", r->envelope_to);
	elem(x, "envelope_from", r->envelope_from);
	elem(x, "header_from", r->header_from);
	end(x);
	start(x, "auth_results");
	for (size_t i = 0; i < r->ndkim && i < RUA_DKIM_MAX; i++) {
		start(x, "dkim");
		elem(x, "domain", r->dkim_res[i].domain);
		opt(x, "selector", r->dkim_res[i].selector);
		elem(x, "result", r->dkim_res[i].result);
		opt(x, "human_result", r->dkim_res[i].human_result);
		end(x);
	}
	for (size_t i = 0; i < r->nspf && i < RUA_SPF_MAX; i++) {
		start(x, "spf");
		elem(x, "domain", r->spf_res[i].domain);
		opt(x, "scope", r->spf_res[i].scope);
		elem(x, "result", r->spf_res[i].result);
		opt(x, "human_result", r->spf_res[i].human_result);
		end(x);
	}
	end(x);
	end(x);
}

int
rua_xml_write(const struct rua_feedback *fb, size_t first, size_t n,
    char **out, size_t *outlen, char *err, size_t errsz)
{
	xmlBufferPtr buf;
	struct xw x = { NULL, 0 };
	char *copy;
	size_t len;

	*out = NULL;
	*outlen = 0;
	if (first > fb->nrec || n > fb->nrec - first) {
		snprintf(err, errsz, "records %zu..%zu of %zu", first,
		    first + n, fb->nrec);
		return -1;
	}
	if ((buf = xmlBufferCreate()) == NULL ||
	    (x.w = xmlNewTextWriterMemory(buf, 0)) == NULL) {
		xmlBufferFree(buf);
		snprintf(err, errsz, "XML writer: out of memory");
		return -1;
	}
	if (xmlTextWriterSetIndent(x.w, 1) < 0 ||
	    xmlTextWriterSetIndentString(x.w, BAD_CAST "  ") < 0 ||
	    xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL) < 0)
		x.failed = 1;
	start(&x, "feedback");
	if (!x.failed && fb->rfc9990 && xmlTextWriterWriteAttribute(x.w,
	    BAD_CAST "xmlns", BAD_CAST RUA_XML_NS) < 0)
		x.failed = 1;
	elem(&x, "version", fb->version[0] != '\0' ? fb->version : "1.0");
	write_metadata(&x, fb);
	write_policy(&x, &fb->pub);
	for (size_t i = first; i < first + n; i++)
		write_record(&x, &fb->rec[i]);
	end(&x);
	if (!x.failed && xmlTextWriterEndDocument(x.w) < 0)
		x.failed = 1;
	xmlFreeTextWriter(x.w);	/* flushes into buf */
	len = x.failed ? 0 : (size_t)xmlBufferLength(buf);
	if (x.failed || (copy = malloc(len + 1)) == NULL) {
		xmlBufferFree(buf);
		snprintf(err, errsz, "XML writer failed (out of memory?)");
		return -1;
	}
	memcpy(copy, xmlBufferContent(buf), len);
	copy[len] = '\0';
	xmlBufferFree(buf);
	*out = copy;
	*outlen = len;
	return 0;
}
