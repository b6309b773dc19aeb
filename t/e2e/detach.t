#!/usr/bin/python3
# Started without -f, authfilter goes to the background (authfilter(8)).
# The command that started it returns only once the daemon listens (exit
# 0) or has failed (exit 1, the reason on stderr), so an init script or
# an admin at a terminal sees what went wrong.  The daemon that remains
# must be the whole daemon: its DNS thread (a fork after it was started
# left a daemon whose every SPF answer was temperror), its signer process
# as its own child (the daemon stops when the signer dies), reloads of a
# config file named by a relative path, and a pid file with its pid,
# removed at exit.
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (AUTHFILTER, TEST_USER, Harness, ar_parse,  # noqa: E402
                     free_port, wait_for)
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": TEST_USER, "key_dir": kd}, "keys.conf")
records = h.active_keys(kconf, [("example.org", "rsa", "r1")])
h.start_dns(records + ['pass.example. TXT "v=spf1 ip4:192.0.2.1 -all"'])


def settings(port, **more):
    s = {"milter_socket": "inet:%d@127.0.0.1" % port,
         "authserv_id": "mx.test", "user": TEST_USER,
         "internal_networks": "127.0.0.1/32", "key_dir": kd,
         "dns_resolver": "127.0.0.1@%d" % h.dns_port, "dns_timeout": "2s",
         "report_db": "", "pid_file": os.path.join(h.state_dir(), "af.pid")}
    s.update(more)
    return s


def start(conf, cwd=None):
    """authfilter -c CONF without -f: (exit status, stderr)."""
    try:
        r = subprocess.run([AUTHFILTER, "-c", conf], cwd=cwd, env=h.san_env(),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    return r.returncode, r.stderr.decode(errors="replace")


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def children(pid):
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            out += [int(x) for x in f.read().split()]
    return out


def inbound(port):
    """(authserv-id, results) of the AR header an inbound message got."""
    m = Milter("127.0.0.1", port)
    try:
        m.connect(hostname="client.test", ip="192.0.2.1")
        m.helo("mx.example")
        m.message([("From", " <a@pass.example>"), ("Subject", " t")],
                  sender="<a@pass.example>")
        ars = [v for _, n, v in m.inserted_headers()
               if n == "Authentication-Results"]
    finally:
        m.quit()
    return ar_parse(ars[0]) if len(ars) == 1 else ["NO-AR"]


def outbound(port):
    m = Milter("127.0.0.1", port)
    try:
        m.connect(ip="127.0.0.1")
        m.helo()
        m.message([("From", " Alice <alice@example.org>"),
                   ("Subject", " hello"), ("To", " b@example.net")],
                  sender="<alice@example.org>")
        return [v for _, n, v in m.inserted_headers() if n == "DKIM-Signature"]
    finally:
        m.close()


# ---- start-up errors reach the terminal, with exit status 1 ----
busy = socket.socket()
busy.bind(("127.0.0.1", 0))
busy.listen(1)
conf = h.write_conf(settings(busy.getsockname()[1]), "busy.conf")
rc, err = start(conf)
t.is_(rc, 1, "a milter_socket in use: the start command exits 1")
t.like(err, "cannot listen on 127.0.0.1 port %d: Address already in use" % busy.getsockname()[1],
       "and says why on stderr")
busy.close()

port = free_port()
conf = h.write_conf(settings(port, pid_file=os.path.join(h.tmp, "no-dir", "af.pid")),
                    "nopid.conf")
rc, err = start(conf)
t.is_(rc, 1, "a pid_file that cannot be written: the start command exits 1")
t.like(err, "no-dir", "and names it on stderr")
t.ok(not listening(port), "and nothing is left listening")

# ---- a good start, by a relative config path ----
port = free_port()
conf = h.write_conf(settings(port), "good.conf")
pidf = settings(port)["pid_file"]
rc, err = start("good.conf", cwd=h.tmp)
t.ok(rc == 0, "the start command exits 0", "exit %r: %s" % (rc, err))
t.ok(listening(port), "when it returns, the daemon already listens")
try:
    pid = int(open(pidf).read())
except (OSError, ValueError):
    pid = 0
if pid:
    h.adopt("authfilter", pid)
t.ok(pid and alive(pid), "the pid file names the running daemon")

res = inbound(port)
t.ok("spf=pass smtp.mailfrom=pass.example" in res,
     "the detached daemon resolves: SPF pass (its DNS thread is there)", repr(res))
sigs = outbound(port)
t.ok(len(sigs) == 1 and "d=example.org" in sigs[0],
     "and signs, through its signer process", repr(sigs))

good = os.path.join(h.tmp, "good.conf")
text = open(good).read()
open(good, "w").write(text.replace("authserv_id = mx.test\n", "authserv_id = mx2.test\n"))
os.kill(pid, signal.SIGHUP)
t.ok(wait_for(lambda: inbound(port)[0] == "authserv-id=mx2.test", timeout=20),
     "SIGHUP reloads the config named by a relative path (after chdir /)")

kids = children(pid) if pid else []
t.is_(len(kids), 1, "the signer process is the daemon's child")
for k in kids:
    os.kill(k, signal.SIGKILL)
t.ok(kids and wait_for(lambda: not alive(pid), timeout=30),
     "so the daemon stops when the signer dies (a service manager restarts it)")
t.ok(not os.path.exists(pidf), "its pid file is gone")

# ---- SIGTERM stops a detached daemon, pid file removed ----
rc, err = start("good.conf", cwd=h.tmp)
pid2 = int(open(pidf).read()) if rc == 0 and os.path.exists(pidf) else 0
if pid2:
    h.adopt("authfilter-2", pid2)
t.ok(pid2 and pid2 != pid, "started again: a new pid in the pid file", err)
t.ok(pid2 and h.stop_pid(pid2), "SIGTERM stops it")
t.ok(not os.path.exists(pidf), "and its pid file is removed")
t.ok(not listening(port), "and nothing listens")
h.finish()
t.done()
