#!/usr/bin/python3
# The metrics_listen endpoint and `authfilter status`, after mail sent
# through a real Postfix: /metrics counts the messages by direction and
# action, the SPF/DKIM/DMARC verdicts, the signatures by algorithm and
# domain, DNS queries, sessions; `promtool check metrics` (Debian's
# prometheus) finds nothing to say; `authfilter status` shows the keys,
# and after a broken reload the failure with its FILE:LINE, as
# /metrics shows the reload counter and the flag.
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, AUTHFILTER, TEST_USER, free_port, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": TEST_USER, "key_dir": kd}, "keys.conf")
records = [
    'example.org. 300 IN TXT "v=spf1 ip4:127.0.0.2 -all"',
    '_dmarc.example.org. 300 IN TXT "v=DMARC1; p=none"',
    'bad.example. 300 IN TXT "v=spf1 -all"',
]
records += h.active_keys(kconf, [("example.org", "rsa", "r1"),
                                 ("example.org", "ed25519", "e1")], checked=False)
h.start_dns(records)
mport = free_port()
listen = "127.0.0.1:%d" % mport
af = h.start_authfilter({"key_dir": kd, "metrics_listen": listen})
t.ok('"warning"' not in af.log_text(),
     "a clean start with metrics_listen logs no warning (libmicrohttpd's "
     "logger is its first option)", af.log_text())
sink = h.start_sink()
smtp = h.start_postfix(milter_port=af.port, sink_port=sink)


def get(path):
    try:
        with urllib.request.urlopen("http://%s%s" % (listen, path), timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, "", ""


def metric(text, name, **labels):
    """The value of one series, or None."""
    want = ",".join('%s="%s"' % kv for kv in labels.items())
    line = "%s{%s}" % (name, want) if labels else name
    for ln in text.splitlines():
        if ln.startswith(line + " "):
            return float(ln.split()[-1])
    return None


def status(*args):
    r = subprocess.run([AUTHFILTER, "status", "-c", af.conf] + list(args),
                       capture_output=True, text=True, env=h.san_env())
    return r.returncode, r.stdout, r.stderr


code, body = get("/metrics")[0], get("/metrics")[2]
t.is_(code, 200, "GET /metrics answers 200 before any mail")
t.is_(metric(body, "authfilter_sign_failures_total"), 0.0,
      "unlabelled counters read 0 before they are counted")

sent = {"in_ok": 0, "in_fail": 0, "out": 0}
for i in range(3):
    c, _ = h.send(smtp, "From: a@example.org\r\nTo: b@example.net\r\nSubject: in-%d\r\n"
                  "Message-ID: <in-%d@example.org>\r\n\r\nhello\r\n" % (i, i),
                  sender="a@example.org")
    sent["in_ok"] += c == 250
for i in range(2):
    c, _ = h.send(smtp, "From: x@bad.example\r\nTo: b@example.net\r\nSubject: bad-%d\r\n"
                  "Message-ID: <bad-%d@bad.example>\r\n\r\nhello\r\n" % (i, i),
                  sender="x@bad.example")
    sent["in_fail"] += c == 250
for i in range(4):
    c, _ = h.send(smtp, "From: a@example.org\r\nTo: b@example.net\r\nSubject: out-%d\r\n"
                  "Message-ID: <out-%d@example.org>\r\n\r\nhello\r\n" % (i, i),
                  sender="a@example.org", source="127.0.0.1")
    sent["out"] += c == 250
t.is_(sent, {"in_ok": 3, "in_fail": 2, "out": 4}, "9 messages accepted through Postfix")
t.ok(wait_for(lambda: af.log_text().count('"queue_id"') >= 9, timeout=30),
     "authfilter logged all 9")

code, ctype, body = get("/metrics")
t.is_(code, 200, "GET /metrics answers 200")
t.like(ctype, "text/plain; version=0.0.4", "in the Prometheus text format")
t.is_(metric(body, "authfilter_messages_total", direction="inbound", action="accept"), 5.0,
      "5 inbound messages accepted (monitor mode)")
t.is_(metric(body, "authfilter_messages_total", direction="outbound", action="accept"), 4.0,
      "4 outbound messages")
t.is_(metric(body, "authfilter_spf_results_total", result="pass"), 3.0, "3 SPF pass")
t.is_(metric(body, "authfilter_spf_results_total", result="fail"), 2.0, "2 SPF fail")
t.is_(metric(body, "authfilter_dmarc_results_total", result="pass"), 3.0, "3 DMARC pass")
t.is_(metric(body, "authfilter_dkim_results_total", result="none"), 5.0,
      "5 unsigned inbound messages: dkim none")
t.is_(metric(body, "authfilter_signatures_total", algorithm="rsa-sha256", domain="example.org"),
      4.0, "4 RSA signatures for example.org")
t.is_(metric(body, "authfilter_signatures_total", algorithm="ed25519-sha256",
             domain="example.org"), 4.0, "4 Ed25519 signatures")
t.ok((metric(body, "authfilter_dns_queries_total", result="answer") or 0) >= 2,
     "DNS queries counted by result")
t.ok((metric(body, "authfilter_dns_query_duration_seconds_count") or 0) >= 2,
     "and their latency histogram")
t.ok((metric(body, "authfilter_sessions_total") or 0) >= 9, "sessions counted")
t.is_(metric(body, "authfilter_config_generation"), 1.0, "configuration generation 1")
t.is_(metric(body, "authfilter_key_age_seconds", domain="example.org", selector="r1",
             algorithm="rsa-sha256", state="active") is not None, True,
      "each key's age, with its state")
r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True)
t.is_((r.returncode, r.stdout + r.stderr), (0, ""), "promtool check metrics: clean")

# The Grafana dashboard asks only for metrics the endpoint has.
from harness import SRCDIR  # noqa: E402
dash = json.load(open(os.path.join(SRCDIR, "contrib", "grafana", "authfilter.json")))
exprs = [tg["expr"] for p in dash["panels"] for tg in p.get("targets", [])]
named = {re.sub(r"_(bucket|sum|count)$", "", n) for e in exprs
         for n in re.findall(r"\bauthfilter_[a-z_]+", e)}
have = set(re.findall(r"^# HELP (\S+)", body, re.M))
t.ok(len(named) >= 15 and not named - have,
     "the Grafana dashboard's %d metrics all exist" % len(named), repr(sorted(named - have)))

code, _, _ = get("/nowhere")
t.is_(code, 404, "an unknown path: 404")
req = urllib.request.Request("http://%s/metrics" % listen, data=b"x", method="POST")
try:
    urllib.request.urlopen(req, timeout=10)
    code = 200
except urllib.error.HTTPError as e:
    code = e.code
t.is_(code, 405, "POST: 405")

rc, out, err = status()
t.is_((rc, err), (0, ""), "authfilter status exits 0, nothing on stderr")
t.like(out, "generation 1", "status: the configuration generation")
t.ok(re.search(r"example\.org\s+r1\s+rsa-sha256\s+2048 active", out) and
     re.search(r"example\.org\s+e1\s+ed25519-sha256", out), "status: the keys loaded", out)
t.like(out, "last reload:   none since start", "status: no reload yet")
rc, out, err = status("--json")
t.is_(json.loads(out).get("signer_pid") in (0, None), False, "status --json: JSON, with the signer's pid")

# A broken reload: the old configuration serves, status says why.
with open(af.conf, "a") as f:
    f.write("no_such_setting = 1\n")
lines = sum(1 for _ in open(af.conf))
af.signal(signal.SIGHUP)
t.ok(wait_for(lambda: "reload failed" in af.log_text(), timeout=20), "the reload failed")
rc, out, err = status()
t.like(out, "last reload:   failed at", "status: the last reload failed")
t.like(out, "%s:%d: unknown setting" % (af.conf, lines), "status: with the error and its FILE:LINE")
body = get("/metrics")[2]
t.is_(metric(body, "authfilter_reloads_total", result="failed"), 1.0, "reloads_total{failed} 1")
t.is_(metric(body, "authfilter_config_last_reload_successful"), 0.0,
      "config_last_reload_successful 0")
t.is_(metric(body, "authfilter_config_generation"), 1.0, "generation 1 still serves")

# Without metrics_listen, status says what to set.
bare = h.write_conf({"user": TEST_USER}, "bare.conf")
r = subprocess.run([AUTHFILTER, "status", "-c", bare], capture_output=True, text=True,
                   env=h.san_env())
t.ok(r.returncode == 1 and "metrics_listen is not set" in r.stderr,
     "status without metrics_listen: exit 1, says what to set", r.stderr)
r = subprocess.run([AUTHFILTER, "-t", "-c", h.write_conf({"metrics_listen": "localhost:80"},
                                                          "badlisten.conf")],
                   capture_output=True, text=True, env=h.san_env())
t.ok(r.returncode == 1 and "badlisten.conf:1: metrics_listen" in r.stderr and
     "ADDRESS:PORT" in r.stderr, "-t: metrics_listen must be ADDRESS:PORT", r.stderr)
h.finish()
t.done()
