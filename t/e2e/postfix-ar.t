#!/usr/bin/python3
# End to end through a real Postfix: authfilter adds exactly one
# Authentication-Results header, removes forged ones carrying its
# authserv-id in any spelling, keeps foreign ones; with authfilter down,
# Postfix answers 4xx and the mail stays with the sender.
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, SRCDIR, BUILDDIR  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
af = h.start_authfilter()
sink = h.start_sink()
smtp = h.start_postfix(milter_port=af.port, sink_port=sink)


def headers_of(msg):
    """Unfolded (name, value) pairs of the header section."""
    head = msg.split("\n\n", 1)[0]
    out = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            out.append((name, value.strip()))
    return out


def ar_parse(values):
    tool = os.path.join(BUILDDIR, "t", "tools", "ar-parse")
    r = subprocess.run([tool], input="\n".join(values) + "\n",
                       capture_output=True, text=True)
    return r.stdout


FORGED = [
    "mx.test; spf=pass smtp.mailfrom=bank.example",
    "MX.TEST; dkim=pass header.d=bank.example",
    "(look, a comment) mx.test ; dmarc=pass header.from=bank.example",
    "\"mx.test\"; dmarc=pass",
    "mx.test.; spf=pass",
]
FOREIGN = "relay.example.net; spf=pass smtp.mailfrom=example.org"

msg = "From: sender@example.org\r\nTo: rcpt@example.net\r\nSubject: ar-test-1\r\n"
for v in FORGED:
    msg += "Authentication-Results: %s\r\n" % v
msg += "authentication-results: " + FORGED[0] + "\r\n"
msg += "Authentication-Results: %s\r\n" % FOREIGN
msg += "Message-ID: <ar-test-1@example.org>\r\n\r\nbody\r\n"

code, out = h.send(smtp, msg)
t.is_(code, 250, "message accepted through Postfix + authfilter")
got = h.wait_delivered("ar-test-1")
t.ok(got is not None, "message reached the sink", h.maillog())
hdrs = headers_of(got or "")
ars = [v for n, v in hdrs if n.lower() == "authentication-results"]
ours = [v for v in ars if v.lower().startswith("mx.test")]
t.is_(len(ours), 1, "exactly one Authentication-Results with our authserv-id")
t.ok(FOREIGN in ars, "foreign Authentication-Results kept", "\n".join(ars))
t.is_(len(ars), 2, "forged ones (6 spellings) removed: ours + foreign left")
parsed = ar_parse(ours)
t.is_(parsed, "authserv-id=mx.test\nspf=none smtp.mailfrom=example.org\n"
      "dkim=none\ndmarc=none header.from=example.org\n",
      "our header parses back and honestly says spf=none (no record), "
      "dkim=none (unsigned), dmarc=none (no record)")
t.is_(hdrs[0] if hdrs else None, ("Authentication-Results",
                                      "mx.test; spf=none smtp.mailfrom=example.org; dkim=none; "
                                      "dmarc=none (no DMARC record) header.from=example.org"),
      "our header is the first one, above Postfix's Received")

# One log line per message, valid JSON, with the queue id Postfix used.
qid = None
for line in h.maillog().splitlines():
    if "ar-test-1@example.org" in line and "message-id" in line:
        qid = line.split(": ")[1].split(":")[0] if ": " in line else None
lines = [json.loads(l) for l in af.log_text().splitlines() if l.startswith("{")]
msglines = [l for l in lines if l.get("action")]
t.is_(len(msglines), 1, "one log line for the message")
m = msglines[0] if msglines else {}
t.ok(qid is not None, "Postfix logged a queue id for the message")
t.is_(m.get("queue_id"), qid, "log line carries Postfix's queue id")
t.is_(m.get("direction"), "inbound", "127.0.0.2 is outside internal_networks")
t.is_(m.get("ar_removed"), 6, "log counts removed forged headers (a JSON "
      "number)")
t.like(m.get("client", ""), "[127.0.0.2]", "log names the client address")

# A client inside internal_networks is outbound.
code, _ = h.send(smtp, "From: a@example.org\r\nSubject: ar-test-2\r\n\r\nx\r\n",
                 source="127.0.0.1")
t.is_(code, 250, "internal client accepted")
t.ok(h.wait_delivered("ar-test-2") is not None, "internal message delivered")
lines = [json.loads(l) for l in af.log_text().splitlines() if l.startswith("{")]
t.is_([l.get("direction") for l in lines if l.get("action")][-1:], ["outbound"],
      "127.0.0.1 is inside internal_networks: outbound")

# Header name variants Postfix passes through (F5): a header with white
# space before the colon.
code, _ = h.send(smtp, "From: a@example.org\r\nSubject: ar-test-3\r\n"
                 "Authentication-Results : mx.test; spf=pass\r\n\r\nx\r\n")
got = h.wait_delivered("ar-test-3")
ars = [v for n, v in headers_of(got or "") if n.strip().lower() == "authentication-results"]
t.is_(len(ars), 1, "'Authentication-Results :' with our id is removed too", )

# A header line without a colon (bad-input M1): Postfix ends the header
# section there; authfilter still answers and the mail is delivered whole.
code, _ = h.send(smtp, "From: a@example.org\r\nSubject: ar-test-nocolon\r\n"
                 "This line has no colon\r\nX-After: 1\r\n\r\nbody\r\n")
got = h.wait_delivered("ar-test-nocolon")
t.ok(code == 250 and got is not None and "This line has no colon" in got
     and "mx.test;" in got, "header line without a colon: delivered with our header",
     got)

# A 90 KB header (Postfix allows up to header_size_limit = 100 KiB) must
# not make libmilter drop the session: that would tempfail it forever.
long = "X-Long: " + "\r\n\t".join(" ".join("w%05d" % (i * 10 + j) for j in range(10))
                                     for i in range(1300))
code, out = h.send(smtp, "From: a@example.org\r\nSubject: ar-test-long\r\n" +
                   long + "\r\n\r\nx\r\n")
t.is_(code, 250, "a 90 KB folded header passes through Postfix and authfilter")
t.ok(h.wait_delivered("ar-test-long") is not None, "and is delivered")

# With authfilter down, Postfix tempfails and keeps nothing.
rc = h.stop_authfilter(af)
t.is_(rc, 0, "authfilter exits 0 on SIGTERM")
before = len(h.delivered(settle=0))
code, out = h.send(smtp, "From: a@example.org\r\nSubject: ar-test-down\r\n\r\nx\r\n")
t.ok(code is not None and 400 <= code < 500, "milter down: Postfix answers 4xx",
     out)
t.ok("451 4.7.1" in out, "the 4xx is Postfix's milter tempfail (451 4.7.1)", out)
t.is_(h.queue_listing().strip(), "Mail queue is empty",
      "nothing queued: the sender keeps the mail")
t.is_(len(h.delivered(settle=0)), before, "nothing delivered while authfilter is down")

# Back up on the same port: the same mail goes through.
af2 = h.start_authfilter({"milter_socket": "inet:%d@127.0.0.1" % af.port}, name="authfilter2")
code, _ = h.send(smtp, "From: a@example.org\r\nSubject: ar-test-retry\r\n\r\nx\r\n")
t.is_(code, 250, "after restart the retried mail is accepted")
t.ok(h.wait_delivered("ar-test-retry") is not None, "and delivered")
h.finish()
t.done()
