#!/usr/bin/python3
# authfilter-keys import (issue 21): keys made elsewhere (openssl, as
# opendkim-genkey does) come into the store 0600, owned by the daemon's
# user, as PKCS#8; --activate only when the loopback DNS serves the
# record; encrypted, weak, foreign-type, non-key and symlinked files and
# an existing selector are refused with the reason and leave the store as
# it was.  The imported RSA and Ed25519 keys then sign through the milter
# protocol and dkimpy verifies both signatures.
import base64
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, rsa_key, txt_record  # noqa: E402
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
src = os.path.join(h.tmp, "src")
os.mkdir(src)


def write(name, data, mode=0o600):
    path = os.path.join(src, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return path


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data,
                          capture_output=True, check=True).stdout


rsa_pem, rsa_p = rsa_key()                      # PKCS#1 (-traditional)
late_pem, late_p = rsa_key()
ed_pem = openssl("genpkey", "-algorithm", "ed25519")
ed_raw = openssl("pkey", "-pubout", "-outform", "DER", data=ed_pem)[-32:]
ed_p = base64.b64encode(ed_raw).decode()
t.like(rsa_pem.decode(), "BEGIN RSA PRIVATE KEY", "test key is PKCS#1")

f_rsa = write("rsa.pem", rsa_pem)
f_ed = write("ed.pem", ed_pem)
f_late = write("late.pem", late_pem)
f_weak = write("weak.pem", openssl("genrsa", "1024"))
f_enc = write("enc.pem", openssl("genrsa", "-aes128", "-passout", "pass:x",
                                 "2048"))
f_pub = write("pub.pem", openssl("rsa", "-pubout", data=rsa_pem))
f_junk = write("junk.pem", "not a key\n")
f_link = os.path.join(src, "link.pem")
os.symlink(f_late, f_link)

h.start_dns([txt_record("r1._domainkey.example.org", "v=DKIM1; k=rsa; p=" + rsa_p),
             txt_record("e1._domainkey.example.org",
                        "v=DKIM1; k=ed25519; p=" + ed_p)])
kconf = h.write_conf({"user": "nobody", "key_dir": kd,
                      "dns_resolver": "127.0.0.1@%d" % h.dns_port}, "keys.conf")

rc, out, err = h.keys(kconf, "import", "example.org", "r1", f_rsa, "--activate")
t.is_(rc, 0, "import PKCS#1 RSA --activate (DNS serves it)")
t.like(out, "imported example.org r1 (rsa-sha256, 2048 bits), active",
       "says it is active")
pem = os.path.join(kd, "example.org", "r1.pem")
st = os.stat(pem)
t.is_((oct(st.st_mode & 0o777), st.st_uid), ("0o600", 65534),
      "stored 0600, owned by the daemon's user (nobody)")
t.like(open(pem).read(), "-----BEGIN PRIVATE KEY-----", "stored as PKCS#8")
state = open(os.path.join(kd, "example.org", "r1.state")).read()
t.like(state, "state = active", "state file: active")

rc, out, err = h.keys(kconf, "import", "Example.ORG", "e1", f_ed, "--activate")
t.is_(rc, 0, "import Ed25519 --activate")
t.like(out, "ed25519-sha256", "as ed25519-sha256")

rc, out, err = h.keys(kconf, "import", "example.org", "late", f_late,
                      "--activate")
t.is_(rc, 1, "import --activate of a key DNS does not serve: exit 1")
t.like(err, "stays pending", "says it stays pending")
t.like(err, "DNS does not serve the key of example.org late (missing",
       "with what DNS says, as activate does")
t.like(out, 'late._domainkey.example.org. IN TXT ( "v=DKIM1; k=rsa; p=%s'
       % late_p[:200], "prints the record to publish")
rc, out, err = h.keys(kconf, "list")
t.ok(re.search(r"example\.org\s+late\s+rsa-sha256\s+2048\s+pending", out),
     "list: late is pending", out)

rc, out, err = h.keys(kconf, "import", "example.org", "plain", f_late)
t.is_(rc, 0, "import without --activate: pending, exit 0")
t.like(out, "state pending", "says pending")
t.like(out, "authfilter-keys activate example.org plain", "and what to run")


def refused(args, needle, name):
    before = sorted(os.listdir(os.path.join(kd, "example.org")))
    rc, out, err = h.keys(kconf, "import", *args)
    after = sorted(os.listdir(os.path.join(kd, "example.org")))
    t.ok(rc == 1 and needle in err, name, "rc %s: %s" % (rc, err))
    t.is_(after, before, "  the store is unchanged")


refused(("example.org", "w", f_weak), "RSA key of 1024 bits",
        "1024-bit RSA refused")
refused(("example.org", "w", f_enc), "is encrypted", "encrypted key refused")
refused(("example.org", "w", f_pub), "is a public key", "public key refused")
refused(("example.org", "w", f_junk), "is not PEM", "not a key refused")
refused(("example.org", "w", f_link), "a symbolic link",
        "symbolic link refused")
refused(("example.org", "r1", f_late), "already in",
        "existing selector with another key refused")
refused(("example.org", "r1", f_rsa), "import never replaces a key",
        "existing selector with the same key refused too")
refused(("example.org", "w", os.path.join(src, "none.pem")),
        "No such file", "missing file refused")
refused(("example.org", "bad sel", f_late), "not a valid selector",
        "bad selector refused")
rc, out, err = h.keys(kconf, "import", "example..org", "x", f_late)
t.ok(rc == 1 and "not a domain name" in err, "bad domain refused", err)
rc, out, err = h.keys(kconf, "import", "example.org", "x")
t.is_(rc, 2, "missing FILE: usage, exit 2")

# World-readable source: imported, with a warning.
f_loose = write("loose.pem", late_pem, 0o644)
rc, out, err = h.keys(kconf, "import", "loose.example", "s", f_loose)
t.ok(rc == 0 and "readable by group or others" in err,
     "a loose source file is imported with a warning", err)

# The imported keys sign: the daemon loads the store it was given.
af = h.start_authfilter({"key_dir": kd})
m = Milter("127.0.0.1", af.port)
m.connect(hostname="localhost", ip="127.0.0.1")
m.helo("localhost")
hdrs = [("From", " <alice@example.org>"), ("To", " bob@example.net"),
        ("Subject", " imported")]
code, _ = m.message(hdrs, body=b"signed with imported keys\r\n")
ins = [(n, v) for _, n, v in m.inserted_headers()]
m.quit()
raw = "".join("%s:%s\r\n" % (n, v.replace("\n", "\r\n")) for n, v in ins)
raw += "".join("%s:%s\r\n" % hv for hv in hdrs) + "\r\nsigned with imported keys\r\n"
sels = sorted(re.findall(r"\bs=([^;\s]+)", raw))
t.is_(sels, ["e1", "r1"], "signed with r1 and e1, not the pending keys")
t.is_(h.dkimpy_verify(raw), [True, True], "both signatures verify with dkimpy")
h.finish()
t.done()
