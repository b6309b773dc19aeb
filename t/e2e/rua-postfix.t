#!/usr/bin/python3
# DMARC aggregate reports end to end (issue 19 part 2), with each store:
# inbound mail through a real Postfix (client 127.0.0.2) is checked by
# authfilter, which records its DMARC evaluations (report_db: SQLite,
# then PostgreSQL started by this test); `authfilter-reports send` mails
# the reports through the same Postfix (its sendmail, pickup, smtp) into
# smtp-sink; the two independent readers in Debian, dmarc-cat and
# Mail::DMARC, read what arrived with the right counts; the day is not
# over, so it is not marked as sent (t/e2e/rua-send.t shows that an
# ended period is sent once); an external rua= destination gets its report only
# when it publishes the verification record (RFC 9990).
import email
import email.policy
import gzip
import os
import re
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import BUILDDIR, Harness, free_port, wait_for, txt_record as txt  # noqa: E402
from pg import Postgres, pg_bindir  # noqa: E402
from ruaread import dmarc_cat, mail_dmarc  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
REPORTS = os.path.join(BUILDDIR, "authfilter-reports")

h.start_dns([
    # pass.example: SPF passes for Postfix's client; reports to its own
    # address and to a collector that published its consent ...
    txt("pass.example", "v=spf1 ip4:127.0.0.2 -all"),
    txt("_dmarc.pass.example", "v=DMARC1; p=reject; "
        "rua=mailto:agg@pass.example,mailto:dmarc@collector.example"),
    txt("pass.example._report._dmarc.collector.example", "v=DMARC1"),
    # ... fail.example: SPF fails, p=none (delivered); its external
    # destination never agreed to receive its reports.
    txt("fail.example", "v=spf1 -all"),
    txt("_dmarc.fail.example", "v=DMARC1; p=none; "
        "rua=mailto:agg@fail.example,mailto:dmarc@nosy.example"),
])
sink = h.start_sink()


def metric(listen, name):
    with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10) as r:
        text = r.read().decode()
    m = re.search(r"^%s ([0-9.e+]+)$" % name, text, re.M)
    return float(m.group(1)) if m else 0.0


def attachment(msg):
    """(file name, XML bytes) of a report e-mail's gzip part."""
    for part in msg.walk():
        if part.get_content_type() in ("application/gzip",
                                       "application/x-gzip"):
            return part.get_filename(), gzip.decompress(part.get_payload(
                decode=True))
    return None, None


def run(store, url):
    listen = "127.0.0.1:%d" % free_port()
    af = h.start_authfilter({"report_db": url, "metrics_listen": listen,
                             "report_org_name": "MX Test",
                             "report_email": "dmarc-reports@mx.test"},
                            name="af-" + store)
    smtp = h.start_postfix(af.port, sink)
    wrapper = os.path.join(h.tmp, "sendmail-" + store)
    with open(wrapper, "w") as f:
        # Postfix's own sendmail, for this test's Postfix instance.
        f.write("#!/bin/sh\nexec /usr/sbin/sendmail -C %s \"$@\"\n" %
                h.postfix_dir)
    os.chmod(wrapper, 0o755)
    conf = open(af.conf).read() + "report_sendmail = %s\n" % wrapper
    open(af.conf, "w").write(conf)

    marks = []
    for dom, n in (("pass.example", 3), ("fail.example", 2)):
        for i in range(n):
            mark = "%s-%s-%d" % (store, dom, i)
            code, _ = h.send(smtp, "From: <a@%s>\r\nTo: <r@dest.example>\r\n"
                             "Subject: %s\r\n\r\n%s\r\n" % (dom, mark, mark),
                             sender="a@%s" % dom)
            marks.append(mark)
    t.ok(all(h.wait_delivered(m) for m in marks),
         "%s: 5 inbound messages delivered through Postfix" % store)
    t.ok(wait_for(lambda: metric(listen, "authfilter_report_rows_total") == 5,
                  30), "%s: 5 evaluations recorded" % store)

    r = subprocess.run([REPORTS, "-c", af.conf, "send", "--period", "today"],
                       capture_output=True, text=True, timeout=120)
    t.is_(r.returncode, 0, "%s: authfilter-reports send" % store)
    t.ok(len(re.findall(r"^sent ", r.stdout, re.M)) == 3,
         "%s: three reports sent (pass.example to 2, fail.example to 1)" % store,
         diag=r.stdout + r.stderr)
    t.ok(re.search(r"^skipped fail\.example .*nosy\.example", r.stdout, re.M),
         "%s: the unverified external destination is skipped" % store,
         diag=r.stdout)

    def reports():
        got = []
        for m in h.delivered():
            msg = email.message_from_string(m, policy=email.policy.compat32)
            if msg.get("X-Authfilter-Report"):
                got.append(msg)
        return got if len(got) >= len(seen) + 3 else None
    msgs = wait_for(reports, 90, 0.5) or []
    new = [m for m in msgs if m["Message-ID"] not in seen]
    t.is_(len(new), 3, "%s: three report e-mails reached smtp-sink" % store)
    rcpts = sorted(m["To"] for m in new)
    t.is_(rcpts, ["agg@fail.example", "agg@pass.example",
                  "dmarc@collector.example"],
          "%s: to each verified rua= address" % store)
    counts = {}
    for m in new:
        seen.add(m["Message-ID"])
        name, xml = attachment(m)
        path = os.path.join(h.tmp, "%s-%s" % (store, name))
        with open(path, "wb") as f:
            f.write(gzip.compress(xml))
        recs, nmsg, out = dmarc_cat(path)
        eml = path + ".eml"
        with open(eml, "w") as f:
            f.write(m.as_string())
        reps, out2 = mail_dmarc(eml)
        dom = re.search(rb"<domain>([^<]+)</domain>", xml).group(1).decode()
        counts.setdefault(dom, []).append((nmsg, reps[0][2] if reps else None,
                                           out + out2))
        rows = re.findall(r"^record (.*)$", out2, re.M)
        want = {"pass.example": ["127.0.0.2 3 none fail pass pass.example"],
                "fail.example": ["127.0.0.2 2 none fail fail fail.example"]}
        t.is_(rows, want.get(dom), "%s: Mail::DMARC reads %s's record: source, "
              "count, disposition, aligned DKIM and SPF, header_from" % (store, dom))
    for dom, want in (("pass.example", 3), ("fail.example", 2)):
        got = counts.get(dom, [])
        t.ok(got and all(c[0] == want for c in got),
             "%s: dmarc-cat reads %d messages for %s" % (store, want, dom),
             diag="\n".join(c[2] for c in got))
        t.ok(got and all(c[1] == want for c in got),
             "%s: Mail::DMARC reads %d messages for %s" % (store, want, dom),
             diag="\n".join(c[2] for c in got))

    r = subprocess.run([REPORTS, "-c", af.conf, "send", "--period", "today"],
                       capture_output=True, text=True, timeout=120)
    t.ok(r.returncode == 0 and len(re.findall(r"^sent ", r.stdout, re.M)) == 3,
         "%s: today is not over: not marked as sent, sent again" % store,
         diag=r.stdout + r.stderr)
    wait_for(reports, 90, 0.5)
    for m in h.delivered():
        msg = email.message_from_string(m, policy=email.policy.compat32)
        if msg.get("X-Authfilter-Report"):
            seen.add(msg["Message-ID"])
    h.postfix("postfix", "stop")
    h.stop_authfilter(af)


seen = set()
run("sqlite", os.path.join(h.state_dir(), "reports.db"))
if pg_bindir() is None:
    t.skip("PostgreSQL", "postgresql-15 is not installed")
else:
    pg = Postgres(h.tmp)
    try:
        pg.start()
        run("postgresql", pg.createdb("reports"))
    finally:
        pg.stop()
h.finish()
t.done()
