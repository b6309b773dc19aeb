"""bench/dnslatency.py -- how long end of message waits for DNS (issue 16).

Used by bench/run (section "dns").  A delaying forwarder (t/lib/dnsdelay.py)
between authfilter and the loopback unbound adds a fixed time to every
answer, as a distant server does; every run starts with an empty cache
(a fresh daemon).  A client speaking the milter protocol as Postfix does
(no-reply stages) sends one DKIM-signed message with SPF (one include:)
and DMARC, and measures from end of message to the verdict:

  - waiting 300 ms between MAIL FROM and end of message (a real SMTP
    session's body takes about that): target <= 50 ms;
  - without waiting: target <= 2 round trips;
  - a hostile message: 16 From domains and 10 signatures, every answer
    0.9 s late, dns_timeout 1 s: bounded by dns_message_budget.
Each row: the median of RUNS runs, and the queries the forwarder saw.
"""
import statistics
import time

import dkim

from dnsdelay import DelayingForwarder
from harness import txt_record as _txt
from milterclient import Milter

RUNS = 5
CLIENT_IP = "198.51.100.25"


def records(pub):
    recs = [
        _txt("early.example.", "v=spf1 include:_spf.early.example -all"),
        _txt("_spf.early.example.", "v=spf1 ip4:%s -all" % CLIENT_IP),
        _txt("mx.client.example.", "v=spf1 ip4:%s -all" % CLIENT_IP),
        _txt("_dmarc.early.example.", "v=DMARC1; p=reject"),
        _txt("s1._domainkey.early.example.", "v=DKIM1; k=rsa; p=" + pub),
    ]
    for i in range(1, 17):
        recs.append(_txt("_dmarc.h%d.hostile.example." % i, "v=DMARC1; p=reject"))
    for i in range(1, 11):
        recs.append(_txt("s1._domainkey.d%d.hostile.example." % i,
                         "v=DKIM1; k=rsa; p=" + pub))
    return recs


def _message(pem, hostile):
    body = b"".join(b"line %04d of the body\r\n" % i for i in range(40))
    if hostile:
        frm = ", ".join("<a@h%d.hostile.example>" % i for i in range(1, 17))
        msg = ("From: %s\r\nTo: <b@example.net>\r\nSubject: hostile\r\n\r\n" %
               frm).encode() + body
        for i in range(1, 11):
            msg = dkim.sign(msg, b"s1", b"d%d.hostile.example" % i, pem,
                            include_headers=[b"from", b"to", b"subject"]) + msg
        return msg, "<a@h1.hostile.example>"
    msg = (b"From: <a@early.example>\r\nTo: <b@example.net>\r\n"
           b"Subject: early\r\n\r\n" + body)
    return dkim.sign(msg, b"s1", b"early.example", pem,
                     include_headers=[b"from", b"to", b"subject"]) + msg, \
        "<a@early.example>"


def _one(port, raw, sender, wait_s):
    head, body = raw.split(b"\r\n\r\n", 1)
    m = Milter("127.0.0.1", port, noreply=True, timeout=120)
    m.connect(hostname="mx.client.example", ip=CLIENT_IP)
    m.helo("mx.client.example")
    start = time.monotonic()
    m.mail(sender)
    m.rcpt("<b@example.net>")
    text = head.decode().replace("\r\n\t", "\n\t").replace("\r\n ", "\n ")
    for line in text.split("\r\n"):
        name, value = line.split(":", 1)
        m.header(name, value.replace("\n", "\r\n"))
    m.eoh()
    m.body(body)
    left = start + wait_s - time.monotonic()
    if left > 0:
        time.sleep(left)        # the SMTP client's time: the measured setup
    t0 = time.monotonic()
    code, _ = m.eom()
    ms = (time.monotonic() - t0) * 1000
    ar = [v for _, n, v in m.inserted_headers() if n == "Authentication-Results"]
    m.quit()
    return ms, code, (ar[0] if ar else "")


def run(h, dns_port, pem, lines):
    rows, n = [], 0
    for label, delay, hostile, wait_s, settings in (
            ("signed, SPF include + DMARC, 300 ms client wait", 0.1, False, 0.3, {}),
            ("signed, SPF include + DMARC, no wait", 0.1, False, 0.0, {}),
            ("hostile: 16 From domains, 10 signatures, answers 0.9 s late",
             0.9, True, 0.0, {"dns_timeout": "1s"})):
        raw, sender = _message(pem, hostile)
        times, queries, verdict = [], [], ""
        for i in range(RUNS):
            fwd = DelayingForwarder(dns_port, delay=delay)
            conf = {"dns_resolver": "127.0.0.1@%d" % fwd.port}
            conf.update(settings)
            n += 1              # a log of its own: "listening on" is per run
            af = h.start_authfilter(conf, name="af-dns%d" % n)
            ms, code, ar = _one(af.port, raw, sender, wait_s)
            h.stop_authfilter(af)
            times.append(ms)
            queries.append(fwd.count())
            fwd.stop()
            verdict = " ".join(w for w in ar.replace(";", " ").split()
                               if w.split("=")[0] in ("spf", "dkim", "dmarc"))
        rows.append((label, delay, statistics.median(times), max(times),
                     statistics.median(queries), verdict))
    lines += ["DNS: added end-of-message latency, cold cache, every answer "
              "delayed by a forwarder (median of %d runs)" % RUNS,
              "%-62s | %5s | %8s %8s | %7s | %s" % (
                  "message", "delay", "eom ms", "max ms", "queries", "verdict")]
    for label, delay, med, mx, q, verdict in rows:
        lines.append("%-62s | %4.0fms | %8.0f %8.0f | %7.0f | %s" % (
            label, delay * 1000, med, mx, q, verdict[:60]))
    lines.append("")
    return rows
