#!/usr/bin/python3
# authfilter-reports import and authfilter report --outbound (issue 19
# part 3): every parsedmarc sample (t/data/dmarc-reports) as a file, the
# report e-mails also in a Maildir built here and on standard input, goes
# into a SQLite report_db; importing again says "already imported"; the
# broken samples fail with libxml2's reason and store nothing; standard
# input's exit status is what Postfix needs (0 stored or dropped with a
# log, 75 when the store is unavailable); the report mails that
# authfilter-reports send makes are read back with the counts it states.
# Then the --outbound tables are compared with counts taken from the XML
# by Python's xml.etree, zlib, zipfile and email modules: an independent
# reading of the same files; and the daemon's /metrics gives the same per
# reporter (authfilter_reported_messages, _pass_messages).
import email
import email.policy
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
import zlib
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (AUTHFILTER, BUILDDIR, SRCDIR, TEST_USER, Harness,  # noqa: E402
                     free_port, wait_for)
from tap import Tap  # noqa: E402

REPORTS = os.path.join(BUILDDIR, "authfilter-reports")
DATA = os.path.join(SRCDIR, "t", "data", "dmarc-reports")
BROKEN = {"invalid_xml.xml": "XML line 5: error parsing attribute name",
          "invalid_utf_8.xml": "Input is not proper UTF-8"}
NOT_REPORTS = {"LICENSE.parsedmarc", "SOURCE"}

t = Tap()
h = Harness(t)


def run(args, stdin=None, conf=None):
    cmd = [REPORTS, "-c", conf] + args if conf else [REPORTS] + args
    r = subprocess.run(cmd, input=stdin, capture_output=True, timeout=120,
                       env=h.san_env())
    return r.returncode, r.stdout.decode(), r.stderr.decode()


# ---- the oracle: the XML read by Python ----
def xml_of(data):
    """The report's XML from a file's or an e-mail's bytes."""
    if data[:2] == b"\x1f\x8b":
        return zlib.decompressobj(47).decompress(data)
    if data[:4] == b"PK\x03\x04":
        z = zipfile.ZipFile(io.BytesIO(data))
        return z.read([n for n in z.namelist() if n.endswith(".xml")][0])
    if data.lstrip()[:1] == b"<":
        return data
    msg = email.message_from_bytes(data, policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_maintype() != "multipart":
            body = part.get_payload(decode=True) or b""
            if body[:2] == b"\x1f\x8b" or body[:4] == b"PK\x03\x04" or \
                    body.lstrip()[:1] == b"<":
                return xml_of(body)
    raise ValueError("no report")


def local(el):
    return el.tag.rsplit("}", 1)[-1]


def kid(el, name):
    for c in el if el is not None else []:
        if local(c) == name:
            return c
    return None


def text(el, name):
    c = kid(el, name)
    return (c.text or "").strip() if c is not None else ""


def oracle(data):
    root = ET.fromstring(xml_of(data))
    meta = kid(root, "report_metadata")
    org = text(meta, "org_name") or text(meta, "email").rsplit("@", 1)[-1]
    recs = []
    for r in root:
        if local(r) != "record":
            continue
        row = kid(r, "row")
        pe = kid(row, "policy_evaluated")
        auth = kid(r, "auth_results")
        recs.append({
            "ip": text(row, "source_ip"), "count": int(text(row, "count")),
            "dkim": text(pe, "dkim"), "spf": text(pe, "spf"),
            "disp": text(pe, "disposition"),
            "dkim_res": [(text(d, "domain"), text(d, "result"))
                         for d in (auth if auth is not None else [])
                         if local(d) == "dkim"]})
    return {"org": org, "id": text(meta, "report_id"),
            "domain": text(kid(root, "policy_published"), "domain"),
            "records": recs}


def line_of(o):
    n = len(o["records"])
    m = sum(r["count"] for r in o["records"])
    return "imported %s report %s for %s: %d record%s, %d message%s" % (
        o["org"], o["id"], o["domain"], n, "" if n == 1 else "s", m,
        "" if m == 1 else "s")


def generated(report_id, gz=True):
    """A report e-mail made here: rfc9990-sample.xml with another
    report_id, gzip'd (or as quoted-printable text/xml), inside a
    nested multipart."""
    with open(os.path.join(DATA, "rfc9990-sample.xml"), "rb") as f:
        xml = f.read().replace(b"3v98abbp8ya9n3va8yr8oa3ya",
                               report_id.encode())
    outer = MIMEMultipart("mixed")
    outer["From"] = "report_sender@example-reporter.com"
    outer["To"] = "rua@example.com"
    outer["Subject"] = "Report domain: example.com Report-ID: " + report_id
    outer.attach(MIMEText("A DMARC aggregate report.\n"))
    inner = MIMEMultipart("mixed")
    if gz:
        inner.attach(MIMEApplication(gzip.compress(xml), "gzip",
                                     Name=report_id + ".xml.gz"))
    else:
        part = MIMEText(xml.decode(), "xml")
        del part["Content-Transfer-Encoding"]
        part.set_payload(xml.decode(), charset="utf-8")
        inner.attach(part)
    outer.attach(inner)
    return outer.as_bytes()


# ---- the store must be there ----
db = os.path.join(h.tmp, "reports.db")
conf = h.write_conf({"report_db": db})
rc, out, err = run(["import", os.path.join(DATA, "rfc9990-sample.xml")],
                   conf=conf)
if "not built yet" in err:
    t.skip_all("the report store is not in this build (rua-store)")
os.unlink(db)

samples = sorted(n for n in os.listdir(DATA)
                 if n not in BROKEN and n not in NOT_REPORTS)
stored = {}   # (org, id) -> oracle


def remember(o):
    stored.setdefault((o["org"], o["id"]), o)


# ---- every sample file, one at a time ----
for name in samples:
    path = os.path.join(DATA, name)
    with open(path, "rb") as f:
        o = oracle(f.read())
    rc, out, err = run(["import", path], conf=conf)
    t.is_((rc, out, err), (0, line_of(o) + "\n", ""),
          "import %s: one line, the XML's records and messages" % name)
    remember(o)

# ---- again, all at once: already imported ----
rc, out, err = run(["import"] + [os.path.join(DATA, n) for n in samples],
                   conf=conf)
t.is_(rc, 0, "importing every sample again: exit 0")
t.is_(out.splitlines(), ["already imported %s report %s for %s" %
                         (o["org"], o["id"], o["domain"]) for o in
                         [oracle(open(os.path.join(DATA, n), "rb").read())
                          for n in samples]],
      "each says already imported")

# ---- the broken ones: the reason, nothing stored ----
empty_db = os.path.join(h.tmp, "empty.db")
empty_conf = h.write_conf({"report_db": empty_db}, "empty.conf")
for name, why in sorted(BROKEN.items()):
    path = os.path.join(DATA, name)
    rc, out, err = run(["import", path], conf=empty_conf)
    t.is_((rc, out), (1, ""), "%s: exit 1, nothing on stdout" % name)
    t.like(err, "%s: not a DMARC report: " % path, "%s: named" % name)
    t.like(err, why, "%s: libxml2's reason" % name)
r = subprocess.run([AUTHFILTER, "report", "--outbound", "-c", empty_conf,
                    "--since", "36500d"], capture_output=True, text=True)
t.is_([l for l in r.stdout.splitlines() if l[:1] in ("!", " ") and
       not l.startswith("  reporter") and not l.startswith("  source_ip")],
      [], "the broken reports stored nothing")

# ---- a Maildir: its messages imported, left where they are ----
md = os.path.join(h.tmp, "Maildir")
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(md, sub))
emls = [n for n in samples if n.endswith(".eml")]
for i, n in enumerate(emls):
    with open(os.path.join(DATA, n), "rb") as f, \
            open(os.path.join(md, "new", "%d.eml" % i), "wb") as g:
        g.write(f.read())
fresh = generated("maildir-1")
with open(os.path.join(md, "cur", "1.mx:2,S"), "wb") as f:
    f.write(fresh)
before = sorted(os.listdir(os.path.join(md, "new")) +
                os.listdir(os.path.join(md, "cur")))
rc, out, err = run(["import", md], conf=conf)
t.is_(rc, 0, "Maildir: exit 0")
t.like(out, line_of(oracle(fresh)), "Maildir: the new report imported")
t.is_(out.count("already imported"), len(emls),
      "Maildir: the sample e-mails already were")
t.is_(sorted(os.listdir(os.path.join(md, "new")) +
             os.listdir(os.path.join(md, "cur"))), before,
      "Maildir: no message moved or deleted")
remember(oracle(fresh))
rc, out, err = run(["import", h.tmp], conf=conf)
t.is_(rc, 1, "a directory that is no Maildir: exit 1")
t.like(err, "not a Maildir", "... said so")

# ---- standard input, as Postfix's pipe gives it ----
piped = generated("stdin-1", gz=False)
rc, out, err = run(["import", "-"], stdin=piped, conf=conf)
t.is_((rc, out.strip()), (0, line_of(oracle(piped))),
      "stdin: a quoted-printable text/xml report is imported, exit 0")
remember(oracle(piped))
rc, out, err = run(["import", "-"], stdin=piped, conf=conf)
t.is_((rc, out.strip()[:16]), (0, "already imported"),
      "stdin: the same again: exit 0, already imported")
rc, out, err = run(["import", "-"], stdin=b"From: a@b.example\r\n"
                   b"Subject: hello\r\n\r\nnot a report\r\n", conf=conf)
t.is_(rc, 0, "stdin: a message that is no report: exit 0 (logged, "
      "no bounce)")
t.like(err, "stdin: not a DMARC report: no report attached", "... said so")
with open(os.path.join(DATA, "invalid_xml.xml"), "rb") as f:
    rc, out, err = run(["import", "-"], stdin=f.read(), conf=conf)
t.is_(rc, 0, "stdin: a broken report: exit 0 (logged, no bounce)")
with open(os.path.join(DATA, "rfc9990-sample.xml"), "rb") as f:
    hostile = f.read().replace(b"<source_ip>192.0.2.123</source_ip>",
                               b"<source_ip>out of memory</source_ip>", 1)
rc, out, err = run(["import", "-"], stdin=hostile, conf=conf)
t.is_(rc, 0, "stdin: a report whose bad value reads \"out of memory\": "
      "broken (exit 0), not a retry for ever")
nodb = h.write_conf({"report_db": "/nonexistent/dir/reports.db"},
                    "nodb.conf")
rc, out, err = run(["import", "-"], stdin=generated("stdin-2"), conf=nodb)
t.is_(rc, 75, "stdin: the store cannot be opened: exit 75 (EX_TEMPFAIL), "
      "the MTA retries")
rc, out, err = run(["import", os.path.join(DATA, samples[0])], conf=nodb)
t.is_(rc, 1, "a file: the store cannot be opened: exit 1")

# ---- what authfilter-reports send makes (rua_compose() through
# t/tools/rua-report), imported back: the counts rua-report states ----
RUA_REPORT = os.path.join(BUILDDIR, "t", "tools", "rua-report")
own = h.write_conf({"report_db": os.path.join(h.tmp, "own.db")}, "own.conf")
for tag, args in (("12", ["--records", "12"]),
                  ("split", ["--namespace", "--records", "3000",
                             "--max-size", "20000"])):
    d = os.path.join(h.tmp, "sent-" + tag)
    os.mkdir(d)
    r = subprocess.run([RUA_REPORT] + args + [d], capture_output=True,
                       text=True, timeout=60)
    parts = [line.split() for line in r.stdout.splitlines()]
    t.ok(r.returncode == 0 and parts, "rua-report %s: %d part(s)" %
         (" ".join(args), len(parts)), r.stderr)
    for name, nrec, nmsg, _ in parts:
        path = os.path.join(d, name + ".eml")
        with open(path, "rb") as f:
            o = oracle(f.read())
        rc, out, err = run(["import", path], conf=own)
        t.is_((rc, out.strip()), (0, "imported %s report %s for %s: %s "
                                  "records, %s messages" % (
                                      o["org"], o["id"], o["domain"], nrec,
                                      nmsg)),
              "our own report mail %s: its records and messages" %
              name[-16:])

# ---- report --outbound: the tables against the XML ----
def tally(key_of):
    rows = {}
    for o in stored.values():
        for r in o["records"]:
            k = key_of(o, r)
            n = rows.setdefault(k, [0] * 7)
            c = r["count"]
            dk, sp = r["dkim"] == "pass", r["spf"] == "pass"
            n[0] += c
            n[1] += c if dk or sp else 0
            n[2] += c if dk else 0
            n[3] += c if sp else 0
            col = {"quarantine": 5, "reject": 6}.get(r["disp"], 4)
            n[col] += c
    return {k: ("!" if n[1] < n[0] else " ", n[0], n[1] * 100 // n[0],
                n[2] * 100 // n[0], n[3] * 100 // n[0], n[4], n[5], n[6])
            for k, n in rows.items()}


def tables(stdout):
    """{title: [(key, row)]} and the hint lines of the output."""
    out, title, hints = {}, None, []
    for line in stdout.splitlines():
        if line.startswith("  reporter") or line.startswith("  source_ip"):
            title = line.split()[0]
            out[title] = []
        elif title and line[:1] in ("!", " ") and line.strip():
            key, *nums = line[2:].rsplit(None, 7)
            out[title].append((key.strip(), (line[0],) +
                               tuple(int(x) for x in nums)))
        elif title == "source_ip" and line.strip():
            hints.append(line)
    return out, hints


r = subprocess.run([AUTHFILTER, "report", "--outbound", "-c", conf,
                    "--since", "36500d"], capture_output=True, text=True,
                   env=h.san_env())
t.is_(r.returncode, 0, "report --outbound: exit 0")
t.like(r.stdout.splitlines()[0] if r.stdout else "",
       "all domains: %d reports" % len(stored), "every report imported counted")
got, hints = tables(r.stdout)
want_org = tally(lambda o, r: o["org"])
want_ip = tally(lambda o, r: r["ip"])
t.is_(dict(got.get("reporter", [])), want_org,
      "per reporter: messages, DMARC/DKIM/SPF %, dispositions as the XML "
      "says")
t.is_(dict(got.get("source_ip", [])), want_ip,
      "per source IP: the same (%d IPs)" % len(want_ip))
ips = got.get("source_ip", [])
t.ok(ips and ips[0][1][0] == "!" and
     [k for k, v in ips if v[0] == "!"] == [k for k, v in ips[:len(
         [1 for _, v in ips if v[0] == "!"])]],
     "failing source IPs first, marked !")
t.like("\n".join(hints), "203.0.113.10 sends as example.com: DKIM none: "
       "not signed by authfilter; SPF fail: not in spoofed.example.com's "
       "SPF record", "a hint for the spoofing source")
t.ok(not any(l.startswith("198.51.100.1 ") for l in hints),
     "no hint for a source that passes")

r = subprocess.run([AUTHFILTER, "report", "--outbound", "borschow.com", "-c",
                    conf, "--since", "36500d"], capture_output=True,
                   text=True, env=h.san_env())
got, hints = tables(r.stdout)
t.is_([k for k, _ in got.get("reporter", [])], ["google.com"],
      "--outbound DOMAIN: that domain's reporters only")
t.is_([k for k, _ in got.get("source_ip", [])], ["92.53.116.102"],
      "--outbound DOMAIN: that domain's sources only")
r = subprocess.run([AUTHFILTER, "report", "--outbound", "-c", conf],
                   capture_output=True, text=True, env=h.san_env())
got, _ = tables(r.stdout)
t.is_(got.get("source_ip"), [], "default --since 30d: the samples (2024 "
      "and older) are out of it")
r = subprocess.run([AUTHFILTER, "report", "--outbound", "--since", "soon",
                    "-c", conf], capture_output=True, text=True)
t.is_(r.returncode, 2, "--since soon: usage error")

# ---- the same per reporter as metrics: the daemon's /metrics ----
served = os.path.join(h.state_dir(), "imported.db")
shutil.copy(db, served)             # for the daemon's user
if os.geteuid() == 0:
    shutil.chown(served, TEST_USER)
listen = "127.0.0.1:%d" % free_port()
af = h.start_authfilter({"report_db": served, "metrics_listen": listen})


def gauges():
    with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10) as r:
        text = r.read().decode()
    got = {}
    for m in re.finditer(r'^authfilter_reported_messages\{reporter="([^"]*)"\} '
                         r'(\d+)$', text, re.M):
        got[m.group(1)] = [int(m.group(2)), 0, 0, 0]
    for m in re.finditer(r'^authfilter_reported_pass_messages\{reporter="([^"]*)",'
                         r'check="(\w+)"\} (\d+)$', text, re.M):
        got[m.group(1)][["dmarc", "dkim", "spf"].index(m.group(2)) + 1] = \
            int(m.group(3))
    return got


want = {}
for o in stored.values():
    for rec in o["records"]:
        n = want.setdefault(o["org"], [0, 0, 0, 0])
        c, dk, sp = rec["count"], rec["dkim"] == "pass", rec["spf"] == "pass"
        n[0] += c
        n[1] += c if dk or sp else 0
        n[2] += c if dk else 0
        n[3] += c if sp else 0
t.is_(wait_for(lambda: gauges() or None, 20), want,
      "/metrics: per reporter, messages and DMARC/DKIM/SPF passes as the "
      "XML says")
h.stop_authfilter(af)
h.finish()
t.done()
