#!/usr/bin/python3
# bench/miltergen runs and counts correctly against a real authfilter
# (a smoke test: benchmarks are not tests, no speed is asserted here).
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, BUILDDIR  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
af = h.start_authfilter()
gen = os.path.join(BUILDDIR, "bench", "miltergen")
for mode, args in (("inbound", []), ("outbound", ["-o"]), ("sasl", ["-a", "alice"])):
    before = af.log_text().count('"action"')
    r = subprocess.run([gen, "-s", "inet:%d@127.0.0.1" % af.port, "-c", "3", "-m", "31",
                        "-b", "70000", "-p", str(af.pid)] + args,
                       capture_output=True, text=True, timeout=120)
    t.is_(r.returncode, 0, "%s: miltergen exits 0" % mode)
    t.like(r.stdout, "messages 31 errors 0", "%s: 31 messages over 3 sessions, no error" % mode)
    t.ok(re.search(r"latency_ms p50 [\d.]+ p90 [\d.]+ p99 [\d.]+ max [\d.]+", r.stdout)
         and re.search(r"milter_cpu_s [\d.]+ cpu_us_per_msg [\d.]+ peak_rss_kib \d+", r.stdout),
         "%s: prints latency percentiles and the milter's CPU and RSS" % mode, r.stdout)
    lines = [json.loads(l) for l in af.log_text().splitlines() if '"action"' in l]
    t.is_(len(lines) - before, 31, "%s: authfilter logged 31 messages" % mode)
    t.is_({l["direction"] for l in lines[before:]},
          {"inbound" if mode == "inbound" else "outbound"}, "%s: direction" % mode)

# A chain of two milters (-s twice), one connection per message (-k 1),
# and a message file (-F): each daemon sees every message once.
af2 = h.start_authfilter(name="second")
msg = os.path.join(h.tmp, "msg.eml")
with open(msg, "w") as f:
    f.write("From: Alice <alice@example.org>\nSubject: folded\n  on two lines\n"
            "To: bob@example.net\n\nbody line\n")
counts = [d.log_text().count('"action"') for d in (af, af2)]
r = subprocess.run([gen, "-s", "inet:%d@127.0.0.1" % af.port,
                    "-s", "inet:%d@127.0.0.1" % af2.port, "-c", "2", "-m", "9",
                    "-k", "1", "-F", msg, "-p", "%d,%d" % (af.pid, af2.pid)],
                   capture_output=True, text=True, timeout=120)
t.like(r.stdout, "messages 9 errors 0", "chain of two, -k 1, -F: 9 messages, no error")
t.is_([d.log_text().count('"action"') - c for d, c in zip((af, af2), counts)], [9, 9],
      "each milter of the chain logged the 9 messages")
last = [json.loads(l) for l in af2.log_text().splitlines() if '"action"' in l][-1]
t.is_(last.get("mail_from"), "<alice@example.org>", "the message file's envelope")
h.stop_authfilter(af2)
r = subprocess.run([gen, "-s", "inet:1@127.0.0.1", "-m", "2"], capture_output=True,
                   text=True, timeout=60)
t.ok(r.returncode == 1 and "errors 2" in r.stdout, "no milter there: errors counted, exit 1",
     r.stdout + r.stderr)
h.finish()
t.done()
