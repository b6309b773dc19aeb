#!/usr/bin/python3
# Mail that comes back after our inbound check (a content filter that
# re-injects through sendmail, a Sieve redirect) arrives from
# internal_networks and so looks outbound.  It must not be signed with
# our key, or a spoof of our own domain that the inbound check failed
# (accepted in monitor mode or under p=none) leaves the second pass with
# a valid signature of ours; and the inbound verdict must stay.  A real
# Postfix with non_smtpd_milters = smtpd_milters (as authfilter(8)
# advises): pass 1 through smtpd from 127.0.0.2 (the Internet here),
# pass 2 the delivered message handed to Postfix's sendmail again, as
# `spamc -e sendmail -oi -f SENDER RCPT` in a pipe filter does.
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import TEST_USER, Harness  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": TEST_USER, "key_dir": kd}, "keys.conf")
records = h.active_keys(kconf, [("example.org", "rsa", "s1")], checked=False)
h.start_dns(records + [
    'example.org. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
    '_dmarc.example.org. 300 IN TXT "v=DMARC1; p=quarantine"'])
af = h.start_authfilter({"key_dir": kd})
sink = h.start_sink()
smtp = h.start_postfix(milter_port=af.port, sink_port=sink, extra={
    "non_smtpd_milters": "inet:127.0.0.1:%d" % af.port})


def sendmail(msg, *args):
    r = subprocess.run(["/usr/sbin/sendmail", "-C", h.postfix_dir] + list(args),
                       input=msg.encode(), capture_output=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def headers(text, name):
    out, cur = [], None
    for line in text.split("\n\n", 1)[0].splitlines():
        if line[:1] in (" ", "\t") and cur is not None:
            out[-1] += "\n" + line
        elif line.lower().startswith(name.lower() + ":"):
            out.append(line)
            cur = True
        else:
            cur = None
    return out


def last_record():
    """The last per-message log record (the message just delivered)."""
    recs = [json.loads(ln) for ln in af.log_text().splitlines()
            if ln.startswith("{") and '"queue_id"' in ln]
    return recs[-1] if recs else {}


# ---- pass 1: a spoof of example.org from outside ----
spoof = ("From: CEO <ceo@example.org>\r\nTo: <staff@example.net>\r\n"
         "Subject: spoof-1\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\n"
         "Message-ID: <x1@evil.example>\r\n\r\nwire money\r\n")
h.send(smtp, spoof, sender="ceo@example.org")
m1 = h.wait_delivered("Subject: spoof-1")
ar1 = headers(m1 or "", "Authentication-Results")
t.ok(len(ar1) == 1 and "dmarc=fail" in ar1[0],
     "pass 1: checked inbound, dmarc=fail, accepted (monitor)", m1)
t.is_(headers(m1 or "", "DKIM-Signature"), [], "pass 1: not signed")

# ---- pass 2: the same message re-injected through sendmail ----
again = (m1 or "").replace("Subject: spoof-1", "Subject: spoof-2")
rc, out = sendmail(again, "-oi", "-f", "ceo@example.org", "staff@example.net")
t.ok(rc == 0, "pass 2: sendmail took it", out)
m2 = h.wait_delivered("Subject: spoof-2")
t.is_(headers(m2 or "", "DKIM-Signature"), [],
      "pass 2: re-injected mail is not signed with our key (no laundered spoof)")
t.is_(headers(m2 or "", "Authentication-Results"), ar1,
      "pass 2: the inbound verdict is kept, as it was")
rec = last_record()
t.ok(rec.get("reason") == "reinjected" and rec.get("direction") == "outbound",
     "pass 2: logged as reinjected", json.dumps(rec))

# ---- a local user's own mail through sendmail is still signed ----
own = ("From: Alice <alice@example.org>\r\nTo: <bob@example.net>\r\n"
       "Subject: own-1\r\nDate: Wed, 02 Dec 2026 10:05:00 +0000\r\n"
       "Message-ID: <a1@example.org>\r\n\r\nhello\r\n")
rc, out = sendmail(own, "-oi", "-f", "alice@example.org", "bob@example.net")
m3 = h.wait_delivered("Subject: own-1")
sigs = headers(m3 or "", "DKIM-Signature")
t.ok(len(sigs) == 1 and "d=example.org" in sigs[0],
     "mail submitted locally without our verdict: signed", m3)
t.is_(h.dkimpy_verify(m3 or ""), [True], "and dkimpy verifies it")
h.finish()
t.done()
