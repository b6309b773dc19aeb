#!/usr/bin/python3
# Mail is never lost (issue 20), shown with a real Postfix: a client sends
# 240 messages from the internal network (signed by authfilter) while
# authfilter is killed with SIGKILL twice and restarted (as systemd would),
# stopped once with SIGTERM (it drains) and restarted, and sent a storm of
# SIGHUPs.  Postfix has milter_default_action = tempfail.  Every message
# the client saw accepted (250) is delivered exactly once, signed, and the
# signature verifies; every other one got a 4xx and is sent again by the
# client until accepted.  Zero lost, zero delivered unsigned.
import os
import re
import signal
import smtplib
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, free_port, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": "nobody", "key_dir": kd}, "keys.conf")
rc, out, err = h.keys(kconf, "new", "example.org")
m = re.search(r'^(\S+) IN TXT \( (.*) \)$', out, re.M)
sel = re.search(r"^created \S+ (\S+) ", out, re.M).group(1)
h.start_dns(["%s 300 IN TXT %s" % (m.group(1), m.group(2))])
h.keys(kconf, "activate", "example.org", sel, "--force")

port = free_port()
settings = {"key_dir": kd, "milter_socket": "inet:%d@127.0.0.1" % port}
runs = [h.start_authfilter(settings, name="af-0")]
sink = h.start_sink()
smtp = h.start_postfix(milter_port=port, sink_port=sink)

N = 240
accepted, deferred = set(), []


def send(i):
    msg = ("From: <alice@example.org>\r\nTo: <bob@example.net>\r\n"
           "Subject: no-lost-mail %d\r\nMessage-ID: <nlm-%d@example.org>\r\n"
           "\r\nMessage number %d.\r\n" % (i, i, i))
    try:
        with smtplib.SMTP("127.0.0.1", smtp, source_address=("127.0.0.1", 0),
                          timeout=60) as s:
            s.sendmail("alice@example.org", ["bob@example.net"], msg)
        return 250
    except smtplib.SMTPResponseException as e:
        return e.smtp_code
    except smtplib.SMTPRecipientsRefused as e:
        return list(e.recipients.values())[0][0]
    except (smtplib.SMTPException, OSError):
        return None


def restart(how, n):
    af = runs[-1]
    if how == "kill":
        af.signal(signal.SIGKILL)
        af.proc.wait(timeout=30)
    else:
        h.stop_authfilter(af)
    runs.append(h.start_authfilter(settings, name="af-%d" % n))


# Four clients send at once, so that the signals hit messages in flight.
lock = threading.Lock()
todo = list(range(N))
codes = {}


def client():
    while True:
        with lock:
            if not todo:
                return
            i = todo.pop(0)
        code = send(i)
        with lock:
            codes[code] = codes.get(code, 0) + 1
            (accepted.add(i) if code == 250 else deferred.append(i))


def done():
    with lock:
        return len(accepted) + len(deferred)


clients = [threading.Thread(target=client) for _ in range(4)]
for c in clients:
    c.start()
for at, how, n in ((60, "kill", 1), (120, "term", 2), (180, "kill", 3)):
    wait_for(lambda: done() >= at, timeout=300)
    restart(how, n)
wait_for(lambda: done() >= 200, timeout=300)
for _ in range(300):
    runs[-1].signal(signal.SIGHUP)
for c in clients:
    c.join()
t.ok(all(c == 250 or (c is not None and 400 <= c < 500) for c in codes),
     "every message got 250 or a 4xx, never a 5xx or silence", codes)

# The client sends the deferred ones again, until each is accepted.
tries = 0
while deferred and tries < 20 * N:
    i = deferred.pop(0)
    tries += 1
    if send(i) == 250:
        accepted.add(i)
    else:
        deferred.append(i)
t.is_(sorted(accepted), list(range(N)), "in the end every message was accepted")

# Postfix delivers what it accepted: wait for an empty queue and the sink.
wait_for(lambda: "Mail queue is empty" in h.queue_listing(), timeout=120)
got = {}


def all_delivered():
    got.clear()
    for text in h.delivered():
        mm = re.search(r"^Message-ID: <nlm-(\d+)@example.org>", text, re.M)
        if mm:
            got.setdefault(int(mm.group(1)), []).append(text)
    return len(got) >= N


wait_for(all_delivered, timeout=120)
t.is_(sorted(got), list(range(N)), "every accepted message was delivered")
t.is_([i for i, texts in got.items() if len(texts) != 1], [],
      "each exactly once")
unsigned = [i for i, texts in got.items()
            if not any("DKIM-Signature:" in x for x in texts)]
t.is_(unsigned, [], "none delivered unsigned")
bad = [i for i, texts in got.items() if h.dkimpy_verify(texts[0]) != [True]]
t.is_(bad, [], "every signature verifies (python3-dkim)")
t.ok(runs[-1].alive(), "the last daemon is up")
t.ok(codes.get(250, 0) < N, "the restarts did cost 4xx replies (the test "
     "exercised them)", codes)
h.stop_authfilter(runs[-1])
h.finish()
t.done()
