/* Unit tests for milter/netlist.c: CIDR lists. */
#include "buildconf.h"

#include <stdlib.h>

#include "lib/netlist.h"
#include "t/tap.h"

int
main(void)
{
	char err[256];
	struct netlist *nl;

	nl = netlist_parse("192.0.2.0/24, 198.51.100.7 [2001:db8::]/32,::1",
	    err, sizeof(err));
	ok(nl != NULL, "mixed list parses");
	is_int(netlist_count(nl), 4, "four entries");
	ok(netlist_match_str(nl, "192.0.2.255"), "last address of /24");
	ok(!netlist_match_str(nl, "192.0.3.0"), "just outside /24");
	ok(netlist_match_str(nl, "198.51.100.7"), "host entry");
	ok(!netlist_match_str(nl, "198.51.100.8"), "host entry is /32");
	ok(netlist_match_str(nl, "2001:db8:ffff::1"), "inside /32 v6");
	ok(!netlist_match_str(nl, "2001:db9::1"), "outside /32 v6");
	ok(netlist_match_str(nl, "::ffff:192.0.2.9"),
	    "v4-mapped v6 matches the v4 entry");
	ok(netlist_match_str(nl, "::1"), "::1");
	ok(!netlist_match_str(nl, "not-an-ip"), "garbage never matches");
	netlist_free(nl);

	nl = netlist_parse("0.0.0.0/0", err, sizeof(err));
	ok(netlist_match_str(nl, "203.0.113.1"), "/0 matches every v4");
	ok(!netlist_match_str(nl, "2001:db8::1"), "/0 v4 does not match v6");
	netlist_free(nl);

	nl = netlist_parse("10.0.0.0/33", err, sizeof(err));
	ok(nl == NULL, "prefix > 32 refused");
	is_str(err, "\"10.0.0.0/33\": prefix length must be 0..32", "message");
	nl = netlist_parse("10.0.0.1/8", err, sizeof(err));
	ok(nl == NULL, "host bits refused");
	nl = netlist_parse("example.com", err, sizeof(err));
	ok(nl == NULL, "names refused");
	is_str(err, "\"example.com\" is not an IPv4 or IPv6 address", "msg");
	nl = netlist_parse("[::1/128", err, sizeof(err));
	ok(nl == NULL, "unbalanced bracket refused");
	nl = netlist_parse("10.0.0.0/", err, sizeof(err));
	ok(nl == NULL, "empty prefix refused");
	nl = netlist_parse("", err, sizeof(err));
	ok(nl != NULL && netlist_count(nl) == 0, "empty list is valid");
	ok(!netlist_match_str(nl, "127.0.0.1"), "empty list matches nothing");
	netlist_free(nl);
	return done_testing();
}
