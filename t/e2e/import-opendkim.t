#!/usr/bin/python3
# Migrating from OpenDKIM (issue 21): a real OpenDKIM configuration
# (KeyTable, SigningTable refile:, InternalHosts refile:, keys made by
# Debian's opendkim-genkey, their records on the loopback DNS server) signs
# messages through the milter protocol; `authfilter-keys import-opendkim`
# imports its keys and writes the signing table; authfilter then signs the
# same messages and every signature of both verifies with dkimpy, with the
# same d= and s=.  opendkim-genkey on Debian 12 makes RSA keys only (it runs
# "openssl genrsa"), so the Ed25519 key of the second OpenDKIM (single-key
# form: Domain, Selector, KeyFile; SignatureAlgorithm ed25519-sha256) comes
# from openssl genpkey.  A configuration with shapes a signing table
# cannot say is reported line by line, exit 1.
import base64
import os
import pwd
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (AUTHFILTER, Harness, free_port, txt_record,  # noqa: E402
                     wait_for)
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
if shutil.which("opendkim") is None or shutil.which("opendkim-genkey") is None:
    t.skip_all("opendkim and opendkim-tools are not installed (contrib/deps --test)")
try:
    pwd.getpwnam("opendkim")
except KeyError:
    t.skip_all("no opendkim user (the opendkim package makes it)")

od = os.path.join(h.tmp, "opendkim")
os.mkdir(od)
os.chmod(od, 0o755)


def genkey(domain, sel):
    """opendkim-genkey as its manual says; the record from its .txt."""
    d = os.path.join(od, "keys", domain)
    os.makedirs(d, exist_ok=True)
    subprocess.run(["opendkim-genkey", "-b", "2048", "-D", d, "-d", domain,
                    "-s", sel], check=True)
    key = os.path.join(d, sel + ".private")
    shutil.chown(key, "opendkim")
    txt = open(os.path.join(d, sel + ".txt")).read()
    value = "".join(re.findall(r'"([^"]*)"', txt))
    return key, txt_record("%s._domainkey.%s" % (sel, domain), value)


k_com, rr_com = genkey("example.com", "s1")
k_net, rr_net = genkey("example.net", "mail2024")
k_late, _ = genkey("late.example", "s9")       # never published
t.like(open(k_com).read(), "-----BEGIN ", "opendkim-genkey wrote a PEM key")

with open(os.path.join(od, "key.table"), "w") as f:
    f.write("# name                      d=:s=:key\n"
            "s1._domainkey.example.com   example.com:s1:%s\n"
            "mail2024._domainkey.example.net example.net:mail2024:%s\n"
            % (k_com, k_net))
with open(os.path.join(od, "signing.table"), "w") as f:
    f.write("# From                 key name\n"
            "*@example.com          s1._domainkey.example.com\n"
            "*@*.example.net        mail2024._domainkey.example.net\n"
            "*@example.net          mail2024._domainkey.example.net\n"
            # shared key: the hosted domain signs with d=example.net
            "*@hosted.example       mail2024._domainkey.example.net\n"
            # never used by OpenDKIM: the line above matches first
            "boss@hosted.example    s1._domainkey.example.com\n")
with open(os.path.join(od, "trusted"), "w") as f:
    f.write("127.0.0.1\n192.0.2.0/24\n")
# Ed25519: openssl genpkey, as opendkim-genkey cannot.
k_ed = os.path.join(od, "keys", "ed.example.private")
os.makedirs(os.path.dirname(k_ed), exist_ok=True)
subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", k_ed],
               check=True)
shutil.chown(k_ed, "opendkim")
os.chmod(k_ed, 0o600)
ed_raw = subprocess.run(["openssl", "pkey", "-in", k_ed, "-pubout", "-outform",
                         "DER"], capture_output=True, check=True).stdout[-32:]
rr_ed = txt_record("e1._domainkey.ed.example", "v=DKIM1; k=ed25519; p=" +
                   base64.b64encode(ed_raw).decode())


def start_opendkim(name, lines):
    """opendkim -f on a loopback port with these configuration lines:
    (port, path of its configuration)."""
    port = free_port()
    conf = os.path.join(od, name + ".conf")
    with open(conf, "w") as f:
        f.write("\n".join([
            "Syslog no", "Mode sv", "Socket inet:%d@127.0.0.1" % port,
            "UserID opendkim", "UMask 002", "Canonicalization relaxed/relaxed",
            # the keys live under /tmp, which OpenDKIM calls unsafe
            "RequireSafeKeys no", "PidFile " + os.path.join(od, name + ".pid")]
            + lines + [""]))
    log = os.path.join(od, name + ".log")
    proc = subprocess.Popen(["opendkim", "-f", "-x", conf],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)
    h.procs.append((name, proc))
    if not wait_for(lambda: h._listening(port) or proc.poll() is not None,
                    timeout=20) or proc.poll() is not None:
        raise RuntimeError("opendkim did not start: " + open(log).read())
    return port, conf


h.start_dns([rr_com, rr_net, rr_ed])
port, conf = start_opendkim("opendkim", [
    "KeyTable file:" + os.path.join(od, "key.table"),
    "SigningTable refile:" + os.path.join(od, "signing.table"),
    "InternalHosts refile:" + os.path.join(od, "trusted"),
    "ExternalIgnoreList refile:" + os.path.join(od, "trusted")])
ed_port, ed_conf = start_opendkim("opendkim-ed", [
    "SignatureAlgorithm ed25519-sha256", "Domain ed.example",
    "Selector e1", "KeyFile " + k_ed])

MESSAGES = [("alice@example.com", "same domain"),
            ("bob@sub.example.net", "subdomain, parent d="),
            ("carol@example.net", "second domain"),
            ("dave@hosted.example", "shared key, d= of the host"),
            ("boss@hosted.example", "line OpenDKIM never used")]


def sign(mport, frm, subject):
    """The message as signed by the milter on mport: (raw, [(d, s)])."""
    hdrs = [("From", " <%s>" % frm), ("To", " x@example.org"),
            ("Subject", " " + subject), ("Message-ID", " <%s@test>" % subject.replace(" ", "."))]
    body = b"The same message, signed twice.\r\n"
    m = Milter("127.0.0.1", mport)
    try:
        m.connect(hostname="localhost", ip="127.0.0.1")
        m.helo("localhost")
        m.message(hdrs, body=body, sender="<%s>" % frm)
        ins = [(n, v) for _, n, v in m.inserted_headers()
               if n.lower() == "dkim-signature"]
    finally:
        m.quit()
    raw = "".join("%s:%s\r\n" % (n, v.replace("\n", "\r\n")) for n, v in ins)
    raw += "".join("%s:%s\r\n" % hv for hv in hdrs) + "\r\n" + body.decode()
    ds = []
    for _, v in ins:
        tags = dict((a.strip(), b.strip()) for a, b in
                    (x.split("=", 1) for x in re.sub(r"\s+", "", v).split(";") if "=" in x))
        ds.append((tags.get("d"), tags.get("s")))
    return raw, ds


before = {}
for frm, what in MESSAGES:
    raw, ds = sign(port, frm, what)
    before[frm] = ds
    t.is_(len(ds), 1, "OpenDKIM signs %s (%s)" % (frm, what))
    t.is_(h.dkimpy_verify(raw), [True] * len(ds), "  and dkimpy verifies it")
t.is_(before["dave@hosted.example"], [("example.net", "mail2024")],
      "OpenDKIM: hosted.example signs with d=example.net")
raw, ds = sign(port, "zoe@elsewhere.example", "not in any table")
t.is_(ds, [], "OpenDKIM does not sign a From no line matches")
raw, ds = sign(ed_port, "erin@ed.example", "ed25519")
before["erin@ed.example"] = ds
t.ok(ds == [("ed.example", "e1")] and "a=ed25519-sha256" in re.sub(r"\s", "", raw),
     "the second OpenDKIM signs ed.example with Ed25519", raw[:300])
t.is_(h.dkimpy_verify(raw), [True], "  and dkimpy verifies it")

# ---- the import ----
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": "nobody", "key_dir": kd,
                      "dns_resolver": "127.0.0.1@%d" % h.dns_port}, "keys.conf")
table = os.path.join(h.tmp, "signing_table")
rc, out, err = h.keys(kconf, "import-opendkim", conf, "--table", table)
t.is_(rc, 0, "import-opendkim: exit 0")
t.diag(err)
t.like(err, "imported example.com s1 (rsa-sha256, 2048 bits) from %s: active"
       % k_com, "example.com s1 imported, active (DNS serves it)")
t.like(err, "imported example.net mail2024", "example.net mail2024 imported")
t.like(err, "signing.table:6: boss@hosted.example", "the unused line is noted")
t.like(out, "internal_networks = 127.0.0.1, 192.0.2.0/24\n",
       "internal_networks from InternalHosts")
t.like(out, "signing_table = %s\n" % table, "signing_table names the file")
t.like(out, "key_dir = %s" % kd, "key_dir is authfilter's")
rows = [line.split() for line in open(table).read().splitlines()
        if line and not line.startswith("#")]
t.is_(rows, [["example.com", "example.com", "s1"],
             [".example.net", "example.net", "mail2024"],
             ["example.net", "example.net", "mail2024"],
             ["hosted.example", "example.net", "mail2024"]],
      "the signing table")
for dom, sel in (("example.com", "s1"), ("example.net", "mail2024")):
    st = os.stat(os.path.join(kd, dom, sel + ".pem"))
    t.is_((oct(st.st_mode & 0o777), st.st_uid), ("0o600", 65534),
          "%s/%s.pem 0600, owned by the daemon's user" % (dom, sel))
t.ok(not os.path.exists(os.path.join(kd, "late.example")),
     "a KeyTable-less key is not imported")

rc, out2, err2 = h.keys(kconf, "import-opendkim", conf)
t.is_(rc, 0, "run again: exit 0")
t.like(err2, "example.com s1: already in the store (active)",
       "  the keys are already there")
t.like(out2, "hosted.example", "  without --table the table is printed")

rc, ed_out, err = h.keys(kconf, "import-opendkim", ed_conf)
out = ed_out
t.is_(rc, 0, "import-opendkim of the single-key form: exit 0")
t.like(err, "imported ed.example e1 (ed25519-sha256, 256 bits)",
       "  the Ed25519 key imported, active")
t.like(out, "\ned.example                       ed.example                       e1\n",
       "  table: ed.example signs with its own key")
t.like(out, "internal_networks = 127.0.0.1\n", "  OpenDKIM's default InternalHosts")

# ---- authfilter signs the same messages ----
# One daemon for both OpenDKIMs: the second table's lines join the first
# (the printed table follows the settings and a blank line).
with open(table, "a") as f:
    f.write(ed_out.split("\n\n", 1)[1])
settings = {"key_dir": kd, "internal_networks": "127.0.0.1/32",
            "signing_table": table}
r = subprocess.run([AUTHFILTER, "-t", "-c", h.write_conf(
    dict(settings, user="nobody"), "check.conf")], capture_output=True, text=True)
t.is_(r.returncode, 0, "authfilter -t takes the settings and the table")
t.diag(r.stdout + r.stderr)
af = h.start_authfilter(settings)
for frm in list(before):
    raw, ds = sign(af.port, frm, "via authfilter")
    t.is_(ds, before[frm], "authfilter signs %s with the d= and s= OpenDKIM "
          "used: %s" % (frm, before[frm]))
    t.is_(h.dkimpy_verify(raw), [True] * len(before[frm]),
          "  and dkimpy verifies it")
raw, ds = sign(af.port, "zoe@elsewhere.example", "not in any table")
t.is_(ds, [], "a From OpenDKIM did not sign is not signed either")

# ---- what cannot be converted ----
bad = os.path.join(h.tmp, "bad")
os.mkdir(bad)
with open(os.path.join(bad, "key.table"), "w") as f:
    f.write("late late.example:s9:%s\nsame example.com:s1:%s\n" % (k_late, k_com))
with open(os.path.join(bad, "signing.table"), "w") as f:
    f.write("a*@late.example late\n*@late.example late\n"
            "*@example.com same\n*@nokey.example missing\n")
with open(os.path.join(bad, "opendkim.conf"), "w") as f:
    f.write("KeyTable %s/key.table\nSigningTable refile:%s/signing.table\n"
            "InternalHosts 127.0.0.1, mail.example.com, !127.0.0.2\n"
            % (bad, bad))
rc, out, err = h.keys(kconf, "import-opendkim", os.path.join(bad, "opendkim.conf"))
t.is_(rc, 1, "shapes without an equivalent: exit 1")
t.like(err, 'signing.table:1: pattern "a*@late.example" has no signing_table '
       "equivalent", "  a*@ pattern named with its line")
t.like(err, "signing.table:4: key name missing is not in the KeyTable",
       "  an unknown key name")
t.like(err, '"mail.example.com" is not an address', "  a host name in InternalHosts")
t.like(err, '"!127.0.0.2": internal_networks has no exclusions',
       "  an exclusion in InternalHosts")
t.like(err, "imported late.example s9", "  the unpublished key is imported")
t.like(err, "stays pending", "  but stays pending")
t.like(err, 's9._domainkey.late.example. IN TXT ( "v=DKIM1; k=rsa; p=',
       "  with the record to publish")
t.like(err, "example.com s1: already in the store", "  example.com s1 again: "
       "the same key, already there")
t.like(out, "late.example", "  the rest is still converted")
t.like(out, "internal_networks = 127.0.0.1\n", "  and the addresses")

h.finish()
t.done()
