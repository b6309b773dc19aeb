/* Unit tests for rua/dest.c: the mailto: URIs of rua= (the external
 * verification is tested against a DNS server in t/e2e/rua-send.t and
 * t/e2e/doctor.t). */
#include "buildconf.h"

#include <stdio.h>
#include <string.h>

#include "rua/dest.h"
#include "t/tap.h"

int
main(void)
{
	struct rua_dest d[RUA_DEST_MAX];
	size_t n;

	n = rua_dest_parse("mailto:dmarc@Example.COM,mailto:r@x.example!10m",
	    d, RUA_DEST_MAX);
	is_int(n, 2, "two mailto URIs");
	is_str(d[0].addr, "dmarc@Example.COM", "address as written");
	is_str(d[0].host, "example.com", "host in lower case");
	is_int(d[0].max_size, 0, "no limit");
	is_str(d[1].addr, "r@x.example", "size suffix not in the address");
	is_int(d[1].max_size, 10 * 1024 * 1024, "!10m: 10 MiB");

	n = rua_dest_parse(" MAILTO:a@b.example!2k , https://x.example/r, "
	    "mailto:c%2Bd@e.example!5,mailto:f@g.example!9q", d, RUA_DEST_MAX);
	is_int(n, 3, "https: skipped");
	is_str(d[0].addr, "a@b.example", "spaces and case of the scheme");
	is_int(d[0].max_size, 2048, "!2k");
	is_str(d[1].addr, "c+d@e.example", "%2B decoded");
	is_int(d[1].max_size, 5, "!5: bytes");
	is_int(d[2].max_size, 0, "bad unit: no limit, address kept");

	n = rua_dest_parse("mailto:a b@x.example,mailto:nohost,mailto:@x.example,"
	    "mailto:a@x.example%0d%0aBcc: e@evil.example,mailto:a@x_y.example,"
	    "mailto:a@\x1b[31m,mailto:a%00@x.example,mailto:a@x.example%4", d,
	    RUA_DEST_MAX);
	is_int(n, 0, "hostile or malformed addresses skipped");
	n = rua_dest_parse("mailto:a@x.example!99999999999999999999t", d,
	    RUA_DEST_MAX);
	ok(n == 1 && d[0].max_size == 0, "overflowing size: no limit");
	n = rua_dest_parse("mailto:a@1.example,mailto:a@2.example,"
	    "mailto:a@3.example", d, 2);
	is_int(n, 2, "at most max");
	is_int(rua_dest_parse("", d, RUA_DEST_MAX), 0, "empty rua");
	return done_testing();
}
