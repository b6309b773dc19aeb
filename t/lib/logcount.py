"""logcount.py -- what `authfilter report` should print, counted from
authfilter's JSON log records with Python's json module: an oracle
independent of report/ (tests report.t and report-html.t); and the mail
those tests send."""
import json

from harness import milter_ar, txt_record

# The From domains of the report tests: rej and quar fail DMARC p=reject
# and p=quarantine, ok passes, spfonly fails SPF without DMARC (which
# spf_fail_action = tag tags), temp's DMARC lookup is refused (temperror),
# plain has no records at all.
ZONE = [
    txt_record("rej.example", "v=spf1 -all"),
    txt_record("_dmarc.rej.example", "v=DMARC1; p=reject"),
    txt_record("quar.example", "v=spf1 -all"),
    txt_record("_dmarc.quar.example", "v=DMARC1; p=quarantine"),
    txt_record("ok.example", "v=spf1 ip4:192.0.2.1 -all"),
    txt_record("_dmarc.ok.example", "v=DMARC1; p=reject"),
    txt_record("spfonly.example", "v=spf1 -all"),
    txt_record("temp.example", "v=spf1 -all"),
]
ZONE_EXTRA = ['local-zone: "_dmarc.temp.example." refuse']


def send_mail(port, mail):
    """mail: [(From domain, how many)], inbound from 192.0.2.1."""
    for dom, n in mail:
        for _ in range(n):
            milter_ar(port, "192.0.2.1", "mx.client.example", "a@%s" % dom,
                      headers=[("From", " <a@%s>" % dom), ("Subject", " r")])

IN_COLS = ["messages", "dmarc_pass", "dmarc_fail", "dmarc_temperror",
           "accept", "tag", "quarantine", "reject", "tempfail", "would_tag",
           "would_quarantine", "would_reject", "would_tempfail"]
OUT_COLS = ["messages", "signed", "not_signed", "sign_failed", "tempfail"]


def records(path):
    """The per-message JSON records of a log written with log_format = json
    by authfilter -f (one object per line)."""
    out = []
    for line in open(path):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "queue_id" in rec and "action" in rec:
            out.append(rec)
    return out


def count_in(row, rec):
    would = rec.get("would_action") or rec["action"]
    row["messages"] += 1
    for v in ("pass", "fail", "temperror"):
        row["dmarc_" + v] += rec.get("dmarc") == v
    for a in ("accept", "tag", "quarantine", "reject", "tempfail"):
        row[a] += rec["action"] == a
    for a in ("tag", "quarantine", "reject", "tempfail"):
        row["would_" + a] += would == a


def count_out(row, rec):
    row["messages"] += 1
    row["signed"] += bool(rec.get("dkim_signed"))
    row["not_signed"] += rec.get("reason") == "not_signed"
    row["sign_failed"] += rec.get("reason") == "sign_failed"
    row["tempfail"] += rec["action"] == "tempfail"


def expected(recs):
    """(inbound rows, outbound rows, days): rows keyed by From domain or
    signing domain ("(none)" when the record has none), days keyed by the
    date of "ts", each a dict of column -> count; totals under
    "(total)"."""
    inb, outb, days = {}, {}, {}
    for rec in recs:
        out = rec.get("direction") == "outbound"
        table, cols = (outb, OUT_COLS) if out else (inb, IN_COLS)
        key = (rec.get("sign_domain") if out else rec.get("dmarc_from")) or "(none)"
        day = days.setdefault(rec["ts"][:10], {"in": dict.fromkeys(IN_COLS, 0),
                                               "out": dict.fromkeys(OUT_COLS, 0)})
        for row in (table.setdefault(key, dict.fromkeys(cols, 0)),
                    day["out" if out else "in"]):
            (count_out if out else count_in)(row, rec)
    for table, cols in ((inb, IN_COLS), (outb, OUT_COLS)):
        table["(total)"] = {c: sum(r[c] for r in table.values()) for c in cols}
    return inb, outb, days


def parse_text(stdout):
    """`authfilter report`'s two tables: ({domain: {col: n}}, {...})."""
    tables = []
    for block in stdout.strip("\n").split("\n\n"):
        lines = block.splitlines()
        cols = lines[0].split()[1:] if lines else []
        rows = {}
        for line in lines[1:]:
            f = line.split()
            rows[f[0]] = dict(zip(cols, map(int, f[1:])))
        tables.append(rows)
    while len(tables) < 2:
        tables.append({})
    return tables[0], tables[1]
