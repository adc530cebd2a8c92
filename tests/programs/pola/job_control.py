"""Drives an interactive bash on a pty, as a user at a terminal would, and
runs preld pola sessions from it: typing to a program in a session, ^C, ^Z
then fg, and job control of a shell inside a session. argv[1]: preld.
Prints each step; exits 1 at the first step that did not behave."""
import os
import pty
import select
import sys
import time

PRELD = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"],
              {"PS1": "PROMPT> ", "PATH": "/usr/bin:/bin", "TERM": "dumb", "LC_ALL": "C"})


def read_until(want, limit=10.0):
    """What the terminal shows until `want` appears (or the limit)."""
    out, end = "", time.time() + limit
    while want not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096).decode(errors="replace")
            except OSError:
                break
    return out


def step(name, send, want, limit=10.0):
    read_until("\0", 0.2)  # what the last step left on the screen
    os.write(fd, send.encode())
    got = read_until(want, limit)
    ok = want in got
    print(("ok   " if ok else "FAIL ") + name + ": " + repr(got))
    if not ok:
        os.kill(pid, 9)
        sys.exit(1)


read_until("PROMPT> ")
step("a program in a session reads the terminal", PRELD + " pola -B -- /bin/cat\n", "\n", 5)
step("and echoes what is typed", "typed line\n", "typed line\r\ntyped line\r\n")
step("^C ends it", "\x03", "PROMPT> ")
step("with SIGINT's status", "echo status=$?\n", "status=130")
step("^Z stops a session", PRELD + " pola -B -- /bin/sleep 30\n", PRELD, 2)
time.sleep(0.5)
step("and the shell has it as a stopped job", "\x1a", "Stopped")
step("fg continues it", "fg\n", "sleep 30")
time.sleep(0.3)
step("^C then ends it", "\x03", "PROMPT> ")
step("with SIGINT's status", "echo status=$?\n", "status=130")
step("a shell in a session", PRELD + " pola -B -- /bin/bash --norc --noprofile -i\n", "PROMPT> ")
step("runs a job", "sleep 20\n", "sleep 20")
time.sleep(0.3)
step("^Z stops the inner job, not the session", "\x1a", "Stopped                 sleep 20")
step("its job control works", "kill -9 %1; sleep 0.5; jobs\n", "Killed")
step("the inner shell exits", "exit 7\n", "exit\r\nPROMPT> ")
step("the session ended like the inner shell", "echo status=$?\n", "status=7")
os.write(fd, b"exit\n")
read_until("never", 1)
