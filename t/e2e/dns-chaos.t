#!/usr/bin/python3
# DNS faults while mail flows (issue 20): between authfilter and the
# loopback unbound sits a forwarder that breaks the queries of some
# domains: SERVFAIL, garbage, truncated (no TCP), never answered, or
# answered after dns_timeout.  Messages of healthy and broken domains go
# through the milter protocol from six threads at once.  Every message
# gets its reply; a healthy one gets its real verdicts; a broken one gets
# temperror for SPF, DKIM and DMARC and, with temperror_action = tempfail
# in enforce mode, 451 4.7.1: the MTA keeps it and the sender retries.
# No message waits past its DNS budget (the client gives up after 20 s,
# the budget is 3 s), and the daemon stays up.
import json
import os
import sys
import threading

import dkim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from dnsdelay import DelayingForwarder  # noqa: E402
from harness import Harness, milter_raw, rsa_key, txt_record as txt  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
key, pub = rsa_key()
KINDS = ("ok", "servfail", "garbage", "truncated", "drop", "late")
records = []
for kind in KINDS:
    for n in range(2):
        dom = "%s-%d.example" % (kind, n)
        records += [txt(dom, "v=spf1 ip4:198.51.100.25 -all"),
                    txt("_dmarc." + dom, "v=DMARC1; p=reject"),
                    txt("s1._domainkey." + dom, "v=DKIM1; k=rsa; p=" + pub)]
h.start_dns(records)


def fault(name, qtype):
    for kind in KINDS[1:]:
        if name is not None and kind + "-" in name:
            return kind
    return None


fwd = DelayingForwarder(h.dns_port, fault=fault, late=1.5)
af = h.start_authfilter({"dns_resolver": "127.0.0.1@%d" % fwd.port,
                         "dns_timeout": "1s", "dns_message_budget": "3s",
                         "policy_mode": "enforce",
                         "temperror_action": "tempfail"})


def message(dom, i):
    m = (b"From: <a@%s>\r\nTo: <b@example.org>\r\nSubject: chaos %d\r\n"
         b"Message-ID: <%d@%s>\r\n\r\nbody\r\n" % (dom.encode(), i, i, dom.encode()))
    return dkim.sign(m, b"s1", dom.encode(), key,
                     include_headers=[b"from", b"subject"]) + m


results = {}


def sender(tid):
    for i in range(12):
        dom = "%s-%d.example" % (KINDS[(tid + i) % len(KINDS)], i % 2)
        try:
            code, ars = milter_raw(af.port, message(dom, tid * 100 + i),
                                   "<a@%s>" % dom)
        except Exception as e:       # the client's 20 s timeout, a reset
            code, ars = repr(e), []
        results[(tid, i)] = (dom, code, ars)


threads = [threading.Thread(target=sender, args=(tid,)) for tid in range(6)]
for th in threads:
    th.start()
for th in threads:
    th.join()

t.is_(len(results), 72, "72 messages sent from 6 threads")
bad = []
for (tid, i), (dom, code, ars) in sorted(results.items()):
    want = b"c" if dom.startswith("ok-") else b"y"   # y: the 451 reply
    if code != want:
        bad.append((dom, code))
t.is_(bad, [], "every message got its reply: continue for healthy domains, "
      "451 for broken ones (temperror_action = tempfail)")

# The verdicts, from the log (a tempfailed message gets no header).
bad, seen = [], 0
for line in af.log_text().splitlines():
    if '"action":' not in line:
        continue
    rec = json.loads(line)
    dom = rec.get("mail_from", "").strip("<>").split("@")[-1]
    seen += 1
    want = ("pass" if dom.startswith("ok-") else "temperror")
    action = "accept" if dom.startswith("ok-") else "tempfail"
    ar = rec.get("ar", "")
    if rec.get("action") != action or not all(
            "%s=%s" % (m, want) in ar for m in ("spf", "dkim", "dmarc")):
        bad.append((dom, rec.get("action"), ar))
t.is_(seen, 72, "one log line per message")
t.is_(bad, [], "healthy domains: spf, dkim and dmarc pass, accepted; broken "
      "ones: temperror for each, tempfailed")
t.ok(af.alive(), "the daemon is up after the faults")
t.like(af.log_text(), "dmarc_temperror", "the log names the reason")
h.stop_authfilter(af)
fwd.stop()
h.finish()
t.done()
