"""A delaying DNS forwarder on 127.0.0.1, for tests and bench/run.

Every UDP query is passed to an upstream server on 127.0.0.1 (the test's
unbound) and its answer held back `delay` seconds, as a distant server
would; queries for which drop(qname, qtype) is true are never answered.
fault(qname, qtype) may name what a broken server does instead:
"servfail", "garbage" (random bytes after the query's id), "truncated"
(TC set, no answer; no TCP here), "drop" (no answer), "late" (the real
answer after `late` seconds), or None (the real answer).
Every query is recorded as (monotonic time, qname, qtype) in .queries.

    fwd = DelayingForwarder(h.dns_port, delay=0.1)
    af = h.start_authfilter({"dns_resolver": "127.0.0.1@%d" % fwd.port})
    ...
    fwd.stop()

As a program (bench/run): dnsdelay.py UPSTREAM_PORT DELAY_MS prints the
port it listens on, serves until stdin closes, then prints the number of
queries it saw.
"""
import os
import socket
import struct
import sys
import threading
import time

TYPES = {1: "A", 15: "MX", 16: "TXT", 28: "AAAA", 12: "PTR", 99: "SPF"}


def parse_question(q):
    """(qname, qtype name) of a query packet, or (None, None)."""
    try:
        i, labels = 12, []
        while q[i] != 0:
            n = q[i]
            labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
        return ".".join(labels).lower(), TYPES.get(qtype, str(qtype))
    except (IndexError, struct.error):
        return None, None


class DelayingForwarder:
    def __init__(self, upstream_port, delay=0.0, drop=None, fault=None, late=0.0):
        self.upstream = ("127.0.0.1", upstream_port)
        self.delay = delay
        self.drop = drop
        self.fault = fault
        self.late = late
        self.queries = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.running = True
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while self.running:
            try:
                q, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            name, qtype = parse_question(q)
            with self.lock:
                self.queries.append((time.monotonic(), name, qtype))
            if self.drop is not None and self.drop(name, qtype):
                continue
            mode = self.fault(name, qtype) if self.fault is not None else None
            if mode in ("servfail", "garbage", "truncated"):
                self._broken(q, peer, mode)
                continue
            if mode == "drop":
                continue
            threading.Thread(target=self._forward, args=(q, peer, mode == "late"),
                             daemon=True).start()

    def _broken(self, q, peer, mode):
        if len(q) < 12:
            return
        if mode == "servfail":      # QR, RD, RA; RCODE 2; the question back
            a = q[:2] + b"\x81\x82" + q[4:6] + b"\0\0\0\0\0\0" + q[12:]
        elif mode == "truncated":   # QR, TC: ask again over TCP
            a = q[:2] + b"\x83\x80" + q[4:6] + b"\0\0\0\0\0\0" + q[12:]
        else:
            a = q[:2] + os.urandom(40)
        try:
            self.sock.sendto(a, peer)
        except OSError:
            pass

    def _forward(self, q, peer, late=False):
        start = time.monotonic()
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(5)
        try:
            up.sendto(q, self.upstream)
            a, _ = up.recvfrom(65535)
        except OSError:
            return
        finally:
            up.close()
        # The simulated distance: the answer leaves when it is due.
        left = (self.late if late else self.delay) - (time.monotonic() - start)
        threading.Timer(max(left, 0), self._reply, args=(a, peer)).start()

    def _reply(self, a, peer):
        try:
            self.sock.sendto(a, peer)
        except OSError:
            pass

    def seen(self, name, qtype="TXT"):
        """How often (name, qtype) was asked."""
        with self.lock:
            return sum(1 for _, n, t in self.queries
                       if n == name.lower().rstrip(".") and t == qtype)

    def count(self):
        with self.lock:
            return len(self.queries)

    def stop(self):
        self.running = False
        self.sock.close()


if __name__ == "__main__":
    fwd = DelayingForwarder(int(sys.argv[1]), float(sys.argv[2]) / 1000.0)
    print(fwd.port, flush=True)
    sys.stdin.read()
    print(fwd.count(), flush=True)
    fwd.stop()
