"""Client of preld's external tracer protocol (docs/tracer-protocol.md).

    import preld
    for call in preld.trace(["cat", "/etc/hostname"], calls="openat,write"):
        if call.name == "write":
            call.skip_fail("EIO")

`trace()` starts `preld trace --tracer-fds R,W -e trace=CALLS -- ARGV` with
this process as the tracer, and yields what preld asks, one event at a time:
`Call` (answer with cont, step, skip_ok, skip_fail or rewrite), `Result` (of
a call you stepped: set, ok, fail), `Signal` (deliver, suppress) and `Exit`.
An event you leave unanswered is answered when you ask for the next one,
with the answer that changes nothing (cont, the result as it is, deliver).
Standard library only.
"""

import os
import re
import subprocess

__all__ = ["trace", "Session", "Call", "Result", "Signal", "Exit", "Sym", "quote", "unquote", "split_args"]


class Sym(str):
    """An argument written as is in a rewrite (`Sym("O_RDONLY|O_CLOEXEC")`)."""


def quote(data):
    """A string or bytes in strace's quotes and escapes."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    out = ['"']
    esc = {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x0B: "\\v", 0x0C: "\\f", 0x22: '\\"', 0x5C: "\\\\"}
    for b in data:
        if b in esc:
            out.append(esc[b])
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    out.append('"')
    return "".join(out)


_ESC = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "a": 7, "b": 8, "\\": 92, '"': 34, "'": 39, "?": 63}


def unquote(text):
    """The bytes of a string in strace's quotes (a trailing `...` dropped)."""
    if text.endswith("..."):
        text = text[:-3]
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError("not a quoted string: %r" % text)
    s, out, i = text[1:-1], bytearray(), 0
    while i < len(s):
        c = s[i]
        i += 1
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            continue
        e = s[i]
        i += 1
        if e in _ESC:
            out.append(_ESC[e])
        elif e == "x":
            out.append(int(s[i:i + 2], 16))
            i += 2
        elif e in "01234567":
            j = i
            while j < len(s) and j < i + 2 and s[j] in "01234567":
                j += 1
            out.append(int(s[i - 1:j], 8) & 0xFF)
            i = j
        else:
            raise ValueError("bad escape \\%s" % e)
    return bytes(out)


def split_args(text):
    """`NAME(A, B, ...)` -> (NAME, ["A", "B", ...]): the arguments' texts, split
    at the commas outside quotes, brackets, braces and parentheses."""
    m = re.match(r"^(\w+)\((.*)\)$", text.strip(), re.S)
    if not m:
        return text, []
    name, inner = m.group(1), m.group(2)
    args, depth, in_str, esc, start = [], 0, False, False, 0
    for i, c in enumerate(inner):
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
            continue
        if c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
    if inner.strip():
        args.append(inner[start:].strip())
    return name, args


def _value(a):
    """An argument's text as Python: a str for a string, an int for a
    number, the text itself otherwise (constants, structs)."""
    if a.startswith('"'):
        try:
            return unquote(a).decode("utf-8", "surrogateescape")
        except ValueError:
            return a
    if a == "NULL":
        return 0
    try:
        if re.match(r"^-?0[0-7]+$", a):
            return int(a, 8)
        return int(a, 0)
    except ValueError:
        return a


class _Event:
    _answered = False

    def __init__(self, session):
        self._session = session

    def _answer(self, text):
        if self._answered:
            raise RuntimeError("%r was answered already" % self)
        self._answered = True
        self._session._write(text)

    def _default(self):
        pass


class Call(_Event):
    """`call SEQ PID TID NAME(ARGS)`: a call the program is about to make."""

    def __init__(self, session, seq, pid, tid, text):
        super().__init__(session)
        self.seq, self.pid, self.tid, self.text = seq, pid, tid, text
        self.name, self.raw_args = split_args(text)
        self.args = [_value(a) for a in self.raw_args]

    def __repr__(self):
        return "Call(%d, %d, %s)" % (self.seq, self.tid, self.text)

    def cont(self):
        """Make the call as it stands."""
        self._answer("cont\n")

    def step(self):
        """Make it; its `Result` comes later as an event (`Result.call` is this)."""
        self._session._stepped[self.seq] = self
        self._answer("step\n")

    def skip_ok(self, value=0):
        """Do not make it: the program gets `value`."""
        self._answer("skip-ok %d\n" % int(value))

    def skip_fail(self, errno_name):
        """Do not make it: it fails with this errno (`"EIO"`, `"ENOENT"`...)."""
        self._answer("skip-fail %s\n" % errno_name)

    def rewrite(self, *args, step=False):
        """Make it with new arguments: ints, str/bytes (placed in memory preld
        owns), `Sym("A|B")` as written, or an argument's own value (kept)."""
        if len(args) != len(self.args):
            raise ValueError("%s has %d arguments, not %d" % (self.name, len(self.args), len(args)))
        texts = []
        for new, old, raw in zip(args, self.args, self.raw_args):
            if isinstance(new, Sym):
                texts.append(str(new))
            elif type(new) is type(old) and new == old:
                texts.append(raw)
            elif isinstance(new, bool) or not isinstance(new, (int, str, bytes)):
                raise TypeError("argument %r: an int, str, bytes or Sym" % (new,))
            elif isinstance(new, int):
                texts.append(str(new))
            else:
                texts.append(quote(new))
        self.rewrite_text("%s(%s)" % (self.name, ", ".join(texts)), step=step)

    def rewrite_arg(self, index, value, step=False):
        """Rewrites argument `index` only."""
        args = list(self.args)
        args[index] = value
        self.rewrite(*args, step=step)

    def rewrite_text(self, text, step=False):
        """`rewrite TEXT` as the protocol has it (then `step` if asked)."""
        if step:
            self._session._stepped[self.seq] = self
        self._answer("rewrite %s\n%s" % (text, "step\n" if step else "cont\n"))

    def _default(self):
        self.cont()


class Result(_Event):
    """`result SEQ ok N` / `result SEQ fail ENAME` of a call you stepped."""

    def __init__(self, session, seq, value, errno, call):
        super().__init__(session)
        self.seq, self.value, self.errno, self.call = seq, value, errno, call
        self._sets = []

    @property
    def failed(self):
        return self.errno is not None

    def __repr__(self):
        return "Result(%d, %s)" % (self.seq, self.errno or self.value)

    def set(self, index, data):
        """Write `data` at the buffer argument `index` (0-based) points to,
        before the call returns."""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self._sets.append("set %d %s\n" % (index, quote(data)))

    def ok(self, value):
        """The call returns `value`."""
        self._answer("".join(self._sets) + "ok %d\n" % int(value))

    def fail(self, errno_name):
        """The call fails with this errno."""
        self._answer("".join(self._sets) + "fail %s\n" % errno_name)

    def keep(self):
        """The result as it is (after the sets, if any)."""
        if self.errno is not None:
            self.fail(self.errno)
        else:
            self.ok(self.value)

    def _default(self):
        self.keep()


class Signal(_Event):
    """`signal SEQ PID TID SIGNAME {...}`: a signal about to reach the program."""

    def __init__(self, session, seq, pid, tid, text):
        super().__init__(session)
        self.seq, self.pid, self.tid, self.text = seq, pid, tid, text
        self.name = text.split(" ", 1)[0]

    def __repr__(self):
        return "Signal(%d, %d, %s)" % (self.seq, self.tid, self.text)

    def deliver(self, signame=None):
        """Let it (or `signame` instead) reach the program."""
        self._answer("deliver %s\n" % signame if signame else "deliver\n")

    def suppress(self):
        """The program never sees it."""
        self._answer("suppress\n")

    def _default(self):
        self.deliver()


class Exit(_Event):
    """`exit PID N` / `exit PID killed SIGNAME`: a traced process ended."""

    _answered = True

    def __init__(self, session, pid, status, signal):
        super().__init__(session)
        self.pid, self.status, self.signal = pid, status, signal

    def __repr__(self):
        return "Exit(%d, %s)" % (self.pid, self.signal or self.status)


class Session:
    """A program traced by this process: iterate over it for its events."""

    def __init__(self, argv, calls=None, preld="preld", strsize=None, options=(), **popen):
        q_r, q_w = os.pipe()
        a_r, a_w = os.pipe()
        cmd = [preld, "trace"] + list(options)
        if strsize is not None:
            cmd += ["-s", str(strsize)]
        cmd += ["--tracer-fds", "%d,%d" % (a_r, q_w)]
        if calls is not None:
            if not isinstance(calls, str):
                calls = ",".join(calls)
            cmd += ["-e", "trace=" + calls]
        cmd += ["--"] + [os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in argv]
        try:
            self.process = subprocess.Popen(cmd, pass_fds=(a_r, q_w), **popen)
        finally:
            os.close(a_r)
            os.close(q_w)
        self._r = os.fdopen(q_r, "rb")
        self._w = a_w
        self._pending = None
        self._stepped = {}
        self.returncode = None

    def __iter__(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write(self, text):
        if self._w is None:
            return
        data = text.encode("utf-8", "surrogateescape")
        try:
            while data:
                data = data[os.write(self._w, data):]
        except BrokenPipeError:
            pass

    def __next__(self):
        if self._pending is not None and not self._pending._answered:
            self._pending._default()
        self._pending = None
        while True:
            line = self._r.readline()
            if not line:
                self._end()
                raise StopIteration
            ev = self._parse(line.decode("utf-8", "surrogateescape").rstrip("\n"))
            if ev is not None:
                self._pending = ev
                return ev

    def _parse(self, line):
        kind, _, rest = line.partition(" ")
        if kind in ("call", "signal"):
            seq, pid, tid, text = rest.split(" ", 3)
            cls = Call if kind == "call" else Signal
            return cls(self, int(seq), int(pid), int(tid), text)
        if kind == "result":
            seq, how, val = rest.split(" ", 2)
            call = self._stepped.pop(int(seq), None)
            if how == "ok":
                return Result(self, int(seq), int(val), None, call)
            return Result(self, int(seq), -1, val, call)
        if kind == "exit":
            pid, _, st = rest.partition(" ")
            if st.startswith("killed "):
                return Exit(self, int(pid), None, st.split(" ", 1)[1])
            return Exit(self, int(pid), int(st), None)
        return None

    def detach(self):
        """The program runs on untraced."""
        if self._pending is not None and not self._pending._answered:
            self._pending._default()
        self._pending = None
        self._write("detach\n")

    def close(self):
        """Detaches (if still tracing) and waits for preld."""
        if self.returncode is None:
            self.detach()
            self._end()
        return self.returncode

    def _end(self):
        if self._w is not None:
            os.close(self._w)
            self._w = None
        self._r.close()
        self.returncode = self.process.wait()


def trace(argv, calls=None, preld="preld", **kw):
    """Runs `argv` under `preld trace` with this process as its tracer; returns
    a `Session` to iterate over (its `returncode` is the program's once the
    iteration ends). `calls`: the calls to see (`"openat,write"`, a list, or
    strace's classes such as `"%file"`); None: all. `preld`: the preld binary.
    Other keywords: `strsize` (-s), `options` (more `preld trace` options),
    and subprocess.Popen's (stdin, stdout, stderr, env, cwd...)."""
    return Session(argv, calls=calls, preld=preld, **kw)


def command_line(args):
    """The examples' command line, `[--preld PATH] [--] PROG ARGS...`: the
    preld binary to use and the program's argv."""
    binary = "preld"
    if args[:1] == ["--preld"]:
        binary, args = args[1], args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    return binary, args
