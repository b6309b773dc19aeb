#!/usr/bin/python3
# Key rotation (issue 8): messages go through a real Postfix the whole time
# while `authfilter-keys rotate` runs its steps against the loopback DNS
# server, which the test edits as an admin would (unbound-control).  Every
# delivered message is verified by dkimpy against the DNS of that moment.
# Then manual retire/revoke/remove refuse unsafe moves, two rotations
# cannot run at once, and a crash after any write leaves a store the
# daemon loads and the next run finishes.
import calendar
import fcntl
import glob
import os
import re
import subprocess
import threading
import time

import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import AUTHFILTER, AUTHFILTER_KEYS, Harness, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
pidf = os.path.join(h.tmp, "af.pid")
h.start_dns([], control=True)
base = {"user": "nobody", "key_dir": kd, "pid_file": pidf,
        "dns_resolver": "127.0.0.1@%d" % h.dns_port}
kconf = h.write_conf(base, "keys.conf")
# Grace long enough that a slow (sanitizer) run still sees it running.
GRACE = 8
ROT = ["rotate", "example.org", "--every", "1d", "--grace", "%ds" % GRACE,
       "--remove-after", "3s"]


def zone_rr(out, ttl=1):
    """The record a command printed, as one local-data line."""
    m = re.search(r'^(\S+) IN TXT \( (.*) \)$', out, re.M)
    return "%s %d IN TXT %s" % (m.group(1), ttl, m.group(2)) if m else None


def state_time(sel, field):
    """A time in the key's state file (epoch seconds; "ttl" as is)."""
    with open(os.path.join(kd, "example.org", sel + ".state")) as f:
        st = dict(line.split(" = ", 1) for line in f.read().splitlines()
                  if " = " in line)
    if field == "ttl":
        return int(st[field])
    return calendar.timegm(time.strptime(st[field], "%Y-%m-%dT%H:%M:%SZ"))


def wait_until(when):
    """Wait until the clock reaches when (epoch seconds), a time the store
    names: authfilter-keys compares whole seconds of time()."""
    return wait_for(lambda: time.time() >= when, timeout=60, step=0.1)


def selector_of(out, word):
    m = re.search(r"^(?:created )?example\.org (\S+)%s" % word, out, re.M)
    return m.group(1) if m else None


# An active key before mail starts flowing.
rc, out, err = h.keys(kconf, "new", "example.org")
sel1 = selector_of(out, " \\(")
h.dns_set(zone_rr(out))
rc, out, err = h.keys(kconf, "activate", "example.org", sel1)
t.ok(rc == 0, "first key %s active" % sel1, err)

af = h.start_authfilter(base)
sink = h.start_sink()
smtp = h.start_postfix(af.port, sink)

results = []          # (selector, verified, subject) per delivered message
accepted = []         # subjects Postfix accepted (250)
stop = threading.Event()
lock = threading.Lock()


def sender():
    n = 0
    while not stop.is_set():
        n += 1
        code, _ = h.send(smtp, "From: <a@example.org>\r\nSubject: rot-%d\r\n"
                         "\r\nx\r\n" % n, sender="a@example.org",
                         source="127.0.0.1")
        if code == 250:
            with lock:
                accepted.append("rot-%d" % n)
        stop.wait(0.2)      # a pace; ends at once when stopped


def all_checked(subjects):
    """Every one of subjects was delivered and verified."""
    with lock:
        return set(subjects) <= {subj for _, _, subj in results}


def checker():
    """Verify each message as soon as it is delivered (each sink file
    once); after the sender stopped, until Postfix's queue is empty, for
    at most 30 seconds more."""
    done = set()
    deadline = None
    while True:
        # Queue empty before the scan: everything is in the sink by then.
        last = stop.is_set() and "is empty" in h.queue_listing()
        if stop.is_set():
            deadline = deadline or time.monotonic() + 30
            last = last or time.monotonic() > deadline
        for path in sorted(glob.glob(os.path.join(h.sink_dir, "*"))):
            # smtp-sink writes as the data arrives: take a file once it
            # has not changed for half a second (or at the very end).
            st = os.stat(path)
            if path in done or (not last and (
                    st.st_size == 0 or time.time() - st.st_mtime < 0.5)):
                continue
            done.add(path)
            with open(path, "rb") as f:
                msg = h._strip_sink(f.read().decode("latin-1")
                                    .replace("\r\n", "\n"))
            s = re.search(r"\bs=([^;\s]+)", msg)
            subj = re.search(r"^Subject: (.*)$", msg, re.M)
            with lock:
                results.append((s.group(1) if s else None,
                                h.dkimpy_verify(msg),
                                subj.group(1) if subj else msg[:300]))
        if last:
            return
        time.sleep(0.05)


threads = [threading.Thread(target=sender, daemon=True),
           threading.Thread(target=checker, daemon=True)]
for th in threads:
    th.start()
t.ok(wait_for(lambda: results, timeout=60), "mail flows: a message delivered "
     "and verified")


def rotate(*extra):
    return h.keys(kconf, *(ROT + list(extra)))


rc, out, err = rotate()
t.ok(rc == 0, "rotate: young active key, nothing to do (exit 0)", out + err)
rc, out, err = rotate("--now")
sel2 = selector_of(out, " \\(")
t.ok(rc == 3 and sel2, "rotate --now: a pending key (exit 3 = advanced)", out + err)
rr2 = zone_rr(out)
rc, out, err = rotate()
t.ok(rc == 4 and "does not serve" in out,
     "rotate: pending key not in DNS: exit 4 (waiting), prints the record", out)
h.dns_set(rr2)
rc, out, err = rotate()
t.ok(rc == 4 and "DNS serves the record" in out,
     "rotate: record seen, waits for its TTL (exit 4)", out + err)
wait_until(state_time(sel2, "published") + state_time(sel2, "ttl"))
rc, out, err = rotate()
t.ok(rc == 3 and "%s is active" % sel2 in out and "%s is retiring" % sel1 in out,
     "rotate after the TTL: new key active, old one retiring", out + err)
t.like(out, "told authfilter", "the daemon was told to reload")
rc, out, err = rotate()
t.ok(rc == 0, "within grace: nothing to do", out + err)
t.ok(wait_for(lambda: any(s == sel2 for s, _, _ in results), timeout=60),
     "the daemon signs with the new key")
wait_until(state_time(sel1, "retired") + GRACE)
rc, out, err = rotate()
t.ok(rc == 3 and "%s is revoked" % sel1 in out, "grace over: old key revoked",
     out + err)
revoked_rr = zone_rr(out)
t.ok(revoked_rr is not None and revoked_rr.endswith('"v=DKIM1; k=rsa; p="'),
     "the revocation record has an empty p=", revoked_rr)
# Mail signed with the old key (all accepted long ago) is delivered and
# verified before DNS stops serving that key.
with lock:
    sent = list(accepted)
t.ok(wait_for(lambda: all_checked(sent), timeout=60),
     "the %d messages accepted so far are delivered" % len(sent))
if revoked_rr:
    h.dns_set(revoked_rr)
wait_until(state_time(sel1, "revoked") + 3)       # --remove-after 3s
rc, out, err = rotate()
t.ok(rc == 3 and "%s removed" % sel1 in out, "then removed from the store",
     out + err)
h.dns_remove("%s._domainkey.example.org" % sel1)
# Mail still flows and verifies once the old record is gone.
with lock:
    before = len(accepted)
t.ok(wait_for(lambda: len(accepted) > before and
              all_checked(accepted[before:before + 1]), timeout=60),
     "a message sent after the old record is gone is delivered")
stop.set()
for th in threads:
    th.join()

sels = [s for s, _, _ in results]
bad = [(s, v, subj) for s, v, subj in results if v != [True]]
t.ok(len(results) >= 30, "%d messages delivered during the rotation" % len(results))
t.ok(sel1 in sels and sel2 in sels and sels.index(sel2) > sels.index(sel1),
     "signed first with the old key, then with the new", sels)
t.is_(bad, [], "every delivered message verified against the DNS of that "
      "moment")
rc, out, err = h.keys(kconf, "list")
t.ok(not re.search(r"\s%s\s" % re.escape(sel1), out) and
     re.search(r"\s%s\s.* active" % re.escape(sel2), out),
     "list: the new key active, the old one gone", out)

# ---- manual steps refuse unsafe moves ----
rc, out, err = h.keys(kconf, "retire", "example.org", sel2)
t.ok(rc == 1 and "only active rsa key" in err, "retire the only active key: refused",
     err)
rc, out, err = h.keys(kconf, "revoke", "example.org", sel2)
t.ok(rc == 1 and "--force" in err, "revoke an active key: refused", err)
rc, out, err = h.keys(kconf, "remove", "example.org", sel2)
t.ok(rc == 1 and "revoke it first" in err, "remove an active key: refused", err)
rc, out, err = h.keys(kconf, "new", "example.org", "--selector", "spare")
h.keys(kconf, "activate", "example.org", "spare", "--force")
rc, out, err = h.keys(kconf, "retire", "example.org", "spare")
t.ok(rc == 0, "retire with another active key: done", err)
rc, out, err = h.keys(kconf, "revoke", "example.org", "spare")
t.ok(rc == 1 and "grace period" in err, "revoke within grace: refused", err)
rc, out, err = h.keys(kconf, "revoke", "example.org", "spare", "--grace", "0s")
t.ok(rc == 0, "revoke after (a zero) grace: done", err)
rc, out, err = h.keys(kconf, "remove", "example.org", "spare")
t.ok(rc == 0, "remove a revoked key: done", err)
# An active Ed25519 key does not make the only RSA key spare: most
# receivers check only RSA.
h.keys(kconf, "new", "example.org", "--alg", "ed25519", "--selector", "edk")
h.keys(kconf, "activate", "example.org", "edk", "--force")
rc, out, err = h.keys(kconf, "retire", "example.org", sel2)
t.ok(rc == 1 and "only active rsa key" in err,
     "retire the only RSA key while an Ed25519 key is active: refused", err)
for step in (("retire", "--force"), ("revoke", "--force"), ("remove",)):
    rc, out, err = h.keys(kconf, step[0], "example.org", "edk", *step[1:])
    t.is_(rc, 0, "%s the Ed25519 key again" % step[0])

# ---- a stale pid file names another process: it is not signalled ----
saved = open(pidf).read() if os.path.exists(pidf) else None
# The other process blocks every signal: one sent to it stays pending, to
# be seen in /proc at once, without waiting for it to act.
other = subprocess.Popen([sys.executable, "-c",
                          "import signal, sys, time\n"
                          "signal.pthread_sigmask(signal.SIG_BLOCK, "
                          "signal.valid_signals())\n"
                          "print('ready', flush=True)\n"
                          "sys.stdin.read()\n"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
other.stdout.readline()


def pending_signals(pid):
    with open("/proc/%d/status" % pid) as f:
        st = f.read()
    return sum(int(re.search(r"^%s:\s*(\S+)" % k, st, re.M).group(1), 16)
               for k in ("SigPnd", "ShdPnd"))


with open(pidf, "w") as f:
    f.write("%d\n" % other.pid)
h.keys(kconf, "new", "example.org", "--selector", "stale")
rc, out, err = h.keys(kconf, "activate", "example.org", "stale", "--force")
t.ok(rc == 0 and "names no running authfilter" in out and
     pending_signals(other.pid) == 0 and other.poll() is None,
     "stale pid file: the process it names is left alone, the admin is told",
     out + err)
other.kill()
other.wait()
for step in (("retire", "--force"), ("revoke", "--force"), ("remove",)):
    h.keys(kconf, step[0], "example.org", "stale", *step[1:])
if saved is not None:
    with open(pidf, "w") as f:
        f.write(saved)

# ---- one rotation at a time ----
fd = os.open(os.path.join(kd, ".rotate.lock"), os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
rc, out, err = rotate()
t.ok(rc == 1 and "another authfilter-keys command is changing the store" in err,
     "a second rotation fails while the lock is held", err)
rc, out, err = h.keys(kconf, "activate", "example.org", sel2)
t.ok(rc == 1 and "changing the store" in err,
     "activate waits for no one either: it fails while the lock is held", err)
os.close(fd)

# ---- crash after each write: the store loads, the next run finishes ----
conf_t = h.write_conf(base, "check.conf")


def store_loads():
    r = subprocess.run([AUTHFILTER, "-t", "-c", conf_t], capture_output=True,
                       text=True)
    return r.returncode == 0, r.stdout + r.stderr


for crash in (1, 2, 3):
    # a fresh pending key, already served and seen long enough: the next
    # run activates it (write 1) and retires the current key (write 2);
    # with crash 3 it gets through both.
    rc, out, err = rotate("--now")
    sel = selector_of(out, " \\(")
    h.dns_set(zone_rr(out))
    rotate()
    wait_until(state_time(sel, "published") + state_time(sel, "ttl"))
    env = dict(os.environ, AF_KEYS_CRASH_AFTER=str(crash))
    r = subprocess.run([AUTHFILTER_KEYS, "-c", kconf] + ROT,
                       capture_output=True, text=True, env=env)
    ok, why = store_loads()
    t.ok(ok and r.returncode in ((99,) if crash < 3 else (3, 99)),
         "crash after write %d of an activation (exit %d): the daemon loads "
         "the store" % (crash, r.returncode), why)
    rc, out, err = rotate()
    rc2, out2, _ = h.keys(kconf, "list")
    actives = re.findall(r"^example\.org\s+(\S+)\s+\S+\s+\d+\s+active", out2, re.M)
    t.ok(actives == [sel], "crash %d: the next run leaves one active key, the "
         "new one" % crash, out + out2)

# creating: crash between the private key and its state file
env = dict(os.environ, AF_KEYS_CRASH_AFTER="1")
r = subprocess.run([AUTHFILTER_KEYS, "-c", kconf] + ROT +
                   ["--now"], capture_output=True, text=True, env=env)
ok, why = store_loads()
t.ok(r.returncode == 99 and ok, "crash between key file and state file: the "
     "store loads (the lone key file is ignored)", why)
rc, out, err = rotate("--now")
t.ok(rc == 3 and "created" in out, "and the next run creates the key", out + err)
h.finish()
t.done()
