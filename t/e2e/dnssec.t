#!/usr/bin/python3
# DNSSEC status (issue 6, dns_trust_anchor): zones signed with ldns-signzone
# are served by a real unbound (auth-zone) on 127.0.0.1; the daemon trusts
# their keys.  A DKIM key from a validated zone is marked in the result; a
# zone whose data was changed after signing is bogus: temperror, never a
# pass; a zone without a trust anchor verifies as before, unmarked.
import base64
import os
import re
import subprocess
import sys

import dkim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, ar_parse  # noqa: E402
from milterclient import Milter, split_message  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
d = os.path.join(h.tmp, "zones")
os.mkdir(d)
os.chmod(d, 0o755)


def run(*cmd, inp=None, cwd=None):
    return subprocess.run(cmd, input=inp, capture_output=True, check=True,
                          cwd=cwd).stdout


key = run("openssl", "genrsa", "-traditional", "2048")
pub = base64.b64encode(run("openssl", "rsa", "-pubout", "-outform", "DER",
                           inp=key)).decode()
p_txt = " ".join('"%s"' % ("v=DKIM1; k=rsa; p=" + pub)[i:i + 255]
                 for i in range(0, len("v=DKIM1; k=rsa; p=" + pub), 255))


def signed_zone(zone, tamper=False):
    """Sign zone with a fresh Ed25519 key; returns (signed file, anchor)."""
    path = os.path.join(d, zone)
    with open(path, "w") as f:
        f.write("$ORIGIN %s.\n$TTL 300\n"
                "@ IN SOA ns.%s. host.%s. 1 3600 600 86400 300\n"
                "@ IN NS ns.%s.\nns IN A 127.0.0.1\n"
                "s1._domainkey IN TXT %s\n" % (zone, zone, zone, zone, p_txt))
    base = run("ldns-keygen", "-a", "ED25519", "-k", zone, cwd=d).decode().strip()
    run("ldns-signzone", "-f", path + ".signed", path, base, cwd=d)
    if tamper:      # change the key record after signing: bogus
        text = open(path + ".signed").read()
        open(path + ".signed", "w").write(text.replace("k=rsa", "k=RSA", 1))
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)
    return path + ".signed", os.path.join(d, base + ".key")


good, good_ta = signed_zone("sec.example")
bad, bad_ta = signed_zone("bogus.example", tamper=True)
anchors = os.path.join(d, "anchors")
with open(anchors, "w") as f:
    f.write(open(good_ta).read() + open(bad_ta).read())
os.chmod(anchors, 0o644)

extra = []
for zone, path in (("sec.example", good), ("bogus.example", bad)):
    extra.append('local-zone: "%s." transparent' % zone)
for zone, path in (("sec.example", good), ("bogus.example", bad)):
    extra += ["auth-zone:", '  name: "%s."' % zone, '  zonefile: "%s"' % path,
              "  for-downstream: yes", "  for-upstream: yes"]
plain = "s1._domainkey.plain.example. 300 IN TXT %s" % p_txt
h.start_dns([plain], extra)
af = h.start_authfilter({"dns_trust_anchor": anchors, "dns_timeout": "3s"})


def dkim_of(dom):
    m = ("From: <a@%s>\r\nSubject: dnssec %s\r\n\r\nbody\r\n" % (dom, dom)).encode()
    m = dkim.sign(m, b"s1", dom.encode(), key, include_headers=[b"from", b"subject"]) + m
    hdrs, body = split_message(m)
    c = Milter("127.0.0.1", af.port)
    c.connect(hostname="mx.example", ip="198.51.100.7")
    c.helo("mx.example")
    code, _ = c.message(hdrs, body=body)
    ars = [v for _, n, v in c.inserted_headers() if n == "Authentication-Results"]
    c.quit()
    return re.sub(r"\s+", " ", ars[0]) if ars else "?%r" % code


got = dkim_of("sec.example")
t.like(got, "dkim=pass (key DNSSEC-validated) header.d=sec.example",
       "signed zone, trusted key: pass, marked DNSSEC-validated")
got = dkim_of("bogus.example")
t.like(got, "dkim=temperror", "data changed after signing (bogus): temperror")
t.ok("dkim=pass" not in got, "bogus: never a pass", got)
got = dkim_of("plain.example")
t.ok("dkim=pass header.d=plain.example" in got and "DNSSEC" not in got,
     "no trust anchor for the zone: pass, not marked", got)
t.ok(af.alive(), "the daemon stays up")
h.finish()
t.done()
