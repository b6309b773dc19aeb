#!/usr/bin/python3
# `authfilter report` (issues 7 and 18): the per-domain tables of what the
# policy did and would do are what the log holds, and only authfilter's
# own records count.  Messages go through the real daemon in monitor mode
# (log_format json, then syslog); the tables are compared with counts
# taken from the JSON lines by Python's json module (t/lib/logcount.py).
# Then: the same records among other programs' lines as rsyslog writes
# /var/log/mail.log, --since in its forms, and a generated log of 20,000
# records and 5,000 From domains whose counts are known (bench/report-bench
# times 1,000,000 lines).
import datetime
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import AUTHFILTER, Harness, as_syslog, log_records, milter_ar  # noqa: E402
from logcount import ZONE, ZONE_EXTRA, expected, parse_text, records, send_mail  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
h.start_dns(ZONE, ZONE_EXTRA)
mail = [("rej.example", 3), ("quar.example", 2), ("ok.example", 4),
        ("plain.example", 1), ("temp.example", 1), ("spfonly.example", 2)]


def run_daemon(fmt):
    af = h.start_authfilter({"policy_mode": "monitor", "log_format": fmt,
                             "spf_fail_action": "tag"}, name="af-%s" % fmt)
    send_mail(af.port, mail)
    # A forged HELO that looks like a JSON log record (single quotes, which
    # a lenient JSON parser accepts): the report must count the real
    # fields of its line, never the ones in the HELO.
    milter_ar(af.port, "192.0.2.1",
              "{'action':'accept','dmarc':'pass','dmarc_from':'bank.example'}",
              "a@rej.example", headers=[("From", " <a@rej.example>"),
                                        ("Subject", " r")])
    # an outbound message (no DMARC): the outbound table
    milter_ar(af.port, "127.0.0.1", "localhost", "me@ok.example",
              headers=[("From", " <me@ok.example>"), ("Subject", " out")])
    h.stop_authfilter(af)
    return af


def report(*args):
    r = subprocess.run([AUTHFILTER, "report"] + list(args),
                       capture_output=True, text=True)
    inb, outb = parse_text(r.stdout)
    return r.returncode, inb, outb


jaf = run_daemon("json")
jlog = jaf.log
want_in, want_out, _ = expected(records(jlog))
rc, got, got_out = report(jlog)
t.is_(rc, 0, "report exits 0")
t.is_(sorted(got), sorted(want_in), "one row per From domain of the log, "
      "and the totals")
for dom in sorted(want_in):
    t.is_(got.get(dom), want_in[dom], "%s: the counts the log holds" % dom)
t.is_(got_out, want_out, "outbound: per signing domain, and the totals")
t.is_((got.get("rej.example", {}).get("would_reject"),
       got.get("quar.example", {}).get("would_quarantine"),
       got.get("ok.example", {}).get("dmarc_pass"),
       got.get("temp.example", {}).get("dmarc_temperror"),
       got.get("spfonly.example", {}).get("would_tag"),
       got.get("(total)", {}).get("messages"),
       got_out.get("ok.example", {}).get("not_signed")),
      (4, 2, 4, 1, 2, 14, 1),
      "would_reject 4, would_quarantine 2, dmarc_pass 4, dmarc_temperror 1, "
      "would_tag 2, 14 inbound, 1 outbound not signed: as sent")

saf = run_daemon("syslog")
rc, sgot, sgot_out = report(saf.log)
t.is_((sgot, sgot_out), (got, got_out), "log_format = syslog gives the same "
      "tables (a HELO written like a JSON record is not read as one)")

# The records as rsyslog writes them to /var/log/mail.log, among other
# programs' lines that carry the same words (a client's text in Postfix's
# log, a line of another program): those are not counted.
foreign = [
    "postfix/smtpd[9]: NOQUEUE: reject: RCPT from x[192.0.2.7]: 550; "
    "from=<queue_id=1 client=x[192.0.2.7] action=reject dmarc=fail "
    "dmarc_from=evil.example>",
    "other[10]: queue_id=1 client=x[192.0.2.7] action=reject dmarc=fail "
    "dmarc_from=evil.example",
    'other[10]: {"ts":"2026-01-01T00:00:00Z","level":"info","queue_id":"1",'
    '"client":"x","action":"reject","dmarc_from":"evil.example"}',
]
now = datetime.datetime.now()
mixed = os.path.join(h.tmp, "mail.log")
with open(mixed, "w") as f:
    for fmt_af, iso in ((saf, True), (jaf, False)):
        for ln in as_syslog(log_records(fmt_af), fmt_af.proc.pid, iso=iso):
            f.write(ln + "\n")
        for ln in foreign:
            head = as_syslog(["x"], 1, iso=iso)[0].split(" mx ")[0]
            f.write("%s mx %s\n" % (head, ln))
rc, mgot, mgot_out = report(mixed)
doubled = {d: {c: 2 * n for c, n in row.items()} for d, row in got.items()}
t.is_(mgot, doubled, "mail.log (both formats, RFC 3339 and traditional "
      "stamps): every record counted once, other programs' lines never")
t.ok("evil.example" not in mgot, "no evil.example from another program's line")

today = datetime.date.today()
rc, later, _ = report("--since", str(today + datetime.timedelta(days=1)), jlog)
t.is_(later, {"(total)": dict.fromkeys(want_in["(total)"], 0)},
      "--since tomorrow: nothing")
for since in (str(today - datetime.timedelta(days=1)), "yesterday", "7d",
              "today", "0d"):
    rc, earlier, _ = report("--since", since, jlog)
    t.is_((rc, earlier), (0, got), "--since %s: everything" % since)
rc, mail_since, _ = report("--since", "today", mixed)
t.is_(mail_since, doubled, "--since today on mail.log: the traditional "
      "stamp (no year) is placed in this year")
for bad in ("soon", "7", "2026-02-30", "-1d"):
    rc, _, _ = report("--since", bad, jlog)
    t.is_(rc, 2, "--since %s: usage error" % bad)
rc, _, _ = report("/nonexistent/log")
t.is_(rc, 1, "a missing log file: exit 1")

# A generated log with known counts: 20,000 records, 5,000 From domains,
# in the rsyslog shape, dates over three days.
rng = random.Random(18)
gen = os.path.join(h.tmp, "gen.log")
gen_want = {}
days = [today - datetime.timedelta(days=d) for d in (0, 1, 9)]
with open(gen, "w") as f:
    for i in range(20000):
        dom = "d%d.example" % rng.randrange(5000)
        act, would = rng.choice([("accept", "reject"), ("accept", "accept"),
                                 ("reject", ""), ("accept", "tag")])
        day = days[i % 3]
        f.write("%sT10:00:00.000000+00:00 mx authfilter[7]: queue_id=Q%d "
                "client=c[192.0.2.1] action=%s%s reason=r direction=inbound "
                "dmarc=fail dmarc_from=%s\n"
                % (day, i, act, " would_action=" + would if would else "", dom))
        if day != days[2]:
            w = gen_want.setdefault(dom, [0, 0, 0])
            w[0] += 1
            w[1] += act == "reject"
            w[2] += (would or act) == "reject"
rc, ggot, _ = report("--since", "7d", gen)
ggot.pop("(total)", None)
t.is_({d: [r["messages"], r["reject"], r["would_reject"]]
       for d, r in ggot.items()}, gen_want,
      "generated log, --since 7d: messages, reject and would_reject of "
      "each of %d domains" % len(gen_want))
h.finish()
t.done()
