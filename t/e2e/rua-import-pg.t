#!/usr/bin/python3
# authfilter-reports import into a PostgreSQL report_db (a private
# PostgreSQL 15 on 127.0.0.1, t/lib/pg.py) says what it says into
# SQLite, and authfilter report --outbound prints the same tables from
# either store: every sample, imported twice (the second time "already
# imported"), the broken ones refused.
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import AUTHFILTER, BUILDDIR, SRCDIR, Harness, skip_single_threaded_under_tsan  # noqa: E402
from pg import Postgres, require as require_pg  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
skip_single_threaded_under_tsan(t)
require_pg(t)
REPORTS = os.path.join(BUILDDIR, "authfilter-reports")
DATA = os.path.join(SRCDIR, "t", "data", "dmarc-reports")
files = [os.path.join(DATA, n) for n in sorted(os.listdir(DATA))
         if n not in ("LICENSE.parsedmarc", "SOURCE")]
h = Harness(t)
pg = Postgres(h.tmp)


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True,
                       timeout=300, env=h.san_env())
    return r.returncode, r.stdout, r.stderr


try:
    pg.start()
    stores = {"sqlite": os.path.join(h.tmp, "r.db"),
              "postgresql": pg.createdb("reports")}
    got = {}
    for kind, db in stores.items():
        conf = h.write_conf({"report_db": db}, kind + ".conf")
        first = run(REPORTS, "-c", conf, "import", *files)
        again = run(REPORTS, "-c", conf, "import", *files)
        table = run(AUTHFILTER, "report", "--outbound", "-c", conf,
                    "--since", "36500d")
        got[kind] = (first, again, table)
        t.is_((first[0], again[0], table[0]), (1, 1, 0),
              "%s: import exits 1 (two broken samples), report 0" % kind)
    s, p = got["sqlite"], got["postgresql"]
    t.ok(s[0][1].count("\nimported ") + s[0][1].startswith("imported ") ==
         len(files) - 2, "SQLite: every good sample imported", s[0][1])
    t.is_(p[0][1:], s[0][1:], "PostgreSQL: the same lines as SQLite")
    t.ok(p[1][1].count("already imported") == len(files) - 2,
         "PostgreSQL: the second time, already imported", p[1][1])
    t.is_(p[2][1], s[2][1], "report --outbound: the same tables from both "
          "stores (%d lines)" % len(s[2][1].splitlines()))
finally:
    pg.stop()
h.finish()
t.done()
