#!/usr/bin/python3
# The command line: -t names file and line for every problem, -n prints
# what differs, -V names the libraries, and the shipped sample
# configuration and man page stay in step with the settings table.
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, AUTHFILTER, SRCDIR  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)


def run(*args):
    r = subprocess.run([AUTHFILTER] + list(args), capture_output=True, text=True,
                       timeout=30, env=h.san_env())
    return r.returncode, r.stdout, r.stderr


good = h.write_conf({"authserv_id": "mx.example.org", "user": "nobody",
                     "internal_networks": "127.0.0.0/8, 192.0.2.0/24"}, "good.conf")
rc, out, err = run("-t", "-c", good)
t.is_((rc, out, err), (0, good + ": OK\n", ""), "-t on a valid file: exit 0, OK")

rc, out, err = run("-n", "-c", good)
t.is_((rc, out), (0, "authserv_id = mx.example.org\nkey_dir = %s\n"
                  "internal_networks = 127.0.0.0/8, 192.0.2.0/24\nuser = nobody\n"
                  % h.no_keys),
      "-n prints the non-default settings in table order")

# The LAN alone: mail Postfix hands over from this host (127.0.0.1)
# would be checked as inbound.  Valid, with a warning.
lan = h.write_conf({"authserv_id": "mx.example.org", "user": "nobody",
                    "internal_networks": "192.0.2.0/24"}, "lan.conf")
rc, out, err = run("-t", "-c", lan)
t.ok(rc == 0 and "warning: %s:3: internal_networks leaves out 127.0.0.1" % lan in err,
     "-t: internal_networks without loopback is a warning, with FILE:LINE", err)

bad = os.path.join(h.tmp, "bad.conf")
with open(bad, "w") as f:
    f.write("# comment\nmilter_socket = inet:8891@127.0.0.1\nlog_formt = json\n"
            "policy_mode = strict\n\nmax_headers = many\nmilter_socket = unix:/x\n")
rc, out, err = run("-t", "-c", bad)
t.is_(rc, 1, "-t on a bad file: exit 1")
t.is_(err.splitlines(), [
    bad + ':3: unknown setting "log_formt"',
    bad + ':4: policy_mode: "strict" is not one of: monitor, enforce',
    bad + ':6: max_headers: "many": expected a number from 1 to 100000',
    bad + ':7: milter_socket is already set at line 2',
], "-t: one FILE:LINE line per problem, all of them")
t.is_(out, "", "-t: nothing on stdout for a bad file")

rc, out, err = run("-t", "-c", os.path.join(h.tmp, "missing.conf"))
t.ok(rc == 1 and "missing.conf: cannot open: No such file or directory" in err,
     "-t: a missing file is named", err)
# Files named by settings that are not files (bad-input C3): a FIFO would
# block -t and every reload, a directory made libunbound spin.  Each is
# refused at once, with FILE:LINE (run() gives up after 30 s).
fifo = os.path.join(h.tmp, "a.fifo")
os.mkfifo(fifo)
for name, path, what in (("policy_overrides", fifo, "a FIFO"),
                         ("sender_login_map", h.tmp, "a directory"),
                         ("dns_trust_anchor", h.tmp, "a directory"),
                         ("public_suffix_list", fifo, "a FIFO")):
    s = {"user": "nobody", name: path}
    if name == "public_suffix_list":
        s["dmarc_discovery"] = "psl"    # read only then
    conf = h.write_conf(s, "path-%s.conf" % name)
    try:
        rc, out, err = run("-t", "-c", conf)
    except subprocess.TimeoutExpired:
        rc, err = "hung", ""
    t.ok(rc == 1 and re.search(r"^%s:\d+: %s %s: %s, not a file$" % (
        re.escape(conf), name, re.escape(path), what), err, re.M),
        "-t: %s naming %s: refused with FILE:LINE" % (name, what), (rc, err))
conf = h.write_conf({"user": "nobody"}, "fifo-main.conf")
os.unlink(conf)
os.mkfifo(conf)
try:
    rc, out, err = run("-t", "-c", conf)
except subprocess.TimeoutExpired:
    rc, err = "hung", ""
t.ok(rc == 1 and "a FIFO, not a file" in err, "-t: the config file itself "
     "a FIFO: refused", (rc, err))

# A trust anchor file libunbound cannot parse: one line, with FILE:LINE
# and libunbound's own complaint, none of its raw log lines.
ta = os.path.join(h.tmp, "bad.key")
with open(ta, "w") as f:
    f.write("garbage here\n")
conf = h.write_conf({"user": "nobody", "dns_trust_anchor": ta}, "ta.conf")
rc, out, err = run("-t", "-c", conf)
t.ok(rc == 1 and re.match(r"^%s:\d+: dns_trust_anchor %s: .*\(parse error in "
                          % (re.escape(conf), re.escape(ta)), err) and
     len(err.splitlines()) == 1, "-t: an unusable dns_trust_anchor: one line "
     "with FILE:LINE and the parse error", err)

rc, out, err = run("-x")
t.ok(rc == 2 and "usage:" in err, "bad option: usage, exit 2")
rc, out, err = run("--help")
t.ok(rc == 0 and out.startswith("usage: authfilter") and err == "",
     "--help: usage on stdout, exit 0", (rc, out, err))
bad = h.write_conf({"drain_timeout": "2y"}, "baddur.conf")
rc, out, err = run("-t", "-c", bad)
t.ok(rc == 1 and "(suffix s, m, h, d or w)" in err,
     "a bad duration: the message lists every suffix, w included", err)

rc, out, err = run("-V")
t.is_(rc, 0, "-V exits 0")
for lib in ("authfilter 0.1.0", "milter protocol 6", "OpenSSL", "libopendkim", "libspf2",
            "libunbound", "libpsl", "json-c", "libsystemd"):
    t.like(out, lib, "-V names " + lib)

# The sample configuration is valid (with a user this machine has).
sample = open(os.path.join(SRCDIR, "authfilter.conf")).read()
copy = h.write_conf({}, "sample.conf")
with open(copy, "w") as f:
    f.write(sample.replace("user = authfilter", "user = nobody")
            .replace("pid_file = /run/authfilter/", "pid_file = %s/" % h.state_dir()) +
            "key_dir = %s\n" % h.no_keys)
rc, out, err = run("-t", "-c", copy)
t.is_((rc, err), (0, ""), "the shipped authfilter.conf passes -t")

# Every setting of the table is documented in the sample and the man page.
table = open(os.path.join(SRCDIR, "lib", "config.c")).read()
names = re.findall(r'^\t\{ "([a-z_]+)", ', table, re.M)
t.ok(len(names) >= 15, "settings table read from lib/config.c", names)
man = open(os.path.join(SRCDIR, "man", "authfilter.conf.5")).read()
undocumented = [n for n in names if not re.search(r"^#?%s =" % n, sample, re.M)]
t.is_(undocumented, [], "every setting is in the sample authfilter.conf")
unmanned = [n for n in names if ".B %s " % n not in man]
t.is_(unmanned, [], "every setting is in authfilter.conf(5)")

# The first key on a new host: key_dir and its missing parents are made
# (as /etc/authfilter/keys on a fresh machine).
deep = os.path.join(h.tmp, "etc", "authfilter", "keys")
kconf = h.write_conf({"user": "nobody", "key_dir": deep}, "fresh-keys.conf")
rc, out, err = h.keys(kconf, "new", "example.org")
t.ok(rc == 0 and os.path.isdir(os.path.join(deep, "example.org")),
     "authfilter-keys new makes key_dir's missing parents", err)
h.finish()
t.done()
