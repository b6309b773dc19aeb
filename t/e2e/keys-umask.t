#!/usr/bin/python3
# authfilter-keys run by root under a strict umask (027, 077: common on
# hardened hosts; the rotation unit has UMask=0077) still makes a store
# the daemon's user can read.  The directories it created were root:root
# 0750 or 0700: the reload it triggered failed, the new key never signed,
# and the next start refused the store.  Now a directory it makes gets
# its mode whatever the umask and the daemon's user as owner (key_dir
# 0750, as tmpfiles.d makes it; a domain 0755); one that exists is left
# as the admin made it.
import os
import pwd
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (AUTHFILTER, AUTHFILTER_KEYS, TEST_USER, Harness,  # noqa: E402
                     wait_for)
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
nobody = pwd.getpwnam(TEST_USER)


def keys(conf, umask, *args):
    r = subprocess.run([AUTHFILTER_KEYS, "-c", conf] + list(args),
                       capture_output=True, text=True, timeout=60,
                       env=h.san_env(), preexec_fn=lambda: os.umask(umask))
    return r.returncode, r.stdout + r.stderr


def mode_owner(path):
    st = os.stat(path)
    return stat.S_IMODE(st.st_mode), st.st_uid


def signers(port, domain):
    m = Milter("127.0.0.1", port)
    try:
        m.connect(ip="127.0.0.1")
        m.helo()
        m.message([("From", " <a@%s>" % domain), ("Subject", " t")],
                  sender="<a@%s>" % domain)
        return [v for _, n, v in m.inserted_headers() if n == "DKIM-Signature"]
    finally:
        m.close()


# ---- key_dir as tmpfiles.d makes it; the daemon runs; a new domain ----
kd = os.path.join(h.tmp, "keys")
os.mkdir(kd)
os.chmod(kd, 0o750)
os.chown(kd, nobody.pw_uid, nobody.pw_gid)
pidf = os.path.join(h.state_dir(), "af.pid")
settings = {"key_dir": kd, "pid_file": pidf}
kconf = h.write_conf(dict(settings, user=TEST_USER), "keys.conf")
rc, out = keys(kconf, 0o027, "new", "example.org", "--selector", "s1")
rc2, out2 = keys(kconf, 0o027, "activate", "example.org", "s1", "--force")
t.ok(rc == 0 and rc2 == 0, "umask 027: a key made and activated", out + out2)
af = h.start_authfilter(settings)
t.ok(any("d=example.org" in s for s in signers(af.port, "example.org")),
     "the daemon signs with it")

rc, out = keys(kconf, 0o027, "new", "example.net", "--selector", "n1")
rc2, out2 = keys(kconf, 0o027, "activate", "example.net", "n1", "--force")
t.ok(rc == 0 and rc2 == 0 and "told authfilter" in out2,
     "umask 027, a second domain: made, activated, the daemon told", out + out2)
t.is_(mode_owner(os.path.join(kd, "example.net")), (0o755, nobody.pw_uid),
      "its directory: 0755, owned by the daemon's user")
t.is_(mode_owner(kd), (0o750, nobody.pw_uid), "key_dir left as it was")
t.ok(wait_for(lambda: any("d=example.net" in s for s in
                          signers(af.port, "example.net")), timeout=20),
     "the reload loaded it: the daemon signs for the new domain",
     af.log_text()[-2000:])
t.ok("reload failed" not in af.log_text(), "no reload failed")
h.stop_authfilter(af)

# ---- a first key on a new host, umask 077: key_dir and its parents ----
top = os.path.join(h.tmp, "etc")
deep = os.path.join(top, "authfilter", "keys")
dconf = h.write_conf({"user": TEST_USER, "key_dir": deep}, "deep.conf")
rc, out = keys(dconf, 0o077, "new", "example.com", "--selector", "c1")
rc2, out2 = keys(dconf, 0o077, "activate", "example.com", "c1", "--force")
t.ok(rc == 0 and rc2 == 0, "umask 077: a first key, its directories made", out + out2)
t.is_([mode_owner(p) for p in (top, os.path.join(top, "authfilter"), deep,
                               os.path.join(deep, "example.com"))],
      [(0o755, 0), (0o755, 0), (0o750, nobody.pw_uid), (0o755, nobody.pw_uid)],
      "parents 0755 root; key_dir 0750 and the domain 0755, the daemon's user's")
r = subprocess.run([AUTHFILTER, "-t", "-c", dconf], capture_output=True,
                   text=True, timeout=60, env=h.san_env())
t.is_((r.returncode, r.stderr), (0, ""), "authfilter -t: the daemon's user reads it")
shutil.rmtree(top)
h.finish()
t.done()
