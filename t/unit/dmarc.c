/* Unit tests for milter/dmarc.c: the policy record (RFC 9989 4.7, 4.8;
 * bad-input D1), organizational domains by the suffix list
 * (dmarc_discovery = psl; D5) and what names alone say about alignment.
 * The tree walk's own tests: t/unit/dmarc_walk.c. */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "milter/dmarc.h"
#include "t/tap.h"

static struct dmarc_record r;

/* "status p sp np adkim aspf t psd" for compact comparison */
static const char *
parse(const char *txt)
{
	static char buf[256];
	const char *st[] = { "ok", "not-dmarc", "invalid" };
	const char *pn[] = { "-", "none", "quarantine", "reject" };
	enum dmarc_parse s = dmarc_record_parse(txt, &r);

	if (s != DMARC_REC_OK)
		return st[s];
	snprintf(buf, sizeof(buf), "ok p=%s sp=%s np=%s %c%c%s%s",
	    pn[r.p], pn[r.sp], pn[r.np], r.adkim_strict ? 's' : 'r',
	    r.aspf_strict ? 's' : 'r', r.testing ? " t" : "",
	    r.psd == DMARC_PSD_Y ? " psd=y" : r.psd == DMARC_PSD_N ?
	    " psd=n" : "");
	return buf;
}

int
main(void)
{
	struct dmarc_lib *lib;
	char err[512], org[256];

	/* Without a suffix list (the tree walk), names alone rule out
	 * alignment only across different parents (state.c's warning). */
	lib = dmarc_lib_new(NULL, NULL, err, sizeof(err));
	ok(lib != NULL, "the tree walk needs no file");
	if (lib != NULL) {
		is_str(dmarc_lib_method(lib), "tree walk", "method named");
		ok(dmarc_may_align(lib, "mail.example.com", "Example.COM."),
		    "a subdomain may align");
		ok(dmarc_may_align(lib, "a.example.com", "b.example.com"),
		    "siblings may align");
		ok(!dmarc_may_align(lib, "example.com", "example.net"),
		    "other top-level domains never align");
		ok(!dmarc_may_align(lib, "example.com", "xexample.com"),
		    "labels compare whole");
		ok(!dmarc_may_align(lib, "a.com", "b.com"),
		    "a shared top-level domain is not enough");
		ok(!dmarc_may_align(lib, "bad..name", "name"),
		    "not a domain name: never");
		dmarc_lib_free(lib);
	}

	is_str(parse("v=DMARC1; p=reject"),
	    "ok p=reject sp=- np=- rr", "minimal record");
	is_str(parse("v=DMARC1;p=quarantine;sp=none;np=reject;"
	    "adkim=s;aspf=s;t=y;psd=y"),
	    "ok p=quarantine sp=none np=reject ss t psd=y", "every tag");
	is_str(parse("v=DMARC1; p=none; psd=n"), "ok p=none sp=- np=- rr psd=n",
	    "psd=n");
	is_str(parse("v=DMARC1; p=none; psd=u"), "ok p=none sp=- np=- rr",
	    "psd=u: the walk decides");
	is_str(parse("v=DMARC1; p=none; psd=maybe"), "ok p=none sp=- np=- rr",
	    "psd= not y or n: u");
	is_str(parse("v = DMARC1 ;p = reject ;"),
	    "ok p=reject sp=- np=- rr", "white space around = and ;");
	is_str(parse("v=DMARC1; p=Reject"), "ok p=reject sp=- np=- rr",
	    "policy values without regard to case");
	is_str(parse("v=DMARC1; p=reject; foo=bar; x"),
	    "ok p=reject sp=- np=- rr", "unknown tags ignored (D1)");
	is_str(parse("v=dmarc1; p=reject"), "not-dmarc",
	    "v= value is exactly DMARC1");
	is_str(parse("p=reject; v=DMARC1"), "not-dmarc", "v= must come first (D1)");
	is_str(parse("v=DMARC1x; p=reject"), "not-dmarc", "v=DMARC1x is not it");
	is_str(parse("some-verification=abc"), "not-dmarc", "other TXT");
	is_str(parse("v=DMARC1; p=bogus"), "invalid",
	    "bad p and no rua: no DMARC processing (D1)");
	is_str(parse("v=DMARC1; p=bogus; rua=mailto:d@example.com"),
	    "ok p=none sp=- np=- rr", "bad p with a valid rua: p=none");
	is_str(parse("v=DMARC1; rua=mailto:d@example.com"),
	    "ok p=none sp=- np=- rr", "no p with a valid rua: p=none");
	is_str(parse("v=DMARC1"), "invalid", "no p, no rua");
	is_str(parse("v=DMARC1; p=reject; sp=bogus"), "invalid",
	    "bad sp and no rua (6.6.3 step 6)");
	is_str(parse("v=DMARC1; p=reject; p=none"), "invalid",
	    "duplicate tag: unusable, not the first one (D1)");
	is_str(parse("v=DMARC1; p=reject; pct=500"),
	    "ok p=reject sp=- np=- rr", "pct is no RFC 9989 tag: ignored (D1)");
	is_str(parse("v=DMARC1; p=reject; pct=0; pct=0"),
	    "ok p=reject sp=- np=- rr", "pct twice is no duplicate tag now");
	is_str(parse("v=DMARC1; p=reject; rf=afrf; ri=3600"),
	    "ok p=reject sp=- np=- rr", "rf and ri: ignored");
	is_str(parse("v=DMARC1; p=reject; np=bogus"), "invalid",
	    "bad np and no rua: unusable (RFC 9989 4.10.1)");
	is_str(parse("v=DMARC1; p=reject; np=bogus; rua=mailto:d@example.com"),
	    "ok p=none sp=- np=- rr", "bad np with a valid rua: p=none");
	is_str(parse("v=DMARC1; p=reject; adkim=x"),
	    "ok p=reject sp=- np=- rr", "bad adkim: relaxed");

	lib = dmarc_lib_new(NULL, "/usr/share/publicsuffix/public_suffix_list.dat",
	    err, sizeof(err));
	ok(lib != NULL, "the Debian public suffix list loads");
	if (lib != NULL) {
		is_str(dmarc_lib_method(lib), "public suffix list",
		    "method named");
		ok(!dmarc_may_align(lib, "a.co.uk", "b.co.uk"),
		    "the list knows co.uk is a suffix");
		dmarc_org_domain(lib, "mail.example.co.uk", org, sizeof(org));
		is_str(org, "example.co.uk", "org domain under co.uk");
		dmarc_org_domain(lib, "a.b.c.example.com", org, sizeof(org));
		is_str(org, "example.com", "org domain of a deep name");
		dmarc_org_domain(lib, "co.uk", org, sizeof(org));
		is_str(org, "co.uk", "a public suffix is its own (D5)");
		dmarc_org_domain(lib, "sub.example.tst", org, sizeof(org));
		is_str(org, "example.tst", "unlisted TLD: one label below it");
		dmarc_org_domain(lib, "MAIL.EXAMPLE.CO.UK.", org, sizeof(org));
		is_str(org, "example.co.uk", "upper case and a trailing dot");
		ok(dmarc_aligned(lib, "MAIL.EXAMPLE.CO.UK", "example.co.uk", 0),
		    "d=MAIL.EXAMPLE.CO.UK aligns with example.co.uk (relaxed)");
		ok(!dmarc_aligned(lib, "X.EU.ORG", "eu.org", 0),
		    "d=X.EU.ORG does not align with the suffix eu.org");
		ok(!dmarc_aligned(lib, "x.eu.org", "eu.org", 0),
		    "a name under a public suffix is not aligned with it");
		ok(dmarc_aligned(lib, "Example.ORG", "example.org", 1),
		    "strict alignment ignores case");
		ok(!dmarc_aligned(lib, "mail.example.org", "example.org", 1),
		    "strict: a subdomain does not align");
		ok(!dmarc_aligned(lib, "bad..name", "name", 0),
		    "not a domain name: never aligned");
		dmarc_lib_free(lib);
	}
	ok(dmarc_lib_new(NULL, "/nonexistent/psl.dat", err, sizeof(err)) ==
	    NULL && strstr(err, "public_suffix_list") != NULL,
	    "a missing list is an error naming the setting");
	return done_testing();
}
