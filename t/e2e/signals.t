#!/usr/bin/python3
# Signals and process life: SIGHUP reloads (bursts included: libmilter's
# own SIGHUP handler would stop the milter, see milter/runloop.c), a broken
# config on SIGHUP keeps the old one serving, SIGTERM drains messages in
# progress, a live socket is never taken over, root is refused.
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, AUTHFILTER, free_port, wait_for  # noqa: E402
from milterclient import Milter, MilterError  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
af = h.start_authfilter()


def ar_of(port):
    m = Milter("127.0.0.1", port)
    m.connect()
    m.helo()
    code, _ = m.message([("From", " a@example.org")])
    ins = [v.strip() for _, n, v in m.inserted_headers() if n == "Authentication-Results"]
    m.quit()
    return code, ins


def message_in_flight(port):
    """A session stopped after its first header: a message in progress."""
    m = Milter("127.0.0.1", port)
    m.connect()
    m.helo()
    m.mail()
    m.rcpt()
    m.header("From", " a@example.org")
    return m


def rewrite(conf, **changes):
    lines = []
    for line in open(conf).read().splitlines():
        k = line.split("=")[0].strip()
        if k in changes:
            line = "%s = %s" % (k, changes.pop(k))
        lines.append(line)
    lines += ["%s = %s" % kv for kv in changes.items()]
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")


t.is_(ar_of(af.port), (b"c", ["mx.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"]), "serving with authserv_id mx.test")

# Reload picks up a new authserv_id.
rewrite(af.conf, authserv_id="mx2.test")
af.signal(signal.SIGHUP)
wait_for(lambda: "generation 2" in af.log_text())
t.is_(ar_of(af.port), (b"c", ["mx2.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"]), "SIGHUP: new authserv_id in use")

# Broken config: old state keeps serving, the error names file and line.
rewrite(af.conf, authserv_id="mx3.test", policy_mode="enforcing")
af.signal(signal.SIGHUP)
wait_for(lambda: "reload failed" in af.log_text())
log = af.log_text()
t.like(log, "policy_mode: \\\"enforcing\\\" is not one of", "C2: the reload error is logged")
t.like(log, af.conf + ":", "C2: the log names the file and line")
t.is_(ar_of(af.port), (b"c", ["mx2.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"]), "C2: old configuration keeps serving")

# Missing file on reload: same.
def log_count(s):
    return af.log_text().count(s)


os.rename(af.conf, af.conf + ".moved")
af.signal(signal.SIGHUP)
wait_for(lambda: log_count("reload failed") == 2)
t.is_(log_count("reload failed"), 2, "C2: missing config on SIGHUP: reload failed")
t.is_(ar_of(af.port), (b"c", ["mx2.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"]), "C2: still serving")
os.rename(af.conf + ".moved", af.conf)
rewrite(af.conf, policy_mode="monitor")

# A burst of SIGHUPs: the daemon must keep serving.  Signals that arrive
# while the main thread is busy reloading must not reach libmilter's own
# signal thread, which would stop the milter (milter/milter_sigwait.c).
n_reloads = log_count("reloaded")
for i in range(3000):
    af.signal(signal.SIGHUP)


def ar_or_error():
    try:
        return ar_of(af.port)
    except (MilterError, OSError) as e:
        return repr(e)


def burst_handled():
    """Every SIGHUP sent has been taken and its reload has ended: none is
    pending, the main thread waits in sigwaitinfo() again, and no reload
    started or ended while we looked."""
    def reloads():
        return (log_count("SIGHUP: reloading"),
                log_count("reloaded") + log_count("reload failed"))
    before = reloads()
    with open("/proc/%d/status" % af.pid) as f:
        pending = int(re.search(r"^ShdPnd:\s*(\S+)", f.read(), re.M).group(1), 16)
    with open("/proc/%d/wchan" % af.pid) as f:
        waiting = f.read().startswith("do_sigtimedwait")
    return (not pending & (1 << (signal.SIGHUP - 1)) and waiting and
            before == reloads() and before[0] == before[1])


mx3 = (b"c", ["mx3.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"])
wait_for(lambda: not af.alive() or (log_count("reloaded") > n_reloads and
                                    burst_handled()), timeout=60)
t.ok(af.alive(), "3000 SIGHUPs: daemon alive", af.log_text()[-2000:])
t.is_(ar_or_error(), mx3, "3000 SIGHUPs: serving the reloaded config")
t.ok("stopped unexpectedly" not in af.log_text(), "3000 SIGHUPs: libmilter never stopped")

# Reload while messages are in flight: each finishes with the state it
# started with.
m = message_in_flight(af.port)
rewrite(af.conf, authserv_id="mx4.test")
af.signal(signal.SIGHUP)
mx4 = (b"c", ["mx4.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"])
wait_for(lambda: ar_or_error() == mx4, timeout=30)
m.eoh()
code, _ = m.eom()
ins = [v.strip() for _, n, v in m.inserted_headers() if n == "Authentication-Results"]
t.is_((code, ins), mx3, "message in flight keeps its state over a reload")
m.quit()
t.is_(ar_or_error(), mx4, "the next message uses the new state")

# A setting a reload cannot apply is named, not passed over in silence.
n = log_count("reloaded")
rewrite(af.conf, milter_socket_mode="0600")
af.signal(signal.SIGHUP)
wait_for(lambda: log_count("reloaded") > n, timeout=30)
t.like(af.log_text(), "changed, but kept until a restart: milter_socket_mode",
       "a reload that changes milter_socket_mode says it waits for a restart")

# C5: a second daemon on the same port refuses to start; the first serves.
second = subprocess.run([AUTHFILTER, "-f", "-c", af.conf], capture_output=True,
                        text=True, timeout=30, env=h.san_env())
t.ok(second.returncode != 0, "C5: a second daemon on a busy port exits non-zero")
t.like(second.stdout + second.stderr, "cannot listen on", "C5: and says why")
t.ok(af.alive(), "C5: the first daemon is untouched")

# C5 for unix sockets: a live socket is never removed; a stale one is reused.
sockpath = os.path.join(h.tmp, "af.sock")
u1 = h.start_authfilter({"milter_socket": "unix:" + sockpath}, name="unix1")
conf2 = h.write_conf({"milter_socket": "unix:" + sockpath, "user": "nobody",
                      "authserv_id": "mx.test"}, "unix2.conf")
r = subprocess.run([AUTHFILTER, "-f", "-c", conf2], capture_output=True, text=True,
                   timeout=30, env=h.san_env())
t.like(r.stdout + r.stderr, "another process is listening on this socket",
       "C5: live unix socket is not taken over")
s = socket.socket(socket.AF_UNIX)
t.is_(s.connect_ex(sockpath), 0, "C5: first daemon's socket still answers")
s.close()
t.is_(oct(os.stat(sockpath).st_mode & 0o777), "0o660", "unix socket mode is milter_socket_mode")
h.stop_authfilter(u1, signal.SIGKILL)
t.ok(os.path.exists(sockpath), "a killed daemon leaves a stale socket file")
u2 = h.start_authfilter({"milter_socket": "unix:" + sockpath}, name="unix2")
t.ok(u2.alive(), "C5: a stale socket file is reused")
t.is_(h.stop_authfilter(u2), 0, "unix daemon stops cleanly")

# C7: as root without `user`, refuse to run.
rootconf = h.write_conf({"milter_socket": "inet:1@127.0.0.1"}, "root.conf")
r = subprocess.run([AUTHFILTER, "-f", "-c", rootconf], capture_output=True, text=True,
                   timeout=30, env=h.san_env())
t.ok(r.returncode != 0 and "refusing to run as root" in r.stderr,
     "C7: root without user= is refused", r.stderr)
t.is_(subprocess.run(["ps", "-o", "user=", "-p", str(af.pid)], capture_output=True,
                     text=True).stdout.strip(), "nobody", "C7: daemon runs as `user`")

# SIGTERM drains: a message in progress completes; new sessions and new
# messages get 451 (the sender keeps the mail).
m = message_in_flight(af.port)
af.signal(signal.SIGTERM)
wait_for(lambda: "stopping" in af.log_text())
n2 = Milter("127.0.0.1", af.port)
code, text = n2.connect()
t.ok(code == b"y" and text.startswith("451 4.3.2"), "after SIGTERM a new session gets 451 4.3.2",
     repr((code, text)))
n2.close()
t.ok(af.alive(), "daemon waits for the message in progress")
m.eoh()
code, _ = m.eom()
t.is_(code, b"c", "the message in progress completes after SIGTERM")
m.quit()
rc = af.proc.wait(timeout=30)
t.is_(rc, 0, "daemon exits 0 once drained")
t.like(af.log_text(), "stopped", "and logs it")

# drain_timeout bounds the wait.
af = h.start_authfilter({"drain_timeout": "1s"}, name="drain")
m = Milter("127.0.0.1", af.port)
m.connect()
m.helo()
m.mail()
start = time.time()
af.signal(signal.SIGTERM)
rc = af.proc.wait(timeout=30)
took = time.time() - start
t.is_(rc, 0, "drain_timeout: exits 0")
t.ok(took < 10, "drain_timeout=1s: stopped without the stuck message", "took %.1fs" % took)
t.like(af.log_text(), "drain_timeout: 1 message(s) still in progress", "and says so")
m.close()

# A SIGHUP while the daemon starts (authfilter-keys finds it through the
# pid file, which is written before the state is built again as `user`)
# is a reload once it serves, not the end of the process (the default
# action: systemd took it for a clean exit and did not restart it).
pidf = os.path.join(h.state_dir(), "early.pid")
conf = h.write_conf({"milter_socket": "inet:%d@127.0.0.1" % free_port(),
                     "user": "nobody", "pid_file": pidf, "report_db": "",
                     "dns_resolver": "127.0.0.1@%d" % h.dns_port,
                     "log_format": "json"}, "early.conf")
log = os.path.join(h.tmp, "early.log")
proc = subprocess.Popen([AUTHFILTER, "-f", "-c", conf], stdout=open(log, "a"),
                        stderr=subprocess.STDOUT, env=h.san_env())
h.procs.append(("early", proc))
t.ok(wait_for(lambda: os.path.exists(pidf) or proc.poll() is not None,
              timeout=20, step=0.001), "early: the pid file appears")
proc.send_signal(signal.SIGHUP)


def early_log():
    return open(log).read()


wait_for(lambda: "reloaded" in early_log() or proc.poll() is not None, timeout=30)
t.ok("reloaded" in early_log(), "a SIGHUP as soon as the pid file exists: a reload",
     early_log()[-1500:])
t.is_(proc.poll(), None, "and the daemon is still running")
t.like(early_log(), "listening on", "serving")
h.finish()
t.done()
