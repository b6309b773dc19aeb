/* Unit tests for keys/odkconf.c: OpenDKIM's configuration as
 * import-opendkim reads it. */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/odkconf.h"
#include "t/tap.h"

/* odk_pattern's answer, or "ERR" */
static const char *
pat(const char *key, int refile)
{
	static char out[400];
	char err[512];

	if (odk_pattern(key, refile, out, sizeof(out), err, sizeof(err)) != 0)
		return "ERR";
	return out;
}

static const char *
net(const char *entry)
{
	static char out[128];
	char err[512];

	return odk_host_network(entry, out, sizeof(out), err, sizeof(err)) == 0 ?
	    out : "ERR";
}

int
main(void)
{
	struct config_errors errs = { 0 };
	struct odk_conf oc;
	struct odk_list l;
	const char *rest;
	char text[] =
	    "# Debian's opendkim.conf, trimmed\n"
	    "Syslog\t\t\tyes\n"
	    "Canonicalization\trelaxed/simple\n"
	    "KeyTable           refile:/etc/opendkim/key.table  # keys\n"
	    "signingtable refile:/etc/opendkim/signing.table\n"
	    "InternalHosts\t/etc/opendkim/trusted\n"
	    "  ExternalIgnoreList 192.0.2.1, 10.0.0.0/8\n"
	    "MultipleSignatures yes\n"
	    "\n";
	char bad[] = "Include /etc/opendkim.d/x.conf\nKeyTable file:/k\n";
	char dom[300], sel[80], path[4096], err[512];

	is_int(odk_conf_parse("o.conf", text, &oc, &errs), 0, "config read");
	is_str(oc.value[ODK_KEYTABLE], "refile:/etc/opendkim/key.table",
	    "KeyTable, comment cut");
	is_int(oc.line[ODK_KEYTABLE], 4, "  its line");
	is_str(oc.value[ODK_SIGNINGTABLE], "refile:/etc/opendkim/signing.table",
	    "names in any case");
	is_str(oc.value[ODK_EXTERNALIGNORE], "192.0.2.1, 10.0.0.0/8",
	    "leading white space");
	ok(odk_bool(oc.value[ODK_MULTIPLESIGS]), "MultipleSignatures yes");
	ok(!odk_bool(oc.value[ODK_SUBDOMAINS]) && !odk_bool("no") &&
	    odk_bool("True") && odk_bool("1"), "Booleans by first byte");
	ok(oc.value[ODK_DOMAIN] == NULL, "Domain not set");
	odk_conf_free(&oc);
	ok(odk_conf_parse("o.conf", bad, &oc, &errs) == -1 && errs.n == 1 &&
	    strstr(errs.msg[0], "o.conf:1: Include") != NULL,
	    "Include is reported with its line");
	config_errors_clear(&errs);
	odk_conf_free(&oc);

	is_int(odk_dataset("refile:/a", &rest), ODK_DS_REFILE, "refile:");
	is_str(rest, "/a", "  file name");
	is_int(odk_dataset("file:/a", &rest), ODK_DS_FILE, "file:");
	is_int(odk_dataset("/etc/opendkim/KeyTable", &rest), ODK_DS_FILE,
	    "a path is a file");
	is_int(odk_dataset("127.0.0.1, ::1", &rest), ODK_DS_CSL,
	    "anything else is a list");
	is_int(odk_dataset("csl:a,b", &rest), ODK_DS_CSL, "csl:");
	is_int(odk_dataset("dsn:mysql://x/y", &rest), ODK_DS_OTHER, "dsn:");
	is_int(odk_dataset("/etc/k.db", &rest), ODK_DS_OTHER, "*.db");

	ok(odk_list_parse("# c\ns1._domainkey.a  a.example:s1:/k/a # key\n\n"
	    "  *@b.example\tkb\n", 0, &l) == 0 && l.n == 2, "file entries");
	is_str(l.e[0].key, "s1._domainkey.a", "  key");
	is_str(l.e[0].value, "a.example:s1:/k/a", "  value, comment cut");
	is_int(l.e[1].line, 4, "  line numbers");
	is_str(l.e[1].value, "kb", "  tab between");
	odk_list_free(&l);
	ok(odk_list_parse("127.0.0.1, ::1,,10.0.0.0/8", 1, &l) == 0 &&
	    l.n == 3, "csl entries");
	is_str(l.e[1].key, "::1", "  trimmed");
	odk_list_free(&l);

	/* refile patterns */
	is_str(pat("*@example.com", 1), "example.com", "*@example.com");
	is_str(pat("*@Example.COM", 1), "example.com", "  lower case");
	is_str(pat("*@*.example.com", 1), ".example.com", "*@*.example.com");
	is_str(pat("*", 1), "*", "*");
	is_str(pat("*@*", 1), "*", "*@*");
	is_str(pat("alice@example.com", 1), "alice@example.com", "one address");
	is_str(pat("a*@example.com", 1), "ERR", "a*@example.com refused");
	is_str(pat("*@ex*.com", 1), "ERR", "*@ex*.com refused");
	is_str(pat("*@*.*.example.com", 1), "ERR", "*@*.*.example.com refused");
	is_str(pat("*example.com", 1), "ERR", "*example.com refused");
	is_str(pat("example.com", 1), "ERR", "a bare domain in a refile");
	is_str(pat("*@com", 1), "ERR", "a top-level domain refused");
	/* flat file keys */
	is_str(pat("example.com", 0), "example.com", "file: host");
	is_str(pat(".example.com", 0), ".example.com", "file: .domain");
	is_str(pat("bob@example.com", 0), "bob@example.com", "file: user@host");
	is_str(pat("*", 0), "*", "file: *");
	is_str(pat("bob@.example.com", 0), "ERR", "file: user@.domain refused");
	is_str(pat("bob@*", 0), "ERR", "file: user@* refused");

	ok(odk_pattern_covers("*", "a@b.example"), "* covers all");
	ok(odk_pattern_covers("b.example", "a@b.example"), "domain covers "
	    "its addresses");
	ok(!odk_pattern_covers("b.example", "a@c.b.example"), "  not its "
	    "subdomains'");
	ok(!odk_pattern_covers("b.example", ".b.example"), "  nor its "
	    "subdomains");
	ok(odk_pattern_covers(".b.example", "c.b.example") &&
	    odk_pattern_covers(".b.example", "a@d.c.b.example") &&
	    odk_pattern_covers(".b.example", ".c.b.example"),
	    ".domain covers every name below");
	ok(!odk_pattern_covers(".b.example", "b.example") &&
	    !odk_pattern_covers(".b.example", "xb.example"),
	    "  not itself nor xb.example");
	ok(!odk_pattern_covers("a@b.example", "b.example") &&
	    !odk_pattern_covers("b.example", "*"), "narrow covers no wider");
	ok(odk_pattern_covers("b.example", "b.example"), "same pattern");

	ok(odk_keytable_value("Example.COM:s1:/etc/k/s1.private", dom,
	    sizeof(dom), sel, sizeof(sel), path, sizeof(path), err,
	    sizeof(err)) == 0, "KeyTable value");
	is_str(dom, "example.com", "  domain normalised");
	is_str(sel, "s1", "  selector");
	is_str(path, "/etc/k/s1.private", "  path");
	ok(odk_keytable_value("%:s1:/k", dom, sizeof(dom), sel, sizeof(sel),
	    path, sizeof(path), err, sizeof(err)) == -1 && strstr(err, "%"),
	    "% domain refused");
	ok(odk_keytable_value("a.example:s1:MIIEvQIBADANBg", dom, sizeof(dom),
	    sel, sizeof(sel), path, sizeof(path), err, sizeof(err)) == -1 &&
	    strstr(err, "inside the KeyTable"), "inline key refused");
	ok(odk_keytable_value("a.example:s 1:/k", dom, sizeof(dom), sel,
	    sizeof(sel), path, sizeof(path), err, sizeof(err)) == -1,
	    "bad selector refused");
	ok(odk_keytable_value("a.example/k", dom, sizeof(dom), sel,
	    sizeof(sel), path, sizeof(path), err, sizeof(err)) == -1,
	    "no colons refused");

	is_str(net("127.0.0.1"), "127.0.0.1", "address");
	is_str(net("192.168.0.0/16"), "192.168.0.0/16", "network");
	is_str(net("[2001:db8::]/32"), "[2001:db8::]/32", "IPv6 bracketed");
	is_str(net("::1"), "::1", "IPv6");
	is_str(net("mail.example.com"), "ERR", "host name not converted");
	is_str(net(".example.com"), "ERR", "domain not converted");
	is_str(net("!10.0.0.1"), "ERR", "exclusion not converted");
	is_str(net("10.0.0.0/255.0.0.0"), "ERR", "netmask not converted");
	return done_testing();
}
