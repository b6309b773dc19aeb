#!/usr/bin/python3
# Reloads while messages are signed (issue 20, the signer process).  60
# rounds: four messages at once (their signatures spread over the
# signer's channels, and so its threads), one more, then a reload.  Each
# reload has the signer load the key store anew (LOAD) and forget the old
# one (FREE), usually on another channel than the one whose thread first
# signed with it.  Every message is signed with both keys, every reload
# ends, and under ThreadSanitizer the signer reports no race between a
# signature or a LOAD and the FREE that ends the store: the signer drops
# its references and reads a held store under its lock
# (milter/keyproc_serve.c).  Before, ThreadSanitizer reported the RSA
# key's Montgomery contexts, made by one thread's signature and freed by
# another's FREE, in every run; no-lost-mail.t in about half.
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, TEST_USER, milter_sign, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": TEST_USER, "key_dir": kd}, "keys.conf")
records = h.active_keys(kconf, [("example.org", "rsa", "r1"),
                                ("example.org", "ed25519", "e1")])
h.start_dns(records)
d = h.start_authfilter({"key_dir": kd})
RELOADS = 60


def sign_one(i):
    code, sigs = milter_sign(d.port, [("From", " Alice <alice@example.org>"),
                                      ("Subject", " reload %d" % i),
                                      ("To", " b@example.net")],
                             "<alice@example.org>")
    return code, len(sigs)


results = []


def burst(k):
    """Four messages at once: their signatures spread over the signer's
    channels, and so over its threads."""
    out = [None] * 4

    def one(n):
        try:
            out[n] = sign_one(k * 10 + n)
        except OSError as e:
            out[n] = ("error", str(e))
    ts = [threading.Thread(target=one, args=(n,)) for n in range(4)]
    for x in ts:
        x.start()
    for x in ts:
        x.join()
    results.extend(out)


def reloads():
    return d.log_text().count("reloaded ")


# Each round: a burst signs with the store of the last reload, one more
# message after it, then a reload forgets that store (FREE, usually on
# a channel other than the one whose thread signed first with it).
ended = 0
for k in range(RELOADS):
    burst(k)
    results.append(sign_one(k * 10 + 9))
    before = reloads()
    d.signal(signal.SIGHUP)
    if wait_for(lambda: reloads() > before or not d.alive(), timeout=60) and d.alive():
        ended += 1
t.is_(ended, RELOADS, "every reload ended while messages were signed")
bad = [r for r in results if r[1] != 2]
t.is_(bad[:5], [], "every message was signed with both keys")
t.ok("reload failed" not in d.log_text(), "no reload failed", d.log_text()[-2000:])
t.is_(h.stop_authfilter(d), 0, "the daemon stops cleanly")
h.finish()
t.done()
