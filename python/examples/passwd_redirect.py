#!/usr/bin/env python3
"""The seed's example: the program opens /tmp/passwd when it asks for
/etc/passwd (the path is placed in memory preld owns).

    python3 passwd_redirect.py [--preld PATH] -- PROG ARGS...
"""
import sys

import preld

binary, args = preld.command_line(sys.argv[1:])

session = preld.trace(args, calls="open,openat,stat,newfstatat,access,faccessat2", preld=binary)
for call in session:
    if isinstance(call, preld.Call):
        for i, a in enumerate(call.args):
            if a == "/etc/passwd":
                call.rewrite_arg(i, "/tmp/passwd")
                break
sys.exit(session.returncode)
