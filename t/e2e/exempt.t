#!/usr/bin/python3
# Exemptions from inbound enforcement (policy_mode = enforce): a DMARC
# p=reject failure is rejected, except when every recipient is in
# exempt_recipients ("postmaster@" any domain, "@domain", "local@domain"),
# so that complaints about our rejects arrive; mail from unchecked_clients
# is not checked at all (no DNS lookup, no verdict).  The log line's
# reason says which.
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness  # noqa: E402
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
h.start_dns(['rej.example. 300 IN TXT "v=spf1 -all"',
             '_dmarc.rej.example. 300 IN TXT "v=DMARC1; p=reject"'])
d = h.start_authfilter({"policy_mode": "enforce", "log_dns": "yes",
                        "exempt_recipients": "postmaster@, @abuse.test, Legal@Example.NET",
                        "unchecked_clients": "192.0.2.77/32"})


def send(rcpts, ip="192.0.2.1", mark="x"):
    m = Milter("127.0.0.1", d.port)
    m.connect(ip=ip)
    m.helo()
    m.mail("<%s@rej.example>" % mark)
    for r in rcpts:
        m.rcpt("<%s>" % r)
    m.header("From", " <a@rej.example>")
    m.eoh()
    m.body(b"hello\r\n")
    code, _ = m.eom()
    m.close()
    line = None
    for ln in d.log_text().splitlines():
        try:
            j = json.loads(ln)
        except ValueError:
            continue
        if j.get("mail_from") == "<%s@rej.example>" % mark:
            line = j
    return code, line or {}


code, line = send(["b@example.net"], mark="base")
t.is_((code, line.get("action")), (b"y", "reject"), "DMARC p=reject failure: rejected")
for rcpts, mark, name in (
        (["postmaster@example.net"], "pm", "postmaster@ (any domain)"),
        (["POSTMASTER@other.example", "x@abuse.test"], "both", "every recipient exempt"),
        (["legal@example.net"], "legal", "local@domain, without regard to case")):
    code, line = send(rcpts, mark=mark)
    t.is_((code, line.get("action"), line.get("reason")), (b"c", "accept", "exempt_recipient"),
          "%s: accepted, reason exempt_recipient" % name)
    t.is_(line.get("dmarc"), "fail", "%s: still checked and logged (dmarc=fail)" % name)
code, line = send(["postmaster@example.net", "b@example.net"], mark="mixed")
t.is_((code, line.get("action")), (b"y", "reject"),
      "one recipient not exempt: rejected (the MTA cannot split the message)")
code, line = send(["legal@other.example"], mark="legal2")
t.is_(line.get("action"), "reject", "local@domain matches that domain only")

queries_before = d.log_text().count("DNS query")
code, line = send(["b@example.net"], ip="192.0.2.77", mark="unchecked")
t.is_((code, line.get("action"), line.get("reason")), (b"c", "accept", "unchecked_client"),
      "unchecked_clients: accepted, reason unchecked_client")
t.ok("spf" not in line and "dmarc" not in line, "no verdict logged", json.dumps(line))
t.is_(d.log_text().count("DNS query"), queries_before, "and no DNS lookup made")

# The relay of ours that checked it put its verdict (our authserv-id) on
# top: kept, and no header of ours added (a "dkim=none" there was false).
m = Milter("127.0.0.1", d.port)
m.connect(ip="192.0.2.77")
m.helo()
m.mail("<relayed@rej.example>")
m.rcpt("<b@example.net>")
relay_ar = " mx.test; spf=pass smtp.mailfrom=rej.example; dkim=pass header.d=rej.example"
m.header("Authentication-Results", relay_ar)
m.header("From", " <a@rej.example>")
m.eoh()
m.body(b"hello\r\n")
code, _ = m.eom()
ins, chg = m.inserted_headers(), m.changed_headers()
m.close()
t.is_((code, ins, chg), (b"c", [], []),
      "unchecked_clients: the relay's Authentication-Results kept, none of ours added")
h.finish()
t.done()
