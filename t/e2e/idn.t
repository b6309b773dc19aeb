#!/usr/bin/python3
# SMTPUTF8 mail (Postfix has smtputf8_enable = yes by default): a From
# or MAIL FROM domain in U-labels ("bücher.example") counts as its
# A-label ("xn--bcher-kva.example", RFC 8616): DMARC, SPF and the key
# store look that name up.  Before, a U-label From was "no usable
# domain" (550 in enforce mode), SPF of a U-label MAIL FROM was "none",
# and outbound mail from such a From was not signed.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import TEST_USER, Harness, ar_parse, txt_record  # noqa: E402
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
A = "xn--bcher-kva.example"
U = "b\u00fccher.example"
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": TEST_USER, "key_dir": kd}, "keys.conf")
records = h.active_keys(kconf, [(A, "rsa", "s1")], checked=False)
h.start_dns(records + [txt_record(A, "v=spf1 ip4:192.0.2.1 -all"),
                       txt_record("_dmarc." + A, "v=DMARC1; p=reject")])
af = h.start_authfilter({"key_dir": kd, "policy_mode": "enforce"})


def message(ip, frm, mailfrom, subject):
    m = Milter("127.0.0.1", af.port)
    try:
        m.connect(hostname="client.test", ip=ip)
        m.helo("mx.client.example")
        code, text = m.message([("From", " J\u00f6rg <%s>" % frm),
                                ("To", " <b@example.net>"),
                                ("Subject", " " + subject)],
                               sender="<%s>" % mailfrom)
        ins = [(n, v) for _, n, v in m.inserted_headers()]
    finally:
        m.close()
    return code, ins


code, ins = message("192.0.2.1", "j\u00f6rg@" + U, "j\u00f6rg@" + U, "in-1")
ars = [ar_parse(v) for n, v in ins if n == "Authentication-Results"]
res = ars[0] if ars else []
t.is_(code, b"c", "inbound, U-label From and MAIL FROM, enforce: accepted")
t.ok("spf=pass smtp.mailfrom=%s" % A in res,
     "SPF checks the MAIL FROM domain's A-label: pass", repr(res))
t.ok(any(r.startswith("dmarc=pass") and "header.from=%s" % A in r for r in res),
     "DMARC of the From's A-label: pass (it was 'no usable domain': 550)", repr(res))

code, ins = message("192.0.2.99", "ceo@" + U, "ceo@" + U, "in-2")
t.is_(code, b"y", "a spoof in U-labels is rejected like one in A-labels (p=reject)")

code, ins = message("127.0.0.1", "j\u00f6rg@" + U, "j\u00f6rg@" + U, "out-1")
sigs = [v for n, v in ins if n == "DKIM-Signature"]
t.ok(code == b"c" and len(sigs) == 1 and "d=%s;" % A in sigs[0].replace(" ", ""),
     "outbound from a U-label From: signed with the A-label's key", repr(sigs))
h.finish()
t.done()
