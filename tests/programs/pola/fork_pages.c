/* fork_pages: a path in a page made MADV_WIPEONFORK or MADV_DONTFORK, read
 * by the handler and opened through the session open gate (its page known
 * readable) in the parent, then opened by a fork child, where the page is
 * zeros or absent: ENOENT and EFAULT as natively, never a fault of the
 * gate's read. argv: PATH (a file the session grants) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
__attribute__((noinline)) static long do_open(const char *p) { int fd = open(p, O_RDONLY | O_CLOEXEC); if (fd >= 0) close(fd); return fd < 0 ? -errno : 0; }
int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "/usr/include/stdio.h";
    for (int adv = 0; adv < 2; adv++) {
        char *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        strcpy(page, path);
        printf("madvise %s: %d\n", adv ? "DONTFORK" : "WIPEONFORK", madvise(page, 4096, adv ? MADV_DONTFORK : MADV_WIPEONFORK));
        for (int i = 0; i < 4; i++) do_open(page);
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            long r = do_open(page);
            printf("child: open %s\n", r ? strerrorname_np((int)-r) : "ok");
            fflush(stdout);
            _exit(0);
        }
        int st; waitpid(p, &st, 0);
        printf("child ended: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    }
    return 0;
}
