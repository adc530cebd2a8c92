"""Runs ARGV at a terminal of its own: a pty whose window is 30 rows by
100 columns, made the controlling terminal of a new session with fds 0-2
on it. Prints what the program wrote there (CRLF as LF), then
`status N` (the exit status; -N: killed by signal N). No input."""
import fcntl
import os
import struct
import sys
import termios

m, s = os.openpty()
fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(s, fd)
    os.close(m)
    os.close(s)
    os.execvp(sys.argv[1], sys.argv[1:])
os.close(s)
out = b""
while True:
    try:
        b = os.read(m, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
print("status", os.waitstatus_to_exitcode(st))
