#!/usr/bin/python3
# DKIM signatures and key records that libopendkim would read leniently
# get strict verdicts (issue 16, milter/dkimcheck.c): a tag given twice in
# a DKIM-Signature or a key record (RFC 6376 3.2), a key whose k= does not
# fit the signature's a= (RFC 6376 6.1.2 step 8), header.a= as the
# signature wrote it, key records up to 64 KiB, and l= signatures that
# cover only part of the body.  Messages are signed by python3-dkim (its
# own header builder where a defect must be signed in), keys are served by
# the loopback unbound, verdicts come from the Authentication-Results
# header the daemon sends through the milter protocol.
import base64
import os
import re
import subprocess
import sys

import dkim
import dkim.crypto
import nacl.encoding
import nacl.signing

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, ar_parse, milter_raw  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)


def run(*cmd, inp=None):
    return subprocess.run(cmd, input=inp, capture_output=True, check=True).stdout


def rsa_der(n, e=65537):
    """SubjectPublicKeyInfo DER of the RSA public key (n, e)."""
    def tlv(tag, body):
        ln = len(body)
        enc = bytes([ln]) if ln < 128 else (
            bytes([0x80 | ((ln.bit_length() + 7) // 8)]) +
            ln.to_bytes((ln.bit_length() + 7) // 8, "big"))
        return bytes([tag]) + enc + body

    def integer(v):
        return tlv(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))
    alg = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    return tlv(0x30, alg + tlv(0x03, b"\x00" + tlv(0x30, integer(n) + integer(e))))


rsa = run("openssl", "genrsa", "-traditional", "2048")
rsa_pub = base64.b64encode(run("openssl", "rsa", "-pubout", "-outform", "DER",
                               inp=rsa)).decode()
# An 8192-bit RSA public key (any odd modulus will do: nothing is signed
# with it), too long for libopendkim's 1 KiB key buffer.
n8k = int.from_bytes(os.urandom(1024), "big") | (1 << 8191) | 1
big_pub = base64.b64encode(rsa_der(n8k)).decode()
ed = nacl.signing.SigningKey.generate()
ed_seed = base64.b64encode(ed.encode())
ed_pub = base64.b64encode(ed.verify_key.encode()).decode()


def txt(name, value):
    parts = " ".join('"%s"' % value[i:i + 255] for i in range(0, len(value), 255))
    return "%s._domainkey.example.net. 300 IN TXT %s" % (name, parts)


notes = "n=" + "x" * 20000 + "; "
huge_notes = "n=" + "y" * 62000 + "; "
records = [
    txt("rsa", "v=DKIM1; k=rsa; p=" + rsa_pub),
    txt("ed", "v=DKIM1; k=ed25519; p=" + ed_pub),
    txt("p2", "v=DKIM1; k=rsa; p=%s; p=%s" % (rsa_pub, rsa_pub)),
    txt("edasrsa", "v=DKIM1; k=rsa; p=" + ed_pub),
    txt("ednok", "v=DKIM1; p=" + ed_pub),
    txt("rsaased", "v=DKIM1; k=ed25519; p=" + rsa_pub),
    txt("notes2k", "v=DKIM1; k=rsa; n=" + "z" * 2000 + "; p=" + rsa_pub),
    txt("notes20k", "v=DKIM1; k=rsa; " + notes + "p=" + rsa_pub),
    txt("notes62k", "v=DKIM1; k=rsa; " + huge_notes + "p=" + rsa_pub),
    txt("bigp", "v=DKIM1; k=rsa; p=" + "A" * 1400),
    txt("big8k", "v=DKIM1; k=rsa; p=" + big_pub),
    '_dmarc.example.net. 300 IN TXT "v=DMARC1; p=reject"',
]
h.start_dns(records)
af = h.start_authfilter()

HDRS = [b"from", b"to", b"subject", b"message-id"]


def msg(tag, body=b"Hi.\r\n\r\nWe lost the game.\r\n"):
    return (b"From: Joe <joe@example.net>\r\nTo: suzie@example.org\r\n"
            b"Subject: %s\r\nMessage-ID: <%s@example.net>\r\n\r\n"
            % (tag.encode(), tag.encode())) + body


def sign(m, sel, key=rsa, alg=b"rsa-sha256", **kw):
    return dkim.sign(m, sel, b"example.net", key, signature_algorithm=alg,
                     include_headers=HDRS, **kw) + m


def sign_tags(m, sel, change, key=rsa, alg=b"rsa-sha256"):
    """Sign m with the tag list changed by change(list of (tag, value))
    before signing, so the change is covered by the signature: the
    signature verifies for a verifier that takes the last of two tags."""
    d = dkim.DKIM(m, signature_algorithm=alg)
    policy = dkim.CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
    d.hasher = dkim.HASH_ALGORITHMS[alg]
    bh = base64.b64encode(d.hasher(policy.canonicalize_body(d.body)).digest())
    fields = [(b"v", b"1"), (b"a", alg), (b"c", b"relaxed/relaxed"),
              (b"d", b"example.net"), (b"s", sel),
              (b"h", b":".join(HDRS)), (b"bh", bh)]
    fields = change(fields) + [(b"b", b"0" * 60)]
    pk = (nacl.signing.SigningKey(key, encoder=nacl.encoding.Base64Encoder)
          if alg == b"ed25519-sha256" else dkim.crypto.parse_pem_private_key(key))
    return b"DKIM-Signature: " + d.gen_header(fields, HDRS, policy,
                                              b"DKIM-Signature", pk) + m


def verdict(raw):
    """(["dkim=... header.d=..."], AR text) for one message."""
    code, ars = milter_raw(af.port, raw, "<joe@example.net>")
    if code != b"c" or len(ars) != 1:
        return ["no verdict (%r)" % code], ""
    text = re.sub(r"\s+", " ", ars[0])
    return [r for r in ar_parse(ars[0])[1:] if r.startswith("dkim=")], text


def check(name, raw, want, comment=None, absent=None):
    got, text = verdict(raw)
    t.ok(len(got) == 1 and re.search(want, got[0]), "%s: %s" % (name, want),
         "got %r" % got)
    if comment is not None:
        t.like(text, comment, "%s: the AR says %r" % (name, comment))
    if absent is not None:
        t.ok(absent not in text, "%s: the AR does not say %r" % (name, absent),
             text)


# ---- the control: both keys, signed plainly ----
check("rsa", sign(msg("rsa"), b"rsa"), r"^dkim=pass header\.d=example\.net "
      r"header\.s=rsa header\.a=rsa-sha256")
check("ed25519", sign_tags(msg("ed"), b"ed", lambda f: f, key=ed_seed,
                           alg=b"ed25519-sha256"),
      r"^dkim=pass header\.d=example\.net header\.s=ed header\.a=ed25519-sha256")

# ---- a tag twice in the DKIM-Signature (RFC 6376 3.2) ----
check("d= twice", sign_tags(msg("dup-d"), b"rsa",
                            lambda f: f + [(b"d", b"example.net")]),
      r"^dkim=permerror header\.d=example\.net header\.s=rsa "
      r"header\.a=rsa-sha256", 'tag "d" occurs twice')
check("s= twice", sign_tags(msg("dup-s"), b"rsa",
                            lambda f: [(b"s", b"ed")] + f),
      r"^dkim=permerror header\.d=example\.net", 'tag "s" occurs twice')
check("D= beside d=", sign_tags(msg("dup-D"), b"rsa",
                                lambda f: f + [(b"D", b"example.net")]),
      r"^dkim=permerror header\.d=example\.net",
      'tags "d" and "D" differ only in case')

# ---- key records ----
check("p= twice in the key record", sign(msg("p2"), b"p2"),
      r"^dkim=permerror header\.d=example\.net header\.s=p2",
      'key record: tag "p" occurs twice')
check("k=rsa key, a=ed25519-sha256", sign_tags(
    msg("edasrsa"), b"edasrsa", lambda f: f, key=ed_seed, alg=b"ed25519-sha256"),
    r"^dkim=permerror header\.d=example\.net header\.s=edasrsa "
    r"header\.a=ed25519-sha256", "key k=rsa does not fit a=ed25519-sha256")
check("no k= (rsa) key, a=ed25519-sha256", sign_tags(
    msg("ednok"), b"ednok", lambda f: f, key=ed_seed, alg=b"ed25519-sha256"),
    r"^dkim=permerror header\.d=example\.net header\.s=ednok",
    "key k=rsa does not fit")
# libopendkim reuses the key of an earlier signature with the same d= and
# s= without asking us again: the check still applies to the second one.
two = sign(sign_tags(msg("reuse"), b"edasrsa", lambda f: f, key=ed_seed,
                     alg=b"ed25519-sha256"), b"edasrsa")
got, text = verdict(two)
t.ok(len(got) == 2 and got[1].startswith("dkim=permerror") and
     "header.a=ed25519-sha256" in got[1] and
     "key k=rsa does not fit a=ed25519-sha256" in text,
     "the same k=rsa key for an rsa and an ed25519 signature: the ed25519 "
     "one is a permerror too", "got %r, %s" % (got, text))
check("k=ed25519 key, a=rsa-sha256", sign(msg("rsaased"), b"rsaased"),
      r"^dkim=permerror header\.d=example\.net header\.s=rsaased "
      r"header\.a=rsa-sha256", "key k=ed25519 does not fit a=rsa-sha256")
check("2 KB key record (notes before p=)", sign(msg("notes2k"), b"notes2k"),
      r"^dkim=pass header\.d=example\.net header\.s=notes2k")
check("20 KB key record", sign(msg("notes20k"), b"notes20k"),
      r"^dkim=pass header\.d=example\.net header\.s=notes20k")
check("62 KB key record", sign(msg("notes62k"), b"notes62k"),
      r"^dkim=pass header\.d=example\.net header\.s=notes62k")
check("8192-bit key, too long for libopendkim", sign(msg("big8k"), b"big8k"),
      r"^dkim=policy header\.d=example\.net header\.s=big8k",
      "8192-bit key is too long for the verifier")
check("a long p= that is no key", sign(msg("bigp"), b"bigp"),
      r"^dkim=permerror header\.d=example\.net header\.s=bigp",
      "key record: p= is not a key")

# ---- header.a is the signature's own a= ----
nod = sign_tags(msg("no-d"), b"rsa",
                lambda f: [x for x in f if x[0] != b"d"])
check("no d=, a=rsa-sha256", nod, r"^dkim=permerror .*header\.a=rsa-sha256",
      absent="rsa-sha1")
odd = sign_tags(msg("sha512"), b"rsa", lambda f: [
    (k, b"rsa-sha512" if k == b"a" else v) for k, v in f])
check("a=rsa-sha512", odd, r"^dkim=permerror header\.d=example\.net "
      r"header\.s=rsa header\.a=rsa-sha512")

# ---- l= ----
for c in (b"simple", b"relaxed"):
    name = "l=, c=relaxed/%s" % c.decode()
    m = msg("l-" + c.decode())
    raw = sign(m, b"rsa", length=True, canonicalize=(b"relaxed", c))
    # the canonical body: 26 bytes either way, 45 with the text
    check(name + ", nothing added", raw, r"^dkim=pass", absent="l= covers")
    check(name + ", text appended", raw + b"Unsigned: we won!\r\n",
          r"^dkim=pass", "l= covers 26 of 45 body bytes")
    # trailing empty lines are not in the canonical body: all is covered
    check(name + ", empty lines appended", raw + b"\r\n\r\n\r\n",
          r"^dkim=pass", absent="l= covers")

# relaxed: white space at line ends is not in the canonical body either
m = msg("l-wsp", body=b"Hi.   \r\n\r\nWe  lost the game. \r\n")
check("l=, c=relaxed/relaxed, white space at line ends",
      sign(m, b"rsa", length=True, canonicalize=(b"relaxed", b"relaxed")),
      r"^dkim=pass", absent="l= covers")

# A pass that signs part of the body only does not make DMARC pass
# (example.net publishes p=reject), unless dmarc_allow_partial_body.
def dmarc_of(text):
    m = re.search(r"dmarc=(\w+)( \([^)]*\))?", text)
    return m.group(0) if m else "no dmarc= in %r" % text


lpart = sign(msg("l-dmarc"), b"rsa", length=True) + b"Unsigned: we won!\r\n"
got, text = verdict(lpart)
t.like(dmarc_of(text), "dmarc=fail", "l= pass covering part of the body: "
       "DMARC fails")
t.like(dmarc_of(text), "signs part of the body only, l=", "and says why")
got, text = verdict(sign(msg("l-dmarc-whole"), b"rsa", length=True))
t.like(dmarc_of(text), "dmarc=pass", "l= covering the whole body: DMARC "
       "passes")
t.ok(af.alive(), "the daemon stays up")
h.stop_authfilter(af)
af = h.start_authfilter({"dmarc_allow_partial_body": "yes"}, name="partial")
got, text = verdict(lpart)
t.like(dmarc_of(text), "dmarc=pass", "dmarc_allow_partial_body = yes: the "
       "partial pass counts")
t.done()
