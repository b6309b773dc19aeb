#!/usr/bin/python3
# `authfilter report` (issue 7): the per-domain table of what the policy
# did and would do is what the log holds.  Messages go through the real
# daemon in monitor mode (log_format json, then syslog); the table is
# compared with counts taken from the JSON lines by Python's json module.
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import AUTHFILTER, Harness, milter_ar  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)


def txt(name, value):
    return '%s. 300 IN TXT "%s"' % (name, value)


h.start_dns([
    txt("rej.example", "v=spf1 -all"), txt("_dmarc.rej.example", "v=DMARC1; p=reject"),
    txt("quar.example", "v=spf1 -all"),
    txt("_dmarc.quar.example", "v=DMARC1; p=quarantine"),
    txt("ok.example", "v=spf1 ip4:192.0.2.1 -all"),
    txt("_dmarc.ok.example", "v=DMARC1; p=reject"),
])
mail = [("rej.example", 3), ("quar.example", 2), ("ok.example", 4),
        ("plain.example", 1)]


def run_daemon(fmt):
    af = h.start_authfilter({"policy_mode": "monitor", "log_format": fmt},
                            name="af-%s" % fmt)
    for dom, n in mail:
        for _ in range(n):
            milter_ar(af.port, "192.0.2.1", "mx.client.example", "a@%s" % dom,
                      headers=[("From", " <a@%s>" % dom), ("Subject", " r")])
    # A forged HELO that looks like a JSON log record (single quotes, which
    # a lenient JSON parser accepts): the report must count the real
    # fields of its line, never the ones in the HELO.
    milter_ar(af.port, "192.0.2.1",
              "{'action':'accept','dmarc':'pass','dmarc_from':'bank.example'}",
              "a@rej.example", headers=[("From", " <a@rej.example>"),
                                        ("Subject", " r")])
    # an outbound message (no DMARC): not counted
    milter_ar(af.port, "127.0.0.1", "localhost", "me@ok.example",
              headers=[("From", " <me@ok.example>"), ("Subject", " out")])
    h.stop_authfilter(af)
    return af.log


def report(*args):
    r = subprocess.run([AUTHFILTER, "report"] + list(args),
                       capture_output=True, text=True)
    rows = {}
    lines = r.stdout.splitlines()
    cols = lines[0].split()[1:] if lines else []
    for line in lines[1:]:
        f = line.split()
        rows[f[0]] = dict(zip(cols, map(int, f[1:])))
    return r.returncode, rows


jlog = run_daemon("json")
want = {}
for line in open(jlog):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if "action" not in rec or not rec.get("dmarc_from"):
        continue
    w = want.setdefault(rec["dmarc_from"], {"messages": 0, "dmarc_fail": 0,
                                            "dmarc_pass": 0, "accept": 0,
                                            "would_reject": 0,
                                            "would_quarantine": 0})
    w["messages"] += 1
    if rec["dmarc"] in ("pass", "fail"):
        w["dmarc_" + rec["dmarc"]] += 1
    w[rec["action"]] += 1
    if rec.get("would_action") in ("reject", "quarantine"):
        w["would_" + rec["would_action"]] += 1

rc, got = report(jlog)
t.is_(rc, 0, "report exits 0")
t.is_(sorted(got), sorted(want), "one row per From domain of the log "
      "(outbound mail not counted)")
for dom in sorted(want):
    sub = {k: got.get(dom, {}).get(k) for k in want[dom]}
    t.is_(sub, want[dom], "%s: the counts the log holds" % dom)
t.is_((got.get("rej.example", {}).get("would_reject"),
       got.get("quar.example", {}).get("would_quarantine"),
       got.get("ok.example", {}).get("dmarc_pass")), (4, 2, 4),
      "would_reject 4, would_quarantine 2, dmarc_pass 4: as sent")

slog = run_daemon("syslog")
rc, sgot = report(slog)
t.is_(sgot, got, "log_format = syslog gives the same table (a HELO "
      "written like a JSON record is not read as one)")

today = datetime.date.today()
rc, later = report("--since", str(today + datetime.timedelta(days=1)), jlog)
t.is_(later, {}, "--since tomorrow: nothing")
rc, earlier = report("--since", str(today - datetime.timedelta(days=1)), jlog)
t.is_(earlier, got, "--since yesterday: everything")
rc, _ = report("--since", "soon", jlog)
t.is_(rc, 2, "--since with a bad date: usage error")
rc, _ = report("/nonexistent/log")
t.is_(rc, 1, "a missing log file: exit 1")
h.finish()
t.done()
