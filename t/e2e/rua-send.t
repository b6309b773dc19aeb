#!/usr/bin/python3
# The aggregate reports we send, read by two independent readers in
# Debian: dmarc-cat (Go, reads the .xml.gz attachment under its RFC 9990
# file name) and Mail::DMARC (Perl, reads the whole e-mail: MIME, gunzip,
# XML).  Both must find every record and every message.  The mails come
# from t/tools/rua-report (a fixed report through rua_compose(), the code
# authfilter-reports send uses): the MIME structure, the Subject and the
# attachment are checked here too; a report too large for max_size is
# split into reports that each fit, each read back whole.
#
# Then authfilter-reports send itself, from a real store (SQLite, filled
# by t/tools/rua-evals through rua_store_add_evals()) to a stand-in for
# the MTA's sendmail that keeps what it gets: --dry-run writes the files
# and sends nothing; a run sends one report per verified destination and
# none to a destination in another organizational domain that did not
# publish its _report._dmarc record (a loopback unbound answers); the
# readers count every record and message; a second run sends nothing; a
# failing sendmail is an error and its report goes out with the next run.
import email
import email.policy
import glob
import gzip
import os
import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (BUILDDIR, Harness, skip_single_threaded_under_tsan,  # noqa: E402
                     txt_record, wait_for)
from ruaread import dmarc_cat, mail_dmarc  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
skip_single_threaded_under_tsan(t)
h = Harness(t)
RUA_REPORT = os.path.join(BUILDDIR, "t", "tools", "rua-report")
RUA_EVALS = os.path.join(BUILDDIR, "t", "tools", "rua-evals")
AUTHFILTER_REPORTS = os.path.join(BUILDDIR, "authfilter-reports")


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
# Under a sanitizer, a fifth of it: its shadow memory makes 10000
# records (65 MB of structs) take minutes.
N, MAX = (2000, 16384) if os.environ.get("AF_SANITIZER") else (10000, 65536)
d, parts, err, rc = compose("split", "--records", str(N), "--max-size",
                            str(MAX))
t.ok(rc == 0 and len(parts) > 1, "%d records over %d bytes: %d reports"
     % (N, MAX, len(parts)), err)
sizes = [os.path.getsize(os.path.join(d, p[0] + ".eml")) for p in parts]
t.ok(all(s <= MAX for s in sizes), "each mail within %d bytes" % MAX, sizes)
t.is_(sum(p[1] for p in parts), N, "the parts hold every record once")
emls = sorted(glob.glob(os.path.join(d, "*.eml")))
reps, out = mail_dmarc(*emls)
t.is_((sum(n for _, n, _ in reps), sum(m for _, _, m in reps)),
      (N, N * (N + 1) // 2), "Mail::DMARC: %d records, %d messages in all"
      % (N, N * (N + 1) // 2))
t.is_(len(set(i for i, _, _ in reps)), len(parts), "each part its own report_id")
total = [dmarc_cat(os.path.join(d, p[0] + ".xml.gz"))[:2] for p in parts]
t.is_((sum(r for r, _ in total), sum(m for _, m in total)),
      (N, N * (N + 1) // 2), "dmarc-cat: the same")

d, parts, err, rc = compose("toobig", "--records", "1", "--max-size", "100")
t.ok(rc == 1 and "one record alone makes a mail of" in err,
     "one record over the limit: an error, nothing written", err)
t.is_(os.listdir(d), [], "no file")

# ==== authfilter-reports send: from the store to the MTA ====
# Evaluations go into a real store (SQLite) through rua_store_add_evals();
# report_sendmail is a script that keeps what it is given (standing in
# for the MTA's sendmail); a loopback unbound answers the external
# destination verification: reports.example authorises example.com, no
# one authorises example.org's destination.
# Four days ago, UTC: within report_keep (31 days), which every run
# that sends applies.
B = (int(time.time()) // 86400 - 4) * 86400
E = B + 86400
OLD = B - 40 * 86400
OLD_PERIOD = "%d,%d" % (OLD, OLD + 86400)
DAY = time.strftime("%Y-%m-%d", time.gmtime(B))
NEXT = time.strftime("%Y-%m-%d", time.gmtime(E))
PERIOD = "%d,%d" % (B, E)
dns = h.start_dns([
    txt_record("example.com._report._dmarc.reports.example", "v=DMARC1"),
    txt_record("_dmarc.example.com", "v=DMARC1; p=none"),
    txt_record("_dmarc.example.org", "v=DMARC1; p=none"),
])
outbox = os.path.join(h.tmp, "outbox")
os.mkdir(outbox)
sendmail = os.path.join(h.tmp, "sendmail")
with open(sendmail, "w") as f:
    f.write("""#!/usr/bin/python3
# Keeps each message and its arguments; exits 75 while a file "fail" is
# in the outbox.
import os, sys
d = %r
if os.path.exists(os.path.join(d, "fail")):
    sys.stdin.buffer.read()
    sys.exit(75)
n = len([x for x in os.listdir(d) if x.endswith(".eml")])
with open(os.path.join(d, "%%03d.eml" %% n), "wb") as f:
    f.write(sys.stdin.buffer.read())
with open(os.path.join(d, "%%03d.args" %% n), "w") as f:
    f.write(" ".join(sys.argv[1:]))
""" % outbox)
os.chmod(sendmail, 0o755)
db = os.path.join(h.tmp, "reports.db")
conf = h.write_conf({
    "authserv_id": "mx.example",
    "dns_resolver": "127.0.0.1@%d" % dns,
    "report_db": db,
    "report_email": "dmarc-reports@mx.example",
    "report_sendmail": sendmail,
})
RUA_COM = "mailto:dmarc@example.com,mailto:rua@reports.example"
RUA_ORG = "mailto:agg@other.example"
RUA_SPLIT = "mailto:small@example.net!3k"
evals = [
    # when, domain, rua, ip, header_from, envelope_from, disp, dkim, spf, n
    (B + 100, "example.com", RUA_COM, "192.0.2.1", "example.com",
     "example.com", "none", "pass", "pass", 40),
    (B + 200, "example.com", RUA_COM, "192.0.2.2", "example.com",
     "bounce.example.com", "none", "pass", "fail", 7),
    (B + 300, "example.com", RUA_COM, "198.51.100.9", "example.com",
     "spoof.example", "none", "fail", "fail", 3),
    (B - 10, "example.com", RUA_COM, "192.0.2.99", "example.com",
     "example.com", "none", "pass", "pass", 5),          # the day before
    (E, "example.com", RUA_COM, "192.0.2.98", "example.com",
     "example.com", "none", "pass", "pass", 6),          # the day after
    (B + 400, "example.org", RUA_ORG, "192.0.2.3", "example.org",
     "example.org", "none", "pass", "pass", 2),
    (OLD + 100, "example.com", RUA_COM, "192.0.2.50", "example.com",
     "example.com", "none", "pass", "pass", 1),          # past report_keep
]
# example.net: 200 sources, more than one 3 kB mail holds.
evals += [(B + 500 + i, "example.net", RUA_SPLIT, "203.0.113.%d" % (i + 1),
           "example.net", "example.net", "none", "pass", "pass", i % 5 + 1)
          for i in range(200)]
r = subprocess.run([RUA_EVALS, db], input="".join(
    "%d %s %s %s %s %s %s %s %s %d\n" % e for e in evals),
    capture_output=True, text=True, timeout=60)
t.is_((r.returncode, r.stderr), (0, ""), "evaluations stored")


def reports(*args):
    r = subprocess.run([AUTHFILTER_REPORTS, "-c", conf, "send"] + list(args),
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def sent():
    return sorted(x for x in os.listdir(outbox) if x.endswith(".eml"))


# ---- --dry-run: the files, no mail, nothing marked ----
dry = os.path.join(h.tmp, "dry")
rc, out, err = reports("--dry-run", dry, "--period", PERIOD)
t.is_((rc, err), (0, ""), "dry run: exit 0, no error")
lines = out.splitlines()
t.ok(any(re.match(r"wrote example\.com period %sT00:00:00Z\.\."
                  r"%sT00:00:00Z to dmarc@example\.com: 3 records, "
                  % (DAY, NEXT) +
                  r"50 messages, [\d.]+ kB: ", x) for x in lines),
     "dry run: example.com to its own address, 3 records, 50 messages", out)
t.ok(any(x.startswith("wrote example.com ") and "rua@reports.example: 3 "
         "records, 50 messages" in x for x in lines),
     "dry run: example.com to reports.example (verified)", out)
t.ok(any(x.startswith("skipped example.org ") and "to agg@other.example: "
         "external destination not verified (no v=DMARC1 record at "
         "example.org._report._dmarc.other.example)" in x for x in lines),
     "dry run: example.org's external destination skipped, and why", out)
t.is_(sent(), [], "dry run: nothing handed to sendmail")
dry_emls = sorted(glob.glob(os.path.join(dry, "*.eml")))
t.ok(len(dry_emls) >= 4 and len(glob.glob(os.path.join(dry, "*.xml.gz"))) ==
     len(dry_emls) and len(glob.glob(os.path.join(dry, "*.xml"))) ==
     len(dry_emls), "dry run: .eml, .xml.gz and .xml of each report",
     os.listdir(dry))
reps, mout = mail_dmarc(*[p for p in dry_emls if "!example.com!" in p])
t.is_(sorted((n, m) for _, n, m in reps), [(3, 50), (3, 50)],
      "Mail::DMARC reads the dry run's example.com mails", )

rc, out, err = reports("--dry-run", dry, "--period", OLD_PERIOD)
t.ok(rc == 0 and out.startswith("wrote example.com "),
     "40 days ago: still in the store before a real run", out + err)

# ---- the real run ----
rc, out, err = reports("--period", PERIOD)
t.is_((rc, err), (0, ""), "send: exit 0, no error")
lines = out.splitlines()
t.ok(any(re.match(r"sent example\.com period .* to dmarc@example\.com: 3 "
                  r"records, 50 messages, ", x) for x in lines),
     "sent example.com to dmarc@example.com", out)
t.ok(any(re.match(r"sent example\.net period .* to small@example\.net: 200 "
                  r"records, 600 messages, .* in \d+ reports$", x)
         for x in lines), "example.net split across several reports "
     "(its !3k)", out)
mails = sent()
to = {}
for m in mails:
    with open(os.path.join(outbox, m), "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    to.setdefault(str(msg["To"]), []).append(os.path.join(outbox, m))
    with open(os.path.join(outbox, m[:-4] + ".args")) as f:
        args = f.read()
    t.is_(args, "-t -i -f dmarc-reports@mx.example",
          "%s: sendmail -t -i -f report_email" % m)
t.is_(sorted(to), ["dmarc@example.com", "rua@reports.example",
                   "small@example.net"], "mails to the three destinations, "
      "none to the unverified one")
t.ok(all(os.path.getsize(p) <= 3072 for p in to.get("small@example.net", [])),
     "each example.net mail within 3 kB")
for dest, want in (("dmarc@example.com", (3, 50)),
                   ("rua@reports.example", (3, 50)),
                   ("small@example.net", (200, 600))):
    reps, mout = mail_dmarc(*to.get(dest, []))
    t.is_((sum(n for _, n, _ in reps), sum(m for _, _, m in reps)), want,
          "Mail::DMARC: %s got %d records, %d messages" % ((dest,) + want))
    got = [0, 0]
    for p in to.get(dest, []):
        with open(p, "rb") as f:
            msg = email.message_from_bytes(f.read(),
                                           policy=email.policy.default)
        att = list(msg.iter_attachments())[0]
        path = os.path.join(h.tmp, att.get_filename())
        with open(path, "wb") as f:
            f.write(att.get_content())
        n, m, cout = dmarc_cat(path)
        got[0] += n or 0
        got[1] += m or 0
    t.is_(tuple(got), want, "dmarc-cat: %s got %d records, %d messages"
          % ((dest,) + want))
with open(to["dmarc@example.com"][0], "rb") as f:
    msg = email.message_from_bytes(f.read(), policy=email.policy.default)
xml = gzip.decompress(list(msg.iter_attachments())[0].get_content())
root = ET.fromstring(xml)
t.is_((root.findtext("report_metadata/org_name"),
       root.findtext("report_metadata/email"),
       root.findtext("report_metadata/date_range/begin"),
       root.findtext("report_metadata/date_range/end"),
       root.findtext("policy_published/domain")),
      ("mx.example", "dmarc-reports@mx.example", str(B), str(E - 1),
       "example.com"), "metadata: org_name, email, the period, the domain")
t.ok(re.fullmatch(r"authfilter \S+", root.findtext(
    "report_metadata/generator") or ""), "generator: authfilter VERSION")
t.ok("192.0.2.99" not in xml.decode() and "192.0.2.98" not in xml.decode(),
     "evaluations outside the period left out")

rc, out, err = reports("--dry-run", dry, "--period", OLD_PERIOD)
t.is_((rc, out, err), (0, "", ""), "after it, evaluations older than "
      "report_keep are gone")

# ---- again: nothing is sent twice ----
before = sent()
rc, out, err = reports("--period", PERIOD)
t.is_((rc, err, sent()), (0, "", before), "second run: exit 0, nothing sent")
t.is_(len([x for x in out.splitlines() if x.endswith(": already sent")]), 3,
      "second run: three destinations already sent", )

# ---- sendmail fails: an error, not marked, sent by the next run ----
P2 = "%d,%d" % (B + 86400, B + 2 * 86400)
r = subprocess.run([RUA_EVALS, db], input="%d example.com %s 192.0.2.7 "
                   "example.com example.com none pass pass 4\n"
                   % (B + 86400 + 60, RUA_COM), capture_output=True,
                   text=True, timeout=60)
open(os.path.join(outbox, "fail"), "w").close()
before = sent()
rc, out, err = reports("--period", P2, "--domain", "example.com")
t.ok(rc == 1 and "exited 75" in err, "sendmail exits 75: exit 1, said", err)
t.is_(sent(), before, "nothing kept by the failing sendmail")
os.unlink(os.path.join(outbox, "fail"))
rc, out, err = reports("--period", P2, "--domain", "example.com")
t.ok(rc == 0 and len(sent()) == len(before) + 2,
     "with sendmail working again the next run sends both", out + err)

# ---- a report_sendmail that cannot run ----
bad = h.write_conf({"authserv_id": "mx.example", "report_db": db,
                    "dns_resolver": "127.0.0.1@%d" % dns,
                    "report_sendmail": os.path.join(h.tmp, "nonexistent")},
                   "bad-sendmail.conf")
r = subprocess.run([AUTHFILTER_REPORTS, "-c", bad, "send", "--period",
                    "%d,%d" % (B + 2 * 86400, B + 3 * 86400)],
                   capture_output=True, text=True, timeout=60)
t.is_(r.returncode, 0, "a period without evaluations: nothing to send, "
      "exit 0")
subprocess.run([RUA_EVALS, db], input="%d example.com %s 192.0.2.8 "
               "example.com example.com none pass pass 1\n"
               % (B + 2 * 86400 + 60, RUA_COM), capture_output=True,
               text=True, timeout=60)
r = subprocess.run([AUTHFILTER_REPORTS, "-c", bad, "send", "--period",
                    "%d,%d" % (B + 2 * 86400, B + 3 * 86400)],
                   capture_output=True, text=True, timeout=60)
t.ok(r.returncode == 1 and "nonexistent: cannot run: No such file" in
     r.stderr, "report_sendmail missing: exit 1, said", r.stderr)

# ---- a report_sendmail that hangs: killed after report_sendmail_timeout,
# with the process it started; the report is not marked sent ----
hang = os.path.join(h.tmp, "hang-sendmail")
pids = os.path.join(h.tmp, "hang.pids")
with open(hang, "w") as f:
    f.write("#!/bin/sh\necho $$ >%s\nsleep 1000 &\necho $! >>%s\nwait\n"
            % (pids, pids))
os.chmod(hang, 0o755)
hung = h.write_conf({"authserv_id": "mx.example", "report_db": db,
                     "dns_resolver": "127.0.0.1@%d" % dns,
                     "report_sendmail": hang,
                     "report_sendmail_timeout": "1s"}, "hang-sendmail.conf")
before = sent()
try:
    r = subprocess.run([AUTHFILTER_REPORTS, "-c", hung, "send", "--period",
                        "%d,%d" % (B + 2 * 86400, B + 3 * 86400)],
                       capture_output=True, text=True, timeout=60)
    rc, err = r.returncode, r.stderr
except subprocess.TimeoutExpired:
    rc, err = "timeout", "still running after 60 s"
t.ok(rc == 1 and "did not finish within report_sendmail_timeout (1s): "
     "killed" in err, "a hanging sendmail is killed: exit 1, said", err)


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


hung_pids = [int(x) for x in open(pids).read().split()] if os.path.exists(pids) else []
t.ok(len(hung_pids) == 2 and wait_for(lambda: all(gone(p) for p in hung_pids), 10),
     "with the process it started (its process group)", repr(hung_pids))
for p in hung_pids:
    if not gone(p):
        os.kill(p, 9)
rc, out, err = reports("--period", "%d,%d" % (B + 2 * 86400, B + 3 * 86400),
                       "--domain", "example.com")
t.ok(rc == 0 and len(sent()) > len(before),
     "the report was not marked sent: the next run sends it", out + err)

# ---- a PostgreSQL server that accepts and never answers: the store's
# default connect_timeout (10 s) ends the wait, said ----
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(8)
mute = h.write_conf({"authserv_id": "mx.example",
                     "report_db": "postgresql://authfilter@127.0.0.1:%d/reports"
                     % silent.getsockname()[1],
                     "dns_resolver": "127.0.0.1@%d" % dns}, "mute-pg.conf")
try:
    r = subprocess.run([AUTHFILTER_REPORTS, "-c", mute, "send"],
                       capture_output=True, text=True, timeout=60)
    rc, err = r.returncode, r.stderr
except subprocess.TimeoutExpired:
    rc, err = "timeout", "still waiting after 60 s"
silent.close()
t.ok(rc not in (0, "timeout") and "timeout expired" in err,
     "a silent PostgreSQL: authfilter-reports gives up, said", "%r %s" % (rc, err))

# ---- bad usage ----
rc, out, err = reports("--period", "tomorrow")
t.ok(rc == 2 and "--period tomorrow" in err, "a bad --period: exit 2", err)

h.finish()
t.done()
