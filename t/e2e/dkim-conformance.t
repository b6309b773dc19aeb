#!/usr/bin/python3
# The Mail::DKIM verifier corpus (t/data/mail-dkim, see its SOURCE.txt)
# through the milter protocol, each message as Postfix would hand it over,
# with its key records served by the loopback DNS server.  Expected
# verdicts come from manifest.tsv; where RFC 8301 (no rsa-sha1, no keys
# under 1024 bits) or RFC 6376 (v=1 required: pre-RFC drafts) forbid a
# pass, the expected "pass" becomes "must not pass".
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, BUILDDIR, SRCDIR  # noqa: E402
from milterclient import Milter, split_message  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
corpus = os.path.join(SRCDIR, "t", "data", "mail-dkim")
cases = []
for line in open(os.path.join(corpus, "manifest.tsv")):
    if line.startswith("#") or not line.strip():
        continue
    f = line.rstrip("\n").split("\t")
    cases.append({"file": f[0], "expected": f[1], "dns": f[2], "comment": f[3],
                  "flags": f[4]})

records, extra = [], []
for c in cases:
    for entry in filter(None, [e.strip() for e in c["dns"].split(" | ")]):
        name, _, value = entry.partition(" => ")
        if value == "NXDOMAIN":
            continue                      # not written: NXDOMAIN
        if value.startswith("~~"):        # SERVFAIL or timeout: temperror
            extra.append('local-zone: "%s." refuse' % name)
            continue
        if value == '""':
            value = ""
        parts = " ".join('"%s"' % value[i:i + 255].replace('"', '\\"')
                         for i in range(0, max(len(value), 1), 255)) or '""'
        rr = "%s. 300 IN TXT %s" % (name, parts)
        if rr not in records:
            records.append(rr)
h.start_dns(records, extra=sorted(set(extra)))
af = h.start_authfilter()


def verify(raw):
    hdrs, body = split_message(raw)
    m = Milter("127.0.0.1", af.port)
    m.connect(hostname="mx.example", ip="198.51.100.25")
    m.helo("mx.example")
    m.mail("<x@example.net>")
    m.rcpt("<y@example.org>")
    for n, v in hdrs:
        m.header(n, v)
    m.eoh()
    for i in range(0, len(body), 65535):
        m.body(body[i:i + 65535])
    code, _ = m.eom()
    ars = [v for _, n, v in m.inserted_headers() if n == "Authentication-Results"]
    m.quit()
    if code != b"c" or len(ars) != 1:
        return None
    value = re.sub(r"\s*\n\s*", " ", ars[0].strip())
    out = subprocess.run([os.path.join(BUILDDIR, "t", "tools", "ar-parse")],
                         input=value + "\n", capture_output=True, text=True).stdout
    return [l.split()[0] for l in out.splitlines()[1:]]


agree = 0
for c in cases:
    forbidden = [fl for fl in ("rsa-sha1", "512-bit-key", "pre-RFC-draft")
                 if fl in c["flags"]]
    want = c["expected"]
    if want == "pass" and forbidden:
        want = "not pass (%s)" % ", ".join(forbidden)
    got = verify(open(os.path.join(corpus, c["file"]), "rb").read())
    if got is None:
        ok = False
    elif want == "pass":
        ok = "dkim=pass" in got
    elif want == "temperror":
        ok = "dkim=temperror" in got and "dkim=pass" not in got
    else:
        ok = "dkim=pass" not in got and "dkim=none" not in got
    agree += ok
    t.ok(ok, "%s: %s (%s)" % (c["file"], want, c["comment"] or "-"), "got %r" % got)
t.diag("Mail::DKIM corpus: %d of %d as expected" % (agree, len(cases)))
t.ok(af.alive(), "no message of the corpus stopped the daemon")
h.finish()
t.done()
