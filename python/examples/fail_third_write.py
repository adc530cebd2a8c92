#!/usr/bin/env python3
"""The program's third write fails with EIO; the others are made.

    python3 fail_third_write.py [--preld PATH] -- PROG ARGS...
"""
import sys

import preld

binary, args = preld.command_line(sys.argv[1:])

writes = 0
session = preld.trace(args, calls="write", preld=binary)
for call in session:
    if isinstance(call, preld.Call):
        writes += 1
        if writes == 3:
            call.skip_fail("EIO")
sys.exit(session.returncode)
