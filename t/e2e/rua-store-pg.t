#!/usr/bin/python3
# The DMARC report store on PostgreSQL passes the same tests as on
# SQLite: t/unit/rua_store (which make check runs against SQLite) runs
# again with AF_RUA_STORE_URL naming a database of a private PostgreSQL
# 15 server (t/lib/pg.py) on 127.0.0.1, and each of its assertions is
# one here.  Before that, four processes open one new database at once:
# the schema is created once (pg_advisory_xact_lock), none fails.  After
# it, a handle outlives a restart of the server: the writer's next batch
# fails at worst, the one after is stored.
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, BUILDDIR, skip_single_threaded_under_tsan  # noqa: E402
from pg import Postgres, require as require_pg  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
skip_single_threaded_under_tsan(t)
require_pg(t)
UNIT = os.path.join(BUILDDIR, "t", "unit", "rua_store")
h = Harness(t)
pg = Postgres(h.tmp)
try:
    pg.start()
    t.ok(True, "postgres 15 started on 127.0.0.1:%d" % pg.port)

    # Schema creation racing: every opener waits for the first.
    url = pg.createdb("race")
    env = dict(h.san_env(), AF_RUA_STORE_URL=url)
    procs = [subprocess.Popen([UNIT, "open"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for _ in range(4)]
    outs = [(p.wait(timeout=120), p.stdout.read()) for p in procs]
    for p in procs:
        p.stdout.close()
    t.is_([rc for rc, _ in outs], [0, 0, 0, 0],
          "four processes open one new database at once")
    for rc, out in outs:
        if rc != 0:
            t.diag(out)
    rc, out = pg.psql("race", "SELECT value FROM meta")
    t.is_((rc, out.strip()), (0, "1"), "one schema_version row, version 1")

    # The unit test's assertions, on PostgreSQL.
    url = pg.createdb("store")
    r = subprocess.run([UNIT], env=dict(h.san_env(), AF_RUA_STORE_URL=url),
                       capture_output=True, text=True, timeout=300)
    plan = None
    n = 0
    for line in r.stdout.splitlines():
        m = re.match(r"^(not )?ok \d+ - (.*)$", line)
        if m:
            n += 1
            t.ok(m.group(1) is None, "postgresql: " + m.group(2))
        elif re.match(r"^1\.\.(\d+)$", line):
            plan = int(line[3:])
        elif line.startswith("#"):
            print(line)
    t.ok(r.returncode == 0 and plan == n and n > 0,
         "t/unit/rua_store on postgresql: exit 0, %d of %s planned" % (n, plan),
         "exit %d\n%s" % (r.returncode, r.stderr))
    t.ok("store: " + url in r.stdout, "it ran against " + url)
    rc, out = pg.psql("store", "SELECT count(*) FROM received_records")
    t.is_((rc, out.strip()), (0, "3"), "psql sees what the test left")

    # The daemon's writer keeps its handle: a server restart costs it a
    # batch at most.
    p = subprocess.Popen([UNIT, "reconnect"], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    first = [p.stdout.readline(), p.stdout.readline()]
    t.is_(first, ["before: ok\n", "ready\n"], "reconnect: a batch stored")
    port = pg.port
    pg.stop()
    pg.start(port=port)
    out, _ = p.communicate("go\n", timeout=120)
    t.ok(p.returncode == 0, "reconnect: after a restart of the server, the "
         "handle stores again", out)
    t.diag(out)
    rc, out = pg.psql("race", "SELECT count(*) FROM evaluations WHERE "
                      "policy_domain = 'reconnect.example'")
    t.is_((rc, out.strip()), (0, "20"), "reconnect: two batches stored, "
          "nothing of a failed one")
finally:
    pg.stop()
    if not t.ok(pg.proc is None, "postgres stopped"):
        t.diag(pg.log_text())
h.finish()
t.done()
