#!/usr/bin/python3
# Bad input straight through the milter protocol (../shared/bad-input.md
# M1-M7): malformed and huge headers, NUL bytes, 10,000 headers,
# disconnects at every step, many messages per connection, missing
# macros, 8-bit values.  The daemon must answer or end the session
# cleanly, keep serving others, and give its memory back.
import json
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, SANITIZER, rss_kib  # noqa: E402
from milterclient import Milter, MilterError, CONTINUE, REJECT, REPLYCODE  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
af = h.start_authfilter({"max_headers": "1000", "max_header_bytes": "256k"})


def conn():
    m = Milter("127.0.0.1", af.port)
    m.connect(macros={"{daemon_name}": "smtpd"})
    m.helo()
    return m


def ar_value(m):
    ins = [v for _, n, v in m.inserted_headers() if n == "Authentication-Results"]
    return ins[0].strip() if len(ins) == 1 else ins


def good_message(tag):
    m = conn()
    code, _ = m.message([("From", " a@example.org"), ("Subject", " " + tag)])
    value = ar_value(m)
    m.quit()
    return code, value


code, value = good_message("baseline")
t.is_((code, value), (b"c", "mx.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"), "baseline message gets our header")

# The session that crashed libmilter 8.17.1.9 (issue 15): a macro name
# without a value.  That connection ends with a log line; the daemon
# lives and serves the next session.
crash = bytes.fromhex(
    "0000000d4f00000006000001ff000000000000001044437b6461656d6f6e5f6e616d657d"
    "000000001a43636c69656e742e74657374003400193139322e302e322e31000000000d48"
    "636c69656e742e7465737400000000114d3c61406578616d706c652e6f72673e00")
s = socket.create_connection(("127.0.0.1", af.port), timeout=20)
s.sendall(crash)
got = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
s.close()
t.is_(got[4:5], b"O", "libmilter crash session: negotiation answered, then the "
      "connection closed")
t.like(af.log_text(), "MACRO (D): a macro name without a value",
       "libmilter crash session: the log says what was wrong")
code, value = good_message("after-crash-session")
t.ok(af.alive() and code == b"c", "libmilter crash session: daemon alive, next "
     "session served")

# M1: malformed header names are stored, not fatal.
m = conn()
code, _ = m.message([("Bad Name", " spaces"), ("Ctl\x01\x7f", " control chars"),
                     (":", " colon"), ("X-Empty", ""), ("From", " a@example.org")])
t.is_(code, b"c", "M1: spaced, control-char and odd header names: continue")
t.is_(ar_value(m), "mx.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org", "M1: AR still inserted")
m.quit()

# M1: an empty header name is a protocol error for libmilter itself: it
# ends that session (the MTA then applies milter_default_action).
m = conn()
m.mail()
m.rcpt()
try:
    m.header("", " empty name")
    closed = False
except (MilterError, OSError):
    closed = True
m.close()
t.ok(closed, "M1: empty header name ends the session (libmilter)")
code, value = good_message("after-empty-name")
t.is_((code, value), (b"c", "mx.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"), "M1: daemon serves after it")

# M2: NUL bytes.  libmilter ends a header value at the first NUL; the body
# is bytes.  A forged AR hidden behind a NUL must still go.
m = conn()
code, _ = m.message([("Authentication-Results", b" mx.test; spf=pass\0 x"),
                     ("Subject", b" a\0b")], body=b"body\0with\0nuls\r\n")
t.is_(code, b"c", "M2: NUL bytes in header values and body: continue")
t.is_(m.changed_headers(), [(1, "Authentication-Results", "")],
      "M2: forged AR before a NUL is still removed")
m.quit()

# M3: 10,000 headers -> 552 5.3.4 at max_headers, session stays usable.
# An MTA that offers "no reply" stages (SMFIP_NR_*, as Postfix does) gets
# no answer per header: the verdict comes at end of message.
m = Milter("127.0.0.1", af.port, noreply=True)
m.connect(macros={"{daemon_name}": "smtpd"})
m.helo()
m.mail()
m.rcpt()
for i in range(10000):
    m.header("X-Many", " %d" % i)
m.eoh()
m.body(b"x\r\n")
code, text = m.eom()
t.ok(code == REPLYCODE and "552 5.3.4" in (text or "") and
     "more than 1000 header fields" in (text or "") and not m.inserted_headers(),
     "M3: 10,000 headers, no-reply stages: 552 5.3.4 at end of message, nothing added",
     repr((code, text)))
code, _ = m.message([("From", " a@example.org")])
t.is_((code, ar_value(m)), (b"c", "mx.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"),
      "M3: next message on the same connection works")
m.quit()

# An MTA that waits for a reply to each header hears the verdict at the
# header that passed the limit, and again at end of message.
m = conn()
m.mail()
m.rcpt()
codes = [m.header("X-Many", " %d" % i)[0] for i in range(1002)]
m.eoh()
code, text = m.eom()
t.is_((codes[:1000] == [CONTINUE] * 1000, codes[1000:]), (True, [REPLYCODE, REPLYCODE]),
      "M3: replying header stages: continue up to max_headers, then 552")
t.ok(code == REPLYCODE and "552 5.3.4" in (text or ""),
     "M3: and 552 5.3.4 at end of message", repr((code, text)))
m.quit()

# M3: one header larger than max_header_bytes (256k here).
m = conn()
m.mail()
m.rcpt()
m.header("X-Big", " " + "a" * 300000)
m.eoh()
code, text = m.eom()
t.ok(code == REPLYCODE and "552 5.3.4" in (text or ""),
     "M3: one 300 KB header is refused with 552 5.3.4", repr((code, text)))
m.quit()

# M3: a header over 1 MiB is more than one milter command may carry
# (authfilter raises libmilter's cap from 64 KiB to 1 MiB): the session
# ends, the daemon lives.
m = conn()
m.mail()
m.rcpt()
try:
    code, text = m.header("X-Huge", " " + "b" * ((1 << 20) + 10))
    ended = code in (REPLYCODE, REJECT, b"t")
except (MilterError, OSError):
    ended = True
t.ok(ended, "M3: 1 MiB header: refused or session closed")
m.close()
code, value = good_message("after-huge")
t.is_((code, value), (b"c", "mx.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"), "M3: daemon serves after 1 MiB header")

# M3: a 100 MiB body streams through in 64 KiB chunks, nothing stored.
m = conn()
m.mail()
m.rcpt()
m.header("From", " a@example.org")
m.eoh()
chunk = b"x" * 65535
rss_before = rss_kib(af.pid)
for _ in range((100 << 20) // len(chunk)):
    code, _ = m.body(chunk)
    if code != CONTINUE:
        break
code, _ = m.eom()
rss_after = rss_kib(af.pid)
t.is_(code, b"c", "M3: 100 MiB body accepted")
if SANITIZER:
    t.skip("M3: 100 MiB body streamed, not stored", "RSS under " + SANITIZER)
else:
    t.ok(rss_after - rss_before < 8 * 1024,
         "M3: 100 MiB body did not grow RSS by 8 MiB (streamed, not stored)",
         "RSS %d -> %d KiB" % (rss_before, rss_after))
m.quit()

# M4: disconnect at every step; other sessions unaffected.
steps = ["connect", "helo", "mail", "rcpt", "header", "eoh", "body", "eom-sent"]
for stop in steps:
    m = Milter("127.0.0.1", af.port)
    try:
        m.connect()
        if stop != "connect":
            m.helo()
        if stop not in ("connect", "helo"):
            m.mail()
        if stop in ("rcpt", "header", "eoh", "body", "eom-sent"):
            m.rcpt()
        if stop in ("header", "eoh", "body", "eom-sent"):
            m.header("From", " a@example.org")
        if stop in ("eoh", "body", "eom-sent"):
            m.eoh()
        if stop in ("body", "eom-sent"):
            m.body(b"partial body\r\n")
        if stop == "eom-sent":
            m.send_raw(b"\0\0\0\x01E")      # EOM, then vanish before the reply
        if stop == "header":
            m.send_raw(b"\0\0\0\x40L")       # half a header command
    finally:
        m.close()
code, value = good_message("after-disconnects")
t.is_((code, value), (b"c", "mx.test;\n\tspf=none smtp.mailfrom=example.org;\n\tdkim=none;\n\tdmarc=none (no DMARC record) header.from=example.org"), "M4: disconnects at %d steps, "
      "daemon still serves" % len(steps))

# M4: abort after EOM, then another message on the same connection.
m = conn()
m.message([("From", " a@example.org")])
m.abort()
code, _ = m.message([("From", " b@example.org")])
t.is_(code, b"c", "M4: abort after EOM, next message fine")
m.quit()

# M5: many messages on one connection with aborts (RSET) between; a
# forged AR in one message does not leak into the next.
m = conn()
results = []
for i in range(50):
    hdrs = [("From", " a@example.org")]
    if i % 2 == 0:
        hdrs.append(("Authentication-Results", " mx.test; dkim=pass"))
    code, _ = m.message(hdrs)
    results.append((code, len(m.changed_headers())))
    m.abort()
t.is_(results, [(b"c", 1 if i % 2 == 0 else 0) for i in range(50)],
      "M5: 50 messages on one connection, per-message state reset")
m.quit()

# M6: no macros at all (no {daemon_name}, no i, no {auth_authen}) and a
# client inside internal_networks (127.0.0.1): only the IP makes it outbound;
# from an outside IP it is inbound, never trusted.
m = Milter("127.0.0.1", af.port)
m.connect(ip="198.51.100.7")
m.helo()
code, _ = m.message([("From", " a@example.org")])
m.quit()
lines = [json.loads(l) for l in af.log_text().splitlines() if l.startswith("{")]
last = [l for l in lines if l.get("action")][-1]
t.is_((code, last.get("direction"), last.get("queue_id")), (b"c", "inbound", "NOQUEUE"),
      "M6: missing macros: inbound, queue id NOQUEUE")

# M7: 8-bit, non-UTF-8 and encoded-word values pass through; logs stay
# one valid JSON object per line.
m = conn()
code, _ = m.message([("From", b" \"J\xe9r\xf4me\" <a@example.org>"),
                     ("Subject", b" =?utf-8?q?caf=C3=A9?= \xff\xfe\r\n\tinjected: yes")],
                    sender="<x\n\"injected\":1@example.org>")
t.is_(code, b"c", "M7: 8-bit values accepted")
m.quit()
bad = []
for line in af.log_text().splitlines():
    try:
        json.loads(line)
    except ValueError:
        bad.append(line)
t.is_(bad, [], "M7: every log line is valid JSON (no injection)")

# Concurrency and memory: 8 threads x 100 messages, then RSS is flat.
def worker(n, errors):
    try:
        m = conn()
        for i in range(n):
            code, _ = m.message([("From", " a@example.org"), ("Subject", " %d" % i)])
            if code != b"c":
                errors.append(code)
        m.quit()
    except Exception as e:     # noqa: BLE001 -- any failure is a test failure
        errors.append(repr(e))


def batch():
    errors = []
    ths = [threading.Thread(target=worker, args=(100, errors)) for _ in range(8)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return errors


t.is_(batch(), [], "800 messages over 8 concurrent sessions, all continue")
rss1 = rss_kib(af.pid)
for _ in range(3):
    batch()
rss2 = rss_kib(af.pid)
if SANITIZER:
    t.skip("RSS flat across 2,400 more messages", "RSS under " + SANITIZER)
else:
    t.ok(rss2 - rss1 < 4 * 1024, "RSS flat across 2,400 more messages (< 4 MiB growth)",
         "RSS %d -> %d KiB" % (rss1, rss2))
t.ok(af.alive(), "daemon alive after all bad input")
t.is_(h.stop_authfilter(af), 0, "daemon exits 0 on SIGTERM")
h.finish()
t.done()
