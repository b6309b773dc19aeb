#!/usr/bin/python3
# The signer process is confined with Landlock to the key_dir that
# existed when authfilter started.  A key_dir made later (authfilter
# started before the first key), or replaced as a whole (a restore, a
# mv), cannot be read by it until a restart: the reload fails and says
# so, instead of "Permission denied ... must be readable by that user"
# about permissions that are fine.  A restart then signs.
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import TEST_USER, Harness, milter_sign, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": TEST_USER, "key_dir": kd}, "keys.conf")


def signed(port):
    return milter_sign(port, [("From", " <a@example.org>"), ("Subject", " t")],
                       "<a@example.org>")[1]


def reload_says(d, before):
    """SIGHUP; the log written since `before` once the reload is over."""
    d.signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in d.log_text()[before:] or
             "reloaded" in d.log_text()[before:], timeout=20)
    return d.log_text()[before:]


# ---- started before key_dir existed ----
d = h.start_authfilter({"key_dir": kd})
if "no Landlock" in d.log_text():
    t.skip_all("this kernel has no Landlock: the signer reads any key_dir")
h.active_keys(kconf, [("example.org", "rsa", "s1")], checked=False)
log = reload_says(d, len(d.log_text()))
t.like(log, "was made or replaced after authfilter started",
       "a key_dir made after the start: the reload says so")
t.like(log, r"restart authfilter", "and what to do")
t.ok("must be readable by that user" not in log,
     "not a permissions hint that would not help", log)
t.is_(signed(d.port), [], "nothing signed meanwhile (the old state serves)")
h.stop_authfilter(d)

# ---- a restart reads it; then key_dir replaced as a whole ----
d = h.start_authfilter({"key_dir": kd}, name="restarted")
t.is_(len(signed(d.port)), 1, "after a restart the key signs")
shutil.copytree(kd, kd + ".new", symlinks=True)
for root, dirs, files in os.walk(kd + ".new"):
    for n in dirs + files:
        shutil.chown(os.path.join(root, n), TEST_USER)
shutil.chown(kd + ".new", TEST_USER)
os.rename(kd, kd + ".old")
os.rename(kd + ".new", kd)
log = reload_says(d, len(d.log_text()))
t.like(log, "was made or replaced after authfilter started",
       "key_dir replaced (a restore): the reload says so")
t.is_(len(signed(d.port)), 1, "the old keys still sign")
h.finish()
t.done()
