/* stat_below_rsp: newfstatat(AT_FDCWD, PATH, BUF, 0) through libc's
 * syscall() with BUF in the stack below the caller's stack pointer, past
 * the red zone (where a rewritten site's stub and the session's gates keep
 * their return address and saved registers during the call), at every
 * 8-byte offset from 128 to 512 bytes below: natively the kernel writes
 * the stat there and the call returns 0; the program copies it out at
 * once (no call between) and prints the calls that went wrong. Five times each (the
 * site rewritten at its third execution). Arguments: a file to stat, and
 * anything to print each offset before its calls. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noinline)) static long at(const char *p, long below, struct stat *out) {
    char *sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    /* syscall() is called from here: its own rsp is 8 below ours (the
       return address); BUF `below` bytes under that. */
    char *buf = sp - 8 - below;
    long r = syscall(SYS_newfstatat, AT_FDCWD, p, buf, 0);
    /* Copied out with no call between (a lazily bound memcpy's first
       call would itself use the stack there). */
    volatile char *from = buf;
    char *to = (char *)out;
    for (unsigned i = 0; i < sizeof *out; i++)
        to[i] = from[i];
    return r;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    struct stat want;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (stat(argv[1], &want))
        return 2;
    int bad = 0;
    for (long below = 128 + sizeof(struct stat); below <= 512 + sizeof(struct stat); below += 8) {
        if (argc > 2)
            printf("below %ld\n", below);
        for (int k = 0; k < 5; k++) {
            struct stat got;
            long r = at(argv[1], below, &got);
            if (r != 0 || got.st_size != want.st_size || got.st_ino != want.st_ino) {
                printf("below %ld, try %d: %s, size %lld\n", below, k, r ? strerror(errno) : "ok", (long long)got.st_size);
                bad++;
            }
        }
    }
    printf("stat_below_rsp: %d wrong\n", bad);
    return 0;
}
