#!/usr/bin/env python3
"""The program's third write fails with EIO; the others are made.

    python3 fail_third_write.py [--preld PATH] -- PROG ARGS...
"""
import sys

import preld

args = sys.argv[1:]
binary = "preld"
if args[:1] == ["--preld"]:
    binary, args = args[1], args[2:]
if args[:1] == ["--"]:
    args = args[1:]

writes = 0
session = preld.trace(args, calls="write", preld=binary)
for call in session:
    if isinstance(call, preld.Call):
        writes += 1
        if writes == 3:
            call.skip_fail("EIO")
sys.exit(session.returncode)
