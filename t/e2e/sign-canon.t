#!/usr/bin/python3
# The signer's canonicalization against an independent verifier: many
# generated messages with awkward white space, folding, bare LF line
# ends, repeated and oddly cased header fields, empty lines at the end,
# sent through the milter protocol with the body cut into chunks at
# random places.  The message is put together as the MTA would (the
# DKIM-Signature fields on top) and every signature, RSA and Ed25519,
# must verify with python3-dkim.  AF_SEED repeats a run.
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness  # noqa: E402
from milterclient import Milter, CONTINUE  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
seed = int(os.environ.get("AF_SEED", "20261202"))
rnd = random.Random(seed)
t.diag("seed %d" % seed)

kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": "nobody", "key_dir": kd}, "keys.conf")
records = h.active_keys(kconf, [("example.org", "rsa", "r1"),
                                ("example.org", "ed25519", "e1")])
h.start_dns(records)
d = h.start_authfilter({"key_dir": kd, "signature_ttl": "0"})

WORDS = ["a", "word", "x\ty", "  lead", "trail  ", "\t", " ", "",
         "=3D", "\u00e9t\u00e9".encode("utf-8").decode("latin-1"), ".", ":"]


def value():
    """A header value: words, odd white space, sometimes folded."""
    parts = []
    for _ in range(rnd.randint(0, 6)):
        parts.append(rnd.choice(WORDS))
        parts.append(rnd.choice([" ", "  ", "\t", " \t "]))
        if rnd.random() < 0.2:
            parts.append(rnd.choice(["\n\t", "\n ", "\n  \t"]) + "w")
    return "".join(parts).rstrip("\n")


def body():
    lines = []
    for _ in range(rnd.randint(0, 12)):
        lines.append(rnd.choice(WORDS + ["a b  c", "x \t ", "", "", "."]) +
                     rnd.choice(["", " ", "\t", "  "]))
    eol = [rnd.choice(["\r\n", "\n"]) for _ in lines]
    text = "".join(line + e for line, e in zip(lines, eol))
    text += rnd.choice(["", "", "\r\n", "\r\n\r\n", " \r\n\t\r\n", "last"])
    return text.encode("latin-1")


def headers():
    hs = [["From", " Alice <alice@example.org>"]]
    names = ["To", "to", "TO", "Subject", "subject", "Cc", "Date",
             "Message-ID", "X-Other", "Reply-To", "Content-Type",
             "MIME-Version", "References", "List-Id", "Received"]
    for _ in range(rnd.randint(1, 10)):
        hs.append([rnd.choice(names), " " + value()])
    rnd.shuffle(hs)
    return hs


def chunks(data):
    out, i = [], 0
    while i < len(data):
        n = rnd.randint(1, max(1, len(data)))
        out.append(data[i:i + n])
        i += n
    return out


N = 60
bad = []
signed = 0
for i in range(N):
    leadspc = rnd.random() < 0.7
    hs = headers()
    bd = body()
    m = Milter("127.0.0.1", d.port, leadspc=leadspc)
    m.connect(ip="127.0.0.1")
    m.helo()
    m.mail("<alice@example.org>")
    m.rcpt()
    ok = True
    for name, val in hs:
        code, _ = m.header(name, (val if leadspc else val.lstrip(" ")).encode("latin-1"))
        ok = ok and code == CONTINUE
    m.eoh()
    for c in chunks(bd):
        m.body(c)
    code, _ = m.eom()
    sigs = [v for _, n, v in m.inserted_headers() if n == "DKIM-Signature"]
    m.close()
    # Insertions at index 0, last first: the list order ends up on top.
    raw = "".join("DKIM-Signature:%s%s\r\n" % ("" if leadspc else " ", v)
                  for v in reversed(sigs))
    raw = raw.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    raw += "".join("%s:%s\r\n" % (n, v.replace("\n", "\r\n")) for n, v in hs)
    msg = raw.encode("latin-1") + b"\r\n" + bd
    verdicts = h.dkimpy_verify(msg)
    if len(sigs) == 2:
        signed += 1
    if verdicts != [True, True]:
        bad.append((i, verdicts, msg[:2000]))
t.is_(signed, N, "every message got an RSA and an Ed25519 signature")
t.ok(not bad, "python3-dkim verifies all %d messages' signatures" % N,
     "\n".join("#%d %r\n%r" % b for b in bad[:3]) if bad else None)
h.stop_authfilter(d)
h.finish()
t.done()
