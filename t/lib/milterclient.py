"""milterclient.py -- speak the milter protocol to a milter as an MTA does.

Used by the end-to-end tests for what a real MTA will not send (NUL
bytes, 10,000 headers, disconnects at any step), and by nothing else.
Protocol: sendmail's libmilter/docs and mfdef.h (version 6).
"""
import socket
import struct

SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_QUARANTINE, SMFIF_SETSYMLIST = 0x1, 0x10, 0x20, 0x100
SMFIP_HDR_LEADSPC = 0x00100000
# "no reply" stages (mfdef.h SMFIP_NR_*), by the command they answer
NOREPLY = {b"C": 0x1000, b"H": 0x2000, b"M": 0x4000, b"R": 0x8000,
           b"L": 0x80, b"N": 0x40000, b"B": 0x80000}

# Reply codes a milter can send.
CONTINUE, ACCEPT, REJECT, TEMPFAIL, REPLYCODE = b"c", b"a", b"r", b"t", b"y"
MODIFY_CODES = (b"h", b"i", b"m", b"+", b"-", b"q", b"e", b"b")


class MilterError(Exception):
    pass


def split_message(raw):
    """(headers, body) of a raw message as Postfix hands them to a milter:
    [name, value] pairs with folded lines joined by LF (the value keeps
    its leading space), and the body with CRLF line ends."""
    raw = raw.replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    hdrs = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and hdrs:
            hdrs[-1][1] += b"\n" + line
        elif b":" in line:
            name, value = line.split(b":", 1)
            hdrs.append([name, value])
    return hdrs, body.replace(b"\n", b"\r\n")


class Milter:
    """noreply=True offers every "no reply" stage, as Postfix does; a
    stage the milter agrees to is sent without waiting (its method
    returns (None, None))."""

    def __init__(self, host, port, timeout=20.0, leadspc=True, noreply=False):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.mods = []
        self.progress = 0          # SMFIR_PROGRESS seen at the last EOM
        actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST
        proto = SMFIP_HDR_LEADSPC if leadspc else 0
        if noreply:
            for bit in NOREPLY.values():
                proto |= bit
        self._send(b"O", struct.pack(">III", 6, actions, proto))
        code, data = self._recv()
        if code != b"O":
            raise MilterError("negotiation answered %r" % code)
        self.version, self.actions, self.protocol = struct.unpack(">III", data[:12])
        self.symlists = data[12:]

    # -- framing --
    def _send(self, cmd, data=b""):
        self.sock.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def _recvn(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise MilterError("milter closed the connection")
            buf += chunk
        return buf

    def _recv(self):
        (length,) = struct.unpack(">I", self._recvn(4))
        body = self._recvn(length)
        return body[:1], body[1:]

    def _reply(self, cmd):
        """The reply to a stage, or (None, None) when it has none."""
        if self.protocol & NOREPLY.get(cmd, 0):
            return None, None
        return self._final()

    def _final(self):
        """Read replies up to the final one; keep modifications."""
        reply_text = None
        while True:
            code, data = self._recv()
            if code in MODIFY_CODES:
                self.mods.append((code, data))
                continue
            if code == b"p":            # progress
                self.progress += 1
                continue
            if code == REPLYCODE:
                reply_text = data.rstrip(b"\0").decode("latin-1")
            return code, reply_text

    # -- commands --
    def macros(self, stage, pairs):
        data = stage
        for k, v in pairs.items():
            data += k.encode() + b"\0" + v.encode() + b"\0"
        self._send(b"D", data)

    def connect(self, hostname="client.test", ip="192.0.2.1", port=25000, macros=None):
        if macros:
            self.macros(b"C", macros)
        fam = b"6" if ":" in ip else b"4"
        self._send(b"C", hostname.encode() + b"\0" + fam +
                   struct.pack(">H", port) + ip.encode() + b"\0")
        return self._reply(b"C")

    def helo(self, name="client.test"):
        self._send(b"H", name.encode() + b"\0")
        return self._reply(b"H")

    def mail(self, sender="<a@example.org>", macros=None):
        if macros:
            self.macros(b"M", macros)
        self._send(b"M", sender.encode() + b"\0")
        return self._reply(b"M")

    def rcpt(self, rcpt="<b@example.net>"):
        self._send(b"R", rcpt.encode() + b"\0")
        return self._reply(b"R")

    def header(self, name, value, expect_reply=True):
        """name and value are bytes or str; NUL bytes are sent as is."""
        if isinstance(name, str):
            name = name.encode()
        if isinstance(value, str):
            value = value.encode()
        self._send(b"L", name + b"\0" + value + b"\0")
        return self._reply(b"L") if expect_reply else None

    def eoh(self):
        self._send(b"N")
        return self._reply(b"N")

    def body(self, data):
        self._send(b"B", data)
        return self._reply(b"B")

    def eom(self, macros=None):
        if macros:
            self.macros(b"E", macros)
        self.mods = []
        self.progress = 0
        self._send(b"E")
        return self._final()

    def abort(self):
        self._send(b"A")          # no reply expected

    def quit_nc(self):
        """QUIT_NC: this session ends, the connection stays for another."""
        self._send(b"K")

    def quit(self):
        try:
            self._send(b"Q")
        finally:
            self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_raw(self, data):
        self.sock.sendall(data)

    def inserted_headers(self):
        """[(index, name, value)] of the last EOM's insert/add requests."""
        out = []
        for code, data in self.mods:
            if code == b"i":
                idx = struct.unpack(">I", data[:4])[0]
                name, value = data[4:].split(b"\0")[:2]
                out.append((idx, name.decode(), value.decode("latin-1")))
            elif code == b"h":
                name, value = data.split(b"\0")[:2]
                out.append((-1, name.decode(), value.decode("latin-1")))
        return out

    def changed_headers(self):
        """[(index, name, value)] of the last EOM's change/delete requests."""
        out = []
        for code, data in self.mods:
            if code == b"m":
                idx = struct.unpack(">I", data[:4])[0]
                name, value = data[4:].split(b"\0")[:2]
                out.append((idx, name.decode(), value.decode("latin-1")))
        return out

    def message(self, headers, body=b"hello\r\n", sender="<a@example.org>",
                rcpt="<b@example.net>", mail_macros=None, eom_macros=None):
        """One whole message; returns the final reply of the first step that
        did not continue, or of EOM."""
        for step in (lambda: self.mail(sender, mail_macros), lambda: self.rcpt(rcpt)):
            code, text = step()
            if code not in (CONTINUE, None):
                return code, text
        for name, value in headers:
            code, text = self.header(name, value)
            if code not in (CONTINUE, None):
                return code, text
        code, text = self.eoh()
        if code not in (CONTINUE, None):
            return code, text
        if body:
            code, text = self.body(body)
            if code not in (CONTINUE, None):
                return code, text
        return self.eom(eom_macros)
