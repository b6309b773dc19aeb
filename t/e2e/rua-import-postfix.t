#!/usr/bin/python3
# authfilter-reports import - behind Postfix's pipe(8), as a rua= address
# is wired up: a report e-mail is delivered into the store; a message that
# is no report is delivered (dropped with a log line), never bounced; and
# while the store cannot be opened the message is deferred (exit 75) and
# goes in on the retry once it can: no report is lost.  A private Postfix
# on 127.0.0.1 (no milter), the pipe running as nobody.
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import AUTHFILTER, BUILDDIR, SRCDIR, Harness, TEST_USER, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

REPORTS = os.path.join(BUILDDIR, "authfilter-reports")
DATA = os.path.join(SRCDIR, "t", "data", "dmarc-reports")
GOOGLE = "Report_domain-_borschow.com_Submitter-_google.com_Report-ID-_" \
    "949348866075514174.eml"
MIMECAST = "mimecast-weird-gzip.eml"

t = Tap()
if shutil.which("postfix") is None or shutil.which("swaks") is None:
    t.skip_all("postfix and swaks are needed (contrib/deps --test)")
h = Harness(t)

# Two stores: one nobody can write, one in a directory nobody cannot
# (yet) create files in.
good_dir = os.path.join(h.tmp, "db")
late_dir = os.path.join(h.tmp, "db-late")
for d, mode in ((good_dir, 0o777), (late_dir, 0o755)):
    os.mkdir(d)
    os.chmod(d, mode)
good = h.write_conf({"report_db": os.path.join(good_dir, "r.db")}, "good.conf")
late = h.write_conf({"report_db": os.path.join(late_dir, "r.db")}, "late.conf")

sink = h.start_sink()
smtp = h.start_postfix(0, sink, extra={
    "smtpd_milters": "",
    "transport_maps": "inline:{rua@example.com=rua-good:, "
                      "rua@example.net=rua-late:}",
    "rua-good_destination_recipient_limit": "1",
    "rua-late_destination_recipient_limit": "1",
    "maximal_backoff_time": "1s", "minimal_backoff_time": "1s",
})
with open(os.path.join(h.postfix_dir, "master.cf"), "a") as f:
    for name, conf in (("rua-good", good), ("rua-late", late)):
        f.write("%s unix - n n - - pipe user=%s argv=%s -c %s import -\n" %
                (name, TEST_USER, h.user_binary(REPORTS), conf))
r = h.postfix("postfix", "reload")
t.is_(r.returncode, 0, "postfix reloaded with the two pipe transports")


def status_of(rcpt, status):
    return wait_for(lambda: any("to=<%s>" % rcpt in line and
                                "status=%s" % status in line
                                for line in h.maillog().splitlines()), 30)


def outbound(conf, domain):
    r = subprocess.run([AUTHFILTER, "report", "--outbound", domain, "-c",
                        conf, "--since", "36500d"], capture_output=True,
                       text=True)
    return r.stdout


with open(os.path.join(DATA, GOOGLE), "rb") as f:
    code, out = h.send(smtp, f.read(), rcpt="rua@example.com")
t.is_(code, 250, "the report e-mail is accepted")
t.ok(status_of("rua@example.com", "sent"), "delivered through the pipe",
     h.maillog())
t.like(outbound(good, "borschow.com"), "92.53.116.102",
       "its record is in the store")

code, out = h.send(smtp, b"From: someone@example.org\r\nTo: rua@example.com"
                   b"\r\nSubject: hello\r\n\r\nnot a report\r\n",
                   rcpt="rua@example.com")
t.ok(wait_for(lambda: sum("to=<rua@example.com>" in l and "status=sent" in l
                          for l in h.maillog().splitlines()) == 2, 30)
     and "status=bounced" not in h.maillog(),
     "a message that is no report: delivered (dropped and logged), not "
     "bounced", h.maillog())

with open(os.path.join(DATA, MIMECAST), "rb") as f:
    code, out = h.send(smtp, f.read(), rcpt="rua@example.net")
t.ok(status_of("rua@example.net", "deferred"),
     "store unavailable: the message is deferred (exit 75)", h.maillog())
t.ok("status=bounced" not in h.maillog(), "... not bounced")
os.chmod(late_dir, 0o777)
h.postfix("postqueue", "-f")
t.ok(status_of("rua@example.net", "sent"),
     "the store back: delivered on the retry", h.maillog())
t.like(outbound(late, "ab.id.au"), "40.93.199.22",
       "the deferred report is in the store")
h.finish()
t.done()
