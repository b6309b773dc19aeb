"""pg.py -- a private PostgreSQL 15 server for end-to-end tests.

    from pg import Postgres, pg_bindir
    if pg_bindir() is None:
        t.skip_all("postgresql-15 is not installed")
    pg = Postgres(h.tmp)            # initdb in h.tmp/pg, not started
    try:
        pg.start()                  # on 127.0.0.1, a free port
        url = pg.createdb("store")  # postgresql://authfilter@127.0.0.1:PORT/store
        ...
    finally:
        pg.stop()                   # by pid

The cluster lives in one directory of the test's temporary directory,
listens on 127.0.0.1 only, with its unix socket in that directory too
(-k), and trusts every local connection (initdb -A trust): tests connect
as "authfilter" without a password.  fsync is off: nothing there needs
to survive a crash.  As root, initdb and postgres (which refuse root)
run as the harness's TEST_USER.  The server is stopped by its pid (a
fast shutdown, SIGINT), also at exit if the test did not.
"""
import atexit
import os
import pwd
import shutil
import signal
import subprocess

from harness import TEST_USER, free_port, wait_for

PG_VERSION = "15"
PG_SUPERUSER = "authfilter"


def pg_bindir():
    """Debian's postgresql-15 binaries, or None when not installed."""
    d = "/usr/lib/postgresql/%s/bin" % PG_VERSION
    for prog in ("initdb", "postgres", "pg_isready", "createdb"):
        if not os.access(os.path.join(d, prog), os.X_OK):
            return None
    return d


def require(t):
    """Skip the whole test when PostgreSQL 15 is not installed."""
    if pg_bindir() is None:
        t.skip_all("postgresql-15 is not installed (contrib/deps --test)")


class Postgres:
    def __init__(self, tmp, name="pg"):
        self.bindir = pg_bindir()
        if self.bindir is None:
            raise RuntimeError("postgresql-%s is not installed" % PG_VERSION)
        self.dir = os.path.join(tmp, name)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.proc = None
        self.port = None
        os.mkdir(self.dir, 0o700)
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam(TEST_USER)
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        atexit.register(self.stop)
        r = self._run("initdb", "-D", self.data, "-U", PG_SUPERUSER,
                      "-A", "trust", "-E", "UTF8", "--no-locale",
                      "--no-sync")
        if r.returncode != 0:
            raise RuntimeError("initdb failed:\n" + r.stdout + r.stderr)

    def _as_user(self):
        """Popen arguments to run as TEST_USER when root."""
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": self.dir}
        if self.user is None:
            return {"env": env}
        return {"env": env, "user": self.user.pw_uid,
                "group": self.user.pw_gid, "extra_groups": []}

    def _run(self, prog, *args):
        return subprocess.run([os.path.join(self.bindir, prog)] + list(args),
                              capture_output=True, text=True, timeout=120,
                              cwd=self.dir, **self._as_user())

    def start(self, timeout=60, port=None):
        """Start the server (on port, else a free one); return its port
        when it accepts connections."""
        self.port = port or free_port()
        logf = open(self.log, "a")
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "postgres"), "-D", self.data,
             "-p", str(self.port), "-k", self.dir,
             "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off"],
            stdout=logf, stderr=subprocess.STDOUT, cwd=self.dir,
            **self._as_user())
        logf.close()

        def ready():
            if self.proc.poll() is not None:
                return True
            r = self._run("pg_isready", "-q", "-h", "127.0.0.1",
                          "-p", str(self.port), "-t", "2")
            return r.returncode == 0
        if not wait_for(ready, timeout=timeout, step=0.1) or \
                self.proc.poll() is not None:
            raise RuntimeError("postgres did not start:\n" + self.log_text())
        return self.port

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def url(self, db):
        return "postgresql://%s@127.0.0.1:%d/%s" % (PG_SUPERUSER, self.port, db)

    def createdb(self, db):
        """A new database (UTF8, as the cluster); its URL."""
        r = self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port),
                      "-U", PG_SUPERUSER, db)
        if r.returncode != 0:
            raise RuntimeError("createdb %s failed:\n%s%s" % (db, r.stdout,
                                                              r.stderr))
        return self.url(db)

    def psql(self, db, sql):
        """Run sql in db: (exit status, output)."""
        r = self._run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                      "-h", "127.0.0.1", "-p", str(self.port),
                      "-U", PG_SUPERUSER, "-d", db, "-c", sql)
        return r.returncode, r.stdout + r.stderr

    def stop(self, timeout=30):
        """Fast shutdown by pid (SIGINT): clients are disconnected."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


__all__ = ["Postgres", "pg_bindir", "PG_SUPERUSER"]
