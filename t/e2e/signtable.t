#!/usr/bin/python3
# signing_table: the most specific pattern picks the key domain (d=) and
# its selectors; several From domains sign with one hosting key;
# python3-dkim verifies every signature; a From the table does not list
# is not signed (and the log says why); -t warns with FILE:LINE when a
# mapping can never align for DMARC and refuses keys the store lacks.
# sign_headers / oversign_headers choose h=.
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, AUTHFILTER, TEST_USER  # noqa: E402
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": TEST_USER, "key_dir": kd}, "keys.conf")
records = h.active_keys(kconf, [("example.net", "rsa", "r1"),
                                ("hosting.example", "rsa", "h1"),
                                ("hosting.example", "ed25519", "h2")])
h.start_dns(records)

table = os.path.join(h.tmp, "signing_table")
with open(table, "w") as f:
    f.write("# pattern            key domain        selectors\n"
            "alice@example.com    example.net\n"
            "example.com          hosting.example   h2\n"
            ".example.org         hosting.example\n"
            "example.net          example.net\n"
            "*                    hosting.example   h1\n")
os.chmod(table, 0o644)
d = h.start_authfilter({"key_dir": kd, "signing_table": table})


def sign(from_addr, port=None):
    m = Milter("127.0.0.1", port or d.port)
    m.connect(ip="127.0.0.1")
    m.helo()
    hdrs = [("From", " " + from_addr), ("To", " b@example.net"), ("Subject", " hi"),
            ("Message-ID", " <x@example.com>")]
    m.message(hdrs, sender="<%s>" % from_addr)
    sigs = [v for _, n, v in m.inserted_headers() if n == "DKIM-Signature"]
    m.close()
    raw = "".join("DKIM-Signature: %s\r\n" % v.replace("\n", "\r\n") for v in reversed(sigs))
    raw += "".join("%s:%s\r\n" % hv for hv in hdrs) + "\r\nhello\r\n"
    tags = sorted((re.search(r"\bd=([^;]+)", v).group(1), re.search(r"\bs=([^;]+)", v).group(1))
                  for v in sigs)
    return tags, h.dkimpy_verify(raw), sigs


cases = [
    ("alice@example.com", [("example.net", "r1")], "an address pattern beats its domain"),
    ("bob@example.com", [("hosting.example", "h2")], "a domain pattern, one selector listed"),
    ("x@mail.sub.example.org", [("hosting.example", "h1"), ("hosting.example", "h2")],
     ".example.org: a name below it, every active key"),
    ("y@example.org", [("hosting.example", "h1")], "example.org is not below .example.org: *"),
    ("z@EXAMPLE.NET", [("example.net", "r1")], "domains without regard to case"),
    ("w@elsewhere.test", [("hosting.example", "h1")], "anything else: *"),
]
for addr, want, name in cases:
    tags, verdicts, _ = sign(addr)
    t.is_(tags, want, "%s: %s" % (addr, name))
    t.ok(verdicts and all(verdicts), "%s: python3-dkim verifies" % addr, repr(verdicts))
h.stop_authfilter(d)

# Without "*": a From the table does not list is not signed.
with open(table, "w") as f:
    f.write("example.com hosting.example\n")
d2 = h.start_authfilter({"key_dir": kd, "signing_table": table}, name="nostar")
tags, _, _ = sign("w@elsewhere.test", d2.port)
t.is_(tags, [], "a From the table does not list: not signed")
t.like(d2.log_text(), '"sign_skip":"not_in_signing_table"', "and the log says why")
h.stop_authfilter(d2)


def check(settings, name):
    conf = h.write_conf(dict({"user": TEST_USER, "key_dir": kd}, **settings), name)
    r = subprocess.run([AUTHFILTER, "-t", "-c", conf], capture_output=True, text=True,
                       env=h.san_env())
    return r.returncode, r.stderr


with open(table, "w") as f:
    f.write("# hosted\nexample.com  hosting.example\nexample.net example.net\n")
rc, err = check({"signing_table": table}, "t1.conf")
t.ok(rc == 0 and "warning: %s:2: mail from example.com signed with d=hosting.example never "
     "aligns for DMARC" % table in err and "example.net" not in err,
     "-t: a mapping that cannot align is a warning with FILE:LINE", err)
with open(table, "w") as f:
    f.write("example.com  nokeys.example\nexample.net example.net r9\n")
rc, err = check({"signing_table": table}, "t2.conf")
t.ok(rc == 1 and "%s:1: no keys for nokeys.example in key_dir" % table in err and
     "%s:2: no key example.net/r9 in key_dir" % table in err,
     "-t: keys the store lacks, a selector it lacks: FILE:LINE", err)
with open(table, "w") as f:
    f.write("example.com\nexample.net bad_domain!\nexample.org example.org s1 s2\n"
            "example.com example.net\nexample.com example.net\n")
rc, err = check({"signing_table": table}, "t2b.conf")
t.ok(rc == 1 and all("%s:%d:" % (table, n) in err for n in (1, 2, 3, 5)) and
     "already listed at line 4" in err, "-t: each bad line said with FILE:LINE", err)

# sign_headers / oversign_headers
d3 = h.start_authfilter({"key_dir": kd, "sign_headers": "From, Subject, To",
                         "oversign_headers": "From"}, name="hdrs")
_, verdicts, sigs = sign("z@example.net", d3.port)
hl = re.sub(r"\s", "", re.search(r"\bh=([^;]+)", sigs[0]).group(1)) if sigs else ""
t.is_(hl, "From:To:Subject:From", "h= is sign_headers present in message order, "
      "then oversign_headers")
t.ok(verdicts and all(verdicts), "and verifies", repr(verdicts))
h.stop_authfilter(d3)
rc, err = check({"sign_headers": "Subject, To"}, "t3.conf")
t.ok(rc == 1 and "sign_headers: must include From" in err, "-t: sign_headers without From",
     err)
h.finish()
t.done()
