#!/usr/bin/python3
# The daemon's DNS answer cache (milter/dns.c) keeps answers no longer
# than their TTL: a record changed in the loopback DNS server is seen once
# the old TTL has run out, a record with TTL 0 at once, a name that did not
# exist at first once its negative answer expires, and an error (REFUSED)
# is never kept.  Observed through SPF verdicts of real milter sessions.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, milter_ar  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
h.start_dns([
    'ttl2.example. 2 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
    'ttl0.example. 0 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
    # a zone of its own, so that "no such name" carries this SOA: its
    # minimum (2 s) is the negative answer's TTL
    'neg.example. 2 IN SOA ns.neg.example. h.neg.example. 1 60 60 60 2',
], ['local-zone: "neg.example." static'], control=True)
af = h.start_authfilter({"dns_timeout": "3s"})


def spf(domain):
    res = milter_ar(af.port, "192.0.2.1", "mx.client.example", "a@" + domain)
    got = [r.split()[0] for r in res if r.startswith("spf=")]
    return got[0] if got else "?%r" % res


t.is_(spf("ttl2.example"), "spf=pass", "TTL 2: pass")
h.dns_remove("ttl2.example")
h.dns_set('ttl2.example. 2 IN TXT "v=spf1 -all"')
t.is_(spf("ttl2.example"), "spf=pass", "changed in DNS: the cached answer stands "
      "within its TTL")
time.sleep(3)
t.is_(spf("ttl2.example"), "spf=fail", "after the TTL: the new record")

t.is_(spf("ttl0.example"), "spf=pass", "TTL 0: pass")
h.dns_remove("ttl0.example")
h.dns_set('ttl0.example. 0 IN TXT "v=spf1 -all"')
t.is_(spf("ttl0.example"), "spf=fail", "TTL 0: a change is seen at once")

t.is_(spf("sub.neg.example"), "spf=none", "a name that does not exist: none")
h.dns_set('sub.neg.example. 2 IN TXT "v=spf1 ip4:192.0.2.1 -all"')
time.sleep(3)
t.is_(spf("sub.neg.example"), "spf=pass",
      "created later: seen once the negative answer expired")

h._unbound_control("local_zone", "flaky.example.", "refuse")
t.is_(spf("flaky.example"), "spf=temperror", "REFUSED: temperror")
h._unbound_control("local_zone_remove", "flaky.example.")
h.dns_set('flaky.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"')
# libunbound itself holds a failure for a few seconds before it asks
# again; the answer cache must add nothing to that (it keeps answers for
# up to an hour, so keeping the error would show here).
start = time.time()
got = spf("flaky.example")
while got != "spf=pass" and time.time() - start < 15:
    time.sleep(0.5)
    got = spf("flaky.example")
t.ok(got == "spf=pass", "an error is not kept: the answer comes once "
     "libunbound asks again", "after %.1fs: %s" % (time.time() - start, got))
h.stop_authfilter(af)
h.finish()
t.done()
