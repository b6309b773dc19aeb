"""bench/reportcost.py -- what recording DMARC evaluations costs the milter
(issue 19: < 5 % CPU per message).

Used by bench/run (section "report").  Daemons on the same inbound
message (DKIM-signed, SPF and DMARC pass, a DMARC record, so every message
is one evaluation for aggregate reports): one with report_db empty (nothing
recorded), one with a SQLite report_db, one with PostgreSQL when a server
can be started (t/lib/pg.py), and a last one recording nothing again, for
the noise floor.  They are driven in turns, each round starting with
another daemon, ROUNDS
times each, and each row is the median: CPU microseconds per message of
the daemon and its signer process (the writer thread is inside), msgs/s,
and how many rows the writer wrote and dropped (its metrics), so a cheap
figure cannot hide rows not written.
"""
import os
import re
import statistics
import urllib.request

from harness import free_port

ROUNDS = 4


def _metric(listen, name):
    with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for m in re.finditer(r"^%s(\{[^}]*\})? ([0-9.e+]+)$" % name, text, re.M):
        total += float(m.group(2))
    return total


def _pg(h):
    """A PostgreSQL server this run starts (t/lib/pg.py) and a database
    URL on it, or None and why not."""
    try:
        from pg import Postgres, pg_bindir
    except ImportError as e:
        return None, None, "PostgreSQL not measured: %s" % e
    if pg_bindir() is None:
        return None, None, "PostgreSQL not measured: postgresql-15 is not installed"
    srv = Postgres(h.tmp, "bench-pg")
    srv.start()
    return srv, srv.createdb("bench"), None


def run(h, msgfile, miltergen, lines, messages=5000, conc=4):
    stores = [("off", "")]
    stores.append(("sqlite", os.path.join(h.state_dir(), "bench-reports.db")))
    srv, url, why = _pg(h)
    if srv is not None:
        stores.append(("postgresql", url))
    # A second daemon recording nothing, driven last in each round: how
    # far two identical daemons differ here (the noise floor).
    stores.append(("off again", ""))
    daemons = []
    for name, url in stores:
        sock = os.path.join(h.tmp, "af-rep-%s.sock" % name.replace(" ", "-"))
        listen = "127.0.0.1:%d" % free_port()
        af = h.start_authfilter({"milter_socket": "unix:" + sock,
                                 "milter_socket_mode": "0666",
                                 "metrics_listen": listen,
                                 "report_db": url},
                                name="af-report-" + name.replace(" ", "-"))
        miltergen("unix:" + sock, af.pids, conc, max(conc, messages // 10),
                  False, msgfile)
        daemons.append((name, sock, af, listen))
    runs = {name: [] for name, _, _, _ in daemons}
    for k in range(ROUNDS):
        # Each round in another order: no daemon always runs first.
        for name, sock, af, _ in daemons[k % len(daemons):] + \
                daemons[:k % len(daemons)]:
            runs[name].append(miltergen("unix:" + sock, af.pids, conc,
                                        messages, False, msgfile))
    base = statistics.median(r.get("cpu_us", 0) for r in runs["off"])
    lines += [
        "Recording DMARC evaluations for aggregate reports (report_db), "
        "inbound, concurrency %d, %d messages x %d rounds, medians; "
        "target < 5 %% CPU per message" % (conc, messages, ROUNDS),
        "%-10s | %8s %8s %7s | %9s %9s" % ("report_db", "msgs/s", "cpu us",
                                          "added", "rows", "dropped")]
    for name, _, af, listen in daemons:
        cpu = statistics.median(r.get("cpu_us", 0) for r in runs[name])
        mps = statistics.median(r.get("msgs_s", 0) for r in runs[name])
        rows = _metric(listen, "authfilter_report_rows_total")
        dropped = _metric(listen, "authfilter_report_rows_dropped_total")
        lines.append("%-10s | %8.0f %8.1f %6.1f%% | %9.0f %9.0f" % (
            name, mps, cpu, 100.0 * (cpu - base) / base if base else 0,
            rows, dropped))
        errs = sum(r.get("errors", 0) for r in runs[name])
        if errs:
            lines.append("  errors: %d" % errs)
        h.stop_authfilter(af)
    if why:
        lines.append(why)
    if srv is not None:
        srv.stop()
    lines.append("")
