"""`tracer_cont.py PRELD PROG ARGS...`: PROG under `preld trace` with this
process as its tracer through the Python client (python/preld), subscribed
to getppid and answering each call `cont`; exits with PROG's status. The
bench's tracer row (xtask/src/bench.rs) times PROG's loop this way."""
import sys

import preld

s = preld.trace(sys.argv[2:], calls="getppid", preld=sys.argv[1])
for ev in s:
    if isinstance(ev, preld.Call):
        ev.cont()
sys.exit(s.returncode)
