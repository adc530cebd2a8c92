/* More ways to take access away from a page a call has read (a path) or
 * written (a stat), then pass the page again: natively each call says
 * EFAULT. The handler knows pages it found readable until the mappings
 * change (usermem.rs): each of these must make it forget them, or a plain
 * load or store of preld's kills the process with SIGBUS or SIGSEGV.
 *
 *   h_pagecache2 CASE DIR     (DIR: a scratch directory for files)
 *
 * CASE:
 *   ftruncate-shared   MAP_SHARED file, the program's own ftruncate
 *   ftruncate-private  MAP_PRIVATE file (page not written), own ftruncate
 *   otrunc             MAP_SHARED file, truncated by open(O_TRUNC)
 *   dontfork           MADV_DONTFORK region, used again in a fork child
 *   uffd-dontneed      userfaultfd (SIGBUS feature), then MADV_DONTNEED
 *   uffd-wp            userfaultfd write-protect ioctl (no mprotect)
 *   uring-guard        io_uring IORING_OP_MADVISE(MADV_GUARD_INSTALL)
 *   uring-ftruncate    io_uring IORING_OP_FTRUNCATE
 *   preld-madvise      process_madvise over preld's bss (a hole natively)
 *   preld-mseal        mseal of preld's bss and thread arena, then threads
 *   preld-uffd         userfaultfd registered over preld's bss, then threads
 *                      (a third argument: io_uring's MADV_GUARD_INSTALL there)
 *   race-munmap        another thread passes (reads, and writes a stat into)
 *                      a page this one maps and unmaps 20000 times
 * Prints "CASE: open X, stat Y, access Z" (X, Y, Z: ok or an errno). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static const char *PATH = "/dev/null"; /* or $PC2_PATH */

static const char *err(void) { return errno == EFAULT ? "EFAULT" : strerrorname_np(errno); }

static const char *try_open(char *p) {
    int fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err();
    close(fd);
    return "ok";
}
static const char *try_stat(char *p) {
    if (syscall(SYS_newfstatat, AT_FDCWD, PATH, p + 2048, 0) < 0) return err();
    return "ok";
}
static const char *try_access(char *p) {
    if (syscall(SYS_faccessat, AT_FDCWD, p, R_OK) < 0) return err();
    return "ok";
}
static void use(char *p) {
    strcpy(p, PATH);
    for (int i = 0; i < 3; i++) { try_open(p); try_stat(p); try_access(p); }
}
static void show(const char *name, char *p) {
    const char *o = try_open(p);
    printf("%s: open %s", name, o); fflush(stdout);
    const char *s = try_stat(p);
    printf(", stat %s", s); fflush(stdout);
    const char *a = try_access(p);
    printf(", access %s\n", a); fflush(stdout);
}

static char *file_map(const char *dir, int shared, int *fdp) {
    char f[4096];
    snprintf(f, sizeof f, "%s/pc2-file-%d", dir, (int)getpid());
    int fd = open(f, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, 4096) < 0) { perror(f); exit(2); }
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    if (!shared) {
        /* Path and stat buffer through the file, the page never written. */
        if (pwrite(fd, PATH, strlen(PATH) + 1, 0) < 0) { perror("pwrite"); exit(2); }
        for (int i = 0; i < 3; i++) { try_open(p); try_access(p); }
    } else {
        use(p);
    }
    *fdp = fd;
    return p;
}

static int uring_one(struct io_uring_sqe *in) {
    struct io_uring_params pr = {0};
    int fd = syscall(SYS_io_uring_setup, 4, &pr);
    if (fd < 0) return -errno;
    char *sq = mmap(0, pr.sq_off.array + pr.sq_entries * 4, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    char *cq = mmap(0, pr.cq_off.cqes + pr.cq_entries * sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqes = mmap(0, pr.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) return -ENOMEM;
    sqes[0] = *in;
    unsigned *tail = (unsigned *)(sq + pr.sq_off.tail);
    unsigned *array = (unsigned *)(sq + pr.sq_off.array);
    array[0] = 0;
    atomic_store((_Atomic unsigned *)tail, *tail + 1);
    int r = syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
    if (r < 0) return -errno;
    struct io_uring_cqe *cqe = (struct io_uring_cqe *)(cq + pr.cq_off.cqes);
    return cqe[0].res;
}

static _Atomic int stop;
static char *volatile race_page;
static void *racer(void *a) {
    (void)a;
    while (!stop) {
        char *p = race_page;
        if (p) { try_access(p); try_open(p); try_stat(p); }
    }
    return NULL;
}

static void *sleeper(void *a) { usleep(20000); return a; }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: h_pagecache2 CASE DIR\n"); return 2; }
    const char *c = argv[1], *dir = argv[2];
    setvbuf(stdout, NULL, _IONBF, 0);
    if (getenv("PC2_PATH")) PATH = getenv("PC2_PATH");
    int fd;
    if (!strcmp(c, "ftruncate-shared") || !strcmp(c, "ftruncate-private")) {
        char *p = file_map(dir, c[10] == 's', &fd);
        if (ftruncate(fd, 0) < 0) { perror("ftruncate"); return 2; }
        show(c, p);
    } else if (!strcmp(c, "otrunc")) {
        char *p = file_map(dir, 1, &fd);
        char f[4096];
        snprintf(f, sizeof f, "%s/pc2-file-%d", dir, (int)getpid());
        close(open(f, O_WRONLY | O_TRUNC));
        show(c, p);
    } else if (!strcmp(c, "dontfork")) {
        char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        madvise(p, 4096, MADV_DONTFORK);
        use(p);
        pid_t pid = fork();
        if (pid == 0) { show("dontfork child", p); _exit(0); }
        int st;
        waitpid(pid, &st, 0);
        if (WIFSIGNALED(st)) printf("dontfork child: killed by %s\n", sigabbrev_np(WTERMSIG(st)));
        else printf("dontfork child: exit %d\n", WEXITSTATUS(st));
    } else if (!strcmp(c, "uffd-dontneed") || !strcmp(c, "uffd-wp")) {
        int u = syscall(SYS_userfaultfd, O_CLOEXEC);
        if (u < 0) { printf("%s: userfaultfd %s\n", c, strerrorname_np(errno)); return 0; }
        struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_SIGBUS | (c[5] == 'w' ? UFFD_FEATURE_PAGEFAULT_FLAG_WP : 0) };
        if (ioctl(u, UFFDIO_API, &api) < 0) { printf("%s: UFFDIO_API %s\n", c, strerrorname_np(errno)); return 0; }
        char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        use(p); /* populated before registering */
        struct uffdio_register reg = { .range = { (unsigned long)p, 4096 },
                                       .mode = c[5] == 'w' ? UFFDIO_REGISTER_MODE_WP : UFFDIO_REGISTER_MODE_MISSING };
        if (ioctl(u, UFFDIO_REGISTER, &reg) < 0) { printf("%s: UFFDIO_REGISTER %s\n", c, strerrorname_np(errno)); return 0; }
        use(p);
        if (c[5] == 'w') {
            struct uffdio_writeprotect wp = { .range = { (unsigned long)p, 4096 }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
            if (ioctl(u, UFFDIO_WRITEPROTECT, &wp) < 0) { printf("%s: WRITEPROTECT %s\n", c, strerrorname_np(errno)); return 0; }
        } else {
            madvise(p, 4096, MADV_DONTNEED);
        }
        show(c, p);
    } else if (!strcmp(c, "uring-guard") || !strcmp(c, "uring-ftruncate")) {
        char *p;
        struct io_uring_sqe s = {0};
        if (c[6] == 'g') {
            p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            use(p);
            s.opcode = IORING_OP_MADVISE;
            s.addr = (unsigned long)p;
            s.len = 4096;
            s.fadvise_advice = MADV_GUARD_INSTALL;
        } else {
            p = file_map(dir, 1, &fd);
            s.opcode = 55; /* IORING_OP_FTRUNCATE */
            s.fd = fd;
            s.off = 0;
        }
        int r = uring_one(&s);
        if (r < 0) { printf("%s: io_uring %s\n", c, strerrorname_np(-r)); return 0; }
        show(c, p);
    } else if (!strcmp(c, "preld-madvise")) {
        /* process_madvise (every advice for the caller itself since Linux
         * 6.13) over the anonymous mapping right after ld-preld's writable
         * segment (its bss: heap, tables, stacks) under preld, a hole
         * natively: MADV_DONTNEED zeroed preld's bss and MADV_GUARD_INSTALL
         * killed the process (SIGSEGV), where natively each says ENOMEM.
         * Then the same advice over a page of the program's own works. */
        FILE *m = fopen("/proc/self/maps", "r");
        char line[512];
        unsigned long lo = 0, hi = 0;
        int after = 0;
        while (m && fgets(line, sizeof line, m)) {
            unsigned long a, b;
            char perm[8];
            if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) != 3) continue;
            if (strstr(line, "ld-preld") && perm[1] == 'w') { after = 1; continue; }
            if (after) { lo = a; hi = b; break; }
        }
        if (m) fclose(m);
        if (!lo) {
            char *h = mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            munmap(h, 1 << 20);
            lo = (unsigned long)h;
            hi = lo + (1 << 20);
        }
        int pfd = syscall(SYS_pidfd_open, getpid(), 0);
        int advice[] = { MADV_DONTNEED, MADV_GUARD_INSTALL, MADV_COLD };
        for (unsigned i = 0; i < sizeof advice / sizeof *advice; i++) {
            struct iovec v = { (void *)lo, hi - lo };
            long r = syscall(SYS_process_madvise, pfd, &v, 1, advice[i], 0);
            if (r >= 0) printf("%s: advice %d over preld's memory (or a hole) took %ld bytes\n", c, advice[i], r);
        }
        char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        use(p);
        struct iovec v = { p, 4096 };
        long r = syscall(SYS_process_madvise, pfd, &v, 1, MADV_COLD, 0);
        printf("%s: refused, own page %s\n", c, r == 4096 ? "ok" : strerrorname_np(errno));
    } else if (!strcmp(c, "preld-mseal")) {
        /* mseal (Linux 6.10) of the anonymous mapping after ld-preld's
         * writable segment and of every anonymous PROT_NONE mapping (under
         * preld its thread arena's reserved part; natively holes or
         * nothing): every pthread_create then failed under preld. Then
         * 100 threads at once. */
        FILE *m = fopen("/proc/self/maps", "r");
        char line[512];
        unsigned long lo[64], hi[64];
        int n = 0, after = 0;
        while (m && fgets(line, sizeof line, m) && n < 64) {
            unsigned long a, b;
            char perm[8];
            if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) != 3) continue;
            if (after == 1) { lo[n] = a; hi[n] = b; n++; after = 2; }
            else if (!strcmp(perm, "---p") && !strchr(line, '/') && !strchr(line, '[')) { lo[n] = a; hi[n] = b; n++; }
            if (strstr(line, "ld-preld") && perm[1] == 'w' && !after) after = 1;
        }
        if (m) fclose(m);
        for (int i = 0; i < n; i++) syscall(462 /* mseal */, lo[i], hi[i] - lo[i], 0);
        pthread_t ts[100];
        int made = 0;
        for (int i = 0; i < 100; i++) made += pthread_create(&ts[i], NULL, sleeper, NULL) == 0;
        for (int i = 0; i < made; i++) pthread_join(ts[i], NULL);
        printf("%s: threads made %d\n", c, made);
    } else if (!strcmp(c, "preld-uffd")) {
        /* userfaultfd (SIGBUS feature) registered over the anonymous
         * mapping after ld-preld's writable segment (preld's bss; natively
         * a hole: EINVAL), then threads and calls: preld's first touch of
         * a page of its bss not yet populated raised SIGBUS (without the
         * feature it would wait for a fault handler nobody runs). */
        FILE *m = fopen("/proc/self/maps", "r");
        char line[512];
        unsigned long lo = 0, hi = 0;
        int after = 0;
        while (m && fgets(line, sizeof line, m)) {
            unsigned long a, b;
            char perm[8];
            if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) != 3) continue;
            if (after) { lo = a; hi = b; break; }
            if (strstr(line, "ld-preld") && perm[1] == 'w') after = 1;
        }
        if (m) fclose(m);
        if (!lo) {
            char *h = mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            munmap(h, 1 << 20);
            lo = (unsigned long)h;
            hi = lo + (1 << 20);
        }
        if (argc > 3) { /* io_uring's IORING_OP_MADVISE(MADV_GUARD_INSTALL) there instead */
            struct io_uring_sqe s = {0};
            s.opcode = IORING_OP_MADVISE;
            s.addr = lo;
            s.len = hi - lo;
            s.fadvise_advice = MADV_GUARD_INSTALL;
            int r = uring_one(&s);
            pthread_t ts[100];
            int made = 0;
            for (int i = 0; i < 100; i++) made += pthread_create(&ts[i], NULL, sleeper, NULL) == 0;
            for (int i = 0; i < made; i++) pthread_join(ts[i], NULL);
            printf("%s: uring %s, threads made %d\n", c, r < 0 ? "refused" : "advised", made);
            return 0;
        }
        int u = syscall(SYS_userfaultfd, O_CLOEXEC);
        if (u < 0) { printf("%s: userfaultfd %s\n", c, strerrorname_np(errno)); return 0; }
        struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_SIGBUS };
        if (ioctl(u, UFFDIO_API, &api) < 0) { printf("%s: UFFDIO_API %s\n", c, strerrorname_np(errno)); return 0; }
        struct uffdio_register reg = { .range = { lo, hi - lo }, .mode = UFFDIO_REGISTER_MODE_MISSING };
        int r = ioctl(u, UFFDIO_REGISTER, &reg);
        pthread_t ts[100];
        int made = 0;
        for (int i = 0; i < 100; i++) made += pthread_create(&ts[i], NULL, sleeper, NULL) == 0;
        for (int i = 0; i < made; i++) pthread_join(ts[i], NULL);
        for (int i = 0; i < 2000; i++) {
            char q[64];
            struct stat st;
            snprintf(q, sizeof q, "%s/pc2-none-%d", dir, i);
            stat(q, &st);
        }
        printf("%s: %s, threads made %d\n", c, r < 0 ? "refused" : "registered", made);
    } else if (!strcmp(c, "race-munmap")) {
        /* A second thread keeps passing the page while the first unmaps
         * it: a probe made after munmap's bump of the generation but before
         * the unmap itself was remembered under the new generation, and a
         * page unmapped between the kernel's look (or preld's probe) and
         * preld's copy made the copy fault (SIGSEGV, where natively each
         * call succeeds or says EFAULT). */
        pthread_t t;
        pthread_create(&t, NULL, racer, NULL);
        for (int i = 0; i < 20000; i++) {
            char *p = mmap((void *)0x7e0000000000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (p == MAP_FAILED) { perror("mmap"); return 2; }
            strcpy(p, PATH);
            race_page = p;
            munmap(p, 4096);
            /* the page stays unmapped a while: the racer's calls must say EFAULT */
            for (volatile int k = 0; k < 2000; k++) ;
        }
        stop = 1;
        pthread_join(t, NULL);
        printf("race-munmap: survived\n");
    } else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    return 0;
}
