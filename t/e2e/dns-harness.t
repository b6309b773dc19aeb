#!/usr/bin/python3
# The loopback DNS server of the harness (unbound with records the test
# writes): answers what the test wrote, NXDOMAIN for the rest, and never
# asks anyone else.
import os
import sys

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
long_txt = "v=DKIM1; k=rsa; p=" + "A" * 300
port = h.start_dns([
    'example.org. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"',
    's1._domainkey.example.org. 300 IN TXT "%s" "%s"' % (long_txt[:255], long_txt[255:]),
    'mx.example.org. 300 IN A 192.0.2.25',
])


def ask(name, rdtype):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=5)


r = ask("example.org", "TXT")
t.is_(dns.rcode.to_text(r.rcode()), "NOERROR", "TXT query answered")
t.is_([b"".join(rd.strings).decode() for rr in r.answer for rd in rr],
      ["v=spf1 ip4:192.0.2.0/24 -all"], "the record the test wrote")
r = ask("s1._domainkey.example.org", "TXT")
t.is_([b"".join(rd.strings).decode() for rr in r.answer for rd in rr], [long_txt],
      "a TXT record split into 255-byte strings comes back whole")
t.is_([rd.address for rr in ask("mx.example.org", "A").answer for rd in rr],
      ["192.0.2.25"], "A record")
r = ask("nothere.example.org", "TXT")
t.is_(dns.rcode.to_text(r.rcode()), "NXDOMAIN", "an unwritten name is NXDOMAIN")
r = ask("www.debian.org", "A")
t.is_(dns.rcode.to_text(r.rcode()), "NXDOMAIN", "outside names are never looked up")
h.finish()
t.done()
