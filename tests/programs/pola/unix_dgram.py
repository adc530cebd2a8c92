# Unix datagrams between sockets named by path (tests/tests/pola_sessions.rs):
# sendto and sendmsg to a path, a reply to the address recvfrom gave, an
# unnamed sender, a missing name, a full receiver. Argument: a directory.
import socket, os, sys
d = sys.argv[1]
os.chdir(d)
for n in ("srv.sock", "cli.sock"):
    try: os.unlink(n)
    except FileNotFoundError: pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); srv.bind("srv.sock")
cli = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); cli.bind(os.path.join(d, "cli.sock"))
print("sendto:", cli.sendto(b"hello", "srv.sock"))
data, addr = srv.recvfrom(100)
print("got:", data, "from a name:", bool(addr))
print("echo:", srv.sendto(data.upper(), addr))
print("back:", cli.recvfrom(100)[0])
un = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print("unnamed sendmsg:", un.sendmsg([b"a", b"bc"], [], 0, os.path.join(d, "srv.sock")))
data, addr = srv.recvfrom(100)
print("got:", data, "from:", repr(addr))
try: un.sendto(b"x", "nosuch.sock")
except OSError as e: print("nosuch:", e.errno)
srv.setblocking(False)
n = 0
cli.setblocking(False)
try:
    while True:
        cli.sendto(b"x" * 1000, "srv.sock"); n += 1
except BlockingIOError: print("full after some: ", n > 5)
