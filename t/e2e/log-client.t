#!/usr/bin/python3
# The log line names the client as Postfix's own log does: name[address],
# and unknown[address] for a client without a reverse name, which Postfix
# (like Sendmail) hands to milters as "[address]".
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, wait_for  # noqa: E402
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
af = h.start_authfilter()


def logged_client(hostname, ip, sender):
    m = Milter("127.0.0.1", af.port)
    m.connect(hostname=hostname, ip=ip)
    m.helo()
    m.message([("From", " a@example.org")], sender=sender)
    m.quit()

    def line():
        for ln in af.log_text().splitlines():
            if ln.startswith("{") and sender in ln:
                return json.loads(ln)
        return None
    rec = wait_for(line, timeout=20)
    return rec.get("client") if rec else None


t.is_(logged_client("[192.0.2.2]", "192.0.2.2", "<x1@example.org>"),
      "unknown[192.0.2.2]", "no reverse name ([address] from the MTA): unknown[192.0.2.2]")
t.is_(logged_client("[2001:db8::2]", "2001:db8::2", "<x2@example.org>"),
      "unknown[2001:db8::2]", "the same for IPv6")
t.is_(logged_client("mx.example.net", "192.0.2.3", "<x3@example.org>"),
      "mx.example.net[192.0.2.3]", "a client with a name: name[address]")
h.finish()
t.done()
