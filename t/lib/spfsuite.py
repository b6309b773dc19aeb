"""The pyspf project's YAML SPF test suite (RFC 7208 / RFC 4408) as real
DNS: each scenario's zonedata becomes unbound local-data, so our daemon and
pyspf both resolve through a real server on 127.0.0.1.

The suite's own driver (pyspf test/testspf.py) gives zonedata these
meanings, kept here:
  - SPF records of a name with no TXT record are also served as TXT;
    "TXT: NONE" means no TXT record (and none generated).
  - TIMEOUT: queries for the name time out, except for types listed
    before it.  Here they get SERVFAIL instead (unbound forwards them to
    127.0.0.1, which it refuses to query): the same temperror, at once.
"""
import yaml


def load(path):
    with open(path, encoding="utf-8") as f:
        return [s for s in yaml.safe_load_all(f) if s]


def _txt(strings):
    out = []
    for s in strings:
        b = s.encode("utf-8")
        chunks = [b[i:i + 255] for i in range(0, len(b), 255)] or [b""]
        for c in chunks:
            esc = ""
            for ch in c:
                if ch in (0x22, 0x5c):
                    esc += "\\" + chr(ch)
                elif ch < 0x20 or ch > 0x7e:
                    esc += "\\%03d" % ch
                else:
                    esc += chr(ch)
            out.append('"%s"' % esc)
    return " ".join(out)


def _owner(name):
    """An owner name for unbound: odd octets (the macro scenario has
    spaces in names) as \\DDD."""
    return "".join(c if 0x21 <= ord(c) <= 0x7e and c not in '"\\' else
                   "\\%03d" % ord(c) for c in _fqdn(name))


def _fqdn(name):
    name = str(name)
    return name if name.endswith(".") else name + "."


def zone(scenario):
    """(local-data records, extra unbound lines, skipped notes)."""
    records, extra, forward, skipped = [], [], [], []
    for name, rrs in (scenario.get("zonedata") or {}).items():
        fq = _owner(name)
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in rrs)
        timeout = False
        for r in rrs:
            if r == "TIMEOUT":
                timeout = True
                break
            (t, v), = r.items()
            if t in ("TXT", "SPF"):
                if isinstance(v, str):
                    v = [v]
                if v == ["NONE"]:
                    continue
                v = v or [""]             # an RR without strings
                if t == "SPF":
                    if has_txt:
                        continue      # served as type 99 only: not asked
                    t = "TXT"
                records.append("%s TXT %s" % (fq, _txt(v)))
            elif t in ("A", "AAAA"):
                records.append("%s %s %s" % (fq, t, v))
            elif t == "MX":
                pref, host = v
                records.append("%s MX %d %s" % (fq, pref, _fqdn(host) if host else "."))
            elif t in ("PTR", "CNAME"):
                records.append("%s %s %s" % (fq, t, _fqdn(v)))
            else:
                skipped.append("%s %s" % (name, t))
        if timeout:
            extra.append('local-zone: "%s" typetransparent' % fq)
            forward.append(fq)
    # Names below a timing-out one answer from their own data.
    for name in (scenario.get("zonedata") or {}):
        fq = _fqdn(name).lower()
        if fq not in forward and any(fq.endswith("." + f.lower())
                                     for f in forward):
            extra.append('local-zone: "%s" static' % _owner(name))
    for fq in forward:
        extra += ["forward-zone:", '  name: "%s"' % fq,
                  "  forward-addr: 127.0.0.1@1"]
    # forward-zone clauses end the server: section; nothing may follow.
    return records, extra, skipped


def cases(scenario):
    for tid, t in sorted((scenario.get("tests") or {}).items()):
        res = t["result"]
        yield tid, {
            "host": t["host"],
            "helo": t.get("helo", ""),
            "mailfrom": t.get("mailfrom", ""),
            "expected": res if isinstance(res, list) else [res],
        }


def pyspf_result(port, host, mailfrom, helo):
    """pyspf 2.0 on the same DNS server (dnspython, port given)."""
    import dns.resolver
    import spf
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = port
    r.lifetime = 5
    dns.resolver.default_resolver = r
    q = spf.query(i=host, s=mailfrom, h=helo, timeout=5, querytime=10)
    return q.check()[0]
