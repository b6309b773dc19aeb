#!/usr/bin/python3
# DNS failure modes (bad-input N1-N3) for DKIM key lookups: a server that
# never answers, one that answers garbage, one that truncates without TCP,
# and a 5 KiB key record.  Each gives a verdict (temperror or permerror)
# in bounded time, never a pass, never a crash.
import os
import socket
import struct
import sys
import threading
import time

import dkim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, free_port  # noqa: E402
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


def dkim_result(port, msg):
    hdrs, body = split_message(msg)
    m = Milter("127.0.0.1", port)
    m.connect(hostname="mx.example", ip="198.51.100.25")
    m.helo()
    start = time.monotonic()
    code, _ = m.message(hdrs, body=body)
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
h.finish()
t.done()
