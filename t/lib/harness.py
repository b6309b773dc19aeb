"""harness.py -- real servers for end-to-end tests, on 127.0.0.1 only.

    h = Harness(tap)
    dns = h.start_dns(['example.org. 300 IN TXT "v=spf1 -all"'])
    af = h.start_authfilter({"authserv_id": "mx.test"})
    sink = h.start_sink()
    smtp = h.start_postfix(milter_port=af.port, sink_port=sink)
    r = h.send(smtp, message_bytes)          # swaks, from 127.0.0.2
    text = h.wait_delivered("Subject: hello")
    h.finish()                               # stops all by pid, checks sanitizers

Everything lives in one temporary directory; every process started is
stopped by its pid (never by name).  The authfilter binary is the one in
$AF_BUILDDIR, so the same tests run against the sanitizer builds.  Set
AF_KEEP=1 to keep the directory for a post-mortem.
"""
import atexit
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("AF_SRCDIR", os.path.dirname(os.path.dirname(HERE)))
BUILDDIR = os.environ.get("AF_BUILDDIR", SRCDIR)
AUTHFILTER = os.path.join(BUILDDIR, "authfilter")
AUTHFILTER_KEYS = os.path.join(BUILDDIR, "authfilter-keys")
# The unprivileged user the daemon switches to in tests.
TEST_USER = "nobody"
# Set by .ci/run for sanitizer builds ("asan", "tsan"): memory figures
# mean nothing there (freed memory is held in quarantine).
SANITIZER = os.environ.get("AF_SANITIZER", "")


def skip_single_threaded_under_tsan(t):
    """For a test that runs only single-threaded programs (the report
    tools, the store's unit test): the ASan+UBSan stage runs it;
    ThreadSanitizer has nothing to see there."""
    if os.environ.get("AF_SANITIZER") == "tsan":
        t.skip_all("single-threaded programs only: not a ThreadSanitizer test")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10.0, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


class Daemon:
    """A running authfilter."""

    def __init__(self, proc, port, conf, log):
        self.proc, self.port, self.conf, self.log = proc, port, conf, log

    @property
    def pid(self):
        return self.proc.pid

    @property
    def pids(self):
        """The daemon and its children (the signer process): what its
        CPU and memory are summed over."""
        out = [self.proc.pid]
        try:
            for task in os.listdir("/proc/%d/task" % self.proc.pid):
                with open("/proc/%d/task/%s/children" % (self.proc.pid, task)) as f:
                    out += [int(x) for x in f.read().split()]
        except OSError:
            pass
        return out

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        os.kill(self.proc.pid, sig)


class Harness:
    def __init__(self, tap):
        self.tap = tap
        self.tmp = tempfile.mkdtemp(prefix="af-e2e-")
        os.chmod(self.tmp, 0o755)
        self.no_keys = os.path.join(self.tmp, "no-keys")
        self.san = os.path.join(self.tmp, "sanitizer")
        os.mkdir(self.san)
        os.chmod(self.san, 0o1777)
        self.procs = []
        self.detached = []      # (name, pid) of daemons not our children
        self.postfix_dir = None
        self.sink_dir = None
        self.finished = False
        atexit.register(self.cleanup)
        # A hung test must end, and its servers with it (atexit stops
        # them by pid): SIGALRM raises in the main thread.
        if not getattr(Harness, "_alarm_set", False):
            Harness._alarm_set = True

            def too_long(signum, frame):
                raise TimeoutError("test file ran longer than %ss" % limit)
            limit = int(os.environ.get("AF_TEST_TIMEOUT", "900"))
            signal.signal(signal.SIGALRM, too_long)
            signal.alarm(limit)

    # ---- environment for sanitizer builds ----
    def san_env(self):
        env = dict(os.environ)
        supp = os.path.join(SRCDIR, "t", "sanitizer")
        env["ASAN_OPTIONS"] = "log_path=%s/asan:detect_leaks=1" % self.san
        env["LSAN_OPTIONS"] = ("suppressions=%s/lsan.supp:fast_unwind_on_malloc=0:"
                               "print_suppressions=0"
                               % supp)
        env["UBSAN_OPTIONS"] = ("log_path=%s/ubsan:print_stacktrace=1:"
                                "halt_on_error=1" % self.san)
        env["TSAN_OPTIONS"] = ("log_path=%s/tsan:suppressions=%s/tsan.supp"
                               % (self.san, supp))
        return env

    def sanitizer_reports(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.san, "*"))):
            with open(path, errors="replace") as f:
                out.append("%s:\n%s" % (os.path.basename(path), f.read()))
        # A report a sanitizer could not put in its log_path (UBSan in
        # the signer process writes to stderr) lands in a daemon's log.
        for path in sorted(glob.glob(os.path.join(self.tmp, "*.log"))):
            with open(path, errors="replace") as f:
                bad = [line for line in f if re.search(
                    r"runtime error: |==\d+==ERROR: |WARNING: ThreadSanitizer", line)]
            if bad:
                out.append("%s:\n%s" % (os.path.basename(path), "".join(bad[:20])))
        return "\n".join(out)

    # ---- DNS: unbound answering only from local data ----
    @staticmethod
    def unbound_conf(d, port, records, extra=(), control=None):
        lines = [
            "server:",
            "  interface: 127.0.0.1", "  port: %d" % port,
            "  do-ip6: no", "  do-daemonize: no", '  chroot: ""',
            '  username: ""', '  directory: "%s"' % d, '  pidfile: ""',
            "  use-syslog: no", '  logfile: ""', "  verbosity: 1",
            "  access-control: 127.0.0.0/8 allow",
            "  module-config: iterator",
            # Nothing is ever looked up outside: names not written by the
            # test get NXDOMAIN.
            '  local-zone: "." static',
        ]
        for rr in records:
            lines.append("  local-data: '%s'" % rr.replace("'", "\\'"))
        lines += ["  " + x for x in extra]
        if control:
            # unbound-control over a unix socket: the test edits records
            # while the daemon runs (dns_set / dns_remove).
            lines += ["remote-control:", "  control-enable: yes",
                      '  control-interface: "%s"' % control,
                      "  control-use-cert: no"]
        else:
            lines += ["remote-control:", "  control-enable: no"]
        conf = os.path.join(d, "unbound.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        return conf

    def start_dns(self, records, extra=(), control=False, port=None,
                  log_queries=False):
        """extra: more unbound server: lines, e.g. 'local-zone: "x." refuse'
        for a zone whose queries get REFUSED.  control: records can be
        changed later with dns_set() / dns_remove().  port: a given one
        (default: a free one).  log_queries: every query the server gets
        is logged, for dns_queries()."""
        port = port or free_port()
        self.dns_runs = getattr(self, "dns_runs", 0) + 1
        d = os.path.join(self.tmp, "dns" if self.dns_runs == 1 else
                         "dns%d" % self.dns_runs)
        os.mkdir(d)
        self.dns_records = list(records)
        self.dns_query_log = os.path.join(d, "queries.log")
        if log_queries:
            extra = list(extra) + ["log-queries: yes",
                                   'logfile: "%s"' % self.dns_query_log]
        ctl = os.path.join(d, "control.sock") if control else None
        conf = self.unbound_conf(d, port, records, extra, ctl)
        self.dns_conf = conf
        log = open(os.path.join(d, "unbound.log"), "w")
        proc = subprocess.Popen(["unbound", "-d", "-c", conf],
                                stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(("unbound", proc))

        def up():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return True         # bound by unbound
            finally:
                s.close()
            return False
        if not wait_for(up) or proc.poll() is not None:
            raise RuntimeError("unbound did not start: see " + log.name)
        self.dns_port = port
        self.dns_proc = proc
        return port

    def dns_queries(self, name, rrtype="TXT"):
        """How many queries for name (and type) the server of the last
        start_dns(log_queries=True) got; unbound writes each line at once."""
        try:
            with open(self.dns_query_log, errors="replace") as f:
                text = f.read()
        except OSError:
            return 0
        return text.count(" %s. %s IN\n" % (name.rstrip("."), rrtype))

    def _unbound_control(self, *args):
        r = subprocess.run(["unbound-control", "-c", self.dns_conf] +
                           list(args), capture_output=True, text=True,
                           timeout=10)
        if r.returncode != 0 or "error" in r.stdout:
            raise RuntimeError("unbound-control %s: %s%s" % (args, r.stdout,
                                                             r.stderr))

    def dns_set(self, rr):
        """Add one record (local-data syntax) to the running server."""
        self._unbound_control("local_data", rr)

    def dns_remove(self, name):
        """Remove every record of name from the running server."""
        self._unbound_control("local_data_remove", name)

    def stop_dns(self):
        """Stop the unbound of the last start_dns(), by pid."""
        proc = self.dns_proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = [(n, p) for n, p in self.procs if p is not proc]
        self.dns_port = None

    # ---- authfilter ----
    def state_dir(self):
        """A directory the daemon's user may write (its report store)."""
        d = os.path.join(self.tmp, "state")
        if not os.path.isdir(d):
            os.mkdir(d)
            if os.geteuid() == 0:
                shutil.chown(d, TEST_USER)
        return d

    def user_binary(self, path):
        """A copy of a built program that the test user can run (Postfix's
        pipe runs it as that user): a clone may be under a directory only
        root can enter, such as /root."""
        d = os.path.join(self.tmp, "bin")
        if not os.path.isdir(d):
            os.mkdir(d)
            os.chmod(d, 0o755)
        dest = os.path.join(d, os.path.basename(path))
        if not os.path.exists(dest):
            shutil.copy2(path, dest)
            os.chmod(dest, 0o755)
        return dest

    def write_conf(self, settings, name="authfilter.conf"):
        """A config file; key_dir defaults to an empty directory of this
        test, never the host's /etc/authfilter/keys (tests are hermetic)."""
        settings = dict(settings)
        settings.setdefault("key_dir", self.no_keys)
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))
        os.chmod(path, 0o644)
        return path

    def start_authfilter(self, settings=None, name="authfilter", nofile=None,
                         env=None):
        """nofile: the daemon's limit of open files (soft and hard).
        env: more environment for the daemon
        (ASan is then told not to insist on coming first)."""
        port = free_port()
        conf = {
            "milter_socket": "inet:%d@127.0.0.1" % port,
            "authserv_id": "mx.test",
            "user": TEST_USER,
            # 127.0.0.2 plays the Internet in these tests.
            "internal_networks": "127.0.0.1/32",
            "log_format": "json",
        }
        # Hermetic: never the host's resolvers (every inbound message
        # makes SPF queries); a test without zone data gets an empty one.
        if not getattr(self, "dns_port", None):
            self.start_dns([])
        conf["dns_resolver"] = "127.0.0.1@%d" % self.dns_port
        # Hermetic too: DMARC evaluations go to a store of this test
        # (never the host's /var/lib/authfilter), which the daemon's
        # user creates.
        conf["report_db"] = os.path.join(self.state_dir(), name + ".db")
        conf.update(settings or {})
        path = self.write_conf(conf, name + ".conf")
        log = os.path.join(self.tmp, name + ".log")
        logf = open(log, "a")
        limit = None
        if nofile is not None:
            import resource

            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        full_env = self.san_env()
        if env:
            full_env.update(env)
        proc = subprocess.Popen([AUTHFILTER, "-f", "-c", path], stdout=logf,
                                stderr=subprocess.STDOUT, env=full_env,
                                preexec_fn=limit)
        self.procs.append((name, proc))
        d = Daemon(proc, port, path, log)
        if not wait_for(lambda: "listening on" in d.log_text() or
                        proc.poll() is not None, timeout=20):
            raise RuntimeError("authfilter did not start:\n" + d.log_text())
        if proc.poll() is not None:
            raise RuntimeError("authfilter exited:\n" + d.log_text())
        return d

    def stop_authfilter(self, d, sig=signal.SIGTERM, timeout=30):
        """Stop by pid; returns the exit status."""
        if d.proc.poll() is None:
            d.proc.send_signal(sig)
        try:
            return d.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait()
            return "timeout"

    # ---- SMTP sink and Postfix ----
    def start_sink(self):
        port = free_port()
        self.sink_dir = os.path.join(self.tmp, "sink")
        os.mkdir(self.sink_dir)
        shutil.chown(self.sink_dir, "postfix")
        proc = subprocess.Popen(["smtp-sink", "-u", "postfix", "-d",
                                 self.sink_dir + "/%M.", "127.0.0.1:%d" % port,
                                 "256"])
        self.procs.append(("smtp-sink", proc))
        if not wait_for(lambda: self._listening(port)):
            raise RuntimeError("smtp-sink did not start")
        return port

    @staticmethod
    def _listening(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def start_postfix(self, milter_port, sink_port, extra=None):
        port = free_port()
        d = self.postfix_dir = os.path.join(self.tmp, "postfix")
        for sub in ("", "queue", "data"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        shutil.chown(os.path.join(d, "data"), "postfix")
        main = {
            "compatibility_level": "3.6",
            "queue_directory": d + "/queue",
            "data_directory": d + "/data",
            "mail_owner": "postfix",
            "myhostname": "mx.test",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mydestination": "",
            "relayhost": "[127.0.0.1]:%d" % sink_port,
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "smtp_dns_support_level": "disabled",
            "alias_maps": "", "alias_database": "",
            "local_recipient_maps": "",
            "smtpd_tls_security_level": "none",
            "smtp_tls_security_level": "none",
            "smtputf8_enable": "no",
            "biff": "no",
            "milter_default_action": "tempfail",
            "smtpd_milters": "inet:127.0.0.1:%d" % milter_port,
            "maillog_file": d + "/maillog",
            "maillog_file_prefixes": d,
        }
        main.update(extra or {})
        with open(os.path.join(d, "main.cf"), "w") as f:
            for k, v in main.items():
                f.write("%s = %s\n" % (k, v))
        services = [
            "127.0.0.1:%d inet n - n - - smtpd" % port,
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]
        with open(os.path.join(d, "master.cf"), "w") as f:
            f.write("\n".join(services) + "\n")
        r = subprocess.run(["postfix", "-c", d, "start"], capture_output=True,
                           text=True)
        if r.returncode != 0 or not wait_for(lambda: self._listening(port)):
            raise RuntimeError("postfix did not start: %s %s\n%s" % (
                r.stdout, r.stderr, self.maillog()))
        self.smtp_port = port
        return port

    def postfix(self, *args):
        return subprocess.run(list(args[:1]) + ["-c", self.postfix_dir] +
                              list(args[1:]), capture_output=True, text=True)

    def maillog(self):
        try:
            with open(os.path.join(self.postfix_dir, "maillog"),
                      errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def queue_listing(self):
        return self.postfix("postqueue", "-p").stdout

    def send(self, port, message, sender="sender@example.org",
             rcpt="rcpt@example.net", source="127.0.0.2", extra=()):
        """Send with swaks; returns (final SMTP code or None, swaks output)."""
        path = os.path.join(self.tmp, "msg-%d.eml" % time.monotonic_ns())
        with open(path, "wb") as f:
            f.write(message if isinstance(message, bytes) else message.encode())
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port),
                            "--local-interface", source, "--from", sender,
                            "--to", rcpt, "--data", "@" + path,
                            "--timeout", "60"] + list(extra),
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        codes = []
        for line in out.splitlines():
            # server replies: "<-  250 ..." or "<** 451 ..."; "-" marks a
            # continuation line of a multi-line reply.
            if line.startswith(("<- ", "<**")):
                parts = line[3:].split()
                if parts and parts[0][:3].isdigit() and parts[0][3:4] != "-":
                    codes.append(int(parts[0][:3]))
        if codes and codes[-1] == 221:      # the reply to our QUIT
            codes.pop()
        return (codes[-1] if codes else None), out

    @staticmethod
    def _strip_sink(text):
        """Drop what smtp-sink adds: its X-Client-* lines and Received."""
        lines = text.split("\n")
        i = 0
        while i < len(lines) and lines[i].startswith(
                ("X-Client-", "X-Helo-Args:", "X-Mail-Args:", "X-Rcpt-Args:")):
            i += 1
        if i < len(lines) and lines[i].startswith("Received:"):
            j = i + 1
            while j < len(lines) and lines[j][:1] in (" ", "\t"):
                j += 1
            if "by smtp-sink" in "\n".join(lines[i:j]):
                i = j
        return "\n".join(lines[i:])

    def delivered(self, settle=0.3):
        """Messages in the sink, as Postfix sent them (text, CRLF as LF).
        smtp-sink writes a file as the data arrives: files that changed in
        the last `settle` seconds may be incomplete and are left out."""
        out = []
        now = time.time()
        for path in sorted(glob.glob(os.path.join(self.sink_dir, "*"))):
            st = os.stat(path)
            if st.st_size == 0 or now - st.st_mtime < settle:
                continue
            with open(path, "rb") as f:
                text = f.read().decode("latin-1").replace("\r\n", "\n")
            out.append(self._strip_sink(text))
        return out

    def wait_delivered(self, needle, timeout=20):
        def find():
            for m in self.delivered():
                if needle in m:
                    return m
            return None
        return wait_for(find, timeout=timeout, step=0.1)

    # ---- independent DKIM verifiers ----
    def dns_txt(self, name):
        """TXT of name from the loopback server, as dkimpy's dnsfunc wants."""
        import dns.message
        import dns.query
        q = dns.message.make_query(name.decode() if isinstance(name, bytes)
                                   else name, "TXT")
        r = dns.query.udp(q, "127.0.0.1", port=self.dns_port, timeout=5)
        for rrset in r.answer:
            for rd in rrset:
                return b"".join(rd.strings)
        return None

    def dkimpy_verify(self, message):
        """[True/False per DKIM-Signature, top first] by python3-dkim."""
        import dkim
        if isinstance(message, str):
            message = message.encode("latin-1")
        message = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        d = dkim.DKIM(message)
        n = sum(1 for line in message.split(b"\r\n")
                if line.lower().startswith(b"dkim-signature:"))
        out = []
        for i in range(n):
            try:
                out.append(bool(d.verify(idx=i, dnsfunc=lambda name, timeout=5:
                                         self.dns_txt(name))))
            except dkim.DKIMException:
                out.append(False)
        return out

    def opendkim_verify(self, message):
        """(exit status, output) of opendkim-testmsg verifying message.

        opendkim-testmsg asks the system resolver on port 53, so it runs in
        a private mount and network namespace with its own loopback, an
        unbound on 127.0.0.1:53 serving the same records, and a
        bind-mounted resolv.conf.  Nothing leaves the namespace."""
        d = os.path.join(self.tmp, "ns-%d" % time.monotonic_ns())
        os.mkdir(d)
        conf = self.unbound_conf(d, 53, self.dns_records)
        with open(os.path.join(d, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")
        msg = os.path.join(d, "msg.eml")
        with open(msg, "wb") as f:
            data = message.encode("latin-1") if isinstance(message, str) else message
            f.write(data.replace(b"\r\n", b"\n"))
        script = (
            "ip link set lo up || exit 97\n"
            "unbound -d -c %(d)s/unbound.conf >%(d)s/unbound.log 2>&1 &\n"
            "ub=$!\n"
            "for i in $(seq 50); do\n"
            "  ss -lun | grep -q '127.0.0.1:53 ' && break; sleep 0.1\n"
            "done\n"
            "mount --bind %(d)s/resolv.conf /etc/resolv.conf || exit 98\n"
            "opendkim-testmsg < %(msg)s\n"
            "rc=$?\n"
            "kill $ub; wait $ub\n"
            "exit $rc\n") % {"d": d, "msg": msg}
        r = subprocess.run(["unshare", "--mount", "--net", "sh", "-c", script],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    # ---- key store through authfilter-keys ----
    def keys(self, conf, *args):
        r = subprocess.run([AUTHFILTER_KEYS, "-c", conf] + list(args),
                           capture_output=True, text=True, timeout=60,
                           env=self.san_env())
        return r.returncode, r.stdout, r.stderr

    def active_keys(self, conf, specs, checked=True):
        """Keys made by authfilter-keys and activated with --force, for
        (domain, alg, selector) in specs; their zone lines, for
        start_dns().  checked: each step is a test assertion."""
        records = []
        for dom, alg, sel in specs:
            rc, out, err = self.keys(conf, "new", dom, "--alg", alg, "--selector", sel)
            m = re.search(r'^(\S+) IN TXT \( (.*) \)$', out, re.M)
            if checked:
                self.tap.ok(rc == 0 and m, "key %s/%s made" % (dom, sel), out + err)
            if m:
                records.append("%s 300 IN TXT %s" % (m.group(1), m.group(2)))
            rc, out, err = self.keys(conf, "activate", dom, sel, "--force")
            if checked:
                self.tap.is_(rc, 0, "key %s/%s active" % (dom, sel))
        return records

    # ---- teardown ----
    def stop_all(self):
        if self.postfix_dir:
            self.postfix("postfix", "stop")
            pidfile = os.path.join(self.postfix_dir, "queue", "pid",
                                   "master.pid")
            try:
                pid = int(open(pidfile).read().split()[0])
                wait_for(lambda: not os.path.exists("/proc/%d" % pid), 10)
            except (OSError, ValueError):
                pass
            self.postfix_dir_stopped = True
        for name, pid in reversed(self.detached):
            self.stop_pid(pid)
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def adopt(self, name, pid):
        """A detached daemon (not our child), stopped by pid with the rest."""
        self.detached.append((name, pid))

    @staticmethod
    def stop_pid(pid, timeout=30):
        """SIGTERM, then SIGKILL after timeout; True when it was gone
        before the SIGKILL."""
        def gone():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    return f.read().split(")")[-1].split()[0] == "Z"
            except OSError:
                return True
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return True
        if wait_for(gone, timeout):
            return True
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_for(gone, 10)
        return False

    def finish(self):
        """Stop everything and assert that no sanitizer reported."""
        self.stop_all()
        reports = self.sanitizer_reports()
        self.tap.ok(reports == "", "no sanitizer reports", reports)
        self.finished = True

    def cleanup(self):
        try:
            self.stop_all()
        finally:
            if os.environ.get("AF_KEEP"):
                print("# kept " + self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)


def ar_parse(value):
    """Parse a header value with our AR parser (t/tools/ar-parse):
    ["authserv-id=ID", "method=result prop=value ...", ...], or []."""
    value = re.sub(r"\s*\n\s*", " ", value.strip())
    out = subprocess.run([os.path.join(BUILDDIR, "t", "tools", "ar-parse")],
                         input=value + "\n", capture_output=True, text=True)
    return out.stdout.splitlines()


def txt_record(name, value, ttl=300):
    """A zone line for a TXT record, the value split into 255-byte strings."""
    parts = " ".join('"%s"' % value[i:i + 255] for i in range(0, len(value), 255))
    return "%s. %d IN TXT %s" % (name.rstrip("."), ttl, parts)


def rsa_key(bits=2048):
    """A new RSA key: (PEM, the base64 public key for a DKIM record's p=)."""
    import base64
    pem = subprocess.run(["openssl", "genrsa", "-traditional", str(bits)],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"],
                         input=pem, capture_output=True, check=True).stdout
    return pem, base64.b64encode(der).decode()


def milter_raw(port, raw, sender, ip="198.51.100.25", helo="mx.example"):
    """A whole message (bytes, as signed) through the milter protocol:
    (the final reply code, [values of the Authentication-Results headers
    inserted])."""
    from milterclient import Milter, split_message
    hdrs, body = split_message(raw)
    c = Milter("127.0.0.1", port)
    try:
        c.connect(hostname=helo, ip=ip)
        c.helo(helo)
        code, _ = c.message(hdrs, body=body, sender=sender)
        ars = [v for _, n, v in c.inserted_headers()
               if n == "Authentication-Results"]
    finally:
        c.quit()
    return code, ars


def milter_sign(port, headers, sender, ip="127.0.0.1"):
    """A message from a local client through the milter protocol: (the
    final reply code, [values of the DKIM-Signature headers inserted])."""
    from milterclient import Milter
    m = Milter("127.0.0.1", port)
    try:
        m.connect(ip=ip)
        m.helo()
        code, _ = m.message(headers, sender=sender)
        sigs = [v for _, n, v in m.inserted_headers() if n == "DKIM-Signature"]
    finally:
        m.close()
    return code, sigs


def milter_ar(port, ip, helo, mailfrom, headers=None, body=b"hi\r\n"):
    """One inbound message through the milter protocol; the parsed results
    of the Authentication-Results header it got (without the authserv-id
    line), or ["REPLY <code>"] / ["NO-AR"]."""
    from milterclient import Milter
    m = Milter("127.0.0.1", port)
    try:
        m.connect(hostname="client.test", ip=ip)
        m.helo(helo)
        code, _ = m.message(headers or [("From", "<a@example.com>"),
                                        ("Subject", "t")],
                            body=body, sender="<%s>" % mailfrom)
        ars = [v for _, n, v in m.inserted_headers()
               if n == "Authentication-Results"]
    finally:
        m.quit()
    if code != b"c":
        return ["REPLY %r" % code]
    if len(ars) != 1:
        return ["NO-AR"]
    return ar_parse(ars[0])[1:]


# ---- authfilter's log as syslog writes it ----
F_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d authfilter\[\d+\]: "
                      r"info: ")


def log_records(d):
    """The per-message records of daemon d's log (authfilter -f writes
    "DATE TIME authfilter[PID]: info: RECORD", or the bare JSON object),
    without that prefix."""
    return [F_PREFIX.sub("", ln) for ln in d.log_text().splitlines()
            if "queue_id" in ln]


def as_syslog(records, pid, when=None, iso=True, host="mx", tag="authfilter"):
    """Records as rsyslog writes them to /var/log/mail.log: Debian 12's
    RFC 3339 stamp ("2026-12-02T13:00:00.000000+00:00 mx authfilter[PID]:
    RECORD"), or (iso=False) the traditional "Dec  2 13:00:00 mx ...",
    which is also journalctl's short output."""
    import datetime
    when = when or datetime.datetime.now()
    if iso:
        head = when.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00")
    else:
        head = "%s %2d %s" % (when.strftime("%b"), when.day,
                              when.strftime("%H:%M:%S"))
    return ["%s %s %s[%d]: %s" % (head, host, tag, pid, r) for r in records]


def fail2ban_regex(tmp, lines, name="f2b.log"):
    """The HOSTs that Debian's fail2ban-regex finds in lines with the
    shipped filter, contrib/fail2ban/authfilter.conf, installed beside
    fail2ban's own common.conf as in /etc/fail2ban/filter.d: one per
    matching line.  None if fail2ban-regex failed."""
    fdir = os.path.join(tmp, "filter.d")
    if not os.path.isdir(fdir):
        os.mkdir(fdir)
        shutil.copy("/etc/fail2ban/filter.d/common.conf", fdir)
        shutil.copy(os.path.join(SRCDIR, "contrib", "fail2ban",
                                 "authfilter.conf"), fdir)
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("".join(ln + "\n" for ln in lines))
    r = subprocess.run(["fail2ban-regex", "-o", "ip", path,
                        os.path.join(fdir, "authfilter.conf")],
                       capture_output=True, text=True)
    return r.stdout.split() if r.returncode == 0 else None
