#!/usr/bin/python3
# A new key is activated only once every resolver has forgotten that its
# record did not exist.  Resolvers keep "no such record" for the zone's
# negative TTL (RFC 2308 section 5: the smaller of the SOA's TTL and its
# MINIMUM), not for the record's own TTL: authfilter-keys rotate waits for
# the longer of the two.  Here the record's TTL is 1 s and the zone's
# negative TTL 7 s: the wait noted in the key's state is 7 s.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
h.start_dns(['neg.example. 300 IN SOA ns.neg.example. h.neg.example. 1 60 60 60 7',
             'long.example. 300 IN SOA ns.long.example. h.long.example. 1 60 60 60 7200'],
            ['local-zone: "neg.example." static', 'local-zone: "long.example." static'],
            control=True)
conf = h.write_conf({"user": "nobody", "key_dir": kd,
                     "dns_resolver": "127.0.0.1@%d" % h.dns_port}, "keys.conf")


def keys(*args):
    return h.keys(conf, *args)


def noted_ttl(dom, sel):
    with open(os.path.join(kd, dom, sel + ".state")) as f:
        m = re.search(r"^ttl = (\d+)$", f.read(), re.M)
    return int(m.group(1)) if m else None


for dom, want, why in (("neg.example", 7, "the zone's negative TTL (7 s) "
                        "over the record's (1 s)"),
                       ("long.example", 300, "the SOA's own TTL (300 s) when "
                        "it is below its MINIMUM (7200 s)")):
    rc, out, err = keys("new", dom, "--selector", "r1")
    m = re.search(r'^(\S+) IN TXT \( (.*) \)$', out, re.M)
    t.ok(rc == 0 and m, "%s: a pending key and its record" % dom, out + err)
    h.dns_set("%s 1 IN TXT %s" % (m.group(1), m.group(2)))
    rc, out, err = keys("rotate", dom)
    t.like(out, "DNS serves the record", "%s: rotate sees the record" % dom)
    t.is_(noted_ttl(dom, "r1"), want, "%s: the wait is %s" % (dom, why))
h.finish()
t.done()
