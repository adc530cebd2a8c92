# FIFOs wait for their other end (tests/tests/pola_sessions.rs): a reader
# for a writer, a writer for a reader, a non-blocking writer fails with
# ENXIO, and a signal whose handler raises ends a waiting open. Argument:
# the FIFO's path.
import os, signal, sys, threading, time

p = sys.argv[1]
try:
    os.unlink(p)
except FileNotFoundError:
    pass
os.mkfifo(p)

def later(f):
    t = threading.Thread(target=lambda: (time.sleep(0.5), f()))
    t.start()
    return t

def write():
    fd = os.open(p, os.O_WRONLY)
    os.write(fd, b"data")
    os.close(fd)

t = later(write)
t0 = time.time()
with open(p, "rb") as f:
    print("reader waited:", time.time() - t0 > 0.3)
    print("read:", f.read())
t.join()

got = []
t = later(lambda: got.append(open(p, "rb").read()))
t0 = time.time()
fd = os.open(p, os.O_WRONLY)
print("writer waited:", time.time() - t0 > 0.3)
os.write(fd, b"back")
os.close(fd)
t.join()
print("reader got:", got)

try:
    os.open(p, os.O_WRONLY | os.O_NONBLOCK)
except OSError as e:
    print("non-blocking writer:", e.errno)

class Alarm(Exception):
    pass

def ring(*_):
    raise Alarm()

signal.signal(signal.SIGALRM, ring)
signal.setitimer(signal.ITIMER_REAL, 0.3)
t0 = time.time()
try:
    os.open(p, os.O_WRONLY)
    print("opened with no reader")
except Alarm:
    print("interrupted after", round(time.time() - t0, 1))
os.unlink(p)
