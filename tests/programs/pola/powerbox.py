"""A user at a terminal answering `preld pola --ask`'s questions: runs a
command on a new pseudo-terminal (its controlling terminal), answers each
question (a prompt ending in "[d]: ") with the next of the answers given,
and types what the spec says when the screen shows a marker.

argv[1]: a JSON spec:
  argv     the command
  cwd      its directory
  env      its environment
  answers  one line each, typed (with a newline) at each question in turn;
           a question beyond them is answered "d" and counted as unexpected
  on       [[marker, text], ...]: type `text` once `marker` is on the screen
           (each once, looked for after what the last one matched)
  fd3      also give the command the terminal as its fd 3
  screen   where to write every byte the terminal showed
  limit    seconds before the command is killed (default 60)
Prints status=N (the exit code, or -SIGNAL; "timeout" if killed),
user_rdev=N, user_dev=N (the terminal's device number, its file system's), questions=N, unexpected=N."""
import json
import os
import select
import signal
import sys
import time

spec = json.loads(sys.argv[1])
PROMPT_END = b"[d]: "
master, slave = os.openpty()
user_rdev = os.fstat(slave).st_rdev
user_dev = os.fstat(slave).st_dev
pid = os.fork()
if pid == 0:
    os.setsid()
    import fcntl
    import termios
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if spec.get("fd3"):
        os.dup2(slave, 3)
        os.set_inheritable(3, True)
    os.closerange(4 if spec.get("fd3") else 3, 256)
    os.chdir(spec["cwd"])
    os.execve(spec["argv"][0], spec["argv"], spec["env"])
os.close(slave)

screen = b""
answers = list(spec.get("answers", []))
triggers = [(m.encode("latin-1"), t.encode("latin-1")) for m, t in spec.get("on", [])]
questions = unexpected = 0
scanned = 0  # where the next prompt is looked for
trig_at = 0
status = None
end = time.time() + spec.get("limit", 60)
while time.time() < end:
    r, _, _ = select.select([master], [], [], 0.05)
    if r:
        try:
            data = os.read(master, 4096)
        except OSError:
            data = b""
        if not data:
            break
        screen += data
    while True:
        at = screen.find(PROMPT_END, scanned)
        if at < 0:
            break
        scanned = at + len(PROMPT_END)
        questions += 1
        if answers:
            a = answers.pop(0)
        else:
            a, unexpected = "d", unexpected + 1
        os.write(master, a.encode("latin-1") + b"\n")
    while triggers:
        at = screen.find(triggers[0][0], trig_at)
        if at < 0:
            break
        trig_at = at + len(triggers[0][0])
        os.write(master, triggers.pop(0)[1])
    if not r:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            # What is still in the pty.
            while select.select([master], [], [], 0.2)[0]:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                if not data:
                    break
                screen += data
            break
if status is None:
    try:
        done, st = os.waitpid(pid, os.WNOHANG)
        if not done:
            # Give it a moment after its terminal closed, then kill it.
            time.sleep(0.5)
            done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = "timeout"
    except ChildProcessError:
        status = "lost"
with open(spec["screen"], "wb") as f:
    f.write(screen)
print("status=%s" % status)
print("user_rdev=%d" % user_rdev)
print("user_dev=%d" % user_dev)
print("questions=%d" % questions)
print("unexpected=%d" % unexpected)
