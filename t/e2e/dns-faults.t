#!/usr/bin/python3
# DNS failure modes (bad-input N1-N4): for DKIM key lookups a server that
# never answers, one that answers garbage, one that truncates without TCP,
# and a 5 KiB key record; CNAME loops at the DKIM key name, the DMARC
# record name and an SPF include; a resolver that is down when the daemon
# starts and comes up later.  Each gives a verdict (temperror or
# permerror) in bounded time, never a pass, never a crash.
import os
import socket
import struct
import sys
import threading
import time

import dkim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, free_port, wait_for  # noqa: E402
from milterclient import Milter, split_message  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)


def fake_dns(answer):
    """A UDP (and TCP) DNS responder on 127.0.0.1 that answers each query
    with answer(query) or, when that is None, never answers."""
    port = free_port()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", port))
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", port))
    tcp.listen(16)          # accepts, never reads: TCP hangs as well

    def serve():
        while True:
            try:
                q, peer = u.recvfrom(4096)
            except OSError:
                return
            a = answer(q)
            if a is not None:
                u.sendto(a, peer)
    threading.Thread(target=serve, daemon=True).start()
    return port


def garbage(q):
    return q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + b"\xff" * 40


def truncated(q):
    # Same id, QR + TC set, no answer: the client must retry over TCP.
    return q[:2] + struct.pack(">H", 0x8380) + q[4:6] + b"\0\0\0\0\0\0" + q[12:]


key = b"".join(__import__("subprocess").run(
    ["openssl", "genrsa", "-traditional", "2048"], capture_output=True).stdout.splitlines(True))


def signed(tag, dom):
    m = (b"From: a@%s\r\nTo: b@example.org\r\nSubject: %s\r\n"
         b"Message-ID: <%s@x>\r\n\r\nbody\r\n" % (dom.encode(), tag.encode(), tag.encode()))
    return dkim.sign(m, b"s1", dom.encode(), key, include_headers=[b"from", b"subject"]) + m


def dkim_result(port, msg, sender="<a@example.org>"):
    """(final reply, AR header without the authserv-id, seconds taken)"""
    hdrs, body = split_message(msg)
    m = Milter("127.0.0.1", port)
    m.connect(hostname="mx.example", ip="198.51.100.25")
    m.helo()
    start = time.monotonic()
    code, _ = m.message(hdrs, body=body, sender=sender)
    took = time.monotonic() - start
    ar = [v for _, n, v in m.inserted_headers() if n == "Authentication-Results"]
    m.quit()
    return code, (ar[0].split(";", 1)[1].strip() if ar else ""), took


for name, answer in (("never answers", lambda q: None),
                     ("answers garbage", garbage),
                     ("truncates, no TCP", truncated)):
    port = fake_dns(answer)
    af = h.start_authfilter({"dns_resolver": "127.0.0.1@%d" % port,
                             "dns_timeout": "2s"}, name="af-%d" % port)
    code, ar, took = dkim_result(af.port, signed("n1", "example.net"))
    t.ok(code == b"c" and "dkim=temperror" in ar,
         "resolver %s: dkim=temperror, message accepted" % name, repr((code, ar)))
    t.ok(took < 15, "resolver %s: bounded by dns_timeout (took %.1fs)" % (name, took))
    t.ok(af.alive(), "resolver %s: daemon alive" % name)
    h.stop_authfilter(af)

# N3: a 5 KiB TXT key record (20 strings) from a real server: parsed with
# bounds; not a key, so permerror.
import base64  # noqa: E402
import subprocess  # noqa: E402
big = "v=DKIM1; k=rsa; p=" + "A" * 5100
pub = base64.b64encode(subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"],
                                      input=key, capture_output=True).stdout).decode()
good = "v=DKIM1; k=rsa; p=" + pub


def txt(name, value):
    return "%s 300 IN TXT %s" % (name, " ".join(
        '"%s"' % value[i:i + 255] for i in range(0, len(value), 255)))


h.start_dns([txt("s1._domainkey.big.example.", big),
             txt("s1._domainkey.ok.example.", good)])
af = h.start_authfilter({"dns_timeout": "5s"}, name="af-big")
code, ar, took = dkim_result(af.port, signed("n3", "big.example"))
t.ok(code == b"c" and "dkim=permerror" in ar,
     "5 KiB key record: dkim=permerror", repr((code, ar)))

# Many sessions looking keys up at once share one resolver and cache.
results = []


def worker(n):
    for i in range(10):
        ar = dkim_result(af.port, signed("c%d-%d" % (n, i), "ok.example"))[1]
        results.append(([w for w in ar.split() if w.startswith("dkim=")]
                         or ["?"])[0])


ths = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for th in ths:
    th.start()
for th in ths:
    th.join()
t.is_(results, ["dkim=pass"] * 80, "80 signed messages over 8 concurrent sessions pass")
h.stop_authfilter(af)
h.stop_dns()


def verdicts(ar):
    """{"spf": "pass", ...} from an AR header's results."""
    out = {}
    for part in ar.split(";"):
        w = part.split()
        if w and "=" in w[0]:
            k, v = w[0].split("=", 1)
            out.setdefault(k, v)
    return out


# N2: CNAME loops.  The DKIM key name, the DMARC record name and an SPF
# include each lead into a loop the server serves; libunbound gives up
# (SERVFAIL) and each check says temperror (RFC 6376 6.1.2, RFC 7489
# 6.6.3, RFC 7208 5.2 with 4.4), in bounded time.
h.start_dns([
    "loop-a.example. 300 IN CNAME loop-b.example.",
    "loop-b.example. 300 IN CNAME loop-a.example.",
    "s1._domainkey.kloop.example. 300 IN CNAME loop-a.example.",
    '_dmarc.dloop.example. 300 IN CNAME loop-b.example.',
    'dloop.example. 300 IN TXT "v=spf1 ip4:198.51.100.25 -all"',
    'sloop.example. 300 IN TXT "v=spf1 include:inc.sloop.example -all"',
    "inc.sloop.example. 300 IN CNAME loop-a.example.",
    '_dmarc.sloop.example. 300 IN TXT "v=DMARC1; p=none"',
])
af = h.start_authfilter({"dns_timeout": "2s"}, name="af-loop")
for what, dom, sender, want in (
        ("DKIM key name", "kloop.example", "<a@dloop.example>",
         {"dkim": "temperror"}),
        ("DMARC record name", "dloop.example", "<a@dloop.example>",
         {"spf": "pass", "dmarc": "temperror"}),
        ("SPF include", "sloop.example", "<a@sloop.example>",
         {"spf": "temperror"})):
    code, ar, took = dkim_result(af.port, signed("loop", dom), sender=sender)
    got = verdicts(ar)
    t.ok(code == b"c" and all(got.get(k) == v for k, v in want.items()),
         "CNAME loop at the %s: %s" % (what, ", ".join(
             "%s=%s" % kv for kv in want.items())), repr((code, ar)))
    t.ok(took < 15, "CNAME loop at the %s: bounded (took %.1fs)" % (what, took))
    t.ok(af.alive(), "CNAME loop at the %s: daemon alive" % what)
h.stop_authfilter(af)
h.stop_dns()

# N4: the resolver is down when the daemon starts (nothing listens on its
# port: every query is refused by the kernel).  The daemon starts, a
# message gets temperror verdicts within dns_timeout per lookup, and once
# a server listens on that port the next messages get real verdicts.
port = free_port()
af = h.start_authfilter({"dns_resolver": "127.0.0.1@%d" % port,
                         "dns_timeout": "2s"}, name="af-down")
t.ok(af.alive(), "resolver down at start: the daemon starts")
up_msg = signed("up", "ok.example")
code, ar, took = dkim_result(af.port, up_msg, sender="<a@ok.example>")
got = verdicts(ar)
t.ok(code == b"c" and [got.get(k) for k in ("spf", "dkim", "dmarc")] ==
     ["temperror"] * 3, "resolver down: spf, dkim and dmarc temperror, "
     "message accepted (temperror_action = accept)", repr((code, ar)))
# SPF, the DKIM key, DMARC: one lookup each, one after the other.
t.ok(took < 3 * 2 + 3, "resolver down: each lookup bounded by dns_timeout "
     "(took %.1fs)" % took)
h.start_dns([txt("s1._domainkey.ok.example.", good),
             'ok.example. 300 IN TXT "v=spf1 ip4:198.51.100.25 -all"',
             '_dmarc.ok.example. 300 IN TXT "v=DMARC1; p=reject"'], port=port)
tries = []
started = time.monotonic()
wait_for(lambda: tries.append(dkim_result(af.port, up_msg,
                                          sender="<a@ok.example>")) or
         [verdicts(tries[-1][1]).get(k) for k in ("spf", "dkim", "dmarc")] ==
         ["pass"] * 3, timeout=60, step=0.5)
t.ok([verdicts(tries[-1][1]).get(k) for k in ("spf", "dkim", "dmarc")] ==
     ["pass"] * 3, "server up on that port: real verdicts (after %d "
     "message(s), %.1fs)" % (len(tries), time.monotonic() - started),
     [x[1] for x in tries[-3:]])
t.ok(af.alive(), "resolver down at start: daemon alive")
h.stop_authfilter(af)
h.finish()
t.done()
