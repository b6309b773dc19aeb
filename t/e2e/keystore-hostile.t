#!/usr/bin/python3
# A hostile key store (issue 20): whoever can write there decides a key's
# state, and a special file must not hang the daemon, -t or authfilter-keys.
# Each store below holds one defect; authfilter -t and authfilter-keys list
# refuse it at once, naming the file and what is wrong (subprocess runs
# give up after 30 s: a hang fails the test).
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import AUTHFILTER, AUTHFILTER_KEYS, Harness  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
REVOKED = "algorithm = rsa-sha256\nbits = 2048\nstate = revoked\n"


def store(name, build):
    """A key store with one domain directory, shaped by build(domain_dir)."""
    kd = os.path.join(h.tmp, name)
    dom = os.path.join(kd, "example.org")
    os.makedirs(dom)
    build(dom)
    return h.write_conf({"user": "nobody", "key_dir": kd}, name + ".conf")


def state(dom, sel, text=REVOKED, mode=0o644):
    p = os.path.join(dom, sel + ".state")
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)
    return p


def run(*cmd):
    try:
        r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30,
                           env=h.san_env())
        return r.returncode, r.stderr + r.stdout
    except subprocess.TimeoutExpired:
        return "hung", ""


cases = [
    ("symlink", lambda d: os.symlink("/dev/zero", os.path.join(d, "e1.state")),
     "e1.state: a symbolic link"),
    ("fifo", lambda d: os.mkfifo(os.path.join(d, "x1.state")),
     "x1.state: a FIFO, not a file"),
    ("mode", lambda d: state(d, "m1", mode=0o666),
     "m1.state: mode 0666, must not be writable by group or others"),
    ("owner", lambda d: os.chown(state(d, "o1"), 12345, -1),
     "o1.state: owned by uid 12345, must be owned by root or the daemon's user"),
    ("dirmode", lambda d: os.chmod(d, 0o777),
     "example.org: mode 0777, must not be writable by others"),
    ("longline", lambda d: state(d, "l1", REVOKED + "#" + "x" * 254 +
                                 "state = active\n"),
     "l1.state:4: longer than 255 bytes"),
    ("selector", lambda d: state(d, "s" * 70),
     "a selector longer than 63 characters"),
]
for name, build, want in cases:
    conf = store(name, build)
    rc, out = run(AUTHFILTER, "-t", "-c", conf)
    t.ok(rc == 1 and want in out, "authfilter -t, %s: refused (%s)" % (name, want),
         (rc, out))
    rc, out = run(AUTHFILTER_KEYS, "-c", conf, "list")
    t.ok(rc == 1 and want in out, "authfilter-keys list, %s: refused" % name,
         (rc, out))
h.finish()
t.done()
