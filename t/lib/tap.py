"""tap.py -- TAP output for the end-to-end tests run by prove.

    t = Tap()
    t.ok(cond, "name", diag="what we saw")
    t.is_(got, want, "name")
    t.done()          # prints the plan, exits non-zero on failure
"""
import sys


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(("ok" if cond else "not ok") + " %d - %s" % (self.n, name))
        sys.stdout.flush()
        if not cond:
            self.failed += 1
            # To stderr as well: prove shows it without -v, so a CI log
            # says what failed and why.
            sys.stderr.write("# not ok %d - %s\n" % (self.n, name))
            if diag:
                for line in str(diag).splitlines()[-40:]:
                    print("#   " + line)
                    sys.stderr.write("#   " + line + "\n")
        sys.stdout.flush()
        sys.stderr.flush()
        return bool(cond)

    def is_(self, got, want, name):
        return self.ok(got == want, name,
                       "     got: %r\nexpected: %r" % (got, want))

    def like(self, got, needle, name):
        return self.ok(got is not None and needle in got, name,
                       "     got: %r\nexpected to contain: %r" % (got, needle))

    def skip(self, name, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why))
        sys.stdout.flush()

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def skip_all(self, why):
        print("1..0 # SKIP " + why)
        sys.exit(0)

    def done(self):
        print("1..%d" % self.n)
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)
