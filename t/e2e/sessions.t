#!/usr/bin/python3
# Many connections at once (milter/server.c): 1,000 idle connections and
# normal traffic beside them; max_sessions reached (new connections wait,
# the log says so once, they are served when a session ends); a low
# limit of open files (fewer sessions, descriptors kept for DNS);
# milter_timeout closes a silent connection and a command that never
# arrives whole.  (Out of descriptors anyway: t/unit/server.c.)
import os
import re
import resource
import signal
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, wait_for  # noqa: E402
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)

IDLE = 1000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = IDLE + 200
if soft < want and (hard == resource.RLIM_INFINITY or hard >= want):
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft = want


def message(port, tag):
    """A whole inbound message on its own connection: (code, AR found)."""
    m = Milter("127.0.0.1", port, noreply=True)
    try:
        m.connect(ip="192.0.2.1")
        m.helo()
        code, _ = m.message([("From", " a@example.org"), ("Subject", " " + tag)])
        ar = [v for _, n, v in m.inserted_headers() if n == "Authentication-Results"]
    finally:
        m.quit()
    return code, len(ar) == 1


def idle_connections(port, n, negotiate):
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if negotiate and i % 2 == 0:
            # negotiated, then silent (as between SMTP commands)
            s.sendall(struct.pack(">IcIII", 13, b"O", 6, 0x1ff, 0x1fffff))
        socks.append(s)
    return socks


def close_all(socks):
    for s in socks:
        s.close()


# ---- 1,000 idle connections, normal traffic beside them ----
af = h.start_authfilter()
if soft < want:
    for _ in range(4):
        t.skip("1,000 idle connections", "this shell allows %d open files" % soft)
    idle = []
else:
    def threads():
        with open("/proc/%d/status" % af.pid) as f:
            return int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))
    idle = idle_connections(af.port, IDLE, negotiate=True)
    # One thread per session: wait until the idle ones have theirs (slow
    # to make under ThreadSanitizer on a busy machine), so that the
    # traffic below is not queued behind them past its client timeout.
    t.ok(wait_for(lambda: threads() >= IDLE, timeout=600),
         "%d idle connections accepted, a thread each" % IDLE,
         "%d threads" % threads())
    results, errors = [], []

    def traffic(k):
        try:
            for i in range(10):
                results.append(message(af.port, "t%d-%d" % (k, i)))
        except Exception as e:      # noqa: BLE001 -- any failure fails the test
            errors.append(repr(e))
    ths = [threading.Thread(target=traffic, args=(k,)) for k in range(4)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    t.is_((errors, results), ([], [(b"c", True)] * 40),
          "%d idle connections: 40 messages on 4 sessions all served" % IDLE)
    t.ok(af.alive(), "daemon alive with %d idle connections" % IDLE)
    t.ok("max_sessions" not in af.log_text(), "max_sessions (2000) not reached")
close_all(idle)

# milter_timeout: a silent connection and a command that never completes
# are closed and logged; others are unaffected.
quiet = h.start_authfilter({"milter_timeout": "1s"}, name="timeout")
s1 = socket.create_connection(("127.0.0.1", quiet.port))
s2 = socket.create_connection(("127.0.0.1", quiet.port))
s2.sendall(struct.pack(">I", 50) + b"L" + b"partial")
t.ok(wait_for(lambda: quiet.log_text().count("closed:") >= 2, timeout=20),
     "milter_timeout: both connections closed", quiet.log_text())
log = quiet.log_text()
t.like(log, "no command for 1s (milter_timeout)", "milter_timeout: silent connection")
t.like(log, "the rest of a command did not come for 1s", "milter_timeout: half a command")
t.is_(s1.recv(10), b"", "milter_timeout: the peer sees the close")
s1.close()
s2.close()
t.is_(message(quiet.port, "after timeouts"), (b"c", True), "milter_timeout: serving after")

# ---- max_sessions: the next connection waits until a session ends ----
small = h.start_authfilter({"max_sessions": "5"}, name="small")
held = idle_connections(small.port, 5, negotiate=False)
late = []
th = threading.Thread(target=lambda: late.append(message(small.port, "late")))
th.start()
t.ok(wait_for(lambda: "max_sessions (5) reached" in small.log_text(), timeout=20),
     "max_sessions: the log says it is reached", small.log_text())
t.is_(late, [], "max_sessions: the sixth session waits")
held.pop().close()
th.join(timeout=30)
t.is_(late, [(b"c", True)], "max_sessions: served once a session ended")
t.is_(small.log_text().count("max_sessions (5) reached"), 1, "max_sessions: said once")

# A reload raises max_sessions for connections accepted from then on.
held.append(socket.create_connection(("127.0.0.1", small.port)))
conf = open(small.conf).read().replace("max_sessions = 5", "max_sessions = 7")
with open(small.conf, "w") as f:
    f.write(conf)
small.signal(signal.SIGHUP)
t.ok(wait_for(lambda: "generation 2" in small.log_text(), timeout=20), "reloaded")
t.is_(message(small.port, "after reload"), (b"c", True),
      "max_sessions raised by a reload: a sixth session is served at once")
close_all(held)

# ---- a low limit of open files: fewer sessions, descriptors kept for
# DNS (libunbound's event base cannot be made without a few) ----
few = h.start_authfilter(name="few", nofile=48)
t.like(few.log_text(), "open files limited to 48: serving at most 24 sessions",
       "low open-files limit: sessions capped, the log says so")
crowd = idle_connections(few.port, 40, negotiate=False)
t.ok(wait_for(lambda: "max_sessions (24) reached" in few.log_text(), timeout=20),
     "low open-files limit: 24 sessions, the rest wait", few.log_text())
close_all(crowd[:30])
t.is_(message(few.port, "inbound after the crowd"), (b"c", True),
      "low open-files limit: DNS still works, the message is served")
close_all(crowd[30:])
t.ok("Too many open files" not in few.log_text(), "low open-files limit: no EMFILE")

h.finish()
t.done()
