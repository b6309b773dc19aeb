"""logcount.py -- what `authfilter report` should print, counted from
authfilter's JSON log records with Python's json module: an oracle
independent of report/ (tests report.t and report-html.t)."""
import json

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
