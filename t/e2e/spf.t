#!/usr/bin/python3
# SPF of incoming mail (issue 6; bad-input S1-S6): each result name, both
# identities, the RFC limits, DNS failures and hostile macro input, through
# the milter protocol against a real unbound on 127.0.0.1.  Then the same
# through a real Postfix: the client 127.0.0.2 is loopback, which libspf2
# would pass whatever the record says.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, ar_parse, milter_ar  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)

recs = [
    'pass.example. TXT "v=spf1 ip4:192.0.2.1 -all"',
    'fail.example. TXT "v=spf1 ip4:192.0.2.99 -all"',
    'soft.example. TXT "v=spf1 ~all"',
    'neutral.example. TXT "v=spf1 ?all"',
    'nospf.example. TXT "just text"',
    'twice.example. TXT "v=spf1 -all"',
    'twice.example. TXT "v=spf1 +all"',
    'syntax.example. TXT "v=spf1 ip4:300.1.1.1 -all"',
    'loop.example. TXT "v=spf1 include:loop.example -all"',
    'voids.example. TXT "v=spf1 a:n1.example a:n2.example a:n3.example ip4:192.0.2.1 -all"',
    'twovoids.example. TXT "v=spf1 a:n1.example a:n2.example ip4:192.0.2.1 -all"',
    'deep.example. TXT "v=spf1 include:ten.example ip4:192.0.2.1 -all"',
    'ten.example. TXT "v=spf1 a:h1.example a:h2.example a:h3.example a:h4.example '
    'a:h5.example a:h6.example a:h7.example a:h8.example a:h9.example a:h10.example -all"',
    'macro.example. TXT "v=spf1 exists:%{l}.%{l}.%{l}.%{l}.x.example '
    'a:%{ir}.%{v}.%{d}.%{h}.y.example -all"',
    'helo.example. TXT "v=spf1 ip4:192.0.2.1 -all"',
    'brokendns.example. TXT "v=spf1 a:sub.refused.example -all"',
    'lo.example. TXT "v=spf1 ip4:192.0.2.99 -all"',
    'lo-ok.example. TXT "v=spf1 ip4:127.0.0.2 -all"',
    'ptrfail.example. TXT "v=spf1 ptr ip4:1.2.3.0/24 -all"',
    'ptrhost.example. TXT "v=spf1 ptr -all"',
    '5.3.2.1.in-addr.arpa. PTR bad.refused.example.',
    '5.3.2.1.in-addr.arpa. PTR mx.ptrhost.example.',
    'mx.ptrhost.example. A 1.2.3.5',
    'lan.example. TXT "v=spf1 ptr -all"',
    '5.1.168.192.in-addr.arpa. PTR mx.lan.example.',
    'mx.lan.example. A 192.168.1.5',
    '5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. '
    'PTR mx6.lan.example.',
    'mx6.lan.example. AAAA 2001:db8::5',
    'strict.example. TXT "v=spf1 ip4:192.0.2.1 a:museum -all"',
    'incstrict.example. TXT "v=spf1 include:strict.example -all"',
]
recs += ['h%d.example. A 198.51.100.%d' % (i, i) for i in range(1, 11)]
h.start_dns(recs, ['local-zone: "refused.example." refuse',
                   'local-zone: "4.3.2.1.in-addr.arpa." refuse'])
af = h.start_authfilter({"dns_timeout": "2s"})


def spf(mailfrom, ip="192.0.2.1", helo="mx.client.example"):
    res = milter_ar(af.port, ip, helo, mailfrom)
    got = [r for r in res if r.startswith("spf=")]
    return got[0] if len(got) == 1 else "?%r" % res


def case(mailfrom, want, name, **kw):
    got = spf(mailfrom, **kw)
    t.ok(got == want, name, "got %r, want %r" % (got, want))


case("a@pass.example", "spf=pass smtp.mailfrom=pass.example", "pass")
case("a@fail.example", "spf=fail smtp.mailfrom=fail.example", "fail")
case("a@soft.example", "spf=softfail smtp.mailfrom=soft.example", "softfail")
case("a@neutral.example", "spf=neutral smtp.mailfrom=neutral.example", "neutral")
case("a@nospf.example", "spf=none smtp.mailfrom=nospf.example", "no SPF record: none")
case("a@nxdomain.example", "spf=none smtp.mailfrom=nxdomain.example",
     "domain does not exist: none")
case("a@PASS.Example.", "spf=pass smtp.mailfrom=pass.example",
     "case and trailing dot do not change the domain")
# S3
case("a@twice.example", "spf=permerror smtp.mailfrom=twice.example",
     "two v=spf1 records: permerror (S3)")
case("a@syntax.example", "spf=permerror smtp.mailfrom=syntax.example",
     "syntax error: permerror (S3)")
# S2
case("a@loop.example", "spf=permerror smtp.mailfrom=loop.example",
     "include loop: permerror, bounded (S2)")
# S1
case("a@voids.example", "spf=permerror smtp.mailfrom=voids.example",
     "third void lookup: permerror (S1; libspf2 has no void limit)")
case("a@twovoids.example", "spf=pass smtp.mailfrom=twovoids.example",
     "two void lookups are allowed")
case("a@deep.example", "spf=permerror smtp.mailfrom=deep.example",
     "eleven DNS terms through include: permerror (S1; libspf2 counts per "
     "record)")
# S4: hostile macro input, bounded; the ASan stage catches overflows.
case("%s@macro.example" % ("x" * 64), "spf=fail smtp.mailfrom=macro.example",
     "%{l} of a 64-octet local part four times: evaluated, no crash (S4)")
case("%s@macro.example" % ("y" * 200), "spf=fail smtp.mailfrom=macro.example",
     "a 200-octet local part: evaluated, no crash (S4)")
case("a@macro.example", "spf=fail smtp.mailfrom=macro.example",
     "%{ir}.%{v}.%{h} with an IPv6 client (S4)", ip="2001:db8::1")
# RFC 7208 4.6: a record the grammar refuses is permerror, whatever
# libspf2 would make of it (here: pass on the ip4: before the bad term);
# the comment says which record, which term and why.
case("a@strict.example", "spf=permerror smtp.mailfrom=strict.example",
     "record with a domain-spec without top label: permerror")
case("a@incstrict.example", "spf=permerror smtp.mailfrom=incstrict.example",
     "... also when include:d")
why = "(strict.example: 'a:museum': domain-spec without a top label)"
t.ok(af.log_text().count(why) == 2, "the AR comment names record, term "
     "and reason", "no %r in the log" % why)
# DNS failure
case("a@brokendns.example", "spf=temperror smtp.mailfrom=brokendns.example",
     "REFUSED on a lookup: temperror")
case("a@sub.refused.example", "spf=temperror smtp.mailfrom=sub.refused.example",
     "REFUSED on the record: temperror")
# RFC 7208 5.5: DNS errors under "ptr" are no match, not temperror.  The
# client addresses are only data in the milter protocol: nothing is sent
# to them.
case("a@ptrfail.example", "spf=pass smtp.mailfrom=ptrfail.example",
     "PTR lookup REFUSED: ptr does not match, the next term passes",
     ip="1.2.3.4")
case("a@ptrhost.example", "spf=pass smtp.mailfrom=ptrhost.example",
     "address lookup of one PTR name REFUSED: that name skipped, the "
     "other validates", ip="1.2.3.5")
# PTR records of private and documentation address space come from
# dns_resolver, not from libunbound's built-in empty zones (RFC 6303).
case("a@lan.example", "spf=pass smtp.mailfrom=lan.example",
     "ptr: a PTR record in 168.192.in-addr.arpa is asked for",
     ip="192.168.1.5")
case("a@lan.example", "spf=pass smtp.mailfrom=lan.example",
     "ptr: a PTR record in 8.b.d.0.1.0.0.2.ip6.arpa is asked for",
     ip="2001:db8::5")
# S5: null sender -> HELO identity
case("", "spf=pass smtp.helo=helo.example", "null sender: HELO checked (S5)",
     helo="helo.example")
case("", "spf=fail smtp.helo=helo.example", "null sender, HELO fails (S5)",
     helo="helo.example", ip="192.0.2.7")
# S6
case("", "spf=none", "null sender, IP-literal HELO: none, no lookup (S6)",
     helo="[192.0.2.1]")
case("user", "spf=none", "MAIL FROM without a domain: none (S6)")
case("a@localhost", "spf=none smtp.mailfrom=localhost",
     "single-label domain: none (RFC 7208 4.3)")
case("a@[192.0.2.1]", "spf=none", "domain literal: none (S6)")
# libspf2's localhost free ride is not ours.
case("a@lo.example", "spf=fail smtp.mailfrom=lo.example",
     "loopback client not in internal_networks: evaluated, fail",
     ip="127.0.0.3")
t.ok(af.alive(), "daemon alive after every SPF case")
h.stop_authfilter(af)

# ---- through Postfix: 127.0.0.2 connects, SPF decides ----
af = h.start_authfilter({"dns_timeout": "2s"}, name="af-pf")
sink = h.start_sink()
smtp = h.start_postfix(af.port, sink)
for dom, want in (("lo-ok.example", "spf=pass"), ("lo.example", "spf=fail"),
                  ("soft.example", "spf=softfail"),
                  ("neutral.example", "spf=neutral"),
                  ("nospf.example", "spf=none"),
                  ("twice.example", "spf=permerror"),
                  ("brokendns.example", "spf=temperror")):
    mark = "spf-%s" % dom
    h.send(smtp, "From: <a@%s>\nSubject: %s\n\nbody\n" % (dom, mark),
           sender="a@%s" % dom)
    msg = h.wait_delivered(mark)
    head = (msg or "").split("\n\n", 1)[0]
    import re
    ars = re.findall(r"^Authentication-Results:(.*(?:\n[ \t].*)*)", head, re.M)
    ours = [a for a in ars if a.strip().startswith("mx.test")]
    res = ar_parse(ours[0])[1:] if len(ours) == 1 else []
    t.ok(any(r == "%s smtp.mailfrom=%s" % (want, dom) for r in res),
         "Postfix, client 127.0.0.2, %s: %s" % (dom, want), "got %r" % res)
h.finish()
t.done()
