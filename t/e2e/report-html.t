#!/usr/bin/python3
# `authfilter report --html FILE` (issue 18): one self-contained page
# whose figures are the log's.  Mail goes through the real daemon in
# monitor mode with policy_overrides; the page made from its log with
# -c CONFIG is parsed with Python's html.parser, and every table cell and
# the title of every bar of the charts is compared with counts taken from
# the JSON log by Python's json module (t/lib/logcount.py).  The page
# holds no script and refers to nothing outside itself, and a From domain
# written as HTML is shown as text.
import os
import subprocess
import sys
from html.parser import HTMLParser

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import AUTHFILTER, Harness, milter_ar  # noqa: E402
from logcount import (IN_COLS, OUT_COLS, ZONE, expected, records,  # noqa: E402
                      send_mail)
from tap import Tap  # noqa: E402

ACTIONS = ["accept", "tag", "quarantine", "reject", "tempfail"]

t = Tap()
h = Harness(t)


h.start_dns(ZONE)
overrides = os.path.join(h.tmp, "overrides")
with open(overrides, "w") as f:
    f.write("quar.example enforce until=2999-12-31 ready to enforce\n"
            "rej.example monitor partner fixing DKIM\n"
            "old.example accept until=2020-01-01 long gone\n")
os.chmod(overrides, 0o644)
af = h.start_authfilter({"policy_mode": "monitor", "spf_fail_action": "tag",
                         "policy_overrides": overrides})
send_mail(af.port, [("rej.example", 3), ("quar.example", 2), ("ok.example", 4),
                    ("spfonly.example", 1), ("plain.example", 1)])
milter_ar(af.port, "127.0.0.1", "localhost", "me@ok.example",
          headers=[("From", " <me@ok.example>"), ("Subject", " out")])
h.stop_authfilter(af)

# One more record, written by hand: a From domain that is HTML.
extra = os.path.join(h.tmp, "extra.log")
with open(extra, "w") as f:
    f.write('{"ts":"2026-12-01T10:00:00Z","level":"info","queue_id":"Q1",'
            '"client":"x[192.0.2.5]","action":"accept","would_action":"reject",'
            '"direction":"inbound","dmarc":"fail",'
            '"dmarc_from":"<b>bold</b>.example"}\n')
inb, outb, days = expected(records(af.log) + records(extra))

page = os.path.join(h.tmp, "report.html")
r = subprocess.run([AUTHFILTER, "report", "-c", af.conf, "--html", page,
                    af.log, extra], capture_output=True, text=True)
t.is_(r.returncode, 0, "report --html exits 0", )
if r.returncode != 0:
    t.diag(r.stderr)


class Page(HTMLParser):
    """Tables by id (rows of cell texts), the titles of the bars of each
    chart and of each row, every tag and attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.charts, self.row_titles = {}, {}, {}
        self.tags, self.attrs = [], []
        self.table = self.svg = self.row = self.cell = self.title = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "table":
            self.table = a.get("id")
            self.tables[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.row = []
            self.tables[self.table].append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""
        elif tag == "svg" and a.get("id"):
            self.svg = a["id"]
            self.charts[self.svg] = []
        elif tag == "title" and (self.svg or self.row is not None):
            self.title = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = self.row = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "svg":
            self.svg = None
        elif tag == "title" and self.title is not None:
            if self.svg:
                self.charts[self.svg].append(self.title)
            elif self.row:
                self.row_titles.setdefault(self.row[0], []).append(self.title)
            self.title = None

    def handle_data(self, data):
        if self.title is not None:
            self.title += data
        elif self.cell is not None:
            self.cell += data


p = Page()
p.feed(open(page, encoding="utf-8").read() if os.path.exists(page) else "")


def table(tid, cols):
    """{first cell: {column: int}} of table tid; its header must be
    cols."""
    rows = p.tables.get(tid) or [[]]
    if rows[0][1:1 + len(cols)] != cols:
        t.diag("%s: header %r" % (tid, rows[0]))
        return None
    return {r[0]: dict(zip(cols, map(int, r[1:1 + len(cols)]))) for r in rows[1:]}


# Self-contained: nothing runs, nothing is fetched.
t.is_(sorted({x for x in p.tags if x in ("script", "img", "link", "iframe",
                                          "object", "embed", "image", "use")}),
      [], "no script, image, link, frame, object or SVG use/image element")
t.is_([k for k, v in p.attrs if k in ("src", "href", "xlink:href", "action") or
       k.startswith("on") or "//" in (v or "")], [],
      "no src, href or event attribute, no URL in any attribute")
t.ok("url(" not in open(page).read(), "no url() in the styles")
t.ok(("http-equiv", "Content-Security-Policy") in p.attrs,
     "a Content-Security-Policy forbids the rest to the browser")

tot_in = inb.pop("(total)")
tot_out = outb.pop("(total)")
t.is_(table("totals-in", IN_COLS), {"(total)": tot_in}, "totals: inbound")
t.is_(table("totals-out", OUT_COLS), {"(total)": tot_out}, "totals: outbound")
t.is_(table("domains", IN_COLS), inb, "per From domain: every count")
t.is_(table("outbound", OUT_COLS), outb, "outbound per signing domain")
t.ok("<b>bold</b>.example" in (table("domains", IN_COLS) or {}) and
     "b" not in p.tags, "a From domain written as HTML is shown as text")

want_days = {d: dict(v["in"], outbound=v["out"]["messages"],
                     signed=v["out"]["signed"]) for d, v in days.items()}
t.is_(table("days", IN_COLS + ["outbound", "signed"]), want_days,
      "per day: every count")


def would(row):
    w = {a: row["would_" + a] for a in ACTIONS[1:]}
    w["accept"] = row["messages"] - sum(w.values())
    return w


verd, acts = [], []
for d, v in sorted(days.items()):
    row = v["in"]
    other = row["messages"] - row["dmarc_pass"] - row["dmarc_fail"] - \
        row["dmarc_temperror"]
    for name, n in (("pass", row["dmarc_pass"]), ("fail", row["dmarc_fail"]),
                    ("temperror", row["dmarc_temperror"]), ("other", other)):
        if n:
            verd.append("%s %s: %d" % (d, name, n))
    acts += ["%s taken %s: %d" % (d, a, row[a]) for a in ACTIONS if row[a]]
    acts += ["%s would %s: %d" % (d, a, n) for a, n in would(row).items() if n]
t.is_(sorted(p.charts.get("chart-verdicts", [])), sorted(verd),
      "chart of days by DMARC verdict: a bar per verdict and day, the log's "
      "counts")
t.is_(sorted(p.charts.get("chart-actions", [])), sorted(acts),
      "chart of days by action: taken beside would-be, the log's counts")
bars = {}
for dom, row in inb.items():
    bars[dom] = sorted(["taken %s: %d" % (a, row[a]) for a in ACTIONS if row[a]] +
                       ["would %s: %d" % (a, n) for a, n in would(row).items() if n])
t.is_({d: sorted(v) for d, v in p.row_titles.items()}, bars,
      "per From domain: taken and would-be bars, the log's counts")
t.is_(inb["rej.example"]["would_reject"], 3, "rej.example: 3 would be rejected")

ovr = {r[0]: r[1:4] for r in (p.tables.get("overrides") or [[]])[1:]}
t.is_(ovr, {"quar.example": ["enforce", "2999-12-31", "ready to enforce"],
            "rej.example": ["monitor", "-", "partner fixing DKIM"]},
      "the overrides in force from -c's policy_overrides (not the expired one)")

r = subprocess.run([AUTHFILTER, "report", "--html", page, af.log],
                   capture_output=True, text=True)
p = Page()
p.feed(open(page).read())
t.ok(r.returncode == 0 and "overrides" not in p.tables,
     "without -c: the page says it shows no overrides")
r = subprocess.run([AUTHFILTER, "report", "--html",
                    os.path.join(h.tmp, "no", "such", "dir.html"), af.log],
                   capture_output=True, text=True)
t.is_(r.returncode, 1, "a page that cannot be written: exit 1")
r = subprocess.run([AUTHFILTER, "report", "-c", os.path.join(h.tmp, "none.conf"),
                    "--html", page, af.log], capture_output=True, text=True)
t.is_(r.returncode, 1, "a configuration that cannot be read: exit 1")
h.finish()
t.done()
