/* gate_bad_pointers: open, openat (the session open gate's), stat (the
 * handler gate's, a virtual directory's first) and getcwd (the handler
 * gate's since session 23), their sites rewritten first, given NULL, low,
 * non-canonical, kernel and vsyscall addresses: EFAULT as natively,
 * never a fault of preld's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
__attribute__((noinline)) static long op(const char *p) { int fd = open(p, O_RDONLY); if (fd >= 0) close(fd); return fd < 0 ? -errno : 0; }
__attribute__((noinline)) static long opat(const char *p) { int fd = openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC); if (fd >= 0) close(fd); return fd < 0 ? -errno : 0; }
__attribute__((noinline)) static long st(const char *p) { struct stat s; return stat(p, &s) ? -errno : 0; }
__attribute__((noinline)) static long gcw(char *p, unsigned long n) { return syscall(SYS_getcwd, p, n) < 0 ? -errno : 0; }
int main(void) {
    for (int i = 0; i < 4; i++) { op("/usr/include/stdio.h"); opat("/usr/include/stdio.h"); st("/"); }
    const char *ptrs[] = {NULL, (char *)1, (char *)4095, (char *)4096, (char *)0x7fffffffe000UL, (char *)0x800000000000UL, (char *)0xffff800000000000UL, (char *)-1L, (char *)-4096L, (char *)0xffffffffff600000UL};
    for (unsigned i = 0; i < sizeof ptrs / sizeof *ptrs; i++)
        printf("%p: open %s, openat %s, stat %s, getcwd %s\n", (void *)ptrs[i], strerrorname_np(-op(ptrs[i])), strerrorname_np(-opat(ptrs[i])), strerrorname_np(-st(ptrs[i])), strerrorname_np(-gcw((char *)ptrs[i], 100)));
    return 0;
}
