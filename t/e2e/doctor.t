#!/usr/bin/python3
# authfilter doctor against a loopback unbound: one zone where every check
# is OK (exit 0), and broken zones that each produce their own line and
# advice; the sending host's FCrDNS and HELO; exit statuses 0, 1, 2 and 3;
# --json agrees with the text.  The outbound addresses are documentation
# addresses (RFC 5737): doctor only asks DNS about them, never connects.
import json
import os
import re
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import AUTHFILTER, Harness, free_port, rsa_key, txt_record  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
kd = os.path.join(h.tmp, "keys")
OUT = "192.0.2.25"             # the good outbound address
SPF_OK = "v=spf1 ip4:192.0.2.0/24 -all"
DMARC_OK = "v=DMARC1; p=reject; rua=mailto:dmarc@%s"


def plain(domain, spf=SPF_OK, dmarc=DMARC_OK):
    """A domain's SPF and DMARC records (None: not published)."""
    rrs = []
    if spf is not None:
        rrs.append(txt_record(domain, spf))
    if dmarc is not None:
        rrs.append(txt_record("_dmarc." + domain, dmarc.replace("%s", domain)))
    return rrs


records = [
    # The sending host: 192.0.2.25 <-> mail.good.example; .26 has no PTR;
    # .27's PTR names a host without an address.
    "mail.good.example. 300 IN A 192.0.2.25",
    "other.good.example. 300 IN A 192.0.2.200",
    "25.2.0.192.in-addr.arpa. 300 IN PTR mail.good.example.",
    "27.2.0.192.in-addr.arpa. 300 IN PTR ghost.good.example.",
    # IPv6: 2001:db8::25 <-> mail6.good.example.
    "mail6.good.example. 300 IN AAAA 2001:db8::25",
    # 11 DNS-querying terms: 4 here, the include, 6 in the included record.
    txt_record("spf-terms.example", "v=spf1 ip4:192.0.2.0/24 a:h1.spf-terms.example "
               "a:h2.spf-terms.example a:h3.spf-terms.example a:h4.spf-terms.example "
               "include:inc.spf-terms.example -all"),
    txt_record("inc.spf-terms.example", "v=spf1 " + " ".join(
        "a:h%d.spf-terms.example" % i for i in range(5, 11)) + " ~all"),
    # Two SPF records.
    txt_record("spf-two.example", "v=spf1 -all"),
    # The external report destination that authorises dmarc-extok.example.
    txt_record("dmarc-extok.example._report._dmarc.reports.example", "v=DMARC1"),
]
records += ["h%d.spf-terms.example. 300 IN A 192.0.2.100" % i for i in range(1, 11)]
for d in ("good.example", "nokey.example", "differs.example",
          "spf-two.example"):
    records += plain(d)
records += plain("spf-terms.example", spf=None)   # its record is above
records += plain("spf-none.example", spf=None)
records += plain("spf-all.example", spf="v=spf1 ip4:192.0.2.0/24 +all")
records += plain("spf-void.example", spf="v=spf1 ip4:192.0.2.0/24 "
                 "a:v1.spf-void.example a:v2.spf-void.example mx:v3.spf-void.example -all")
records += plain("spf-loop.example", spf="v=spf1 ip4:192.0.2.0/24 "
                 "include:spf-loop.example include:spf-loop.example -all")
records += plain("spf-noauth.example", spf="v=spf1 ip4:198.51.100.0/24 -all")
records += plain("dmarc-none.example", dmarc=None)
records += plain("dmarc-pnone.example", dmarc="v=DMARC1; p=none; rua=mailto:d@%s")
records += plain("dmarc-norua.example", dmarc="v=DMARC1; p=reject")
records += plain("dmarc-ext.example", dmarc="v=DMARC1; p=reject; "
                 "rua=mailto:d@reports.example")
records += plain("dmarc-extok.example", dmarc="v=DMARC1; p=quarantine; "
                 "rua=mailto:d@reports.example!10m")
# An escape sequence and a byte that is not UTF-8 in a DMARC record.
records += plain("hostile.example", dmarc="v=DMARC1; p=reject; "
                 "rua=mailto:d@%s\\027[31m\\128")
# unbound answers the documentation prefixes' reverse zones itself
# (RFC 6303) unless told otherwise.
h.start_dns(records, extra=['local-zone: "2.0.192.in-addr.arpa." static',
                           'local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." static',
                           'local-data-ptr: "2001:db8::25 mail6.good.example"'],
            control=True)

table = os.path.join(h.tmp, "signing_table")
with open(table, "w") as f:
    # Every From domain signs with good.example's key, but these two.
    f.write("nokey.example nokey.example\ndiffers.example differs.example\n"
            "* good.example\n")
base = {"key_dir": kd, "dns_resolver": "127.0.0.1@%d" % h.dns_port,
        "dns_timeout": "2s", "signing_table": table,
        "doctor_outbound_ips": OUT, "doctor_helo_name": "mail.good.example"}
conf = h.write_conf(base)


def zone_rr(out):
    """The record `authfilter-keys new` printed, as one local-data line."""
    m = re.search(r'^(\S+) IN TXT \( (.*) \)$', out, re.M)
    return "%s 300 IN TXT %s" % (m.group(1), m.group(2)) if m else None


# good.example: published; nokey.example: never published; differs.example: DNS
# serves some other key at its selector.
for d in ("good.example", "nokey.example", "differs.example"):
    rc, out, err = h.keys(conf, "new", d, "--selector", "s1")
    t.ok(rc == 0, "key %s s1 made" % d, err)
    if d == "good.example":
        h.dns_set(zone_rr(out))
    if d == "differs.example":
        h.dns_set(txt_record("s1._domainkey.differs.example",
                             "v=DKIM1; k=rsa; p=" + rsa_key()[1]))
    rc, out, err = h.keys(conf, "activate", d, "s1", "--force")
    t.ok(rc == 0, "key %s s1 active" % d, err)


def doctor(cfg, *args, env=None):
    # Bytes that are not UTF-8 become U+FFFD, for the tests to see.
    r = subprocess.run([AUTHFILTER, "doctor", "-c", cfg] + list(args),
                       capture_output=True, encoding="utf-8",
                       errors="replace", timeout=120, env=env or h.san_env())
    return r.returncode, r.stdout, r.stderr


def text_lines(out):
    """(section, status, area, check, detail, advice) of each text line."""
    rows, section = [], None
    for line in out.splitlines():
        if not line.startswith(" "):
            section = line.split(" ")[0]
            continue
        if section == "mailbox":        # the requirement lines
            continue
        if line.strip().startswith("-> ") and rows:
            rows[-1] = rows[-1][:5] + (line.strip()[3:],)
            continue
        status, area = line[2:9].strip(), line[10:15].strip()
        if status in ("OK", "WARN", "FAIL", "UNKNOWN") and area:
            rows.append((section, status, area, line[16:38].strip(),
                         line[39:], ""))
    return rows


def json_lines(doc):
    rows = []
    for d in doc["domains"]:
        rows += [(d["domain"], c["status"].upper(), c["area"], c["check"],
                  c["detail"], c["advice"]) for c in d["checks"]]
    rows += [("host", c["status"].upper(), c["area"], c["check"],
              c["detail"], c["advice"]) for c in doc["host"]["checks"]]
    return rows


def run_both(cfg, *args, env=None):
    """Text and JSON runs: (exit, JSON document, text).  Checks that they
    agree line by line and on the exit status."""
    rc, out, err = doctor(cfg, *args, env=env)
    jrc, jout, jerr = doctor(cfg, "--json", *args, env=env)
    try:
        doc = json.loads(jout)
    except ValueError:
        t.ok(False, "doctor %s --json parses" % " ".join(args), jout + jerr)
        return rc, None, out
    t.is_((rc, jrc, doc["exit"]), (rc, rc, rc),
          "doctor %s: text and JSON give the same exit status" % " ".join(args))
    t.is_(text_lines(out), json_lines(doc),
          "doctor %s: text lines and JSON checks agree" % " ".join(args))
    return rc, doc, out


def check(doc, section, area, name):
    """The JSON check of a domain (or "host") named area/name, or {}."""
    checks = doc["host"]["checks"] if section == "host" else next(
        (d["checks"] for d in doc["domains"] if d["domain"] == section), [])
    return next((c for c in checks if c["area"] == area and
                 c["check"] == name), {})


def expect(doc, section, area, name, status, detail_has, what):
    c = check(doc, section, area, name)
    needs_advice = status in ("warn", "fail")
    advice_ok = (c.get("advice", "") != "") == needs_advice
    t.ok(c.get("status") == status and detail_has in c.get("detail", "")
         and advice_ok, "%s: %s %s is %s%s" % (what, area, name, status,
                                              ", with advice" if needs_advice
                                              else ""), c or doc)


# ---- every domain signed for ----
rc, doc, out = run_both(conf)
t.is_(sorted(d["domain"] for d in doc["domains"]),
      ["differs.example", "good.example", "nokey.example"],
      "no domain named: the key store's and signing_table's domains")

# ---- one good zone: every check OK, exit 0 ----
rc, doc, out = run_both(conf, "good.example")
t.is_(rc, 0, "good.example: exit 0")
t.ok(all(c["status"] == "ok" for d in doc["domains"] for c in d["checks"])
     and all(c["status"] == "ok" for c in doc["host"]["checks"]),
     "good.example: every check OK", out)
t.ok(all(r["status"] == "pass" for r in doc["requirements"]),
     "good.example: every requirement line passes", out)
t.like(out, "status: ok (exit 0)", "text ends with the status and exit code")
for area, name in (("spf", "record"), ("spf", "syntax"), ("spf", "dns-terms"),
                   ("spf", "void-lookups"), ("spf", "all"),
                   ("spf", "authorises"), ("dkim", "key s1"),
                   ("dkim", "key-age"), ("dmarc", "record"),
                   ("dmarc", "policy"), ("dmarc", "rua")):
    expect(doc, "good.example", area, name, "ok", "", "good.example")
expect(doc, "host", "host", "fcrdns " + OUT, "ok", "mail.good.example",
       "good host")
expect(doc, "host", "host", "helo", "ok", "", "good host")

# ---- broken zones: one line each, with advice ----
rc, doc, out = run_both(conf, "spf-none.example")
expect(doc, "spf-none.example", "spf", "record", "fail", "no SPF record",
       "no SPF")
t.is_(rc, 2, "a failed check: exit 2")
t.ok(re.search(r"^  FAIL +spf +record +no SPF record.*\n +-> publish", out,
               re.M), "text: the FAIL line, then its advice", out)
req = {r["requirement"].split(":")[1].strip(): r["status"]
       for r in doc["requirements"]}
t.is_((req["SPF or DKIM passes"], req["SPF and DKIM pass"]), ("pass", "fail"),
      "no SPF, DKIM good: all senders' line passes, bulk senders' fails")

rc, doc, out = run_both(conf, "spf-two.example")
expect(doc, "spf-two.example", "spf", "record", "fail", "2 SPF records",
       "two SPF records")
rc, doc, out = run_both(conf, "spf-all.example")
expect(doc, "spf-all.example", "spf", "all", "fail", "+all", "+all")
rc, doc, out = run_both(conf, "spf-terms.example")
expect(doc, "spf-terms.example", "spf", "dns-terms", "fail",
       "11 DNS-querying terms", "11 DNS terms through an include")
rc, doc, out = run_both(conf, "spf-loop.example")
expect(doc, "spf-loop.example", "spf", "dns-terms", "fail", "at least",
       "a record that includes itself: the walk ends past 10 terms")
rc, doc, out = run_both(conf, "spf-void.example")
expect(doc, "spf-void.example", "spf", "void-lookups", "fail",
       "3 lookups answer nothing", "3 void lookups")
rc, doc, out = run_both(conf, "spf-noauth.example")
expect(doc, "spf-noauth.example", "spf", "authorises", "fail", OUT + ": fail",
       "SPF not authorising the outbound address")
t.like(check(doc, "spf-noauth.example", "spf", "authorises").get("advice"),
       "ip4:" + OUT, "the advice names the term to add")

rc, doc, out = run_both(conf, "nokey.example")
expect(doc, "nokey.example", "dkim", "key s1", "fail", "DNS record missing",
       "DKIM key not published")
rc, doc, out = run_both(conf, "differs.example")
expect(doc, "differs.example", "dkim", "key s1", "fail", "DNS record differs",
       "published key differs")

rc, doc, out = run_both(conf, "dmarc-none.example")
expect(doc, "dmarc-none.example", "dmarc", "record", "fail", "no DMARC record",
       "DMARC missing")
t.ok(next(r for r in doc["requirements"] if "DMARC" in r["requirement"])
     ["status"] == "fail", "DMARC missing: the DMARC requirement line fails",
     doc["requirements"])
rc, doc, out = run_both(conf, "dmarc-pnone.example")
expect(doc, "dmarc-pnone.example", "dmarc", "policy", "warn", "p=none",
       "p=none")
t.is_(rc, 1, "warnings only: exit 1")
t.like(out, "status: warning (exit 1)", "text: warning (exit 1)")
rc, doc, out = run_both(conf, "dmarc-norua.example")
expect(doc, "dmarc-norua.example", "dmarc", "rua", "warn", "no rua", "no rua")
rc, doc, out = run_both(conf, "dmarc-ext.example")
expect(doc, "dmarc-ext.example", "dmarc", "rua-verify", "fail",
       "dmarc-ext.example._report._dmarc.reports.example",
       "external rua without its verification record")
rc, doc, out = run_both(conf, "dmarc-extok.example")
expect(doc, "dmarc-extok.example", "dmarc", "rua-verify", "ok", "reports.example",
       "external rua with its verification record (size limit after !)")
t.is_(rc, 0, "external rua verified: exit 0")

rc, doc, out = run_both(conf, "hostile.example")
t.ok(doc is not None and "\x1b" not in out and "\ufffd" not in out and
     "hostile.example?[31m?" in check(doc, "hostile.example", "dmarc",
                                      "record").get("detail", ""),
     "bytes from DNS: control and non-ASCII bytes shown as ?, JSON valid",
     out)

# ---- the sending host ----
for ip, helo, area_check, status, has, what in (
        ("192.0.2.26", "mail.good.example", "fcrdns 192.0.2.26", "fail",
         "no PTR record", "no PTR"),
        ("192.0.2.27", "ghost.good.example", "fcrdns 192.0.2.27", "fail",
         "ghost.good.example does not resolve to 192.0.2.27",
         "PTR whose name does not resolve back"),
        (OUT, "other.good.example", "helo", "fail", "other.good.example",
         "HELO name mismatch")):
    cfg = h.write_conf(dict(base, doctor_outbound_ips=ip,
                            doctor_helo_name=helo), "host.conf")
    rc, doc, out = run_both(cfg, "good.example")
    expect(doc, "host", "host", area_check, status, has, what)
    t.is_(rc, 2, "%s: exit 2" % what)
    t.ok(next(r for r in doc["requirements"] if "reverse DNS" in
              r["requirement"])["status"] == ("fail" if "fcrdns" in area_check
                                              else "pass"),
         "%s: the FCrDNS requirement line agrees" % what, doc["requirements"])

# IPv6, the address written otherwise than DNS gives it back.
cfg = h.write_conf(dict(base, doctor_outbound_ips="2001:DB8:0::25",
                        doctor_helo_name="mail6.good.example"), "host6.conf")
rc, doc, out = run_both(cfg, "good.example")
expect(doc, "host", "host", "fcrdns 2001:DB8:0::25", "ok", "mail6.good.example",
       "IPv6 outbound address")
expect(doc, "host", "host", "helo", "ok", "", "IPv6 outbound address")

# Empty settings: the addresses and HELO name of Postfix's myhostname,
# from `postconf -h myhostname` (a stand-in first in PATH).
bindir = os.path.join(h.tmp, "bin")
os.mkdir(bindir)
with open(os.path.join(bindir, "postconf"), "w") as f:
    f.write("#!/bin/sh\n[ \"$*\" = '-h myhostname' ] && echo mail.good.example\n")
os.chmod(os.path.join(bindir, "postconf"), stat.S_IRWXU | stat.S_IRGRP |
         stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
env = h.san_env()
env["PATH"] = bindir + ":" + env.get("PATH", "/usr/bin:/bin")
cfg = h.write_conf(dict(base, doctor_outbound_ips="", doctor_helo_name=""),
                   "myhostname.conf")
rc, doc, out = run_both(cfg, "good.example", env=env)
t.is_((rc, doc["host"]["helo"], doc["host"]["outbound_ips"]),
      (0, "mail.good.example", [OUT]),
      "no settings: myhostname from postconf, its address; exit 0")

# ---- could not check: exit 3 ----
cfg = h.write_conf(dict(base, dns_resolver="127.0.0.1@%d" % free_port(),
                        dns_timeout="1s"), "nodns.conf")
rc, doc, out = run_both(cfg, "good.example")
t.is_(rc, 3, "DNS unreachable: exit 3")
expect(doc, "good.example", "spf", "record", "unknown", "", "DNS unreachable")
t.like(out, "status: unknown (exit 3)", "text: unknown (exit 3)")
rc, out, err = doctor(conf, "--bogus")
t.is_((rc, out), (3, ""), "usage error: exit 3")
t.like(err, "usage: authfilter doctor", "usage error: the usage on stderr")
rc, out, err = doctor(conf, "not_a..domain")
t.is_(rc, 3, "a bad domain name: exit 3")
rc, out, err = doctor(h.write_conf({"dns_timeout": "forever"}, "bad.conf"))
t.is_(rc, 3, "a configuration error: exit 3")

# ---- the oldest active key's age: WARN past 180 days ----
state = os.path.join(kd, "good.example", "s1.state")
with open(state) as f:
    text = f.read()
with open(state, "w") as f:
    f.write(re.sub(r"^activated = .*$", "activated = 2020-01-01T00:00:00Z",
                   text, flags=re.M))
rc, doc, out = run_both(conf, "good.example")
expect(doc, "good.example", "dkim", "key-age", "warn", "days (rotate after 180)",
       "key activated in 2020")
t.is_(rc, 1, "an old key: exit 1")

h.finish()
t.done()
