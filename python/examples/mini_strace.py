#!/usr/bin/env python3
"""A mini strace: every call (or those of -e) with its result.

    python3 mini_strace.py [-e CALLS] [--preld PATH] -- PROG ARGS...
"""
import argparse
import sys

import preld

p = argparse.ArgumentParser()
p.add_argument("-e", dest="calls", default=None)
p.add_argument("--preld", default="preld")
p.add_argument("argv", nargs=argparse.REMAINDER)
a = p.parse_args()
argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv

session = preld.trace(argv, calls=a.calls, preld=a.preld)
for ev in session:
    if isinstance(ev, preld.Call):
        ev.step()
    elif isinstance(ev, preld.Result):
        what = "-1 %s" % ev.errno if ev.failed else ev.value
        pid = ev.call.tid if ev.call else "?"
        print("[%s] %s = %s" % (pid, ev.call.text if ev.call else "?", what), file=sys.stderr)
    elif isinstance(ev, preld.Signal):
        print("--- %s ---" % ev.text, file=sys.stderr)
    elif isinstance(ev, preld.Exit):
        how = "killed by %s" % ev.signal if ev.signal else "exited with %d" % ev.status
        print("[%d] +++ %s +++" % (ev.pid, how), file=sys.stderr)
sys.exit(session.returncode)
