#!/usr/bin/python3
# Outbound DKIM signing through a real Postfix: keys made and activated
# with authfilter-keys against the loopback DNS server, every delivered
# signature checked by independent verifiers (python3-dkim and
# opendkim-testmsg) over a corpus of awkward messages; mail that must not
# be signed is not, and says why in the log.
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness  # noqa: E402
from milterclient import Milter  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
kconf = h.write_conf({"user": "nobody", "key_dir": kd}, "keys.conf")


def new_key(domain, *args):
    rc, out, err = h.keys(kconf, "new", domain, *args)
    sel = re.search(r"^created \S+ (\S+) ", out, re.M)
    return rc, (sel.group(1) if sel else None), out + err


rc, rsa_sel, out = new_key("example.org")
t.is_(rc, 0, "authfilter-keys new example.org (RSA)")
t.like(out, "IN TXT (", "new prints the zone-file line")
rc, ed_sel, out = new_key("Example.ORG", "--alg", "ed25519")
t.is_(rc, 0, "authfilter-keys new example.org --alg ed25519")
rc, other_sel, _ = new_key("rsa4096.example", "--bits", "3072", "--selector", "big")
t.is_((rc, other_sel), (0, "big"), "--bits 3072 --selector big")
rc, pend_sel, _ = new_key("pending.example")
rc, diff_sel, _ = new_key("diff.example")
rc, _, out = new_key("weak.example", "--bits", "1024")
t.ok(rc != 0 and "at least 2048 bits" in out, "1024-bit RSA refused", out)

# Zone: what `authfilter-keys dns` prints, as an admin would paste it.
records = []
for dom, sel in (("example.org", rsa_sel), ("example.org", ed_sel),
                 ("rsa4096.example", "big")):
    rc, out, err = h.keys(kconf, "dns", dom, sel)
    t.is_(rc, 0, "dns %s %s" % (dom, sel))
    m = re.match(r'^(\S+) IN TXT \( (.*) \)$', out.strip())
    txt = m.group(2) if m else ""
    records.append("%s 300 IN TXT %s" % (m.group(1) if m else "x.", txt))
    t.ok(all(len(s) <= 255 for s in re.findall(r'"([^"]*)"', txt)),
         "TXT strings are at most 255 bytes")
# diff.example publishes some other key under its selector.
records.append("%s._domainkey.diff.example. 300 IN TXT %s" % (
    diff_sel, records[0].split(" IN TXT ", 1)[1]))
h.start_dns(records)
kconf = h.write_conf({"user": "nobody", "key_dir": kd,
                      "dns_resolver": "127.0.0.1@%d" % h.dns_port}, "keys.conf")

rc, out, err = h.keys(kconf, "activate", "pending.example", pend_sel)
t.ok(rc != 0 and "DNS does not serve the key" in err,
     "activate refuses a key DNS does not serve", err)
for dom, sel in (("example.org", rsa_sel), ("example.org", ed_sel),
                 ("rsa4096.example", "big")):
    rc, out, err = h.keys(kconf, "activate", dom, sel)
    t.is_(rc, 0, "activate %s %s (DNS serves it)" % (dom, sel))
rc, out, err = h.keys(kconf, "list")
t.like(out, "example.org", "list shows the keys")
t.ok(re.search(r"%s\s+rsa-sha256\s+2048\s+active\s+\S+\s+published" % rsa_sel, out),
     "list: RSA key active and published", out)
t.ok(re.search(r"pending\.example\s+\S+\s+rsa-sha256\s+2048\s+pending\s+\S+\s+missing", out),
     "list: pending key, DNS missing", out)
st = os.stat(os.path.join(kd, "example.org", rsa_sel + ".pem"))
t.is_((oct(st.st_mode & 0o777), st.st_uid), ("0o600", 65534),
      "private key 0600, owned by the daemon's user (nobody)")

af = h.start_authfilter({"key_dir": kd})
sink = h.start_sink()
smtp = h.start_postfix(milter_port=af.port, sink_port=sink)

BIG = "".join("line %06d of a big body, with some text to hash\r\n" % i
              for i in range(60000))          # ~3 MB
CORPUS = {
    "plain": "Subject: plain\r\n\r\nHello.\r\n",
    "folded-dup": ("Subject: folded\r\n  across lines\r\nX-Dup: one\r\nX-Dup: two\r\n"
                   "To: a@example.net,\r\n\tb@example.net\r\n\r\nbody\r\n"),
    "empty-body": "Subject: empty-body\r\n\r\n",
    "no-final-crlf": "Subject: no-final-crlf\r\n\r\nlast line",
    "trailing-ws": "Subject: trailing-ws  \r\n\r\nspaces   \r\ntab\t\r\n\r\n\r\n",
    "long-lines": "Subject: long-lines\r\n\r\n" + ("x" * 990 + "\r\n") * 5,
    "8bit": ("Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\nJ\xc3\xa9r\xc3\xb4me caf\xc3\xa9\r\n"),
    "mime": ("Subject: mime\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed;"
             " boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
             "part one\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b1--\r\n"),
    "dot-lines": "Subject: dot-lines\r\n\r\n.\r\n..two\r\n.leading\r\nend\r\n",
    "big": "Subject: big\r\n\r\n" + BIG,
}


def sigs_of(msg):
    return re.findall(r"^DKIM-Signature:(.*(?:\n[ \t].*)*)", msg, re.M | re.I)


delivered = {}
for name, body in CORPUS.items():
    msg = ("From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n"
           "Message-ID: <sign-%s@example.org>\r\n" % name + body)
    code, out = h.send(smtp, msg.encode("latin-1"), sender="alice@example.org",
                       source="127.0.0.1")
    got = h.wait_delivered("sign-%s@example.org" % name)
    delivered[name] = got
    sigs = sigs_of(got or "")
    ok = code == 250 and got is not None and len(sigs) == 2
    t.ok(ok, "%s: delivered with two signatures" % name, out if not ok else None)
    verdicts = h.dkimpy_verify(got or "")
    t.is_(verdicts, [True, True], "%s: both signatures verify with dkimpy" % name)

sig = " ".join(sigs_of(delivered["plain"] or "")).replace("\n", " ")
algs = sorted(re.findall(r"a=([a-z0-9-]+)", sig))
t.is_(algs, ["ed25519-sha256", "rsa-sha256"], "one RSA and one Ed25519 signature")
t.ok(re.search(r"c=relaxed/relaxed", sig) and "l=" not in sig.replace("; l=", "l=")
     and re.search(r"\bt=\d+", sig), "c=relaxed/relaxed, t= set, no l=", sig)
hl = re.search(r"(?:^|[;\s])h=([^;]+)", sig)
hlist = [x.strip().lower() for x in (hl.group(1) if hl else "").replace("\n", "").split(":")]
t.ok(hlist.count("from") == 2 and hlist.count("subject") == 2,
     "From and Subject oversigned (listed once more than present)", hlist)

# Independent verifier 2: opendkim-testmsg (libopendkim's own verifier).
rc, out = h.opendkim_verify(delivered["mime"] or "")
t.is_((rc, out.strip()), (0, ""), "opendkim-testmsg verifies the delivered message")
tampered = (delivered["mime"] or "").replace("part one", "part 1")
rc, out = h.opendkim_verify(tampered)
t.ok(rc != 0, "opendkim-testmsg rejects a tampered body", out)
t.is_(h.dkimpy_verify(tampered), [False, False], "dkimpy rejects a tampered body")

# Oversigning: a second From added after signing breaks the signatures.
forged = "From: ceo@example.org\n" + (delivered["plain"] or "")
t.is_(h.dkimpy_verify(forged), [False, False],
      "a From added on top breaks both signatures (oversigned)")


def log_lines():
    return [json.loads(l) for l in af.log_text().splitlines() if l.startswith("{")]


def last_for(msgid):
    for l in reversed(log_lines()):
        if l.get("action") and msgid in (l.get("queue_id") or "") + str(l):
            return l
    return {}


# Mail that is not signed.
cases = [
    ("inbound", "From: alice@example.org\r\n", "127.0.0.2", None),
    ("nokey", "From: x@nokey.example\r\n", "127.0.0.1", "no_active_key"),
    ("pending", "From: x@pending.example\r\n", "127.0.0.1", "no_active_key"),
    ("subdomain", "From: x@sub.example.org\r\n", "127.0.0.1", "no_active_key"),
    ("two-addrs", "From: a@example.org, b@example.org\r\n", "127.0.0.1",
     "several_from_addresses"),
    ("two-from", "From: a@example.org\r\nFrom: b@example.org\r\n", "127.0.0.1",
     "several_from_headers"),
]
for name, frm, src, why in cases:
    msg = frm + "Subject: unsigned-%s\r\n\r\nx\r\n" % name
    code, out = h.send(smtp, msg, source=src)
    got = h.wait_delivered("unsigned-%s" % name)
    t.ok(code == 250 and got is not None and not sigs_of(got),
         "%s: accepted and not signed" % name, out)
    rec = [l for l in log_lines() if l.get("action")][-1]
    if why:
        t.is_(rec.get("sign_skip"), why, "%s: log says why (%s)" % (name, why))
        if why == "no_active_key":
            t.is_(rec.get("sign_domain"), frm.split("@")[1].strip(),
                  "%s: and names the domain" % name)
    else:
        t.is_(rec.get("direction"), "inbound", "%s: inbound is never signed" % name)

# Authenticated submission from an outside address is signed (milter
# protocol with the {auth_authen} macro, as Postfix sends it).
m = Milter("127.0.0.1", af.port)
m.connect(hostname="roaming.example", ip="198.51.100.9")
m.helo("laptop")
hdrs = [("From", " Alice <alice@example.org>"), ("To", " bob@example.net"),
        ("Subject", " roaming")]
code, _ = m.message(hdrs, body=b"from the road\r\n",
                    mail_macros={"{auth_authen}": "alice"})
ins = [(n, v) for _, n, v in m.inserted_headers()]
m.quit()
raw = "".join("%s:%s\r\n" % (n, v.replace("\n", "\r\n")) for n, v in ins)
raw += "".join("%s:%s\r\n" % hv for hv in hdrs) + "\r\nfrom the road\r\n"
t.is_([n for n, _ in ins], ["DKIM-Signature", "DKIM-Signature"],
      "SASL-authenticated client outside internal_networks: signed")
t.is_(h.dkimpy_verify(raw), [True, True], "and the signatures verify")

# sender_login_map: a login signs only for its own domains.
mapfile = os.path.join(h.tmp, "sender_logins")
with open(mapfile, "w") as f:
    f.write("# login  domains\nalice example.org\n")
os.chmod(mapfile, 0o644)


def submit(port, login, frm):
    m = Milter("127.0.0.1", port)
    m.connect(hostname="roaming.example", ip="198.51.100.9")
    m.helo("laptop")
    code, text = m.message([("From", " " + frm), ("Subject", " map")],
                           mail_macros={"{auth_authen}": login})
    ins = [n for _, n, _ in m.inserted_headers()]
    m.quit()
    return code, text, ins


rej = h.start_authfilter({"key_dir": kd, "sender_login_map": mapfile}, name="maprej")
t.is_(submit(rej.port, "alice", "alice@example.org")[::2], (b"c", ["DKIM-Signature"] * 2),
      "sender_login_map: alice signs for example.org")
code, text, ins = submit(rej.port, "mallory", "ceo@example.org")
t.ok(code == b"y" and text.startswith("553 5.7.1") and not ins,
     "sender_login_map: another login using example.org gets 553 5.7.1", repr((code, text)))
t.like(rej.log_text(), "login mallory may not send as example.org", "and the log says who")
logm = h.start_authfilter({"key_dir": kd, "sender_login_map": mapfile,
                          "sender_mismatch_action": "log"}, name="maplog")
code, text, ins = submit(logm.port, "mallory", "ceo@example.org")
t.is_((code, ins), (b"c", []), "sender_mismatch_action = log: accepted, not signed")
recs = [json.loads(l) for l in logm.log_text().splitlines() if '"action"' in l]
t.is_(recs[-1].get("sign_skip") if recs else None, "sender_not_allowed", "and logged")
h.stop_authfilter(rej)
h.stop_authfilter(logm)

# Loose permissions: refused by -t and by a reload; old keys keep signing.
pem = os.path.join(kd, "example.org", rsa_sel + ".pem")
os.chmod(pem, 0o644)
import subprocess  # noqa: E402
from harness import AUTHFILTER  # noqa: E402
r = subprocess.run([AUTHFILTER, "-t", "-c", af.conf], capture_output=True, text=True,
                   env=h.san_env())
t.ok(r.returncode == 1 and "mode 0644, must not be readable by group or others" in r.stderr,
     "C3: -t refuses a key readable by others", r.stderr)
af.signal(1)   # SIGHUP
import time  # noqa: E402
from harness import wait_for  # noqa: E402
wait_for(lambda: "reload failed" in af.log_text())
t.like(af.log_text(), "must not be readable by group or others",
       "C2: reload with a loose key fails and says why")
code, _ = h.send(smtp, "From: alice@example.org\r\nSubject: after-bad-reload\r\n\r\nx\r\n",
                 source="127.0.0.1")
got = h.wait_delivered("after-bad-reload")
t.is_(h.dkimpy_verify(got or ""), [True, True], "C2: the old keys keep signing")
os.chmod(pem, 0o600)
os.rename(pem, pem + ".real")
os.symlink(pem + ".real", pem)
r = subprocess.run([AUTHFILTER, "-t", "-c", af.conf], capture_output=True, text=True,
                   env=h.san_env())
t.ok(r.returncode == 1 and "symbolic link" in r.stderr, "C3: a symlinked key is refused",
     r.stderr)
os.unlink(pem)
os.rename(pem + ".real", pem)
os.chown(pem, 0, 0)
r = subprocess.run([AUTHFILTER, "-t", "-c", af.conf], capture_output=True, text=True,
                   env=h.san_env())
t.ok(r.returncode == 1 and "must be owned by the daemon's user" in r.stderr,
     "C3: a key owned by another user is refused", r.stderr)
os.chown(pem, 65534, 65534)
t.is_(h.stop_authfilter(af), 0, "authfilter stops cleanly")

# authfilter-keys check (for monitoring).
rc, out, err = h.keys(kconf, "check")
t.ok(rc == 0 and "checked 3 key(s): 0 problem(s)" in out,
     "check: the three active keys are published as they are", out + err)
h.keys(kconf, "activate", "pending.example", pend_sel, "--force")
h.keys(kconf, "activate", "diff.example", diff_sel, "--force")
weak = os.path.join(kd, "weak.example")
os.makedirs(weak)
with open(os.path.join(weak, "w1.pem"), "wb") as f:
    f.write(subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                            "rsa_keygen_bits:1024"], capture_output=True).stdout)
with open(os.path.join(weak, "w1.state"), "w") as f:
    f.write("algorithm = rsa-sha256\nbits = 2048\nstate = active\n")
rc, out, err = h.keys(kconf, "check")
t.is_(rc, 1, "check: exit 1 when something is wrong")
t.like(out, "pending.example %s (active): DNS record missing" % pend_sel,
       "check: a missing record is named")
t.like(out, "diff.example %s (active): DNS record differs" % diff_sel,
       "check: a record with another key is named")
t.like(out, "weak.example w1: RSA key of 1024 bits is too short",
       "check: a 1024-bit key is named (bits read from the key itself)")
rc, out, err = h.keys(kconf, "check", "example.org")
t.ok(rc == 0 and "checked 2 key(s)" in out, "check DOMAIN limits the check", out)
rc, out, err = h.keys(kconf, "check", "exmaple.org")
t.ok(rc == 1 and "exmaple.org: no active or retiring key" in out,
     "check of a domain with no key (a typo): exit 1, named", out)
rc, out, err = h.keys(kconf, "check", "-bad-")
t.ok(rc == 1 and "not a domain name" in out, "check of a non-domain: exit 1", out)
h.finish()
t.done()
