#!/usr/bin/python3
# The daemon keeps decoded DKIM public keys by their exact bytes
# (milter/pubkey_cache.c).  A key record replaced under the same selector
# must be used at once: a message signed with the old key fails, one
# signed with the new key passes.  The record has TTL 0, so the DNS answer
# cache keeps nothing and any staleness would be the key cache's.  The
# cache is really used: the counters the daemon logs when it stops show
# that every decode of a key already seen came from the cache.
# Messages are signed by python3-dkim and sent through the milter
# protocol; verdicts come from the Authentication-Results header.
import base64
import os
import re
import subprocess
import sys

import dkim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, ar_parse, milter_raw  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)


def run(*cmd, inp=None):
    return subprocess.run(cmd, input=inp, capture_output=True, check=True).stdout


def keypair():
    pem = run("openssl", "genrsa", "-traditional", "2048")
    der = run("openssl", "rsa", "-pubout", "-outform", "DER", inp=pem)
    return pem, base64.b64encode(der).decode()


def record(pub):
    value = "v=DKIM1; k=rsa; p=" + pub
    parts = " ".join('"%s"' % value[i:i + 255] for i in range(0, len(value), 255))
    return "sel._domainkey.example.net. 0 IN TXT %s" % parts


(pem_a, pub_a), (pem_b, pub_b) = keypair(), keypair()
h.start_dns([record(pub_a)], control=True)
af = h.start_authfilter()
n = 0


def dkim_result(pem):
    """dkim= of one message signed with pem under sel._domainkey."""
    global n
    n += 1
    m = (b"From: Joe <joe@example.net>\r\nTo: suzie@example.org\r\n"
         b"Subject: key %d\r\nMessage-ID: <k%d@example.net>\r\n\r\nHi.\r\n"
         % (n, n))
    raw = dkim.sign(m, b"sel", b"example.net", pem,
                    include_headers=[b"from", b"to", b"subject",
                                     b"message-id"]) + m
    code, ars = milter_raw(af.port, raw, "<joe@example.net>")
    if code != b"c" or len(ars) != 1:
        return "no verdict (%r)" % code
    got = [r.split()[0] for r in ar_parse(ars[0])[1:] if r.startswith("dkim=")]
    return got[0] if got else "no dkim="


t.is_(dkim_result(pem_a), "dkim=pass", "signed with key A, A published: pass")
t.is_(dkim_result(pem_a), "dkim=pass", "again: pass")
t.is_(dkim_result(pem_b), "dkim=fail", "signed with key B, A published: fail")
h.dns_remove("sel._domainkey.example.net")
h.dns_set(record(pub_b))
t.is_(dkim_result(pem_b), "dkim=pass", "B published under the same selector: "
      "a message signed with B passes")
t.is_(dkim_result(pem_a), "dkim=fail", "and one signed with A fails at once")
h.dns_remove("sel._domainkey.example.net")
h.dns_set(record(pub_a))
t.is_(dkim_result(pem_a), "dkim=pass", "A back: A passes")
t.is_(dkim_result(pem_b), "dkim=fail", "B fails")
h.stop_authfilter(af)
# 7 messages, one RSA signature each: 7 decodes, of A, A, A, B, B, A, A.
# All but the first of each key come from the cache (5), unless A and B
# share a slot (1 in 512): then the cache still answers the 2nd, 3rd and
# 5th.
stats = re.search(r"pubkey_cache: (\d+) of (\d+) key decodes answered "
                  r"from the cache", af.log_text())
hits, total = (int(stats.group(1)), int(stats.group(2))) if stats else (0, 0)
t.ok(total == 7 and hits >= 3, "decoded keys are reused: %d of %d decodes "
     "from the cache" % (hits, total), stats.group(0) if stats else
     "no pubkey_cache line in the log")
h.finish()
t.done()
