#!/usr/bin/python3
# The aggregate reports we send, read by two independent readers in
# Debian: dmarc-cat (Go, reads the .xml.gz attachment under its RFC 9990
# file name) and Mail::DMARC (Perl, reads the whole e-mail: MIME, gunzip,
# XML).  Both must find every record and every message.  The mails come
# from t/tools/rua-report (a fixed report through rua_compose(), the code
# authfilter-reports send uses): the MIME structure, the Subject and the
# attachment are checked here too; a report too large for max_size is
# split into reports that each fit, each read back whole.
import email
import email.policy
import glob
import gzip
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import BUILDDIR, SRCDIR, Harness  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
RUA_REPORT = os.path.join(BUILDDIR, "t", "tools", "rua-report")
MAIL_DMARC = os.path.join(SRCDIR, "t", "lib", "mail_dmarc_read.pl")


def compose(name, *args):
    """rua-report into a new directory: (dir, [(name, records, messages,
    bytes)], stderr, exit status)."""
    d = os.path.join(h.tmp, name)
    os.mkdir(d)
    r = subprocess.run([RUA_REPORT] + list(args) + [d], capture_output=True,
                       text=True, timeout=60)
    parts = [(f[0], int(f[1]), int(f[2]), int(f[3]))
             for f in (line.split() for line in r.stdout.splitlines())]
    return d, parts, r.stderr, r.returncode


def dmarc_cat(path):
    """dmarc-cat on one file: (records, messages) from its table, and
    its output."""
    r = subprocess.run(["dmarc-cat", "-N", path], capture_output=True,
                       text=True, timeout=60)
    out = r.stdout + r.stderr
    m = re.search(r"Reports\((\d+)\):\n[^\n]*\n((?:\S+\s+\d+\s[^\n]*\n)*)", out)
    if not m:
        return None, None, out
    counts = [int(line.split()[1]) for line in m.group(2).splitlines()]
    return int(m.group(1)), sum(counts), out


def mail_dmarc(*paths):
    """Mail::DMARC on report mails: [(report_id, records, messages)] and
    its output."""
    r = subprocess.run(["perl", MAIL_DMARC] + list(paths),
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    reps = re.findall(r"^report (\S+) .* records=(\d+) messages=(\d+)$", out,
                      re.M)
    return [(i, int(n), int(m)) for i, n, m in reps], out


# ---- one report of 12 records: 78 messages ----
d, parts, err, rc = compose("one", "--records", "12")
t.is_((rc, len(parts)), (0, 1), "12 records: one report")
name, nrec, nmsg, size = parts[0]
t.is_((nrec, nmsg), (12, 78), "rua-report says 12 records, 78 messages")
t.ok(re.fullmatch(r"mx\.example!example\.com!1700006400!1700092799!"
                  r"[0-9a-f]{16}", name),
     "file name receiver!domain!begin!end!unique (RFC 9990 3.2.1)", name)
eml = os.path.join(d, name + ".eml")
gz = os.path.join(d, name + ".xml.gz")
recs, msgs, out = dmarc_cat(gz)
t.is_((recs, msgs), (12, 78), "dmarc-cat reads the .xml.gz: 12 records, 78 "
      "messages")
reps, out = mail_dmarc(eml)
t.is_([(n, m) for _, n, m in reps], [(12, 78)],
      "Mail::DMARC reads the mail: 12 records, 78 messages")
t.ok("type aggregate" in out, "Mail::DMARC sees an aggregate report", out)

# ---- the mail itself ----
with open(eml, "rb") as f:
    raw = f.read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
rid = name.split("!")[-1]
t.is_(str(msg["Subject"]), "Report Domain: example.com Submitter: mx.example "
      "Report-ID: <1700006400.example.com.%s>" % rid, "Subject (RFC 9990 3.2.1)")
t.is_((str(msg["From"]), str(msg["To"])),
      ("postmaster@mx.example", "dmarc@example.com"), "From and To")
t.is_((msg["Auto-Submitted"], msg["X-Authfilter-Report"]),
      ("auto-generated", "aggregate"), "marked as our own automatic mail")
t.ok(msg["Date"] is not None and msg["Message-ID"] ==
     "<1700006400.example.com.%s@mx.example>" % rid, "Date and Message-ID")
t.is_(msg.get_content_type(), "multipart/mixed", "multipart/mixed")
kinds = [p.get_content_type() for p in msg.iter_parts()]
t.is_(kinds, ["text/plain", "application/gzip"], "text part, then the report")
att = list(msg.iter_attachments())[0]
t.is_(att.get_filename(), name + ".xml.gz", "attachment's file name")
with open(os.path.join(d, name + ".xml"), "rb") as f:
    xml = f.read()
t.ok(gzip.decompress(att.get_content()) == xml,
     "the attachment gunzips to the .xml written beside it")
head, body = raw.split(b"\n\n", 1)
t.ok(max(len(line) for line in head.split(b"\n")) <= 78,
     "header lines within 78 characters")
b64 = att.as_bytes().split(b"\n\n", 1)[1].split(b"\n")
t.ok(max(len(line) for line in b64) <= 76, "base64 lines within 76")
root = ET.fromstring(xml)
t.is_((root.tag, root.findtext("version")), ("feedback", "1.0"),
      "<feedback> without a namespace, <version>1.0</version>")
t.is_([c.tag for c in root.find("policy_published")],
      ["domain", "adkim", "aspf", "p", "sp", "np", "testing",
       "discovery_method"], "policy_published in RFC 9990's order")
t.is_(root.findtext("report_metadata/report_id"),
      "1700006400.example.com." + rid, "report_id")

# ---- the dmarc-2.0 namespace: what each reader makes of it ----
d, parts, err, rc = compose("ns", "--namespace", "--records", "12")
name = parts[0][0]
recs, msgs, out = dmarc_cat(os.path.join(d, name + ".xml.gz"))
t.is_((recs, msgs), (12, 78), "dmarc-cat reads a report in the dmarc-2.0 "
      "namespace")
reps, out = mail_dmarc(os.path.join(d, name + ".eml"))
t.ok(reps == [] and "findnodes" in out,
     "Mail::DMARC 1.20211209 cannot (its XPath has no namespace): why send "
     "leaves the namespace out; when this fails, Debian's Mail::DMARC "
     "reads it", out)

# ---- too large for max_size: split, every part read back ----
d, parts, err, rc = compose("split", "--records", "10000", "--max-size", "65536")
t.ok(rc == 0 and len(parts) > 1, "10000 records over 64 kB: %d reports"
     % len(parts), err)
sizes = [os.path.getsize(os.path.join(d, p[0] + ".eml")) for p in parts]
t.ok(all(s <= 65536 for s in sizes), "each mail within 65536 bytes", sizes)
t.is_(sum(p[1] for p in parts), 10000, "the parts hold every record once")
emls = sorted(glob.glob(os.path.join(d, "*.eml")))
reps, out = mail_dmarc(*emls)
t.is_((sum(n for _, n, _ in reps), sum(m for _, _, m in reps)),
      (10000, 10000 * 10001 // 2), "Mail::DMARC: 10000 records, 50005000 "
      "messages in all")
t.is_(len(set(i for i, _, _ in reps)), len(parts), "each part its own report_id")
total = [dmarc_cat(os.path.join(d, p[0] + ".xml.gz"))[:2] for p in parts]
t.is_((sum(r for r, _ in total), sum(m for _, m in total)),
      (10000, 10000 * 10001 // 2), "dmarc-cat: the same")

d, parts, err, rc = compose("toobig", "--records", "1", "--max-size", "100")
t.ok(rc == 1 and "one record alone makes a mail of" in err,
     "one record over the limit: an error, nothing written", err)
t.is_(os.listdir(d), [], "no file")

h.finish()
t.done()
