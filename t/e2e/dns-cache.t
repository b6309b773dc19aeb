#!/usr/bin/python3
# The daemon's DNS answer cache (lib/dns.c) answers within a TTL
# without asking libunbound, and keeps answers no longer than their TTL:
# a record changed in the loopback DNS server is seen once the old TTL has
# run out, a record with TTL 0 at once, a name that did not exist at first
# once its negative answer expires, and an error (REFUSED) is never kept.
#
# libunbound keeps the same answers in its own cache, so the DNS server
# alone cannot tell the two apart.  With log_dns = yes the daemon logs
# every query that gets past its cache to libunbound; the server's query
# log shows which reached the server.  Verdicts come from real milter
# sessions (SPF of MAIL FROM).
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, milter_ar, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
h.start_dns([
    'long.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
    'ttl2.example. 2 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
    'ttl0.example. 0 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
    # a zone of its own, so that "no such name" carries this SOA: its
    # minimum (2 s) is the negative answer's TTL
    'neg.example. 2 IN SOA ns.neg.example. h.neg.example. 1 60 60 60 2',
], ['local-zone: "neg.example." static'], control=True, log_queries=True)

af = h.start_authfilter({"dns_timeout": "3s", "log_dns": "yes"})


def spf(domain):
    res = milter_ar(af.port, "192.0.2.1", "mx.client.example", "a@" + domain)
    got = [r.split()[0] for r in res if r.startswith("spf=")]
    return got[0] if got else "?%r" % res


def lookups(name):
    """TXT lookups of name that got past authfilter's cache."""
    return af.log_text().count('"DNS query %s TXT"' % name)


def counts(name):
    return (lookups(name), h.dns_queries(name))


# Within the TTL: authfilter's cache answers, libunbound is not asked.
t.is_(spf("long.example"), "spf=pass", "TTL 300: pass")
t.is_(counts("long.example"), (1, 1), "first message: one lookup, one query "
      "at the server")
h.dns_remove("long.example")
h.dns_set('long.example. 300 IN TXT "v=spf1 -all"')
t.is_(spf("long.example"), "spf=pass", "changed in DNS: the cached answer "
      "stands within its TTL")
t.is_(counts("long.example"), (1, 1), "second message within the TTL: "
      "answered by authfilter's cache, libunbound not asked")


def until_seen(domain, want, asked, ttl):
    """Send messages until the verdict is want.  asked: when the message
    whose answer is cached started; that answer is kept at least until
    asked + ttl.  Returns (seen, seconds after asked, the lookup count
    after each message that ended while the answer was surely kept)."""
    within = []

    def seen():
        got = spf(domain)
        if time.monotonic() < asked + ttl:
            within.append(lookups(domain))
        return got == want
    ok = wait_for(seen, timeout=30, step=0.1)
    return ok, time.monotonic() - asked, within


# After the TTL: asked again, the new record is seen; not before.
# libunbound counts its TTLs in whole seconds of the wall clock, so for up
# to a second after authfilter's entry ran out it may still answer from
# its cache (TTL 0, not kept here): only the server's count is exact.
asked = time.monotonic()
t.is_(spf("ttl2.example"), "spf=pass", "TTL 2: pass")
h.dns_remove("ttl2.example")
h.dns_set('ttl2.example. 2 IN TXT "v=spf1 -all"')
ok, after, within = until_seen("ttl2.example", "spf=fail", asked, 2)
t.ok(ok, "after the TTL: the new record")
t.ok(after >= 2, "not before the TTL ran out", "seen after %.2fs" % after)
t.ok(all(n == 1 for n in within), "%d message(s) while the answer was kept: "
     "libunbound not asked" % len(within), within)
t.is_(h.dns_queries("ttl2.example"), 2, "the server was asked again once, "
      "after the TTL")

t.is_(spf("ttl0.example"), "spf=pass", "TTL 0: pass")
h.dns_remove("ttl0.example")
h.dns_set('ttl0.example. 0 IN TXT "v=spf1 -all"')
t.is_(spf("ttl0.example"), "spf=fail", "TTL 0: a change is seen at once")
t.is_(counts("ttl0.example"), (2, 2), "TTL 0: not kept, each message asks "
      "the server")

asked = time.monotonic()
t.is_(spf("sub.neg.example"), "spf=none", "a name that does not exist: none")
h.dns_set('sub.neg.example. 2 IN TXT "v=spf1 ip4:192.0.2.1 -all"')
ok, after, within = until_seen("sub.neg.example", "spf=pass", asked, 2)
t.ok(ok, "created later: seen once the negative answer expired")
t.ok(after >= 2, "the negative answer was kept for its TTL (SOA minimum)",
     "seen after %.2fs" % after)
t.ok(all(n == 1 for n in within), "%d message(s) while it was kept: "
     "libunbound not asked" % len(within), within)
t.is_(h.dns_queries("sub.neg.example"), 2, "the server was asked again once, "
      "after the TTL")

h._unbound_control("local_zone", "flaky.example.", "refuse")
t.is_(spf("flaky.example"), "spf=temperror", "REFUSED: temperror")
h._unbound_control("local_zone_remove", "flaky.example.")
h.dns_set('flaky.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"')
# libunbound itself holds a failure for a few seconds before it asks
# again; the answer cache must add nothing to that (it keeps answers for
# up to an hour, so keeping the error would show here).
tries = []
got = wait_for(lambda: tries.append(spf("flaky.example")) or
               tries[-1] == "spf=pass", timeout=30, step=0.2)
t.ok(got, "an error is not kept: the answer comes once libunbound asks "
     "again", tries)
t.is_(lookups("flaky.example"), 1 + len(tries), "every message after the "
      "error asked libunbound: none was answered from authfilter's cache")
# "No such name" without an SOA (here from the server's root zone) has no
# negative TTL (RFC 2308); libunbound reports a made-up one (32768 s).
# Such an answer is not kept: the record, once created, is seen as soon
# as libunbound asks again.
t.is_(spf("nosoa.example"), "spf=none", "no such name, no SOA: none")
h.dns_set('nosoa.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"')
tries = []
got = wait_for(lambda: tries.append(spf("nosoa.example")) or
               tries[-1] == "spf=pass", timeout=30, step=0.2)
t.ok(got, "no such name without an SOA is not kept for an hour", tries)
t.is_(lookups("nosoa.example"), 1 + len(tries), "every message after it "
      "asked libunbound: none was answered from authfilter's cache")
h.stop_authfilter(af)
h.finish()
t.done()
