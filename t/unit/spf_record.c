/* Unit tests for milter/spf_record.c: SPF records against the RFC 7208
 * grammar, and what libspf2 is handed instead. */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "milter/spf_record.h"
#include "t/tap.h"

static char err[256];

/* "ok" or the error of spf_record_check(). */
static const char *
check(const char *rec)
{
	err[0] = '\0';
	return spf_record_check(rec, strlen(rec), err, sizeof(err)) == 0 ?
	    "ok" : err;
}

static int
valid(const char *rec)
{
	return spf_record_check(rec, strlen(rec), err, sizeof(err)) == 0;
}

/* The record for libspf2 (IPv6 client when ip6), or "ERR: ...". */
static const char *
rewrite(const char *rec, int ip6)
{
	static char out[SPF_RECORD_OUTSZ(SPF_RECORD_MAX)], buf[512];
	size_t len = strlen(rec);

	if (spf_record_rewrite(rec, len, ip6, out, SPF_RECORD_OUTSZ(len), err,
	    sizeof(err)) == 0)
		return out;
	snprintf(buf, sizeof(buf), "ERR: %s", err);
	return buf;
}

/* RFC 7208 suite records (t/data/spf/rfc7208-tests.yml) libspf2 takes
 * but the grammar refuses. */
static const char *const lenient[] = {
	"v=spf1 a:\xef\xbb\xbfgarbage.example.net -all",	/* non-ascii */
	"v=spf1 a:ctrl.example.com\rptr -all",		/* control char */
	"v=spf1 ip4:1.2.3.4 redirect:t2.example.com",	/* redirect: */
	"v=spf1 a:foo-bar -all",			/* no top label */
	"v=spf1 ptr:",
	"v=spf1 a:example.com:8080",
	"v=spf1 a:111.222.33.44",			/* numeric top label */
	"v=spf1 a:abc.123",
	"v=spf1 a:example.-com",
	"v=spf1 a:museum",
	"v=spf1 a:museum.",
	"v=spf1 a:",
	"v=spf1 mx:example.com:8080",
	"v=spf1 mx:abc.123",
	"v=spf1 mx:example.-com",
	"v=spf1 mx: -all",
	"v=spf1 exists:",
	"v=spf1 exists:mail.example.com/24",
	"v=spf1 ip4:1.2.3.4/032 -all",
	"v=spf1 exp= -all",
	"v=spf1 exp=-all",
	"v=spf1 exp=e13msg.example.com -all exp=e11msg.example.com",
	"v=spf1 ?all redirect=",
	"v=spf1 redirect=e12.example.com -all redirect=e12.example.com",
	"v=spf1 -all foo=%abc",
	"v=spf1 -all exp=%{r}.example.com",
	"v=spf1 -exists:%(ir).sbl.example.com ?all",
	"v=spf1 exists:foo%(ir).sbl.example.com ?all",
	"v=spf1 exists:foo%.sbl.example.com ?all",
	"v=spf1 ptr/0 -all",
	"v=spf1 ip4:1.2.3.4 -all moo",
	"v=spf1 moo.cow/far_out=man:dog/cat ip4:1.2.3.4 -all",
};

int
main(void)
{
	const char nul[] = "v=spf1 a:foo.example.com\0";
	char big[SPF_RECORD_MAX + 2];

	/* Valid records. */
	is_str(check("v=spf1"), "ok", "bare version");
	is_str(check("V=SPF1 -ALL"), "ok", "names in any case");
	is_str(check("v=spf1  a   mx -all  "), "ok",
	    "several spaces between terms and at the end");
	is_str(check("v=spf1 +a -mx ~ptr ?exists:%{i}.x.example ip4:192.0.2.0/24 "
	    "ip6:2001:db8::/32 include:_spf.example.net -all"), "ok",
	    "every mechanism, every qualifier");
	is_str(check("v=spf1 a/24 a//64 a/24//64 mx:example.org/0//0"), "ok",
	    "dual prefix lengths, 0 included (RFC 7208 5.6)");
	is_str(check("v=spf1 ip4:1.1.1.1/0 ip6:::/0 ip6:::1.1.1.1/128"), "ok",
	    "ip4/ip6 lengths 0 and 128");
	is_str(check("v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all"), "ok",
	    "unknown modifier with '.', '-' and '_' in its name");
	is_str(check("v=spf1 a:mail.example.com. exists:%{l1r+-}.%{d2}"), "ok",
	    "trailing dot; macros with transformers and delimiters");
	is_str(check("v=spf1 a:macro%%percent%_%_space%-url-space.example.com"),
	    "ok", "%%, %_ and %-");
	is_str(check("v=spf1 exists:%{ir}.%{v}._spf.%{D}"), "ok",
	    "domain-spec ending in a macro");
	is_str(check("v=spf1 a:.com a:x.123-4 a:x.a-1"), "ok",
	    "top labels: dot alone before, digits with a dash");
	is_str(check("v=spf1 -all exp=explain.%{d} redirect=_spf.%{d}"), "ok",
	    "exp= and redirect= once each");

	/* Invalid: the suite's lenient-syntax cases and a few more. */
	for (size_t i = 0; i < sizeof(lenient) / sizeof(lenient[0]); i++) {
		char name[160];
		snprintf(name, sizeof(name), "refused: %.120s", lenient[i]);
		ok(!valid(lenient[i]), name);
	}
	ok(spf_record_check(nul, sizeof(nul) - 1, err, sizeof(err)) != 0,
	    "a NUL octet in the record");
	is_str(err, "'a:foo.example.com?': octet 0x00",
	    "... and the error names the term, NUL as '?'");
	is_str(check("v=spf1 a:museum"), "'a:museum': domain-spec without a "
	    "top label", "error text: term and what is wrong");
	is_str(check("v=spf1 ip4:1.2.3.04"), "'ip4:1.2.3.04': bad IPv4 address",
	    "leading zero in an IPv4 address");
	ok(!valid("v=spf1 ip4:1.2.3.4/33"), "ip4 prefix length 33");
	ok(!valid("v=spf1 ip6:::1/129"), "ip6 prefix length 129");
	ok(!valid("v=spf1 ip6:2001:db8::/0032"), "ip6 prefix length 0032");
	ok(!valid("v=spf1 ip6:fe80::1%eth0"), "ip6 zone index");
	ok(!valid("v=spf1 a/33"), "a prefix length 33");
	ok(!valid("v=spf1 a//129"), "a prefix length //129");
	ok(!valid("v=spf1 all:x"), "all with an argument");
	ok(!valid("v=spf1 include"), "include without domain");
	ok(!valid("v=spf1 -"), "qualifier alone");
	ok(!valid("v=spf1 a:%{d0}.example.com"), "macro transformer 0");
	ok(!valid("v=spf1 a:%{x}.example.com"), "unknown macro letter");
	ok(!valid("v=spf1 a:%{d.example.com"), "macro not closed");
	ok(!valid("v=spf1 a:%{d}."), "macro, then a dot without a label");
	ok(!valid("v=spf1 a:%{c}.example.com"), "%{c} in a domain-spec");
	ok(!valid("v=spf1 a:ex\tample.com"), "tab inside a term");
	ok(!valid("v=spf1\ta"), "tab as separator");
	ok(!valid("v=spf1x -all"), "not a version");
	memset(big, ' ', sizeof(big));
	memcpy(big, "v=spf1", 6);
	ok(spf_record_check(big, sizeof(big), err, sizeof(err)) != 0,
	    "longer than SPF_RECORD_MAX");
	ok(spf_record_check(big, SPF_RECORD_MAX, err, sizeof(err)) == 0,
	    "SPF_RECORD_MAX octets");

	ok(spf_record_is_spf("v=spf1", 6), "is_spf: version alone");
	ok(spf_record_is_spf("V=Spf1 a", 8), "is_spf: any case");
	ok(!spf_record_is_spf("v=spf10", 7), "is_spf: v=spf10");
	ok(!spf_record_is_spf("v=spf", 5), "is_spf: short");

	/* What libspf2 gets. */
	is_str(rewrite("v=spf1 a mx:example.org/24 -all", 0),
	    "v=spf1 a mx:example.org/24 -all", "plain record unchanged");
	is_str(rewrite("v=spf1 ip4:1.1.1.1/0 -all", 0),
	    "v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 -all",
	    "ip4/0: both halves of IPv4");
	is_str(rewrite("v=spf1 -ip6:::1.1.1.1/0", 1),
	    "v=spf1 -ip6:::/1 -ip6:8000::/1", "ip6/0: both halves, qualifier "
	    "kept");
	is_str(rewrite("v=spf1 a/0 -all", 0), "v=spf1 a:%{d}." SPF_RECORD_ANY
	    " -all", "a/0, IPv4 client: any address of the current domain");
	is_str(rewrite("v=spf1 a/0 -all", 1), "v=spf1 a -all",
	    "a/0, IPv6 client: the IPv4 length does not apply");
	is_str(rewrite("v=spf1 ?mx:example.org//0", 1),
	    "v=spf1 ?mx:example.org." SPF_RECORD_ANY, "mx//0, IPv6 client");
	is_str(rewrite("v=spf1 mx:example.org/24//0", 0),
	    "v=spf1 mx:example.org/24", "mx/24//0, IPv4 client");
	is_str(rewrite("v=spf1 a:%{d}.example.org/0//64", 1),
	    "v=spf1 a:%{d}.example.org//64", "a/0//64, IPv6 client");
	is_str(rewrite("v=spf1 redirect=t5.example.com ~all", 0),
	    "v=spf1 ~all redirect=t5.example.com", "redirect= goes last");
	is_str(rewrite("v=spf1 moo.cow-far_out=man:dog/cat exp=x.example "
	    "ip4:1.2.3.4 -all", 0), "v=spf1 ip4:1.2.3.4 -all",
	    "unknown modifiers and exp= left out");
	is_str(rewrite("v=spf1 exists:%{l200R_}.%{d}", 0),
	    "v=spf1 exists:%{l128r_}.%{d}", "transformer capped at 128, R as r");
	ok(strncmp(rewrite("v=spf1 a:museum", 0), "ERR: ", 5) == 0,
	    "an invalid record is not rewritten");
	return done_testing();
}
