#!/usr/bin/python3
# authfilter-keys rotate --all, what authfilter-keys-rotate.timer runs
# daily: one step for every domain and algorithm that has keys in the
# store, a new key only where one is active or pending (a domain whose
# keys were all retired by hand stays without), --alg narrows it down, and
# the exit status sums up all domains.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
h.start_dns([])
conf = h.write_conf({"user": "nobody", "key_dir": kd,
                     "dns_resolver": "127.0.0.1@%d" % h.dns_port}, "keys.conf")


def keys(*args):
    return h.keys(conf, *args)


def listing():
    """(domain, algorithm, state) of every key, sorted."""
    rc, out, err = keys("list")
    return sorted(re.findall(r"^(\S+)\s+\S+\s+(\S+)-sha256\s+\d+\s+(\S+)",
                             out, re.M))


rc, out, err = keys("rotate", "--all")
t.is_((rc, out.strip()), (0, "no keys in the store: nothing to do"),
      "empty store: exit 0, nothing to do")

for dom, alg, sel in (("example.org", "rsa", "r1"), ("example.org", "ed25519", "e1"),
                      ("example.net", "rsa", "r1"), ("example.com", "rsa", "r1")):
    keys("new", dom, "--alg", alg, "--selector", sel)
    keys("activate", dom, sel, "--force")
# example.com stopped signing: its only key retired and revoked by hand.
keys("retire", "example.com", "r1", "--force")
keys("revoke", "example.com", "r1", "--force")
t.is_(listing(), [("example.com", "rsa", "revoked"), ("example.net", "rsa", "active"),
                  ("example.org", "ed25519", "active"), ("example.org", "rsa", "active")],
      "store: three active keys in two domains, one revoked in a third")

rc, out, err = keys("rotate", "--all", "--alg", "ed25519", "--now")
t.is_((rc, listing().count(("example.org", "ed25519", "pending"))), (3, 1),
      "--all --alg ed25519 --now: a pending Ed25519 key for example.org (exit 3)")
t.ok(("example.org", "rsa", "pending") not in listing() and
     ("example.net", "rsa", "pending") not in listing(),
     "--alg ed25519: no RSA key made", listing())

rc, out, err = keys("rotate", "--all", "--now")
t.is_(rc, 3, "--all --now: exit 3 (advanced)")
t.is_(listing(), [("example.com", "rsa", "revoked"),
                  ("example.net", "rsa", "active"), ("example.net", "rsa", "pending"),
                  ("example.org", "ed25519", "active"),
                  ("example.org", "ed25519", "pending"),
                  ("example.org", "rsa", "active"), ("example.org", "rsa", "pending")],
      "--all: a pending RSA key for example.net and example.org, none for "
      "example.com (no active key: nobody asked it to sign)")
t.is_(sorted(re.findall(r"^created (\S+) \S+ \(rsa", out, re.M)),
      ["example.net", "example.org"], "--all: the two new RSA keys' records printed")

rc, out, err = keys("rotate", "--all", "--remove-after", "0s")
pending = sorted(re.findall(r"^(\S+) \S+ is pending: DNS does not serve", out, re.M))
t.ok(rc == 3 and "example.com r1 removed" in out,
     "--all --remove-after 0s: the revoked key of example.com leaves the store "
     "(exit 3)", out + err)
t.is_(pending, ["example.net", "example.org", "example.org"],
      "--all: each pending key's record printed again while DNS lacks it")

rc, out, err = keys("rotate", "--all")
t.is_(rc, 4, "--all with every pending key waiting for DNS: exit 4")
t.ok(not [d for d, _, _ in listing() if d == "example.com"],
     "example.com: no key made after its last one left", listing())
h.finish()
t.done()
