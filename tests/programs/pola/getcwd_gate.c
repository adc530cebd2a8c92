/* getcwd as the session's handler gate answers it (since session 23, in
 * the process): the raw call through libc's syscall() four times (its
 * site rewritten to the gate at the third), the last answer printed:
 * buffers of the exact length, one byte short, 0, 1, NULL, a bad
 * pointer, a huge size, a read-only page, a buffer running into an
 * unmapped page; in the starting directory, `/`, /usr/include, `..`,
 * /etc, /tmp. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long gc(char *buf, unsigned long size) {
    long r = 0;
    for (int i = 0; i < 4; i++) {
        r = syscall(SYS_getcwd, buf, size);
        if (r < 0)
            r = -errno;
    }
    return r;
}

static void show(const char *what, long r, const char *buf) {
    if (r < 0)
        printf("  %s: %s\n", what, strerrorname_np((int)-r));
    else
        printf("  %s: %ld %.*s\n", what, r, buf ? (int)r : 0, buf ? buf : "");
}

static void tries(const char *where) {
    static char buf[8192];
    printf("%s\n", where);
    long len = gc(buf, sizeof buf);
    show("8192", len, buf);
    if (len > 0) {
        show("exact", gc(buf, (unsigned long)len), buf);
        show("one short", gc(buf, (unsigned long)len - 1), buf);
    }
    show("0", gc(buf, 0), 0);
    show("1", gc(buf, 1), 0);
    show("NULL", gc(NULL, 4096), 0);
    show("bad pointer", gc((char *)8, 4096), 0);
    show("huge size", gc(buf, ~0UL), buf);
    char *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("read-only page", gc(ro, 4096), 0);
    munmap(ro, 4096);
    char *two = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two + 4096, 4096);
    show("into an unmapped page", gc(two + 4094, 4096), 0);
    show("ending before an unmapped page", gc(two + 4096 - (len > 0 ? len : 1), (unsigned long)(len > 0 ? len : 1)), 0);
    munmap(two, 4096);
}

int main(void) {
    tries("start");
    const char *dirs[] = {"/", "/usr/include", "..", "/etc", "/tmp"};
    for (int i = 0; i < 5; i++) {
        if (chdir(dirs[i]) != 0) {
            printf("chdir %s: %s\n", dirs[i], strerrorname_np(errno));
            continue;
        }
        tries(dirs[i]);
    }
    return 0;
}
