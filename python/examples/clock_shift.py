#!/usr/bin/env python3
"""The program's clock runs SECONDS ahead (or behind): each gettimeofday and
clock_gettime(CLOCK_REALTIME) is stepped, and its result struct is written
with `set` before the call returns.

    python3 clock_shift.py [--preld PATH] SECONDS -- PROG ARGS...
"""
import struct
import sys
import time

import preld

args = sys.argv[1:]
binary = "preld"
if args[:1] == ["--preld"]:
    binary, args = args[1], args[2:]
shift = float(args[0])
args = args[1:]
if args[:1] == ["--"]:
    args = args[1:]

session = preld.trace(args, calls="gettimeofday,clock_gettime,time", preld=binary)
for ev in session:
    if isinstance(ev, preld.Call):
        if ev.name == "clock_gettime" and ev.args[0] not in ("CLOCK_REALTIME", "CLOCK_REALTIME_COARSE"):
            ev.cont()
        else:
            ev.step()
    elif isinstance(ev, preld.Result) and not ev.failed and ev.call is not None:
        now = time.time() + shift
        sec, frac = int(now), now - int(now)
        if ev.call.name == "gettimeofday":
            ev.set(0, struct.pack("<qq", sec, int(frac * 1e6)))
            ev.ok(ev.value)
        elif ev.call.name == "time":
            if ev.call.args[0] != 0:
                ev.set(0, struct.pack("<q", sec))
            ev.ok(sec)
        else:
            ev.set(1, struct.pack("<qq", sec, int(frac * 1e9)))
            ev.ok(ev.value)
sys.exit(session.returncode)
