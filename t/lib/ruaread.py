"""ruaread.py -- the two independent readers of aggregate reports in
Debian, as the tests run them.

    recs, msgs, out = dmarc_cat(path)      # dmarc-cat -N on .xml/.xml.gz
    reps, out = mail_dmarc(eml, ...)       # Mail::DMARC on report e-mails:
                                           # [(report_id, records, messages)]
"""
import os
import re
import subprocess

MAIL_DMARC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "mail_dmarc_read.pl")


def dmarc_cat(path):
    """dmarc-cat on one file: (records, messages) from its table, and
    its output."""
    r = subprocess.run(["dmarc-cat", "-N", path], capture_output=True,
                       text=True, timeout=60)
    out = r.stdout + r.stderr
    m = re.search(r"Reports\((\d+)\):\n[^\n]*\n((?:\S+\s+\d+\s[^\n]*\n)*)", out)
    if not m:
        return None, None, out
    counts = [int(line.split()[1]) for line in m.group(2).splitlines()]
    return int(m.group(1)), sum(counts), out


def mail_dmarc(*paths):
    """Mail::DMARC on report mails: [(report_id, records, messages)] and
    its output."""
    r = subprocess.run(["perl", MAIL_DMARC] + list(paths),
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    reps = re.findall(r"^report (\S+) .* records=(\d+) messages=(\d+)$", out,
                      re.M)
    return [(i, int(n), int(m)) for i, n, m in reps], out
