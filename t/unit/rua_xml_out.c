/* Unit tests for rua/xml_out.c: an aggregate report as RFC 9990 XML,
 * read back with libxml2's parser. */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "rua/xml_out.h"
#include "t/tap.h"

#define S(dst, v) snprintf((dst), sizeof(dst), "%s", (v))

static struct rua_record recs[3];

static void
fixture(struct rua_feedback *fb)
{
	memset(fb, 0, sizeof(*fb));
	memset(recs, 0, sizeof(recs));
	fb->rfc9990 = 1;
	S(fb->org_name, "mx.example");
	S(fb->email, "postmaster@mx.example");
	S(fb->report_id, "1700000000.example.com.0a1b");
	fb->begin = 1700000000;
	fb->end = 1700086399;
	S(fb->generator, "authfilter 1.0");
	S(fb->pub.domain, "example.com");
	S(fb->pub.p, "reject");
	S(fb->pub.np, "quarantine");
	S(fb->pub.adkim, "s");
	S(fb->pub.testing, "n");
	S(fb->pub.discovery_method, "treewalk");
	for (int i = 0; i < 3; i++) {
		struct rua_record *r = &recs[i];
		snprintf(r->source_ip, sizeof(r->source_ip), "192.0.2.%d", i + 1);
		r->count = (uint64_t)(i + 1) * 10;
		S(r->disposition, "none");
		S(r->dkim, "pass");
		S(r->spf, "fail");
		S(r->envelope_from, "bounce.example.com");
		S(r->header_from, "example.com");
		r->ndkim = 1;
		S(r->dkim_res[0].domain, "example.com");
		S(r->dkim_res[0].selector, "s1");
		S(r->dkim_res[0].result, "pass");
		r->nspf = 1;
		S(r->spf_res[0].domain, "bounce.example.com");
		S(r->spf_res[0].scope, "mfrom");
		S(r->spf_res[0].result, "fail");
	}
	/* Text from outside: markup, a control character, bad UTF-8. */
	recs[1].nreason = 1;
	S(recs[1].reason[0].type, "local_policy");
	S(recs[1].reason[0].comment, "a<b & \"c\" \x1b[31m \xff\xfe é "
	    "\xc0\xaf \xed\xa0\x80 \xef\xbf\xbe \xf0\x9f\x98\x80");
	fb->rec = recs;
	fb->nrec = 3;
}

static xmlNodePtr
child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The element children's names, space-separated. */
static void
names(xmlNodePtr n, char *out, size_t outsz)
{
	out[0] = '\0';
	for (xmlNodePtr c = n ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			snprintf(out + strlen(out), outsz - strlen(out), "%s%s",
			    out[0] ? " " : "", (const char *)c->name);
}

static char text[512];

static const char *
value(xmlNodePtr n)
{
	xmlChar *v;

	if (n == NULL)
		return NULL;
	v = xmlNodeGetContent(n);
	snprintf(text, sizeof(text), "%s", v ? (const char *)v : "");
	xmlFree(v);
	return text;
}

static xmlDocPtr
parse(const char *xml, size_t len)
{
	return xmlReadMemory(xml, (int)len, "report.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS);
}

int
main(void)
{
	struct rua_feedback fb;
	char *xml, err[256], list[512];
	size_t len;
	xmlDocPtr doc;
	xmlNodePtr root, rec;
	int nrec = 0;

	fixture(&fb);
	ok(rua_xml_write(&fb, 0, 3, &xml, &len, err, sizeof(err)) == 0,
	    "writes");
	is_int(strlen(xml), len, "length says the bytes written");
	ok((doc = parse(xml, len)) != NULL, "libxml2 parses it");
	root = xmlDocGetRootElement(doc);
	is_str((const char *)root->name, "feedback", "root is <feedback>");
	ok(root->ns != NULL && strcmp((const char *)root->ns->href,
	    RUA_XML_NS) == 0, "in the dmarc-2.0 namespace");
	is_str(value(child(root, "version")), "1.0", "version 1.0");
	names(root, list, sizeof(list));
	is_str(list, "version report_metadata policy_published record record "
	    "record", "feedback's children in schema order");
	names(child(root, "report_metadata"), list, sizeof(list));
	is_str(list, "org_name email report_id date_range generator",
	    "report_metadata: extra_contact_info and error left out");
	is_str(value(child(child(child(root, "report_metadata"), "date_range"),
	    "end")), "1700086399", "date_range end");
	names(child(root, "policy_published"), list, sizeof(list));
	is_str(list, "domain adkim p np testing discovery_method",
	    "policy_published: the absent aspf, sp and fo left out");
	rec = child(root, "record");
	names(rec, list, sizeof(list));
	is_str(list, "row identifiers auth_results", "record's children");
	names(child(rec, "row"), list, sizeof(list));
	is_str(list, "source_ip count policy_evaluated", "row's children");
	names(child(rec, "identifiers"), list, sizeof(list));
	is_str(list, "envelope_from header_from",
	    "identifiers: envelope_to left out when unknown");
	names(child(child(rec, "auth_results"), "dkim"), list, sizeof(list));
	is_str(list, "domain selector result", "dkim result's children");
	names(child(child(rec, "auth_results"), "spf"), list, sizeof(list));
	is_str(list, "domain scope result", "spf result's children");
	for (xmlNodePtr c = root->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, "record") == 0 && ++nrec == 2)
			rec = c;
	is_str(value(child(child(rec, "row"), "count")), "20",
	    "second record's count");
	is_str(value(child(child(child(child(rec, "row"), "policy_evaluated"),
	    "reason"), "comment")), "a<b & \"c\" ?[31m ?? é ?? ??? ??? \xf0\x9f\x98\x80",
	    "hostile comment: escaped; control characters, bad UTF-8, "
	    "overlong forms, surrogates, U+FFFE as ?");
	xmlFreeDoc(doc);
	free(xml);

	fb.rfc9990 = 0;
	snprintf(fb.version, sizeof(fb.version), "2.0");
	ok(rua_xml_write(&fb, 1, 2, &xml, &len, err, sizeof(err)) == 0,
	    "records 1..2 without the namespace");
	doc = parse(xml, len);
	root = xmlDocGetRootElement(doc);
	ok(root != NULL && root->ns == NULL, "no namespace when not rfc9990");
	is_str(value(child(root, "version")), "2.0", "fb->version kept");
	names(root, list, sizeof(list));
	is_str(list, "version report_metadata policy_published record record",
	    "two records");
	is_str(value(child(child(child(root, "record"), "row"), "source_ip")),
	    "192.0.2.2", "starting at the second");
	xmlFreeDoc(doc);
	free(xml);

	ok(rua_xml_write(&fb, 2, 2, &xml, &len, err, sizeof(err)) == -1 &&
	    xml == NULL, "records beyond the end: error");
	is_str(err, "records 2..4 of 3", "and why");
	fb.nrec = 0;
	fb.pub.p[0] = '\0';
	ok(rua_xml_write(&fb, 0, 0, &xml, &len, err, sizeof(err)) == 0 &&
	    strstr(xml, "<p>none</p>") != NULL && strstr(xml, "<record>") ==
	    NULL, "no records; a missing p is written as none (required)");
	free(xml);
	xmlCleanupParser();
	return done_testing();
}
