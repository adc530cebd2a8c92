"""stat and lstat of names relative to a directory fd (find's and tar's
fstatat(dirfd, NAME, ...)): one line per name and call, with the fields
that do not change between two runs, or the error's name."""
import errno
import os
import sys

top = sys.argv[1]
names = ["file", "dir", "rel-link", "abs-link", "abs-outside", "dangling", "dir-link", "loop",
         "fifo", ".", "..", "dir/file", "missing", "file/x", "sub-link/file"]


def show(call, name, fd, follow):
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=follow)
        print(call, name, oct(st.st_mode), st.st_size, st.st_nlink, st.st_ino == os.stat(os.path.join(top, "file")).st_ino)
    except OSError as e:
        print(call, name, errno.errorcode[e.errno])


for where in [top, os.path.join(top, "dir")]:
    fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY)
    print("in", os.path.relpath(where, top))
    for name in names:
        if where == top and name == "..":
            continue  # /tmp: the session's own
        show("stat", name, fd, True)
        show("lstat", name, fd, False)
    os.close(fd)
