"""Drives `preld shell` on a pty as a user at a terminal would: the prompt,
Tab completion of a file name and of a command name, running a command,
the up arrow recalling it, ^C at the prompt and during a command, a
program reading the terminal, ^Z then jobs and fg, and ^D. argv: preld,
the directory to start in, XDG_STATE_HOME (the history's). Prints each
step; exits 1 at the first step that did not behave."""
import os
import pty
import re
import select
import sys
import time

PRELD, HERE, STATE = sys.argv[1:4]
ENV = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": HERE, "LC_ALL": "C",
       "XDG_STATE_HOME": STATE}
if "PRELD_FAST" in os.environ:  # cargo xtask test's second pass
    ENV["PRELD_FAST"] = os.environ["PRELD_FAST"]
# rustyline's redrawing: cursor moves, erases, bracketed paste, sync marks.
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def start():
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(HERE)
        os.execve(PRELD, [PRELD, "shell"], ENV)
    return pid, fd


def read_until(fd, want, limit):
    """What the terminal shows (escapes removed) until `want` appears."""
    out, end = "", time.time() + limit
    while want not in ESCAPES.sub("", out) and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096).decode(errors="replace")
            except OSError:
                break
    return ESCAPES.sub("", out)


def step(fd, pid, name, send, want, limit=10.0, absent=None):
    read_until(fd, "\0", 0.3)  # what the last step left on the screen
    os.write(fd, send.encode())
    got = read_until(fd, want, limit)
    ok = want in got and (absent is None or absent not in got)
    print(("ok   " if ok else "FAIL ") + name + ": " + repr(got))
    if not ok:
        os.kill(pid, 9)
        sys.exit(1)


pid, fd = start()
print("prompt: " + repr(read_until(fd, "# " if os.geteuid() == 0 else "$ ", 10)))
step(fd, pid, "Tab completes a file name", "cat compl\t", "cat completeme.txt")
step(fd, pid, "which the session may read", "\r", "the completed file")
step(fd, pid, "Tab completes a command name", "ech\t", "echo ")
step(fd, pid, "and it runs", "from-the-shell\r", "\r\nfrom-the-shell")
step(fd, pid, "the up arrow recalls the line before", "\x1b[A\x1b[A", "cat completeme.txt")
step(fd, pid, "which runs again", "\r", "the completed file")
step(fd, pid, "^C at the prompt clears the line", "partial line\x03", "preld:")
step(fd, pid, "without running it, status 130", "echo $?\r", "\r\n130\r\n",
     absent="command not found")
step(fd, pid, "a program reads the terminal", "cat\r", "cat")
time.sleep(0.5)
step(fd, pid, "what is typed", "typed line\r", "typed line\r\ntyped line")
step(fd, pid, "^D ends its input", "\x04", "preld:")
step(fd, pid, "a long command", "sleep 30\r", "sleep 30", 2)
time.sleep(0.8)
step(fd, pid, "^C reaches it", "\x03", "preld:")
step(fd, pid, "status 130", "echo $?\r", "\r\n130\r\n")
step(fd, pid, "another", "sleep 31\r", "sleep 31", 2)
time.sleep(0.8)
step(fd, pid, "^Z stops it", "\x1a", "Stopped")
step(fd, pid, "jobs lists it", "jobs\r", "Stopped                 sleep 31")
step(fd, pid, "fg continues it", "fg\r", "sleep 31", 2)
time.sleep(0.8)
step(fd, pid, "^C then ends it", "\x03", "preld:")
step(fd, pid, "no job is left", "jobs; echo jobs-done\r", "\r\njobs-done", absent="sleep 31")
step(fd, pid, "^D exits", "\x04", "exit")
_, st = os.waitpid(pid, 0)
print("shell ended: " + str(st))

# A new shell has the history of the last.
pid, fd = start()
read_until(fd, "preld:", 10)
step(fd, pid, "the history is kept", "\x1b[A", "jobs; echo jobs-done")
step(fd, pid, "^U clears it, exit 3", "\x15exit 3\r", "exit 3")
_, st = os.waitpid(pid, 0)
if not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 3:
    print("FAIL exit 3 ended the shell with " + str(st))
    sys.exit(1)
print("ok   exit 3")
