#!/usr/bin/python3
# make install from the build under test, into a temporary DESTDIR: the
# layout the Debian package is made of.  The configuration, units,
# tmpfiles.d and man pages name the configured paths, the units' programs
# are the installed ones, systemd's own tools accept the units, the
# sysusers.d and tmpfiles.d files (applied to a copy of this machine's
# users below the temporary directory), and the installed configuration
# passes -t as the installed user.  make distdir ships no build outputs.
# Nothing outside the temporary directory changes: the bind mounts live
# in a private mount namespace.
import glob
import os
import re
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import Harness, BUILDDIR, SRCDIR  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
h = Harness(t)


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                       env=h.san_env(), **kw)
    return r.returncode, r.stdout, r.stderr


def read(path):
    with open(path) as f:
        return f.read()


m = re.search(r'^#define AF_CONFDIR "([^"]+)"', read(os.path.join(BUILDDIR, "buildconf.h")),
              re.M)
confdir = m.group(1) if m else "(AF_CONFDIR not in buildconf.h)"
t.diag("configured for " + confdir)

host_users = (read("/etc/passwd"), read("/etc/group"))
dest = os.path.join(h.tmp, "dest")
rc, out, err = run(["make", "-s", "install", "DESTDIR=" + dest], cwd=BUILDDIR)
t.is_((rc, err), (0, ""), "make install DESTDIR=... succeeds")


def installed(pattern):
    """Paths below dest matching pattern, as the host would see them."""
    return sorted(p[len(dest):] for p in glob.glob(dest + pattern, recursive=True))


# ---- programs and the default configuration path ----
progs = installed("/**/sbin/authfilter")
t.is_(len(progs), 1, "one authfilter program installed")
sbindir = os.path.dirname(progs[0]) if progs else "/nonexistent"
t.ok(os.access(dest + sbindir + "/authfilter-keys", os.X_OK),
     "authfilter-keys beside it in " + sbindir)
rc, out, err = run([dest + sbindir + "/authfilter", "-x"])
t.like(err, "(default %s/authfilter.conf)" % confdir,
       "the daemon's default configuration is below --sysconfdir")

# ---- the sample configuration ----
conf = dest + confdir + "/authfilter.conf"
sample = read(os.path.join(SRCDIR, "authfilter.conf"))
t.ok(os.path.isfile(conf), "configuration installed as %s/authfilter.conf" % confdir)
got = read(conf) if os.path.isfile(conf) else ""
t.is_(got, sample.replace("/etc/authfilter", confdir),
      "it is the sample, with the configured paths")

# authfilter-keys, and so the daily rotation timer, tell the daemon to
# reload through pid_file: the shipped configuration has one, in the
# unit's RuntimeDirectory (without it a rotated key waited for a restart).
unit = read(os.path.join(SRCDIR, "contrib", "authfilter.service"))
rtdir = re.search(r"^RuntimeDirectory=(\S+)$", unit, re.M)
pidf = re.search(r"^pid_file = (\S+)$", sample, re.M)
t.ok(rtdir and pidf and os.path.dirname(pidf.group(1)) == "/run/" + rtdir.group(1),
     "the sample's pid_file is in the unit's RuntimeDirectory",
     "%s / %s" % (pidf and pidf.group(0), rtdir and rtdir.group(0)))

with open(conf, "a") as f:
    f.write("# edited by the admin\n")
rc, out, err = run(["make", "-s", "install", "DESTDIR=" + dest], cwd=BUILDDIR)
t.ok(rc == 0 and read(conf).endswith("# edited by the admin\n"),
     "a second make install keeps an existing configuration", out + err)

# ---- systemd units, tmpfiles.d, sysusers.d ----
wanted = sorted(os.path.basename(p) for p in
                glob.glob(os.path.join(SRCDIR, "contrib", "*.service")) +
                glob.glob(os.path.join(SRCDIR, "contrib", "*.timer")))
units = installed("/**/systemd/system/*")
t.is_(sorted(os.path.basename(u) for u in units), wanted,
      "every contrib/*.service and *.timer installed")
unitdir = os.path.dirname(units[0]) if units else "/nonexistent"
bad = []
for u in units:
    text = read(dest + u)
    for prog in re.findall(r"^Exec\w*=[-@:+!]*(\S+)", text, re.M):
        if "authfilter" in prog and not os.access(dest + prog, os.X_OK):
            bad.append("%s: %s is not the installed program" % (u, prog))
    for path in re.findall(r"(/\S*/authfilter)(?=[/\s])", text):
        if path.endswith("/etc/authfilter") and path != confdir:
            bad.append("%s: names %s, not %s" % (u, path, confdir))
t.is_(bad, [], "the units name the installed programs and configuration")

tmpfiles = installed("/**/tmpfiles.d/authfilter.conf")
sysusers = installed("/**/sysusers.d/authfilter.conf")
t.is_((len(tmpfiles), len(sysusers)), (1, 1),
      "tmpfiles.d/authfilter.conf and sysusers.d/authfilter.conf installed")
lines = [ln.split() for ln in (read(dest + tmpfiles[0]) if tmpfiles else "").splitlines()
         if ln.strip() and not ln.startswith("#")]
t.is_(sorted((ln[1], ln[2], ln[3], ln[4]) for ln in lines), sorted([
    ("/run/authfilter", "0755", "authfilter", "authfilter"),
    ("/var/spool/postfix/authfilter", "0750", "authfilter", "postfix"),
    ("/var/lib/authfilter", "0750", "authfilter", "authfilter"),
    (confdir + "/keys", "0750", "authfilter", "authfilter"),
]), "tmpfiles.d: run, socket (in Postfix's chroot), state and key directories")

mans = installed("/**/man/man[58]/*")
t.is_(sorted(os.path.basename(p) for p in mans),
      ["authfilter-doctor.8", "authfilter-keys.8", "authfilter-report.8",
       "authfilter-reports.8", "authfilter-status.8", "authfilter.8",
       "authfilter.conf.5"], "man pages installed")
t.ok(all(confdir + "/authfilter.conf" in read(dest + p) for p in mans
         if not p.endswith(".conf.5")), "man pages name " + confdir)

# systemd's own checks of the units, with the programs where DESTDIR has
# them (the copies differ from the installed units in that prefix only).
if shutil.which("systemd-analyze"):
    vdir = os.path.join(h.tmp, "verify")
    os.mkdir(vdir)
    for u in units:
        with open(os.path.join(vdir, os.path.basename(u)), "w") as f:
            f.write(read(dest + u).replace(sbindir + "/", dest + sbindir + "/"))
    rc, out, err = run(["systemd-analyze", "verify", "--man=no"] +
                       sorted(glob.glob(vdir + "/*")))
    t.is_((rc, err), (0, ""), "systemd-analyze verify accepts the units")
else:
    t.skip("systemd-analyze verify accepts the units", "no systemd-analyze")

# ---- sysusers.d and tmpfiles.d applied below a root of our own ----
root = os.path.join(h.tmp, "root")
os.makedirs(root + "/etc")
for f in ("passwd", "group", "shadow", "gshadow"):
    if os.path.exists("/etc/" + f):
        shutil.copy2("/etc/" + f, root + "/etc/" + f)
rc, out, err = run(["systemd-sysusers", "--root=" + root, dest + sysusers[0]])
users = {ln.split(":")[0]: ln.split(":") for ln in read(root + "/etc/passwd").splitlines()}
t.ok(rc == 0 and "authfilter" in users, "systemd-sysusers makes the user authfilter", err)
uid = int(users["authfilter"][2]) if "authfilter" in users else -1
rc, out, err = run(["systemd-tmpfiles", "--root=" + root, "--create",
                    dest + tmpfiles[0]])
made = {}
for d in ("/run/authfilter", "/var/lib/authfilter", confdir + "/keys"):
    st = os.stat(root + d) if os.path.isdir(root + d) else None
    made[d] = (stat.S_IMODE(st.st_mode), st.st_uid) if st else None
t.is_(made, {"/run/authfilter": (0o755, uid), "/var/lib/authfilter": (0o750, uid),
             confdir + "/keys": (0o750, uid)},
      "systemd-tmpfiles makes the directories, owned by authfilter")

# ---- the installed configuration, as the installed user ----
# A private mount namespace shows authfilter -t the passwd and group
# files that have the user, and the /run that systemd-tmpfiles made
# (the pid file's directory); the host's stay as they are.
script = ('mount --bind "$1/etc/passwd" /etc/passwd && '
          'mount --bind "$1/etc/group" /etc/group && '
          'mount --bind "$1/run" /run && exec "$2" -t -c "$3"')
rc, out, err = run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    script, "sh", root, dest + sbindir + "/authfilter", conf])
t.is_((rc, out, err), (0, conf + ": OK\n", ""),
      "authfilter -t passes on the installed configuration")
t.is_((read("/etc/passwd"), read("/etc/group")), host_users,
      "this machine's passwd and group files are unchanged")

rc, out, err = run(["make", "-s", "uninstall", "DESTDIR=" + dest], cwd=BUILDDIR)
left = sorted(p for p in installed("/**/*") if os.path.isfile(dest + p))
t.is_((rc, left), (0, [confdir + "/authfilter.conf"]),
      "make uninstall leaves only the edited configuration")
os.unlink(conf)
rc, out, err = run(["make", "-s", "install", "DESTDIR=" + dest], cwd=BUILDDIR)
rc, out, err = run(["make", "-s", "uninstall", "DESTDIR=" + dest], cwd=BUILDDIR)
left = sorted(p for p in installed("/**/*") if os.path.isfile(dest + p))
t.is_((rc, left), (0, []), "and removes an unedited one")

# ---- the source tarball's contents ----
distdir = os.path.join(h.tmp, "dist", "authfilter")
os.mkdir(os.path.dirname(distdir))
rc, out, err = run(["make", "-s", "distdir", "distdir=" + distdir], cwd=BUILDDIR)
junk = []
for top, dirs, files in os.walk(distdir):
    for name in dirs + files:
        p = os.path.join(top, name)
        rel = os.path.relpath(p, distdir)
        if name == "__pycache__" or name.endswith((".pyc", ".o")) or \
                (name.startswith("build-") and rel != "build-aux"):
            junk.append(rel)
        elif os.path.isfile(p) and not os.path.islink(p):
            with open(p, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    junk.append(rel)
t.ok(rc == 0 and os.path.isdir(distdir), "make distdir succeeds", err)
t.is_((os.path.isdir(distdir), junk), (True, []),
      "the distribution ships no build outputs")
t.ok(all(os.path.exists(os.path.join(distdir, f)) for f in
         ("LICENSE", "debian/control", "debian/rules", "contrib/authfilter.tmpfiles",
          "build-aux/install-sh", "configure", "t/unit/ar.c")),
     "it ships what a build needs, LICENSE and debian/")
h.finish()
t.done()
