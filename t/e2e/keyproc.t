#!/usr/bin/python3
# Private keys live in the signer process only (milter/keyproc.c).
# After messages were signed with an RSA and an Ed25519 key, the
# memory of the milter process holds none of the keys' secret parts
# (RSA d, p, q in either byte order, the PEM and DER, the Ed25519 seed),
# and the signer's does (the scan can find them).  The daemon's user
# cannot read the signer's memory; the signer ignores SIGTERM (the
# milter process drains and signs), cannot read outside the key_dir it
# started with (Landlock), and when it dies the daemon stops with exit 1.
import os
import pwd
import re
import signal
import subprocess
import sys

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


def children(pid):
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            out += [int(x) for x in f.read().split()]
    return out


def sign_one():
    return milter_sign(d.port, [("From", " Alice <alice@example.org>"),
                                ("Subject", " hello"), ("To", " b@example.net")],
                       "<alice@example.org>")


code, sigs = sign_one()
t.is_(len(sigs), 2, "a message is signed with both keys (through the signer)")
t.ok(any("a=rsa-sha256" in s for s in sigs) and
     any("a=ed25519-sha256" in s for s in sigs), "RSA and Ed25519", repr(sigs))
kids = children(d.proc.pid)
t.is_(len(kids), 1, "the daemon has one child: the signer process")
signer = kids[0] if kids else 0


def secrets(pem):
    """Byte strings that only a copy of this private key contains."""
    text = subprocess.run(["openssl", "pkey", "-in", pem, "-text", "-noout"],
                          capture_output=True, text=True).stdout
    der = subprocess.run(["openssl", "pkey", "-in", pem, "-outform", "DER"],
                         capture_output=True).stdout
    out = {"DER": der[-64:]}
    body = "".join(open(pem).read().splitlines()[1:-1])
    out["PEM"] = body[-40:].encode()	# the end: key material, no ASN.1
    for name in ("privateExponent", "prime1", "prime2", "priv"):
        mm = re.search(r"^%s:\s*\n((?:\s+[0-9a-f:]+\n)+)" % name, text, re.M)
        if mm is None:
            continue
        num = bytes.fromhex(re.sub(r"[\s:]", "", mm.group(1))).lstrip(b"\0")
        out[name] = num
        if name != "priv":
            out[name + " (limbs)"] = num[::-1]	# BIGNUM words, little end first
    return out


def memory_has(pid, needles):
    """Which needles occur in the readable memory of pid."""
    found = set()
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if "r" not in f[1] or hi - lo > (256 << 20):
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:
                continue
            for name, n in needles.items():
                if n in data:
                    found.add(name)
    return found


needles = {}
for sel in ("r1", "e1"):
    for name, n in secrets(os.path.join(kd, "example.org", sel + ".pem")).items():
        needles[sel + " " + name] = n
t.ok(len(needles) >= 10 and all(len(n) >= 30 for n in needles.values()),
     "secret parts of both keys to look for", repr(needles))
if os.environ.get("AF_SANITIZER"):
    for _ in range(2):
        t.skip("memory scan", "a sanitizer's shadow memory is terabytes")
else:
    in_milter = memory_has(d.proc.pid, needles)
    t.is_(sorted(in_milter), [], "no part of either private key in the milter process's memory")
    in_signer = memory_has(signer, needles)
    t.ok(any(x.startswith("r1") for x in in_signer) and
         any(x.startswith("e1") for x in in_signer),
         "the scan finds both keys in the signer's memory", repr(sorted(in_signer)))


def read_as_user(path):
    """Open path as the daemon's user: what a taken-over milter could."""
    pw = pwd.getpwnam(TEST_USER)
    r = subprocess.run(["setpriv", "--reuid", str(pw.pw_uid), "--regid",
                        str(pw.pw_gid), "--clear-groups", "head", "-c", "1", path],
                       capture_output=True)
    return r.returncode, r.stderr.decode()


rc, err = read_as_user("/proc/%d/mem" % signer)
t.ok(rc != 0 and "ermi" in err, "the daemon's user cannot read the signer's memory", err)
with open("/proc/%d/status" % signer) as f:
    status = f.read()
t.ok(re.search(r"NoNewPrivs:\s+1", status), "the signer cannot gain privileges")
fds = {int(fd): os.readlink("/proc/%d/fd/%s" % (signer, fd))
       for fd in os.listdir("/proc/%d/fd" % signer)}
listening = {os.readlink("/proc/%d/fd/%s" % (d.proc.pid, fd))
             for fd in os.listdir("/proc/%d/fd" % d.proc.pid)}
channels = [v for fd, v in fds.items() if fd > 2]
t.ok(all(v.startswith("socket:") and v not in listening for v in channels) and
     len(channels) == min(16, 2 * os.cpu_count()),
     "the signer holds only stdio and its channels, nothing of the milter's", repr(fds))

# systemd's SIGTERM reaches every process: the signer stays for the drain.
os.kill(signer, signal.SIGTERM)
code, sigs = sign_one()
t.is_(len(sigs), 2, "after a SIGTERM to the signer, messages are still signed")

# Landlock: a reload with another key_dir cannot be read by the signer.
landlock = "no Landlock" not in d.log_text()
kd2 = os.path.join(h.tmp, "keys2")
subprocess.run(["cp", "-a", kd, kd2], check=True)
conf = open(d.conf).read().replace("key_dir = %s\n" % kd, "key_dir = %s\n" % kd2)
open(d.conf, "w").write(conf)
os.kill(d.proc.pid, signal.SIGHUP)
wait_for(lambda: "reload failed" in d.log_text() or "reloaded" in d.log_text(), timeout=20)
if landlock:
    t.like(d.log_text(), "reads only the key_dir it started with",
           "a new key_dir is refused by the signer, and the log says why")
else:
    t.skip("a new key_dir is refused by the signer", "this kernel has no Landlock")

# The signer dies: nothing can be signed, the daemon stops (exit 1).
try:
    os.kill(signer, signal.SIGKILL)
except ProcessLookupError:
    pass    # already gone: the checks below say so
t.ok(wait_for(lambda: d.proc.poll() is not None, timeout=30),
     "the daemon stops when the signer process dies")
t.is_(d.proc.poll(), 1, "with exit status 1 (systemd restarts it)")
t.like(d.log_text(), "signer process (pid %d) was killed by signal 9" % signer,
       "and says why")
h.finish()
t.done()
