/* Unit tests for lib/from.c: author domains of From (bad-input F1-F3). */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "lib/from.h"
#include "t/tap.h"

static struct from_result res;

/* "status:domain,domain" for compact comparison */
static const char *
parse(const char *v)
{
	static char buf[4096];
	const char *names[] = { "ok", "empty", "syntax" };
	enum from_status st = from_parse(v, strlen(v), &res);

	snprintf(buf, sizeof(buf), "%s:", names[st]);
	for (size_t i = 0; i < res.n && st == FROM_OK; i++) {
		strcat(buf, res.domain[i]);
		if (i + 1 < res.n)
			strcat(buf, ",");
	}
	return buf;
}

int
main(void)
{
	/* Plain forms. */
	is_str(parse(" alice@example.org"), "ok:example.org", "bare addr-spec");
	is_str(parse(" Alice <alice@Example.ORG>"), "ok:example.org",
	    "name-addr, domain lowercased");
	is_str(parse(" <alice@example.org.>"), "ok:example.org",
	    "trailing dot removed (F3)");
	is_str(parse(" \"Smith, Alice\" <alice@example.org>"), "ok:example.org",
	    "comma inside a quoted display name");
	is_str(parse(" \"a b\"@example.org"), "ok:example.org",
	    "quoted local part");
	is_str(parse(" alice(comment)@(c2)example.org(c3)"), "ok:example.org",
	    "comments around the @");
	is_str(parse(" alice@example (x) . org"), "ok:example.org",
	    "CFWS between domain labels");
	is_str(parse(" <@relay.test:alice@example.org>"), "ok:example.org",
	    "obsolete route ignored");
	is_str(parse(" =?utf-8?q?J=C3=A9r=C3=B4me?= <j@example.org>"),
	    "ok:example.org", "encoded-word display name");
	is_str(parse(" J\xc3\xa9r\xc3\xb4me <j@xn--bcher-kva.example>"),
	    "ok:xn--bcher-kva.example", "UTF-8 name, punycode domain");

	/* Display-name and comment tricks (Composition Kills). */
	is_str(parse(" \"alice@bank.example\" <x@evil.test>"), "ok:evil.test",
	    "address-like display name does not count");
	is_str(parse(" alice@bank.example <x@evil.test>"), "syntax:",
	    "unquoted address as display name: syntax error, not a guess");
	is_str(parse(" (alice@bank.example) x@evil.test"), "ok:evil.test",
	    "address in a comment does not count");
	is_str(parse(" x@evil.test (alice@bank.example)"), "ok:evil.test",
	    "trailing comment does not count");
	is_str(parse(" <x@evil.test>, <alice@bank.example>"),
	    "ok:evil.test,bank.example", "two addresses: both reported");
	is_str(parse(" x@evil.test,alice@bank.example"),
	    "ok:evil.test,bank.example", "two bare addresses");
	is_str(parse(" team: a@one.example, b@two.example;"),
	    "ok:one.example,two.example", "group: members reported");
	is_str(parse(" undisclosed-recipients:;"), "empty:", "empty group");
	is_str(parse(" "), "empty:", "blank value");
	is_str(parse(" bank.example"), "syntax:", "no @");
	is_str(parse(" a@"), "syntax:", "empty domain");
	is_str(parse(" a@[192.0.2.1]"), "syntax:", "IP literal (F3)");
	is_str(parse(" a@exa mple.org"), "syntax:", "space inside a label");
	is_str(parse(" a@-bad.example"), "syntax:", "label starts with -");
	is_str(parse(" a@bad..example"), "syntax:", "empty label");
	is_str(parse(" \"unterminated <a@example.org>"), "syntax:",
	    "unterminated quote");
	is_str(parse(" (unterminated a@example.org"), "syntax:",
	    "unterminated comment");
	is_str(parse(" <a@example.org"), "syntax:", "unterminated <");
	is_str(parse(" a@example.org>"), "syntax:", "stray >");
	is_str(parse(" <a@example.org> junk"), "syntax:", "junk after address");
	is_str(parse(" team: a@one.example"), "syntax:", "group without ;");
	is_str(parse(" example.net(.example.com"), "syntax:",
	    "CVE-2020-12272 shape is not a domain");
	ok(from_parse(" a@example.org\0@evil.test", 25, &res) == FROM_SYNTAX,
	    "NUL byte is a syntax error, not an end (M2)");
	char many[2048] = " ";
	for (int i = 0; i < FROM_MAX_ADDRS + 1; i++)
		strcat(many, "a@example.org,");
	is_str(parse(many), "syntax:", "more than FROM_MAX_ADDRS addresses");

	/* The local part, for signing_table's address patterns. */
	ok(from_parse(" Alice <alice.b+x@example.org>", 30, &res) == FROM_OK &&
	    strcmp(res.local[0], "alice.b+x") == 0, "local part: a dot-atom");
	ok(from_parse(" \"x action=reject\"@good.example", 31, &res) ==
	    FROM_OK && strcmp(res.local[0], "") == 0 &&
	    strcmp(res.domain[0], "good.example") == 0,
	    "local part: quoted, not kept (matches no address pattern)");
	ok(from_parse(" a@one.example, b (c) @two.example", 34, &res) ==
	    FROM_OK && strcmp(res.local[0], "a") == 0 &&
	    strcmp(res.local[1], "") == 0, "local part: one per address; "
	    "with a comment, not kept");

	char out[300];
	ok(domain_normalise("EXAMPLE.org.", 12, out, sizeof(out)) == 0 &&
	    strcmp(out, "example.org") == 0, "normalise: case and dot");
	ok(domain_normalise(".", 1, out, sizeof(out)) != 0, "normalise: root");

	/* MAIL FROM's domain, for SPF and DMARC's prefetch. */
	envelope_domain("<a@bounce.example.org>", out, sizeof(out));
	is_str(out, "bounce.example.org", "envelope: <local@domain>");
	envelope_domain("<\"a@b\"@example.org>", out, sizeof(out));
	is_str(out, "example.org", "envelope: the last @ counts");
	envelope_domain("<>", out, sizeof(out));
	is_str(out, "", "envelope: the null sender has none");
	envelope_domain(NULL, out, sizeof(out));
	is_str(out, "", "envelope: none given");
	envelope_domain("<a@[192.0.2.1]>", out, sizeof(out));
	is_str(out, "", "envelope: an address literal is no domain");
	envelope_domain("<a@example.org>", out, 5);
	is_str(out, "", "envelope: no room, nothing cut");

	/* SMTPUTF8 mail: U-labels count as their A-labels (RFC 8616). */
	is_str(parse(" J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc" "cher.example>"),
	    "ok:xn--bcher-kva.example", "U-label From domain: its A-label");
	is_str(parse(" j@B\xc3\x9c" "CHER.Example."), "ok:xn--bcher-kva.example",
	    "U-label in capitals, trailing dot: the same A-label");
	is_str(parse(" j@\xff\xfe.example"), "syntax:",
	    "bytes that are no UTF-8: no usable domain");
	is_str(parse(" j@xn--bcher-kva.example, k@b\xc3\xbc" "cher.example"),
	    "ok:xn--bcher-kva.example,xn--bcher-kva.example",
	    "A-label and U-label forms: one domain twice");
	envelope_domain("<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", out, sizeof(out));
	is_str(out, "xn--bcher-kva.example", "envelope: a U-label domain's A-label");
	envelope_domain("<j@\xff\xfe.example>", out, sizeof(out));
	is_str(out, "", "envelope: not a valid IDN: none");
	ok(domain_to_ascii("example.org", 11, out, sizeof(out)) == 0 &&
	    strcmp(out, "example.org") == 0, "to_ascii: ASCII copied");
	ok(domain_to_ascii("a\0b.example", 11, out, sizeof(out)) != 0,
	    "to_ascii: a NUL byte refused");
	return done_testing();
}
