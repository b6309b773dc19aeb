#!/usr/bin/python3
# DMARC evaluations recorded for aggregate reports (issue 19 part 2),
# through the milter protocol: every inbound message whose From domain
# publishes a record becomes one row of report_db, written by the
# writer thread; a store that fails or a queue that is full costs the
# mail nothing (rows dropped, counted and logged); a reload moves the
# rows to another store; SIGTERM writes the rows still queued.
import os
import re
import signal
import sqlite3
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, free_port, milter_ar, wait_for, txt_record as txt  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)

# The milter client is 192.0.2.1 (milter_ar's ip).
h.start_dns([
    txt("rec.example", "v=spf1 ip4:192.0.2.1 -all"),
    txt("_dmarc.rec.example", "v=DMARC1; p=reject; rua=mailto:agg@rec.example"),
    txt("fail.example", "v=spf1 -all"),
    txt("_dmarc.fail.example", "v=DMARC1; p=quarantine; t=y"),
    txt("none.example", "v=spf1 ip4:192.0.2.1 -all"),
])


def metric(listen, name, label=None):
    with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for m in re.finditer(r"^%s(\{[^}]*\})? ([0-9.e+]+)$" % name, text, re.M):
        if label is None or (m.group(1) and label in m.group(1)):
            total += float(m.group(2))
    return total


def rows(db, where=""):
    """Evaluations in a SQLite report_db (read with Python's sqlite3)."""
    if not os.path.exists(db):
        return 0
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return c.execute("SELECT count(*) FROM evaluations " + where).fetchone()[0]
    except sqlite3.OperationalError:
        return 0        # the writer has not made the schema yet
    finally:
        c.close()


def send(port, frm, mailfrom, n=1):
    out = []
    for i in range(n):
        out.append(milter_ar(port, "192.0.2.1", "client.test", mailfrom, headers=[
            ("From", "<a@%s>" % frm), ("Subject", "r%d" % i)]))
    return out


# ---- rows recorded ----
db = os.path.join(h.state_dir(), "one.db")
listen = "127.0.0.1:%d" % free_port()
af = h.start_authfilter({"report_db": db, "metrics_listen": listen,
                         "policy_mode": "enforce"})
res = send(af.port, "rec.example", "a@rec.example", 5)
t.ok(all(any(r.startswith("dmarc=pass") for r in x) for x in res),
     "five DMARC passes")
res = send(af.port, "fail.example", "a@fail.example", 2)
t.ok(all(any(r.startswith("dmarc=fail") for r in x) for x in res),
     "two DMARC fails (quarantined, t=y)")
send(af.port, "none.example", "a@none.example", 3)
t.ok(wait_for(lambda: metric(listen, "authfilter_report_rows_total") == 7, 20),
     "rows_total: 7 written (none.example publishes no record: not data)")
t.is_(rows(db), 7, "report_db holds 7 evaluations")
t.is_(rows(db, "WHERE policy_domain = 'rec.example'"), 5, "5 for rec.example")

# ---- a store that cannot be opened: mail flows, rows dropped ----
bad = os.path.join(h.tmp, "no-such-dir", "r.db")
conf = h.write_conf({"authserv_id": "mx.test", "report_db": bad,
                     "user": "nobody"}, "bad-db.conf")
r = subprocess.run([os.path.join(os.environ["AF_BUILDDIR"], "authfilter"), "-t",
                    "-c", conf], capture_output=True, text=True)
t.ok(r.returncode == 0 and "report_db %s: no directory" % bad in r.stderr,
     "-t: a report_db in a missing directory is a warning, not an error",
     diag=r.stderr)
listen2 = "127.0.0.1:%d" % free_port()
af2 = h.start_authfilter({"report_db": bad, "metrics_listen": listen2},
                         name="af-bad")
res = send(af2.port, "rec.example", "a@rec.example", 3)
t.ok(all(any(r.startswith("dmarc=pass") for r in x) for x in res),
     "store failing: the mail is still checked and accepted")
t.ok(wait_for(lambda: metric(listen2, "authfilter_report_rows_dropped_total",
                             'reason="store"') == 3, 20),
     "store failing: 3 rows dropped, reason store")
t.ok(wait_for(lambda: "not recorded" in af2.log_text(), 70),
     "store failing: logged", diag=af2.log_text()[-2000:])
t.ok("report_db " + bad in af2.log_text(), "the log names the store")
h.stop_authfilter(af2)

# ---- the queue full: a writer stuck behind a lock drops, never waits ----
lockdb = os.path.join(h.state_dir(), "locked.db")
listen3 = "127.0.0.1:%d" % free_port()
af3 = h.start_authfilter({"report_db": lockdb, "metrics_listen": listen3,
                          "report_queue": "1"}, name="af-queue")
send(af3.port, "rec.example", "a@rec.example", 1)
t.ok(wait_for(lambda: rows(lockdb) == 1, 20), "queue test: the store works")
holder = sqlite3.connect(lockdb, timeout=10, isolation_level=None)
holder.execute("BEGIN EXCLUSIVE")
res = send(af3.port, "rec.example", "a@rec.example", 6)
t.ok(all(any(r.startswith("dmarc=pass") for r in x) for x in res),
     "queue full: six messages accepted while the store is locked")
t.ok(wait_for(lambda: metric(listen3, "authfilter_report_rows_dropped_total",
                             'reason="queue_full"') >= 1, 20),
     "queue full: rows dropped, reason queue_full")
holder.execute("ROLLBACK")
holder.close()
t.ok(wait_for(lambda: "writer's queue full" in af3.log_text(), 70),
     "queue full: logged with report_queue", diag=af3.log_text()[-2000:])
h.stop_authfilter(af3)

# ---- reload: another store from now on ----
db2 = os.path.join(h.state_dir(), "two.db")
conf = open(af.conf).read().replace("report_db = " + db, "report_db = " + db2)
open(af.conf, "w").write(conf)
before = metric(listen, "authfilter_reloads_total")
af.signal(signal.SIGHUP)
t.ok(wait_for(lambda: metric(listen, "authfilter_reloads_total") > before, 20),
     "reloaded")
send(af.port, "rec.example", "a@rec.example", 2)
t.ok(wait_for(lambda: rows(db2) == 2, 20), "after the reload: rows go to the new store")
t.is_(rows(db), 7, "the old store keeps its 7")

# ---- SIGTERM: the rows still queued are written ----
send(af.port, "rec.example", "a@rec.example", 4)
t.is_(h.stop_authfilter(af), 0, "stopped")
t.is_(rows(db2), 6, "after SIGTERM the store has every row")

# ---- made by root (authfilter-reports from a root shell) before the
# daemon ever ran: the file gets its directory's owner, and SQLite its
# -wal and -shm files; the daemon, as its user, writes it ----
db3 = os.path.join(h.state_dir(), "root-first.db")
conf3 = h.write_conf({"report_db": db3, "authserv_id": "mx.test",
                      "dns_resolver": "127.0.0.1@%d" % h.dns_port}, "root-first.conf")
r = subprocess.run([os.path.join(os.environ["AF_BUILDDIR"], "authfilter-reports"),
                    "-c", conf3, "send", "--dry-run", h.tmp],
                   capture_output=True, text=True, timeout=60, env=h.san_env())
owners = sorted((os.path.basename(p), os.stat(p).st_uid) for p in
                [db3 + x for x in ("", "-wal", "-shm")] if os.path.exists(p))
uid = os.stat(h.state_dir()).st_uid
t.ok(r.returncode == 0 and owners and all(o == uid for _, o in owners),
     "root made the store: owned by its directory's owner", "%r %r %s" % (
         owners, uid, r.stderr))
af = h.start_authfilter({"report_db": db3}, name="root-first")
send(af.port, "rec.example", "a@rec.example", 2)
t.ok(wait_for(lambda: rows(db3) == 2, 20),
     "and the daemon's user writes it", af.log_text()[-1500:])
h.stop_authfilter(af)

h.finish()
t.done()
