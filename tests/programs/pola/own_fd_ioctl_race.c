/* argv: "fault" or "seccomp". ioctl FICLONERANGE naming fds 1000-1099
   (none of the program's; with the fd limit's soft and hard values equal
   preld's own fds lie there from 1008 up) as its source, with another
   thread racing the handler's look at the struct:
   - "fault": the other thread takes the struct's page away (PROT_NONE)
     and gives it back, over and over: a look that found it unreadable let
     the call go to the kernel as it came, which read it once readable;
   - "seccomp": the program has a seccomp filter of its own (allowing
     everything), and the other thread flips the struct's src_fd between
     a closed fd and the one named: such a process's ioctl went to the
     kernel as it came after the look.
   Each fd 2000 times ("seccomp": 20000, in up to 4 rounds until one is
   wrong). Natively EBADF (or EFAULT while the page is away) each time; EXDEV
   means the kernel reached one of preld's fds (a socket, a directory on
   another mount). Prints each that answered otherwise, then
   "done: N wrong". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static struct file_clone_range *r;
static atomic_int stop;
static atomic_long target, written;
static int seccomp_mode;

static void *racer(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        if (seccomp_mode) {
            r->src_fd = 999;
            long fd = atomic_load(&target);
            r->src_fd = fd;
            atomic_store(&written, fd);
        } else {
            mprotect(r, 4096, PROT_NONE);
            mprotect(r, 4096, PROT_READ | PROT_WRITE);
            long fd = atomic_load(&target);
            r->src_fd = fd;
            atomic_store(&written, fd);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) return 2;
    seccomp_mode = strcmp(argv[1], "seccomp") == 0;
    int dst = open("/tmp", O_TMPFILE | O_RDWR, 0600);
    if (dst < 0) return 1;
    r = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) return 1;
    if (seccomp_mode) {
        struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
        struct sock_fprog prog = {.len = 1, .filter = allow};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
            printf("seccomp: %s\n", strerror(errno));
            return 1;
        }
    }
    r->src_fd = 999;
    atomic_store(&target, 999);
    pthread_t t;
    if (pthread_create(&t, NULL, racer, NULL) != 0) return 1;
    int bad = 0;
    for (int round = 0; round < (seccomp_mode ? 4 : 1) && !bad; round++)
    for (int fd = 1000; fd < 1100; fd++) {
        atomic_store(&target, fd);
        while (!seccomp_mode && atomic_load(&written) != fd) (void)0; /* (the racer writes it: the page may be away here) */
        for (int i = 0; i < (seccomp_mode ? 20000 : 2000); i++) {
            long rr = ioctl(dst, FICLONERANGE, r);
            int e = errno;
            if (rr >= 0 || (e != EBADF && e != EFAULT)) {
                printf("ioctl FICLONERANGE(%d): %ld (%s)\n", fd, rr, rr >= 0 ? "no error" : strerror(e));
                bad++;
                break;
            }
        }
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("done: %d wrong\n", bad);
    return 0;
}
