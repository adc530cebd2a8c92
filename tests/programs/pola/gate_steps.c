/* gate_steps: the program single-steps itself (the trap flag, its own
 * SIGTRAP handler) through path calls a session's fast path makes in its
 * gates, and at step K its handler takes the path's page away (munmap, or
 * mprotect PROT_NONE), for every K until the call ends first: the session
 * open gate (an open of a path whose page the handler has read before),
 * the handler gate (a stat; an open of a path in a page not read yet).
 * Natively each call opens or says EFAULT; so it must in a session, never
 * die. The session open gate read the path between its look at the
 * known-pages table and the call with signals coming in: a handler that
 * unmapped the page there had the process die of SIGSEGV (any signal's,
 * not only a step's); and a step in the handler gate (a SIGTRAP while
 * in_gate) killed the program at the gate's first instruction.
 * argv: PATH (a file the session grants, below -B's /usr) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

static char *page;
static volatile long steps, at, done;
static volatile int protect;

static void on_trap(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    if (done)
        return;
    if (++steps == at) {
        if (protect)
            mprotect(page, 4096, PROT_NONE);
        else
            munmap(page, 4096);
        done = 1;
        uc->uc_mcontext.gregs[REG_EFL] &= ~0x100L;
    }
}

__attribute__((noinline)) static long do_open(const char *p) {
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        close(fd);
    return fd < 0 ? -errno : 0;
}

__attribute__((noinline)) static long do_stat(const char *p) {
    struct stat st;
    return stat(p, &st) < 0 ? -errno : 0;
}

static void tf_on(void) { __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq" ::: "memory", "cc"); }
static void tf_off(void) { __asm__ volatile("pushfq; andq $~0x100, (%%rsp); popfq" ::: "memory", "cc"); }

/* One call, stepped, the page taken away at each step in turn. */
static void sweep(const char *label, long (*call)(const char *), const char *path, int warm) {
    for (protect = 0; protect < 2; protect++) {
        long bad = 0;
        for (at = 1; at < 100000; at++) {
            page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (page == MAP_FAILED)
                abort();
            strcpy(page, path);
            /* (Three times and more: the site rewritten, the page read.) */
            for (int i = 0; i < warm; i++)
                if (call(page) != 0) {
                    printf("%s: unstepped: %s\n", label, strerrorname_np((int)-call(page)));
                    return;
                }
            steps = 0;
            done = 0;
            tf_on();
            long r = call(page);
            tf_off();
            if (r != 0 && r != -EFAULT && bad++ < 5)
                printf("%s at step %ld: %s\n", label, at, strerrorname_np((int)-r));
            munmap(page, 4096);
            if (!done)
                break;
        }
        printf("%s, page %s at each step: held\n", label, protect ? "made PROT_NONE" : "unmapped");
    }
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    struct sigaction sa = {0};
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGTRAP, &sa, 0);
    /* Warm-up calls of their own sites first: a site's third call rewrites it. */
    for (int i = 0; i < 4; i++) {
        do_open(argv[1]);
        do_stat(argv[1]);
    }
    sweep("open, its page read before", do_open, argv[1], 2);
    sweep("open, its page never read", do_open, argv[1], 0);
    sweep("stat", do_stat, argv[1], 2);
    fflush(stdout);
    return 0;
}
