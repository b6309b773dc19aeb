#!/usr/bin/python3
# DNS lookups start early and the waiting of a message is bounded.
#
# 1. The SPF record of the MAIL FROM domain (and the record it includes),
#    the DKIM key record and the DMARC record are asked for before end of
#    message is sent: the test waits for the forwarder to see each query
#    while the message is still open.  At end of message the checks use
#    those answers: each name was asked once, and the verdicts are right.
#    DMARC's tree walk (RFC 9989 4.10) is asked for whole: every name of
#    the From domain's walk, and the names a signer's own walk adds
#    (d=mail.sender.example: _dmarc.mail.sender.example).
# 2. With a server that never answers, end of message waits at most
#    dns_message_budget (2 s here, dns_timeout 10 s), gives temperror,
#    and meanwhile tells the MTA it is alive (SMFIR_PROGRESS).
import os
import sys

import dkim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from dnsdelay import DelayingForwarder  # noqa: E402
from harness import Harness, rsa_key, txt_record as txt, wait_for  # noqa: E402
from milterclient import Milter, CONTINUE  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)


key, p = rsa_key()
h.start_dns([
    txt("sender.example.", "v=spf1 include:_spf.sender.example -all"),
    txt("_spf.sender.example.", "v=spf1 ip4:192.0.2.1 -all"),
    txt("s1._domainkey.sender.example.", "v=DKIM1; k=rsa; p=" + p),
    txt("_dmarc.sender.example.", "v=DMARC1; p=reject"),
    txt("s1._domainkey.slow.example.", "v=DKIM1; k=rsa; p=" + p),
    txt("s1._domainkey.mail.sender.example.", "v=DKIM1; k=rsa; p=" + p),
])


def signed(dom, d=None):
    msg = (b"From: <a@%s>\r\nTo: <b@example.net>\r\nSubject: early\r\n"
           b"Message-ID: <1@%s>\r\n\r\nHello.\r\n" % (dom, dom))
    sig = dkim.sign(msg, b"s1", d or dom, key,
                    include_headers=[b"from", b"to", b"subject"])
    return sig + msg


def open_message(af, dom, d=None):
    """A message through its end of headers; returns (milter, body)."""
    raw = signed(dom.encode(), d.encode() if d else None)
    head, body = raw.split(b"\r\n\r\n", 1)
    m = Milter("127.0.0.1", af.port)
    m.connect(hostname="mx.client.test", ip="192.0.2.1")
    m.helo("mx." + dom)
    m.mail("<a@%s>" % dom)
    m.rcpt("<b@example.net>")
    lines = head.decode().replace("\r\n\t", "\n\t").replace("\r\n ", "\n ").split("\r\n")
    for line in lines:
        name, value = line.split(":", 1)
        m.header(name, value.replace("\n", "\r\n"))
    m.eoh()
    return m, body


def finish(m, body):
    """Body and end of message: (reply code, our AR header or "")."""
    m.body(body)
    code, _ = m.eom()
    ar = [v for i, n, v in m.inserted_headers() if n == "Authentication-Results"]
    return code, ar[0] if ar else ""


# 1. Lookups before end of message.
fwd = DelayingForwarder(h.dns_port, delay=0.1)
af = h.start_authfilter({"dns_resolver": "127.0.0.1@%d" % fwd.port})
m, body = open_message(af, "sender.example")
wanted = ["sender.example", "_spf.sender.example", "s1._domainkey.sender.example",
          "_dmarc.sender.example", "_dmarc.example"]
for name in wanted:
    t.ok(wait_for(lambda: fwd.seen(name) > 0, timeout=10),
         "asked for %s TXT before end of message" % name,
         "queries: %r" % fwd.queries)
code, ar = finish(m, body)
t.ok(code == CONTINUE, "accepted", repr(code))
t.like(ar, "spf=pass smtp.mailfrom=sender.example", "SPF pass through the include")
t.like(ar, "dkim=pass header.d=sender.example", "DKIM pass")
t.like(ar, "dmarc=pass", "DMARC pass")
for name in wanted:
    t.is_(fwd.seen(name), 1, "%s asked once: end of message used that answer" % name)
m.quit()
# A signer below the From domain: its walk's own name too, before the end.
m, body = open_message(af, "sender.example", d="mail.sender.example")
t.ok(wait_for(lambda: fwd.seen("_dmarc.mail.sender.example") > 0, timeout=10),
     "asked for the signer's walk (_dmarc.mail.sender.example) before end "
     "of message", "queries: %r" % fwd.queries)
code, ar = finish(m, body)
t.like(ar, "dkim=pass header.d=mail.sender.example", "DKIM pass, d= below From")
t.like(ar, "dmarc=pass (DKIM aligned", "DMARC pass: the walks found one "
       "organizational domain")
t.is_(fwd.seen("_dmarc.mail.sender.example"), 1,
      "_dmarc.mail.sender.example asked once")
m.quit()
h.stop_authfilter(af)
fwd.stop()

# 2. A server that never answers: bounded by the budget, progress sent.
fwd = DelayingForwarder(h.dns_port, drop=lambda name, qtype: name is not None and
                        "slow.example" in name)
af = h.start_authfilter({"dns_resolver": "127.0.0.1@%d" % fwd.port,
                         "dns_timeout": "10s", "dns_message_budget": "2s"},
                        name="budget")
m, body = open_message(af, "slow.example")
code, ar = finish(m, body)
t.ok(code == CONTINUE, "a verdict, not a hung session", repr(code))
t.like(ar, "spf=temperror", "SPF: temperror when the budget is used up")
t.like(ar, "dkim=temperror", "DKIM: temperror")
t.like(ar, "dmarc=temperror", "DMARC: temperror")
t.ok(m.progress >= 1, "the MTA heard SMFIR_PROGRESS while we waited",
     "progress frames: %d" % m.progress)
m.quit()
h.stop_authfilter(af)
fwd.stop()
h.finish()
t.done()
