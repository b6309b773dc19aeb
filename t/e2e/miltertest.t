#!/usr/bin/python3
# Conformance with an independent MTA side: OpenDKIM's miltertest
# (Debian package miltertest) drives authfilter with Lua scripts.  Its
# milter client is its own code (not libmilter's, not ours), with its own
# negotiation defaults and its own reading of every reply.
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)

kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": "nobody", "key_dir": kd}, "keys.conf")
rc, out, err = h.keys(kconf, "new", "example.org", "--selector", "mt1")
t.is_(rc, 0, "a key for example.org")
rc, out, err = h.keys(kconf, "activate", "example.org", "mt1", "--force")
t.is_(rc, 0, "activated (no DNS needed to sign)")
af = h.start_authfilter({"key_dir": kd, "max_headers": "50"})
sock = "inet:%d@127.0.0.1" % af.port

# Lua shared by the scripts: fail() makes miltertest exit non-zero (the
# Debian build prints no error text, so the message is echoed first).
PRELUDE = """
function fail(msg) mt.echo("FAIL: " .. msg) error(msg) end
function check(cond, msg) if not cond then fail(msg) end end
conn = mt.connect("%s")
check(conn ~= nil, "connect")
""" % sock


def miltertest(name, body):
    path = os.path.join(h.tmp, name + ".lua")
    with open(path, "w") as f:
        f.write(PRELUDE + body)
    r = subprocess.run(["miltertest", "-s", path], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout + r.stderr


# Inbound: a forged Authentication-Results with our authserv-id goes,
# ours comes in at the top; the verdict is continue.
rc, out = miltertest("inbound", """
check(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate")
check(mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", "smtpd") == nil, "macro")
check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil, "conninfo")
check(mt.helo(conn, "client.example") == nil, "helo")
check(mt.macro(conn, SMFIC_MAIL, "i", "QID1") == nil, "mail macro")
check(mt.mailfrom(conn, "<a@example.net>") == nil, "mailfrom")
check(mt.rcptto(conn, "<b@example.org>") == nil, "rcptto")
check(mt.header(conn, "From", " a@example.net") == nil, "header")
check(mt.header(conn, "Authentication-Results", " mx.test; dkim=pass") == nil, "header")
check(mt.header(conn, "Subject", " hello") == nil, "header")
check(mt.eoh(conn) == nil, "eoh")
check(mt.bodystring(conn, "hello\\r\\n") == nil, "body")
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "continue")
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"), "forged AR deleted")
check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"), "AR inserted")
ar = mt.getheader(conn, "Authentication-Results", 0)
check(ar ~= nil and string.find(ar, "mx.test;", 1, true) ~= nil, "AR value: " .. tostring(ar))
check(string.find(ar, "spf=none smtp.mailfrom=example.net", 1, true) ~= nil, "SPF: " .. ar)
mt.echo("AR=" .. ar)
mt.disconnect(conn)
""")
t.ok(rc == 0, "miltertest: inbound message, forged AR out, ours in", out)
t.ok(re.search(r"AR= ?mx\.test;", out), "miltertest reads our AR value", out)

# Outbound (client 127.0.0.1 is internal): signed, two messages on one
# connection with an abort between.
rc, out = miltertest("outbound", """
check(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate")
check(mt.conninfo(conn, "localhost", "127.0.0.1") == nil, "conninfo")
check(mt.helo(conn, "localhost") == nil, "helo")
for i = 1, 2 do
  check(mt.mailfrom(conn, "<a@example.org>") == nil, "mailfrom")
  check(mt.rcptto(conn, "<b@example.net>") == nil, "rcptto")
  check(mt.header(conn, "From", " a@example.org") == nil, "header")
  check(mt.header(conn, "Subject", " message " .. i) == nil, "header")
  check(mt.eoh(conn) == nil, "eoh")
  check(mt.bodystring(conn, "signed body\\r\\n") == nil, "body")
  check(mt.eom(conn) == nil, "eom")
  check(mt.getreply(conn) == SMFIR_CONTINUE, "continue")
  check(mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "signed")
  sig = mt.getheader(conn, "DKIM-Signature", 0)
  check(string.find(sig, "d=example.org", 1, true) and string.find(sig, "s=mt1", 1, true),
        "signature " .. tostring(sig))
  check(not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"), "no AR on outbound")
  check(mt.abort(conn) == nil, "abort")
end
mt.disconnect(conn)
""")
t.ok(rc == 0, "miltertest: outbound messages signed (d=example.org s=mt1)", out)

# A verdict at a no-reply stage comes with end of message: 51 headers
# pass max_headers (50).
rc, out = miltertest("limit", """
check(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate")
check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil, "conninfo")
check(mt.mailfrom(conn, "<a@example.net>") == nil, "mailfrom")
check(mt.rcptto(conn, "<b@example.org>") == nil, "rcptto")
for i = 1, 51 do
  check(mt.header(conn, "X-H", " " .. i) == nil, "header " .. i)
end
check(mt.eoh(conn) == nil, "eoh")
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "reply code")
check(not mt.eom_check(conn, MT_HDRINSERT), "nothing added")
mt.disconnect(conn)
""")
# (miltertest keeps no final reply text for MT_SMTPREPLY: the log says.)
t.ok(rc == 0, "miltertest: 51 headers -> a reply code at end of message", out)
t.like(af.log_text(), "too_many_headers",
       "miltertest: the log names the reason")
t.like(af.log_text(), "Message has more than 50 header fields",
       "miltertest: the 552 5.3.4 of max_headers")

# What authfilter negotiates, as miltertest reads it.
rc, out = miltertest("negotiate", """
check(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate")
check(mt.test_action(conn, SMFIF_ADDHDRS), "ADDHDRS")
check(mt.test_action(conn, SMFIF_CHGHDRS), "CHGHDRS")
check(mt.test_action(conn, SMFIF_QUARANTINE), "QUARANTINE")
check(not mt.test_action(conn, SMFIF_CHGBODY), "no CHGBODY")
check(mt.test_option(conn, SMFIP_HDR_LEADSPC), "HDR_LEADSPC")
check(mt.test_option(conn, SMFIP_NR_HDR), "NR_HDR")
check(not mt.test_option(conn, SMFIP_NOHDRS), "headers wanted")
mt.disconnect(conn)
""")
t.ok(rc == 0, "miltertest: actions and protocol flags negotiated", out)

t.ok(af.alive(), "daemon alive after the miltertest sessions")
log = af.log_text()
t.is_(len(re.findall(r'"action":"accept"', log)), 3, "one log line per accepted message (3)")
t.is_(len(re.findall(r'"action":"reject"', log)), 1, "and one for the rejected one")
t.ok("milter connection from" not in log, "no connection ended abnormally",
     "\n".join(l for l in log.splitlines() if "milter connection" in l))
h.finish()
t.done()
