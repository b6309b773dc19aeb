#!/usr/bin/python3
# Type=notify without systemd: the test binds the unix datagram socket that
# NOTIFY_SOCKET names and reads what the daemon tells the service manager:
# READY=1 once it listens, RELOADING=1 (with MONOTONIC_USEC) then READY=1
# around a SIGHUP reload (a failed one too), STOPPING=1 at SIGTERM.  With
# stderr the journal's stream (JOURNAL_STREAM), every log line starts with
# its priority ("<6>", "<3>") for the journal to read.
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, AUTHFILTER  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
version = subprocess.run([AUTHFILTER, "-V"], capture_output=True, text=True).stdout
if "libsystemd: not built in" in version:
    t.skip_all("built without libsystemd (configure --without-systemd)")
h = Harness(t)

path = os.path.join(h.tmp, "notify.sock")
ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ns.bind(path)
# The daemon sends after switching to its unprivileged user.
os.chmod(path, 0o666)


def next_message(timeout):
    """The next datagram as a dict of NAME=VALUE lines, or None."""
    ns.settimeout(max(0.01, timeout))
    try:
        data = ns.recv(4096)
    except socket.timeout:
        return None
    return dict(line.split("=", 1) for line in data.decode().splitlines()
                if "=" in line)


def wait_message(key, deadline=20.0):
    """Messages up to and including the first that carries key."""
    seen = []
    end = time.time() + deadline
    while time.time() < end:
        m = next_message(end - time.time())
        if m is None:
            break
        seen.append(m)
        if key in m:
            return seen
    return seen


# The harness logs to tmp/authfilter.log: make it the "journal stream".
log = os.path.join(h.tmp, "authfilter.log")
open(log, "w").close()
st = os.stat(log)
af = h.start_authfilter(env={"NOTIFY_SOCKET": path,
                             "JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
msgs = wait_message("READY")
ready = msgs[-1] if msgs else {}
t.is_(ready.get("READY"), "1", "READY=1 at start")
t.ok(re.fullmatch(r"serving \d+ session\(s\), config generation 1",
                  ready.get("STATUS", "")), "STATUS= says sessions and generation",
     ready)
# READY=1 comes after listen(): the socket accepts now.
s = socket.create_connection(("127.0.0.1", af.port), timeout=5)
s.close()
t.ok(True, "the milter socket accepts once READY=1 arrived")

af.signal(signal.SIGHUP)
msgs = wait_message("READY")
keys = [k for m in msgs for k in ("RELOADING", "READY") if k in m]
t.is_(keys, ["RELOADING", "READY"], "SIGHUP: RELOADING=1, then READY=1")
rel = next((m for m in msgs if "RELOADING" in m), {})
now_us = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
t.ok(re.fullmatch(r"\d+", rel.get("MONOTONIC_USEC", "")) and
     0 <= now_us - int(rel["MONOTONIC_USEC"]) < 60e6,
     "RELOADING=1 carries MONOTONIC_USEC (CLOCK_MONOTONIC, now)", rel)
t.like(msgs[-1].get("STATUS", "") if msgs else "", "config generation 2",
       "after the reload STATUS= names generation 2")

# A reload that fails still ends: READY=1, the old generation serving.
with open(af.conf, "a") as f:
    f.write("policy_mode = strict\n")
af.signal(signal.SIGHUP)
msgs = wait_message("READY")
keys = [k for m in msgs for k in ("RELOADING", "READY") if k in m]
t.is_(keys, ["RELOADING", "READY"], "failed reload: RELOADING=1, then READY=1")
t.like(msgs[-1].get("STATUS", "") if msgs else "", "config generation 2",
       "failed reload: generation 2 still serving")

af.signal(signal.SIGTERM)
msgs = wait_message("STOPPING")
t.is_(msgs[-1].get("STOPPING") if msgs else None, "1", "SIGTERM: STOPPING=1")
t.is_(h.stop_authfilter(af), 0, "exit 0 after SIGTERM")
lines = af.log_text().splitlines()
t.ok("sd_notify" not in af.log_text(), "no sd_notify warning in the log",
     af.log_text())
t.is_([ln for ln in lines if not re.match(r"<[0-7]>", ln)], [],
      "journal: every line starts with its priority")
t.ok(any(re.match(r'<6>\{"ts":"[^"]+","level":"info","msg":"authfilter \S+ '
                  r'listening on', ln) for ln in lines),
     "journal: the listening line is <6> (info), no time stamp before it",
     lines)
t.ok(any(ln.startswith("<3>") and "reload failed" in ln for ln in lines),
     "journal: the failed reload is <3> (error)", lines)

h.finish()
ns.close()
t.done()
