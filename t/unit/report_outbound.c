/*
 * report_outbound.c -- the tables and hints of `authfilter report
 * --outbound` (report/outbound.c), fed with parsedmarc's samples (read
 * by rua/xml_in.c) and with records made here; the expected counts are
 * read by hand from the XML.  Reads $AF_SRCDIR/t/data/dmarc-reports.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/outbound.h"
#include "rua/xml_in.h"
#include "t/data.h"
#include "t/tap.h"

static void
feed(struct outbound *ob, const char *name)
{
	char path[300], err[256];
	struct rua_feedback fb;
	unsigned char *buf;
	size_t n;

	snprintf(path, sizeof(path), "dmarc-reports/%s", name);
	buf = t_data(path, &n);
	if (rua_xml_read((char *)buf, n, &fb, err, sizeof(err)) != 0) {
		printf("Bail out! %s: %s\n", name, err);
		exit(1);
	}
	for (size_t i = 0; i < fb.nrec; i++)
		outbound_add(ob, &fb, &fb.rec[i]);
	rua_feedback_free(&fb);
	free(buf);
}

static const struct ob_row *
find(const struct ob_table *t, const char *key)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (strcmp(t->rows[i].key, key) == 0)
			return &t->rows[i];
	return NULL;
}

static void
test_samples(void)
{
	struct outbound ob = { 0 };
	const struct ob_row *r;
	char hint[1024];

	feed(&ob, "rfc9990-example.net+example.com+1700000000+1700086399.xml");
	feed(&ob, "old_draft_from_wiki.xml");
	feed(&ob, "empty_reason.xml");
	feed(&ob, "protection.outlook.com+example.com+1711756800+"
	    "1711843200.xml");
	ok(!ob.nomem, "fed");
	is_int(ob.reports.nrows, 4, "four reports");
	is_int(ob.org.nrows, 4, "four reporters");
	is_int(ob.ip.nrows, 5, "five source IPs");
	r = find(&ob.org, "example.net");
	ok(r != NULL, "example.net's row");
	if (r != NULL) {
		is_int(r->n[OB_MSGS], 7, "example.net: 5 + 2 messages");
		is_int(r->n[OB_DMARC], 5, "example.net: 5 pass DMARC");
		is_int(r->n[OB_DKIM], 5, "example.net: 5 aligned DKIM");
		is_int(r->n[OB_SPF], 5, "example.net: 5 aligned SPF");
		is_int(r->n[OB_NONE], 5, "example.net: 5 none");
		is_int(r->n[OB_REJECT], 2, "example.net: 2 rejected");
	}
	r = find(&ob.ip, "72.150.241.94");
	ok(r != NULL && r->n[OB_MSGS] == 2 && r->n[OB_DMARC] == 2 &&
	    r->n[OB_DKIM] == 0 && r->n[OB_SPF] == 2,
	    "72.150.241.94: DKIM fail, SPF pass: DMARC passes");
	outbound_sort(&ob.org);
	outbound_sort(&ob.ip);
	is_str(ob.org.rows[0].key, "Outlook.com", "worst reporter first");
	is_str(ob.org.rows[1].key, "example.net", "then 2 of 7 failing");
	is_str(ob.org.rows[2].key, "acme.com", "then by messages and name");
	is_str(ob.ip.rows[0].key, "203.0.113.10",
	    "worst IP first: all 2 failing");
	is_str(ob.ip.rows[1].key, "100.24.188.149", "then all 1 failing");
	outbound_hint(&ob.ip.rows[0], hint, sizeof(hint));
	is_str(hint, "sends as example.com: DKIM none: not signed by "
	    "authfilter; SPF fail: not in spoofed.example.com's SPF record",
	    "hint: not signed, not in the SPF record");
	outbound_hint(find(&ob.ip, "198.51.100.1"), hint, sizeof(hint));
	is_str(hint, "", "no hint for a source that passes");
	outbound_free(&ob);
}

/* A failing record with one DKIM result. */
static void
dkim_case(const char *dkim_domain, const char *result, const char *want,
    const char *name)
{
	struct outbound ob = { 0 };
	struct rua_feedback fb = { 0 };
	struct rua_record rec = { 0 };
	char hint[1024];

	snprintf(fb.org_name, sizeof(fb.org_name), "r.example");
	snprintf(fb.pub.domain, sizeof(fb.pub.domain), "example.org");
	snprintf(rec.source_ip, sizeof(rec.source_ip), "192.0.2.7");
	rec.count = 3;
	snprintf(rec.dkim, sizeof(rec.dkim), "fail");
	snprintf(rec.spf, sizeof(rec.spf), "fail");
	snprintf(rec.header_from, sizeof(rec.header_from), "example.org");
	snprintf(rec.dkim_res[0].domain, sizeof(rec.dkim_res[0].domain),
	    "%s", dkim_domain);
	snprintf(rec.dkim_res[0].result, sizeof(rec.dkim_res[0].result), "%s",
	    result);
	rec.ndkim = 1;
	outbound_add(&ob, &fb, &rec);
	outbound_hint(&ob.ip.rows[0], hint, sizeof(hint));
	is_str(hint, want, name);
	outbound_free(&ob);
}

int
main(void)
{
	test_samples();
	dkim_case("mail.example.org", "fail", "sends as example.org: DKIM "
	    "fail: signature broken in transit (forwarder or mailing list?)",
	    "hint: our signature failed");
	dkim_case("list.example", "pass", "sends as example.org: DKIM by "
	    "list.example only: not aligned with example.org",
	    "hint: signed by another domain only");
	dkim_case("example.org", "none", "sends as example.org: DKIM none: "
	    "not signed by authfilter", "hint: DKIM result none");
	return done_testing();
}
