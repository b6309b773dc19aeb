"""bench/soak.py -- a long mixed run: RSS and open descriptors stay flat.

Used by bench/run (section "soak", not in the default set: bench/run
--only soak --soak N).  One daemon signs (Ed25519) and verifies (a
DKIM-signed message with SPF and DMARC, warm DNS cache) at the same
time: two miltergen runs of N/2 messages each, 16 sessions each, side by
side.  Before and after: the daemon's RSS and its open descriptors
(/proc/PID/fd), the errors miltergen saw.
"""
import os
import threading


def _fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def _rss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def run(h, kd, msgfile, n, miltergen, lines):
    sock = os.path.join(h.tmp, "af-soak.sock")
    af = h.start_authfilter({"key_dir": kd, "milter_socket": "unix:" + sock,
                             "milter_socket_mode": "0666"}, name="af-soak")
    # Warm up (keys decoded, DNS cached), then measure.
    miltergen("unix:" + sock, af.pids, 4, 2000)
    miltergen("unix:" + sock, af.pids, 4, 2000, False, msgfile)
    before = (_rss(af.pid), _fds(af.pid))
    res = {}

    def one(name, outbound):
        res[name] = miltergen("unix:" + sock, af.pids, 16, n // 2, outbound,
                              None if outbound else msgfile)
    th = [threading.Thread(target=one, args=("out", True)),
          threading.Thread(target=one, args=("in", False))]
    for x in th:
        x.start()
    for x in th:
        x.join()
    after = (_rss(af.pid), _fds(af.pid))
    alive = af.alive()
    h.stop_authfilter(af)
    lines += [
        "Soak: %d messages, half signed (Ed25519), half verified (DKIM + "
        "SPF + DMARC), 16 sessions each, at once" % n,
        "RSS %.1f MiB before, %.1f MiB after (%+.1f); open descriptors %d "
        "before, %d after; daemon %s" % (
            before[0] / 1024.0, after[0] / 1024.0,
            (after[0] - before[0]) / 1024.0, before[1], after[1],
            "up" if alive else "DOWN"),
        "outbound %.0f msgs/s, errors %s; inbound %.0f msgs/s, errors %s" % (
            res["out"].get("msgs_s", 0), res["out"].get("errors"),
            res["in"].get("msgs_s", 0), res["in"].get("errors")),
        ""]
    return before, after, res
