#!/usr/bin/python3
# The policy engine through a real Postfix (issue 7): enforce rejects a
# DMARC p=reject failure with 550 at the client (nothing delivered),
# quarantines p=quarantine on Postfix's hold queue, tempfails a DMARC DNS
# failure when temperror_action = tempfail, tags an SPF fail without DMARC;
# monitor delivers and logs would_action.  The fail2ban filter in contrib/
# matches the reject line's client address.
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (Harness, as_syslog, fail2ban_regex,  # noqa: E402
                     log_records, wait_for)
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)


def txt(name, value):
    return '%s. 300 IN TXT "%s"' % (name, value)


h.start_dns([
    txt("rej.example", "v=spf1 -all"),
    txt("_dmarc.rej.example", "v=DMARC1; p=reject"),
    txt("quar.example", "v=spf1 -all"),
    txt("_dmarc.quar.example", "v=DMARC1; p=quarantine"),
    txt("ok.example", "v=spf1 ip4:127.0.0.2 -all"),
    txt("_dmarc.ok.example", "v=DMARC1; p=reject"),
    txt("spfonly.example", "v=spf1 -all"),
    txt("temp.example", "v=spf1 -all"),
    txt("partner.example", "v=spf1 -all"),
    txt("_dmarc.partner.example", "v=DMARC1; p=reject"),
    txt("friend.example", "v=spf1 -all"),
    txt("_dmarc.friend.example", "v=DMARC1; p=reject"),
    txt("old.example", "v=spf1 -all"),
    txt("_dmarc.old.example", "v=DMARC1; p=reject"),
], ['local-zone: "_dmarc.temp.example." refuse'])


def message(dom, mark):
    return ("From: <a@%s>\nTo: <r@mx.example>\nSubject: %s\n\nbody %s\n"
            % (dom, mark, mark))


def log_lines(d):
    out = []
    for line in d.log_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def line_for(d, mark_sender):
    for l in reversed(log_lines(d)):
        if l.get("mail_from") == "<%s>" % mark_sender:
            return l
    return {}


def in_sink(mark):
    return any(mark in m for m in h.delivered(settle=0))


def delivery_logged(qid):
    """Postfix logged a delivery attempt of queue id qid."""
    return re.search(r"%s: to=<" % qid, h.maillog()) is not None


# ---- enforce ----
overrides = os.path.join(h.tmp, "overrides")
with open(overrides, "w") as f:
    f.write("# domain  what  until  why\n"
            "friend.example quarantine until=2999-12-31 DMARC being fixed\n"
            "old.example accept until=2020-01-01 was being fixed\n")
os.chmod(overrides, 0o644)
af = h.start_authfilter({"policy_mode": "enforce", "spf_fail_action": "tag",
                         "temperror_action": "tempfail",
                         "allow_from_domains": "partner.example",
                         "policy_overrides": overrides,
                         "quarantine_tag": "yes"})
sink = h.start_sink()
smtp = h.start_postfix(af.port, sink)

code, out = h.send(smtp, message("rej.example", "pol-rej"), sender="a@rej.example")
t.is_(code, 550, "enforce, DMARC p=reject fail: 550 at the client")
t.like(out, "DMARC policy of rej.example says reject",
       "the reply names DMARC and the From domain")
# Postfix's word on the message: rejected in cleanup, so never queued.
rej = wait_for(lambda: re.search(r"([0-9A-F]+): milter-reject: END-OF-MESSAGE "
                                 r".*from=<a@rej\.example>", h.maillog()),
               timeout=20)
t.ok(rej and not in_sink("pol-rej") and not delivery_logged(rej.group(1)) and
     rej.group(1) not in h.queue_listing(), "nothing reached the sink: Postfix "
     "logged the reject and holds no copy", h.maillog()[-1500:])
rl = line_for(af, "a@rej.example")
t.is_((rl.get("action"), rl.get("reason")), ("reject", "dmarc_reject"),
      "log line: action=reject reason=dmarc_reject")

# fail2ban: the shipped filter finds the client address of the reject
# line (as rsyslog writes it) and no other line (t/e2e/fail2ban.t says
# more).
t.is_(fail2ban_regex(h.tmp, as_syslog(log_records(af), af.proc.pid)),
      ["127.0.0.2"], "contrib/fail2ban/authfilter.conf matches the reject "
      "line's client, and no other line")

code, _ = h.send(smtp, message("quar.example", "pol-quar"), sender="a@quar.example")
t.is_(code, 250, "enforce, p=quarantine fail: accepted")
held = h.queue_listing()
t.ok(re.search(r"^[0-9A-F]+!", held, re.M) is not None,
     "the message waits on Postfix's hold queue (postqueue -p shows !)", held)
qid = re.search(r"^([0-9A-F]+)!", held, re.M)
t.ok(qid and not in_sink("pol-quar") and not delivery_logged(qid.group(1)),
     "and is not delivered")
shown = h.postfix("postcat", "-hq", qid.group(1)).stdout if qid else ""
t.like(shown,
       "X-Authfilter-Warning: DMARC policy of quar.example says quarantine",
       "quarantine_tag = yes: the held message carries the reason")

code, _ = h.send(smtp, message("temp.example", "pol-temp"), sender="a@temp.example")
t.is_(code, 451, "DMARC lookup REFUSED, temperror_action = tempfail: 451")

code, _ = h.send(smtp, message("spfonly.example", "pol-tag"),
                 sender="a@spfonly.example")
got = h.wait_delivered("pol-tag") or ""
t.ok(code == 250 and re.search(r"^X-Authfilter-Warning: SPF fail for "
                                r"spfonly\.example", got, re.M) is not None,
     "SPF fail, no DMARC record, spf_fail_action = tag: delivered with a "
     "warning header", got[:400])

code, _ = h.send(smtp, message("ok.example", "pol-ok"), sender="a@ok.example")
t.ok(code == 250 and h.wait_delivered("pol-ok") is not None,
     "DMARC pass: delivered")

code, _ = h.send(smtp, message("partner.example", "pol-partner"),
                 sender="a@partner.example")
t.ok(code == 250 and h.wait_delivered("pol-partner") is not None,
     "allow_from_domains: p=reject failure delivered")

code, _ = h.send(smtp, message("friend.example", "pol-friend"),
                 sender="a@friend.example")
fl = line_for(af, "a@friend.example")
t.ok(code == 250 and fl.get("action") == "quarantine" and
     fl.get("override") == "friend.example quarantine until=2999-12-31",
     "override quarantine beats the published p=reject, logged", repr(fl))
code, _ = h.send(smtp, message("old.example", "pol-old"), sender="a@old.example")
t.is_(code, 550, "an expired override no longer applies: p=reject enforced")
chk = __import__("subprocess").run(
    [__import__("harness").AUTHFILTER, "-t", "-c", af.conf],
    capture_output=True, text=True)
t.ok(chk.returncode == 0 and
     "%s:3: override for old.example expired on 2020-01-01" % overrides
     in chk.stdout and "friend.example" not in chk.stdout,
     "authfilter -t lists the expired override, not the live one",
     chk.stdout + chk.stderr)

code, _ = h.send(smtp, "To: <r@mx.example>\nSubject: pol-nofrom\n\nno from\n",
                 sender="a@ok.example")
t.is_(code, 550, "no From header: 550 under enforce (bad-input F1)")
h.stop_all()

# ---- monitor ----
h2 = Harness(t)
h2.start_dns(h.dns_records, ['local-zone: "_dmarc.temp.example." refuse'])
af = h2.start_authfilter({"policy_mode": "monitor", "temperror_action": "tempfail"})
sink = h2.start_sink()
smtp = h2.start_postfix(af.port, sink)
code, _ = h2.send(smtp, message("rej.example", "mon-rej"), sender="a@rej.example")
t.ok(code == 250 and h2.wait_delivered("mon-rej") is not None,
     "monitor, p=reject fail: delivered")
l = line_for(af, "a@rej.example")
t.is_((l.get("action"), l.get("would_action"), l.get("reason")),
      ("accept", "reject", "dmarc_reject"),
      "monitor log line: action=accept would_action=reject")
code, _ = h2.send(smtp, message("temp.example", "mon-temp"), sender="a@temp.example")
t.is_(code, 250, "monitor, DMARC temperror with tempfail setting: accepted")
h2.stop_all()

# The filter's key=value regex on a log_format = syslog reject line.
from harness import milter_ar  # noqa: E402
h3 = Harness(t)
h3.start_dns(h.dns_records)
af = h3.start_authfilter({"policy_mode": "enforce", "log_format": "syslog"})
res = milter_ar(af.port, "192.0.2.9", "mx.client.example", "a@rej.example",
                headers=[("From", " <a@rej.example>"), ("Subject", " x")])
hosts = fail2ban_regex(h3.tmp, as_syslog(log_records(af), af.proc.pid))
t.ok(res[0].startswith("REPLY") and hosts == ["192.0.2.9"],
     "syslog format: the filter matches the reject line's client only",
     repr((res, hosts, af.log_text()[-600:])))
h3.finish()
h2.finish()
h.finish()
t.done()
