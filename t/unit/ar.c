/* Unit tests for milter/ar.c: Authentication-Results writer and parser. */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "milter/ar.h"
#include "t/tap.h"

static struct ar_header hdr;	/* large: keep off the stack */

static int
ours(const char *v, const char *id)
{
	return ar_is_ours(v, strlen(v), id);
}

int
main(void)
{
	char buf[2048];
	struct ar_result res[2];
	int n;

	/* Writer. */
	n = ar_format(buf, sizeof(buf), "mx.example", NULL, 0);
	is_str(buf, "mx.example; none", "nothing evaluated -> none");
	is_int(n, (int)strlen("mx.example; none"), "length returned");

	memset(res, 0, sizeof(res));
	strcpy(res[0].method, "spf");
	strcpy(res[0].result, "pass");
	ar_result_prop(&res[0], "smtp", "mailfrom", "user@example.org");
	strcpy(res[1].method, "dkim");
	strcpy(res[1].result, "fail");
	strcpy(res[1].comment, "body hash (mismatch)");
	ar_result_prop(&res[1], "header", "d", "example.net(.example.com");
	ar_result_prop(&res[1], "header", "b", "AbC+/1=2");
	ar_format(buf, sizeof(buf), "mx.example", res, 2);
	is_str(buf, "mx.example;\n\tspf=pass smtp.mailfrom=user@example.org;"
	    "\n\tdkim=fail (body hash \\(mismatch\\)) "
	    "header.d=\"example.net(.example.com\" header.b=\"AbC+/1=2\"",
	    "results folded, hostile values quoted, comment escaped");
	ok(ar_format(buf, 20, "mx.example", res, 2) == -1,
	    "too small a buffer is an error, not a cut header");

	/* Round trip through our own parser. */
	ar_format(buf, sizeof(buf), "mx.example", res, 2);
	ok(ar_parse(buf, strlen(buf), &hdr) == 0, "our header parses");
	is_str(hdr.authserv_id, "mx.example", "authserv-id back");
	is_int(hdr.nres, 2, "two results back");
	is_str(hdr.res[1].props[0].value, "example.net(.example.com",
	    "CVE-2020-12272 value comes back whole, not as a domain + comment");
	is_str(hdr.res[0].props[0].value, "user@example.org", "mailfrom");

	/* Parser: RFC 8601 examples and variants. */
	const char *ex = "example.com 1 (comment) ; spf = pass (sender IP ok) "
	    "smtp.mailfrom = example.net reason=\"good \\\"one\\\"\"; "
	    "dkim/1=pass header.i=@example.net header.b=\"12345678\"";
	ok(ar_parse(ex, strlen(ex), &hdr) == 0, "CFWS, version, reason");
	is_str(hdr.res[0].reason, "good \"one\"", "quoted reason unescaped");
	is_str(hdr.res[0].props[0].value, "example.net", "pvalue after CFWS");
	is_str(hdr.res[1].method, "dkim", "method with version");
	is_str(hdr.res[1].props[0].value, "@example.net", "@domain pvalue");
	const char *none = "(c) \"mx.example\" ;none";
	ok(ar_parse(none, strlen(none), &hdr) == 0 && hdr.none, "none form");
	is_str(hdr.authserv_id, "mx.example", "quoted authserv-id");
	const char *bad[] = {
		"mx.example; spf", "mx.example; spf=pass smtp.mailfrom",
		"mx.example (unterminated; spf=pass", "", "mx.example",
		"mx.example; none; spf=pass", "mx.example; spf=pass x=y",
		"\"unterminated; spf=pass",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[128];
		snprintf(name, sizeof(name), "syntax error rejected: %s", bad[i]);
		ok(ar_parse(bad[i], strlen(bad[i]), &hdr) == -1, name);
	}
	const char nul[] = "mx.example; spf=pass\0; dkim=pass";
	ok(ar_parse(nul, sizeof(nul) - 1, &hdr) == -1,
	    "NUL byte is a byte, not an end: value does not parse");

	/* Which headers are ours (F4). */
	ok(ours("mx.example; spf=pass", "mx.example"), "exact");
	ok(ours("MX.Example; spf=pass", "mx.example"), "case");
	ok(ours("  (forged) mx.example ;spf=pass", "mx.example"), "CFWS");
	ok(ours("\"mx.example\"; dkim=pass", "mx.example"), "quoted");
	ok(ours("mx.example.; dmarc=pass", "mx.example"), "trailing dot");
	ok(ours("mx.example 1; none", "mx.example"), "with version");
	ok(ours("mx.example;spf=pass", "MX.EXAMPLE."), "our id with dot");
	ok(ours("\n\tmx.example; none", "mx.example"), "folded start");
	ok(!ours("other.example; spf=pass", "mx.example"), "foreign");
	ok(!ours("mx.example.evil; spf=pass", "mx.example"), "longer name");
	ok(!ours("x.mx.example; spf=pass", "mx.example"), "subdomain");
	ok(!ours("mx.exampl; spf=pass", "mx.example"), "shorter name");
	ok(!ours("(mx.example; spf=pass", "mx.example"), "unterminated");
	ok(!ours("", "mx.example"), "empty");
	return done_testing();
}
