#!/usr/bin/python3
# Start-up diagnostics: a unix socket whose directory is missing or not
# writable says so; authfilter -t checks the socket and pid directories and
# builds the state as `user` (a key_dir only root can read passed -t and
# start before, then every reload failed); the pid file and socket are
# removed at exit; authfilter-keys check counts a key the daemon refuses
# and names DNS errors (SERVFAIL).
import os
import pwd
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, AUTHFILTER, SRCDIR, TEST_USER  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)
nobody = pwd.getpwnam(TEST_USER)


def as_user():
    os.setgid(nobody.pw_gid)
    os.setgroups([])
    os.setuid(nobody.pw_uid)


SUPP = os.path.join(SRCDIR, "t", "sanitizer")
USER_BIN = os.path.join(h.tmp, "bin")


def user_binary():
    """The daemon (and the sanitizers' suppression files) where the user
    can read them: a clone may be under a directory only root can enter
    (/root)."""
    path = os.path.join(USER_BIN, "authfilter")
    if not os.path.exists(path):
        path = h.user_binary(AUTHFILTER)
        for f in os.listdir(SUPP):
            shutil.copy2(os.path.join(SUPP, f), USER_BIN)
            os.chmod(os.path.join(USER_BIN, f), 0o644)
    return path


def user_env():
    env = h.san_env()
    for k in ("LSAN_OPTIONS", "TSAN_OPTIONS"):
        env[k] = env[k].replace(SUPP, USER_BIN)
    return env


def run(*args, user=False):
    """authfilter's exit, stdout, stderr; a daemon that serves instead of
    failing is killed after 20 seconds (subprocess.run does that)."""
    try:
        r = subprocess.run([user_binary() if user else AUTHFILTER] +
                           list(args), capture_output=True,
                           text=True, timeout=20,
                           env=user_env() if user else h.san_env(),
                           preexec_fn=as_user if user else None)
    except subprocess.TimeoutExpired as e:
        return "still running", e.stdout, e.stderr
    return r.returncode, r.stdout, r.stderr


def conf(name, **settings):
    s = {"authserv_id": "mx.test", "user": TEST_USER,
         "dns_resolver": "127.0.0.1@%d" % h.dns_port}
    s.update(settings)
    return h.write_conf(s, name + ".conf")


h.start_dns([], control=True)

# ---- the socket's directory does not exist ----
missing = os.path.join(h.tmp, "missing", "af.sock")
c = conf("missing", milter_socket="unix:" + missing)
rc, out, err = run("-t", "-c", c)
t.ok(rc == 1 and "milter_socket: directory %s does not exist" %
     os.path.dirname(missing) in err, "-t: the socket's directory does not exist",
     err)
rc, out, err = run("-f", "-c", c)
t.ok(rc == 1 and "cannot listen on unix:%s: directory %s does not exist" %
     (missing, os.path.dirname(missing)) in err,
     "start: cannot listen on unix:...: directory ... does not exist", err)

# ---- not writable by whoever binds (started as the user itself) ----
rootdir = os.path.join(h.tmp, "rootonly")
os.mkdir(rootdir, 0o755)
c = conf("notwritable", milter_socket="unix:" + os.path.join(rootdir, "af.sock"))
why = "directory %s is not writable by %s (owner root, mode 0755)" % (rootdir,
                                                                      TEST_USER)
rc, out, err = run("-t", "-c", c, user=True)
t.ok(rc == 1 and "milter_socket: " + why in err,
     "-t as the user: the socket's directory is not writable by it", err)
rc, out, err = run("-f", "-c", c, user=True)
t.ok(rc == 1 and "cannot listen on unix:%s/af.sock: %s" % (rootdir, why) in err,
     "start as the user: says whose directory and its mode", err)

# ---- as root: the user cannot remove what root created: a warning ----
pid_root = os.path.join(rootdir, "af.pid")
c = conf("rootpid", pid_file=pid_root)
rc, out, err = run("-t", "-c", c)
t.ok(rc == 0 and "warning: pid_file: %s cannot be removed at exit: %s" %
     (pid_root, why) in err, "-t: a pid file the user cannot remove is a warning",
     err)

# ---- key_dir only root can read ----
kd = os.path.join(h.tmp, "keys")
c = conf("keys", key_dir=kd)
r = h.keys(c, "new", "example.org", "--selector", "s1")
h.keys(c, "activate", "example.org", "s1", "--force")
rc, out, err = run("-t", "-c", c)
t.is_((rc, err), (0, ""), "-t: keys readable by the user pass")
# authfilter-keys made key_dir and the domain the user's: make them root's.
os.chown(kd, 0, 0)
os.chown(os.path.join(kd, "example.org"), 0, 0)
os.chmod(kd, 0o700)
rc, out, err = run("-t", "-c", c)
t.ok(rc == 1 and "as user %s: %s: Permission denied" % (TEST_USER, kd) in err and
     out == "", "-t: a key_dir only root can read fails, as the user would see it",
     err)
rc, out, err = run("-f", "-c", c)
t.ok(rc == 1 and "as user %s: %s: Permission denied" % (TEST_USER, kd) in err and
     "every reload (SIGHUP) reads key_dir the same way" in err,
     "start: refused, with the same reason (the signer process reads the keys as the user)",
     err)
os.chmod(kd, 0o755)
os.chmod(os.path.join(kd, "example.org"), 0o700)
rc, out, err = run("-t", "-c", c)
t.ok(rc == 1 and "Permission denied" in err,
     "-t: a domain directory only root can read fails too", err)
os.chmod(os.path.join(kd, "example.org"), 0o755)

# ---- the pid file and the socket are removed at exit ----
rundir = os.path.join(h.tmp, "run")
os.mkdir(rundir, 0o755)
os.chown(rundir, nobody.pw_uid, nobody.pw_gid)
pidf = os.path.join(rundir, "af.pid")
sock = os.path.join(rundir, "af.sock")
rc, out, err = run("-t", "-c", conf("run", pid_file=pidf, milter_socket="unix:" + sock))
t.is_((rc, err), (0, ""), "-t: pid and socket directory owned by the user: no warning")
af = h.start_authfilter({"pid_file": pidf, "milter_socket": "unix:" + sock},
                        name="run")
t.ok(os.path.exists(pidf) and open(pidf).read().strip() == str(af.pid),
     "the pid file names the daemon")
t.is_(h.stop_authfilter(af), 0, "SIGTERM: exit 0")
t.ok(not os.path.exists(pidf), "the pid file is removed at exit")
t.ok(not os.path.exists(sock), "the socket file is removed at exit")

# ---- authfilter-keys check: a key the daemon refuses is a problem ----
rc, out, err = h.keys(c, "dns", "example.org", "s1")
h.dns_set(out.strip().replace(" IN TXT", " 300 IN TXT").replace("( ", "").replace(" )", ""))
rc, out, err = h.keys(c, "check")
t.ok(rc == 0 and "0 problem(s)" in out, "check: a published 0600 key: no problem",
     out + err)
pem = os.path.join(kd, "example.org", "s1.pem")
os.chmod(pem, 0o640)
rc, out, err = h.keys(c, "check")
t.ok(rc == 1 and "mode 0640" in out and "authfilter refuses this key" in out and
     "1 problem(s)" in out, "check: a 0640 key the daemon refuses: exit 1", out + err)
rc, out, err = h.keys(c, "check", "example.net.")
t.ok("mode 0640" not in out, "check DOMAIN: another domain's key is not counted",
     out)
rc, out, err = run("-t", "-c", c)
t.ok(rc == 1 and "mode 0640" in err, "-t: and so does -t", err)
os.chmod(pem, 0o600)

# DNS errors by their names: a CNAME loop makes the resolver SERVFAIL.
h.dns_remove("s1._domainkey.example.org")
h.dns_set("s1._domainkey.example.org. 300 IN CNAME loop.example.org.")
h.dns_set("loop.example.org. 300 IN CNAME s1._domainkey.example.org.")
rc, out, err = h.keys(c, "check")
t.ok(rc == 1 and "s1._domainkey.example.org: SERVFAIL" in out,
     "check: the DNS error is named (SERVFAIL, not rcode 2)", out + err)
h.finish()
t.done()
