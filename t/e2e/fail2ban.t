#!/usr/bin/python3
# The shipped fail2ban filter (contrib/fail2ban/authfilter.conf) bans the
# client of a real reject and never the client of an accepted message
# whose MAIL FROM says action=reject (issue 18: one customer of a shared
# provider could get the provider's address banned).
#
# The real daemon (policy_mode = enforce) gets, through the milter
# protocol, an accepted message from 192.0.2.10 with MAIL FROM
# <"x action=reject"@good.example> (SPF and DMARC pass), and a message
# from 192.0.2.66 (reverse name "mx[192.0.2.99]") that fails DMARC
# p=reject.  Its log, in log_format =
# syslog and json, is read by Debian's fail2ban-regex with the filter as
# shipped (beside the installed fail2ban's common.conf, as in
# /etc/fail2ban/filter.d).
#
# How the lines are made: the harness runs authfilter -f, which writes
# "2026-12-02 13:00:00 authfilter[PID]: info: RECORD" (key=value) or the
# bare JSON object to its log file.  Each record is taken from there and
# written again as rsyslog writes it to /var/log/mail.log: Debian 12's
# default "2026-12-02T13:00:00.000000+00:00 mx authfilter[PID]: RECORD"
# and the traditional "Dec  2 13:00:00 mx authfilter[PID]: RECORD" (the
# shape of journalctl's short output too).  The -f file itself is read as
# well, as it stands.
import configparser
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (SRCDIR, Harness, as_syslog, fail2ban_regex,  # noqa: E402
                     log_records, wait_for)
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

JAIL = os.path.join(SRCDIR, "contrib", "fail2ban", "jail.d", "authfilter.conf")
INJECTED = '<"x action=reject"@good.example>'
GOOD_IP, BAD_IP = "192.0.2.10", "192.0.2.66"

t = Tap()
h = Harness(t)
h.start_dns([
    'good.example. 300 IN TXT "v=spf1 ip4:%s -all"' % GOOD_IP,
    '_dmarc.good.example. 300 IN TXT "v=DMARC1; p=reject"',
    'bad.example. 300 IN TXT "v=spf1 -all"',
    '_dmarc.bad.example. 300 IN TXT "v=DMARC1; p=reject"',
])


def send(port, host, ip, sender, from_domain):
    m = Milter("127.0.0.1", port)
    try:
        m.connect(hostname=host, ip=ip)
        m.helo(host)
        code, _ = m.message([("From", " <a@%s>" % from_domain),
                             ("Subject", " f2b")], sender=sender)
    finally:
        m.quit()
    return code


def records(fmt):
    """The accepted and the rejected message's log records, the daemon's
    pid, and its -f log file."""
    af = h.start_authfilter({"policy_mode": "enforce", "log_format": fmt},
                            name="af-%s" % fmt)
    t.is_(send(af.port, "mx.good.example", GOOD_IP, INJECTED, "good.example"),
          b"c", "%s: the message with MAIL FROM %s is accepted" % (fmt, INJECTED))
    # Its reverse name holds an address of its own choosing: HOST must be
    # the client's address all the same.
    t.is_(send(af.port, "mx[192.0.2.99]", BAD_IP, "<a@bad.example>",
               "bad.example"), b"y", "%s: DMARC p=reject fails: rejected" % fmt)
    recs = wait_for(lambda: len(log_records(af)) == 2 and log_records(af),
                    timeout=20) or []
    h.stop_authfilter(af)
    return recs, af.proc.pid, af.log


def f2b(lines, name):
    got = fail2ban_regex(h.tmp, lines, name)
    if got is None:
        t.diag("fail2ban-regex failed on %s" % name)
    return got


for fmt in ("syslog", "json"):
    recs, pid, flog = records(fmt)
    injected = [r for r in recs if "x action=reject" in r.replace('\\"', '"')]
    t.is_(len(injected), 1, "%s: the accepted message's record holds the text "
          "action=reject (in MAIL FROM)" % fmt)
    t.ok(bool(injected) and re.search(r'(^|[ ,{])"?action"?[=:]"?accept',
                                      injected[0]) is not None,
         "%s: and its action is accept" % fmt)
    for shape, iso in (("rsyslog (Debian 12, RFC 3339 time)", True),
                       ("rsyslog traditional / journalctl", False)):
        t.is_(f2b(as_syslog(injected, pid, iso=iso), "inj-%s.log" % fmt), [],
              "%s, %s: the accepted message's line does not match" % (fmt, shape))
        t.is_(f2b(as_syslog(recs, pid, iso=iso), "all-%s.log" % fmt), [BAD_IP],
              "%s, %s: one match, the real reject, HOST %s" % (fmt, shape, BAD_IP))
    if fmt == "syslog":
        t.is_(f2b(open(flog).read().splitlines(), "f.log"), [BAD_IP],
              "syslog, authfilter -f's own file: only the real reject")
    # Another program's line with the same text after its tag: not ours.
    t.is_(f2b(as_syslog(recs, pid, tag="postfix/smtpd"), "other-%s.log" % fmt),
          [], "%s: the same records under another program's tag do not match"
          % fmt)

jail = configparser.ConfigParser(interpolation=None)
jail.read(JAIL)
t.is_(jail.get("authfilter", "port", fallback=None),
      "smtp,submission,submissions", "the jail bans the mail ports")
h.finish()
t.done()
