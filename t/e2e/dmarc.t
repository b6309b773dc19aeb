#!/usr/bin/python3
# DMARC of incoming mail (issue 6): through a real Postfix (client
# 127.0.0.2) pass by SPF only, by DKIM only, fail, none, and a subdomain
# through its organizational domain; then, through the milter protocol,
# the inputs behind OpenDMARC's CVEs (bad-input D3) and From ambiguity
# (F1): each gets the RFC's verdict and the daemon stays up.  Last, the
# same message under both discoveries: RFC 9989's tree walk (the default)
# and dmarc_discovery = psl (RFC 7489, the public suffix list).
import json
import os
import re
import sys

import dkim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, ar_parse, milter_ar, rsa_key, txt_record as txt  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)


key, pub = rsa_key()


h.start_dns([
    # SPF: 127.0.0.2 (Postfix's client) and 192.0.2.1 (milter client)
    txt("spf-ok.example", "v=spf1 ip4:127.0.0.2 ip4:192.0.2.1 -all"),
    txt("_dmarc.spf-ok.example", "v=DMARC1; p=reject"),
    txt("dkim-ok.example", "v=spf1 -all"),
    txt("_dmarc.dkim-ok.example", "v=DMARC1; p=reject; aspf=s"),
    txt("s1._domainkey.dkim-ok.example", "v=DKIM1; k=rsa; p=" + pub),
    txt("bad.example", "v=spf1 -all"),
    txt("_dmarc.bad.example", "v=DMARC1; p=quarantine"),
    txt("plain.example", "v=spf1 -all"),
    txt("_dmarc.org.example", "v=DMARC1; p=none; sp=reject"),
    txt("sub.org.example", "v=spf1 -all"),
    txt("helo-ok.example", "v=spf1 ip4:192.0.2.1 -all"),
    txt("_dmarc.helo-ok.example", "v=DMARC1; p=reject"),
    txt("_dmarc.empty-p.example", "v=DMARC1; p="),
    txt("_dmarc.semicolons.example", "v=DMARC1;;;;"),
    # mail.psl.example publishes; its parent psl.example does not.
    txt("_dmarc.mail.psl.example", "v=DMARC1; p=reject"),
    txt("psl.example", "v=spf1 ip4:192.0.2.1 -all"),
])
af = h.start_authfilter({"dns_timeout": "2s"})
sink = h.start_sink()
smtp = h.start_postfix(af.port, sink)


def delivered_dmarc(mark):
    msg = h.wait_delivered(mark) or ""
    head = msg.split("\n\n", 1)[0]
    ars = re.findall(r"^Authentication-Results:(.*(?:\n[ \t].*)*)", head, re.M)
    ours = [a for a in ars if a.strip().startswith("mx.test")]
    res = ar_parse(ours[0])[1:] if len(ours) == 1 else []
    return ([r for r in res if r.startswith("dmarc=")] or ["?%r" % res])[0]


def msg(frm, mark):
    return ("From: <%s>\r\nTo: <r@mx.example>\r\nSubject: %s\r\n\r\nbody %s\r\n"
            % (frm, mark, mark)).encode()


through_postfix = [
    ("spf-ok.example", "a@spf-ok.example", False,
     "dmarc=pass header.from=spf-ok.example policy.dmarc=reject", "pass by SPF only"),
    ("dkim-ok.example", "a@dkim-ok.example", True,
     "dmarc=pass header.from=dkim-ok.example policy.dmarc=reject",
     "pass by DKIM only (SPF fails, aspf=s)"),
    ("bad.example", "a@bad.example", False,
     "dmarc=fail header.from=bad.example policy.dmarc=quarantine", "fail"),
    ("plain.example", "a@plain.example", False,
     "dmarc=none header.from=plain.example", "no record: none"),
    ("sub.org.example", "a@sub.org.example", False,
     "dmarc=fail header.from=sub.org.example policy.dmarc=reject",
     "subdomain: the organizational domain's record, its sp="),
]
for dom, sender, sign, want, name in through_postfix:
    mark = "dmarc-%s" % dom
    m = msg(sender, mark)
    if sign:
        m = dkim.sign(m, b"s1", dom.encode(), key,
                      include_headers=[b"from", b"subject"]) + m
    h.send(smtp, m, sender=sender)
    got = delivered_dmarc(mark)
    t.is_(got, want, "Postfix: %s" % name)

# ---- bad-input D3 / F1 through the milter protocol ----


def dm(frm_headers, mailfrom, helo="mx.client.example"):
    res = milter_ar(af.port, "192.0.2.1", helo, mailfrom,
                    headers=frm_headers + [("Subject", "t")])
    return ([r for r in res if r.startswith("dmarc=")] or ["?%r" % res])[0]


t.is_(dm([("From", " a@spf-ok.example, b@bad.example")], "a@spf-ok.example"),
      "dmarc=fail header.from=bad.example policy.dmarc=quarantine",
      "CVE-2019-16378: two From domains, each evaluated, the failing one "
      "decides")
t.is_(dm([("From", " <a@bad.example(.spf-ok.example>")], "a@spf-ok.example"),
      "dmarc=permerror",
      "CVE-2020-12272: an unclosed comment in the domain: permerror, never "
      "spf-ok.example")
t.is_(dm([("From", " <a@bad.example(.spf-ok.example)>")], "a@spf-ok.example"),
      "dmarc=fail header.from=bad.example policy.dmarc=quarantine",
      "CVE-2020-12272: a closed comment is no part of the domain")
t.is_(dm([("From", " <a@bad.example>"),
          ("Authentication-Results", " mx.other; dkim=pass header.d=bad.example; "
           "spf=pass smtp.mailfrom=bad.example")], "a@spf-ok.example"),
      "dmarc=fail header.from=bad.example policy.dmarc=quarantine",
      "CVE-2020-12272: foreign Authentication-Results are never trusted")
t.is_(dm([("From", " <a@helo-ok.example>")], "a@bad.example",
         helo="helo-ok.example"),
      "dmarc=fail header.from=helo-ok.example policy.dmarc=reject",
      "CVE-2019-20790: an SPF pass for HELO does not stand for MAIL FROM")
t.is_(dm([("From", " <a@helo-ok.example>")], "", helo="helo-ok.example"),
      "dmarc=pass header.from=helo-ok.example policy.dmarc=reject",
      "null sender: the HELO identity's SPF pass counts")
t.is_(dm([("From", " a@spf-ok.example, not an address")], "a@spf-ok.example"),
      "dmarc=permerror",
      "CVE-2021-34555: multi-valued From with garbage: permerror, no crash")
t.is_(dm([("From", " <a@empty-p.example>")], "a@spf-ok.example"),
      "dmarc=none header.from=empty-p.example",
      "CVE-2024-25768-style: record with an empty p=: none, no crash")
t.is_(dm([("From", " <a@semicolons.example>")], "a@spf-ok.example"),
      "dmarc=none header.from=semicolons.example",
      "record of empty tags: none, no crash")
t.is_(dm([("From", " a@spf-ok.example"), ("From", " b@spf-ok.example")],
         "a@spf-ok.example"), "dmarc=permerror", "F1: two From headers: permerror")
t.is_(dm([], "a@spf-ok.example"), "dmarc=none", "F1: no From: none")
t.is_(dm([("From", " undisclosed-recipients:;")], "a@spf-ok.example"),
      "dmarc=permerror", "F1: From without an address: permerror")
t.is_(dm([("From", ' "a@spf-ok.example" <x@bad.example>')], "a@spf-ok.example"),
      "dmarc=fail header.from=bad.example policy.dmarc=quarantine",
      "F2: the display name is never the Author Domain")
t.is_(dm([("From", " <a@co.uk>")], "a@spf-ok.example"),
      "dmarc=none header.from=co.uk", "D5: a public suffix as From: none")
t.ok(af.alive(), "daemon alive after every DMARC case")

# ---- discovery: tree walk (default) or the public suffix list ----
# The tree walk finds one record, mail.psl.example's own: that is its
# organizational domain, and MAIL FROM psl.example does not align.  The
# suffix list says psl.example for both: aligned.
t.is_(dm([("From", " <a@mail.psl.example>")], "a@psl.example"),
      "dmarc=fail header.from=mail.psl.example policy.dmarc=reject",
      "tree walk: a parent that publishes nothing is another organization")
h.stop_authfilter(af)
af = h.start_authfilter({"dns_timeout": "2s", "dmarc_discovery": "psl"},
                        name="psl")
t.is_(dm([("From", " <a@mail.psl.example>")], "a@psl.example"),
      "dmarc=pass header.from=mail.psl.example policy.dmarc=reject",
      "dmarc_discovery = psl: RFC 7489's organizational domain psl.example")
line = json.loads(af.log_text().strip().splitlines()[-1])
t.is_(line.get("dmarc_discovery"), "public suffix list",
      "the log says the suffix list found it")
h.finish()
t.done()
