/* h_fast: the cases of the fast path (rewritten syscall sites). Its sites are
   asm functions whose `syscall` follows `mov eax, NR`, the shape preld
   rewrites: every register, the flags and the red zone across a rewritten
   call; SA_RESTART on and off and restart_syscall across stop/continue in a
   call made from the gate; siglongjmp out of a handler 100,000 times; fork,
   vfork, posix_spawn and a failing exec from a process whose code was
   rewritten; code in an anonymous RWX page that changes itself; 64 threads
   racing on the first execution of a site, in 20 processes. Deterministic
   output. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* probe(out): getppid from a `mov eax, 110; syscall` site, with every other
   register, the flags and the 128-byte red zone set to known values first;
   out[0..15] = rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14 r15,
   out[16] = flags before, out[17] = flags after (as lahf/seto leave them
   in ax), out[18] = red-zone words changed, out[19] = the address after the
   syscall, out[26] = rflags before. Saves and restores the callee-saved
   registers in out[20..26). */
long probe(uint64_t *out);
long raw_getppid(void);
long raw_read(int fd, void *buf, size_t n);
long raw_read_xor(int fd, void *buf, size_t n);
long raw_mmap(void *addr, size_t len, int prot, int flags, int fd, long off);
long raw_nanosleep(const struct timespec *req, struct timespec *rem);
long raw_tgkill(int tgid, int tid, int sig);
long raw_getpid_race(void);
__asm__(
    ".intel_syntax noprefix\n"
    ".text\n"
    ".globl probe\n.type probe,@function\n"
    "probe:\n"
    ".cfi_startproc\n"
    "  mov [rdi+160], rbx\n  mov [rdi+168], rbp\n  mov [rdi+176], r12\n"
    "  mov [rdi+184], r13\n  mov [rdi+192], r14\n  mov [rdi+200], r15\n"
    "  mov r15, rdi\n"
    "  stc\n"                               /* CF=1 */
    "  pushfq\n  pop rax\n  mov [r15+208], rax\n"
    "  lahf\n  seto al\n  mov [r15+128], rax\n"   /* AH = SF ZF AF PF CF, AL = OF */
    "  mov rax, 0x5a5a5a5a5a5a5a5a\n"
    "  mov [rsp-128], rax\n  mov [rsp-120], rax\n  mov [rsp-112], rax\n  mov [rsp-104], rax\n"
    "  mov [rsp-96], rax\n  mov [rsp-88], rax\n  mov [rsp-80], rax\n  mov [rsp-72], rax\n"
    "  mov [rsp-64], rax\n  mov [rsp-56], rax\n  mov [rsp-48], rax\n  mov [rsp-40], rax\n"
    "  mov [rsp-32], rax\n  mov [rsp-24], rax\n  mov [rsp-16], rax\n  mov [rsp-8], rax\n"
    "  mov rbx, 0x1111111111111111\n  mov rcx, 0x2222222222222222\n  mov rdx, 0x3333333333333333\n"
    "  mov rsi, 0x4444444444444444\n  mov rdi, 0x5555555555555555\n  mov rbp, 0x6666666666666666\n"
    "  mov r8, 0x7777777777777777\n  mov r9, 0x8888888888888888\n  mov r10, 0x9999999999999999\n"
    "  mov r11, 0xaaaaaaaaaaaaaaaa\n  mov r12, 0xbbbbbbbbbbbbbbbb\n  mov r13, 0xcccccccccccccccc\n"
    "  mov r14, 0xdddddddddddddddd\n"
    "  mov eax, 110\n"
    "  syscall\n"
    "1:\n"
    "  mov [r15+0], rax\n  mov [r15+8], rbx\n  mov [r15+16], rcx\n  mov [r15+24], rdx\n"
    "  mov [r15+32], rsi\n  mov [r15+40], rdi\n  mov [r15+48], rbp\n  mov [r15+56], r8\n"
    "  mov [r15+64], r9\n  mov [r15+72], r10\n  mov [r15+80], r11\n  mov [r15+88], r12\n"
    "  mov [r15+96], r13\n  mov [r15+104], r14\n"
    "  lahf\n  seto al\n  mov [r15+136], rax\n"
    "  xor ecx, ecx\n"                    /* red-zone words changed (before pushfq uses it) */
    "  mov rax, 0x5a5a5a5a5a5a5a5a\n"
    "  mov rdx, -128\n"
    "2:\n  cmp [rsp+rdx], rax\n  je 3f\n  inc rcx\n3:\n  add rdx, 8\n  jnz 2b\n"
    "  mov [r15+144], rcx\n"
    "  lea rax, [rip+1b]\n  mov [r15+152], rax\n"
    "  mov rax, r15\n  mov [r15+112], rax\n"
    "  mov rax, [r15+0]\n"
    "  mov rbx, [r15+160]\n  mov rbp, [r15+168]\n  mov r12, [r15+176]\n"
    "  mov r13, [r15+184]\n  mov r14, [r15+192]\n  mov r15, [r15+200]\n"
    "  ret\n"
    ".cfi_endproc\n"
    ".size probe, .-probe\n"

    ".globl raw_getppid\n.type raw_getppid,@function\n"
    "raw_getppid:\n.cfi_startproc\n  mov eax, 110\n  syscall\n  ret\n.cfi_endproc\n.size raw_getppid, .-raw_getppid\n"
    ".globl raw_read\n.type raw_read,@function\n"
    "raw_read:\n.cfi_startproc\n  mov eax, 0\n  syscall\n  ret\n.cfi_endproc\n.size raw_read, .-raw_read\n"
    /* read's form in glibc: xor eax, eax; syscall (two bytes to rewrite:
       a short jump into the padding after the function). */
    ".p2align 4\n"
    ".globl raw_read_xor\n.type raw_read_xor,@function\n"
    "raw_read_xor:\n.cfi_startproc\n  xor eax, eax\n  syscall\n  ret\n.cfi_endproc\n.size raw_read_xor, .-raw_read_xor\n"
    ".p2align 4\n"
    ".globl raw_mmap\n.type raw_mmap,@function\n"
    "raw_mmap:\n.cfi_startproc\n  mov r10, rcx\n  mov eax, 9\n  syscall\n  ret\n.cfi_endproc\n.size raw_mmap, .-raw_mmap\n"
    ".globl raw_nanosleep\n.type raw_nanosleep,@function\n"
    "raw_nanosleep:\n.cfi_startproc\n  mov eax, 35\n  syscall\n  ret\n.cfi_endproc\n.size raw_nanosleep, .-raw_nanosleep\n"
    ".globl raw_tgkill\n.type raw_tgkill,@function\n"
    "raw_tgkill:\n.cfi_startproc\n  mov eax, 234\n  syscall\n  ret\n.cfi_endproc\n.size raw_tgkill, .-raw_tgkill\n"
    ".globl raw_getpid_race\n.type raw_getpid_race,@function\n"
    "raw_getpid_race:\n.cfi_startproc\n  mov eax, 39\n  syscall\n  ret\n.cfi_endproc\n.size raw_getpid_race, .-raw_getpid_race\n"
    ".att_syntax\n");

static const char *yn(int b) { return b ? "yes" : "no"; }

static void registers(void) {
    uint64_t o[27];
    int all = 1;
    for (int round = 0; round < 1000; round++) {
        memset(o, 0, sizeof o);
        long r = probe(o);
        const uint64_t arith = 0x8d5; /* OF SF ZF AF PF CF */
        const uint64_t ah_al = 0xff01;
        int ok = r == getppid() && o[1] == 0x1111111111111111 && o[2] == o[19] && o[3] == 0x3333333333333333 &&
                 o[4] == 0x4444444444444444 && o[5] == 0x5555555555555555 && o[6] == 0x6666666666666666 &&
                 o[7] == 0x7777777777777777 && o[8] == 0x8888888888888888 && o[9] == 0x9999999999999999 &&
                 (o[10] & arith) == (o[26] & arith) && o[11] == 0xbbbbbbbbbbbbbbbb &&
                 o[12] == 0xcccccccccccccccc && o[13] == 0xdddddddddddddddd && (o[17] & ah_al) == (o[16] & ah_al) &&
                 o[18] == 0;
        if (!ok && all) {
            printf("registers: round %d differs: rax ok=%s rcx=next=%s r11=flags=%s flags kept=%s red zone words changed=%lu\n",
                   round, yn(r == getppid()), yn(o[2] == o[19]), yn((o[10] & arith) == (o[26] & arith)),
                   yn((o[17] & ah_al) == (o[16] & ah_al)), (unsigned long)o[18]);
        }
        all &= ok;
    }
    printf("registers, flags and red zone across 1000 calls as natively: %s\n", yn(all));
}

static volatile sig_atomic_t ticks;
static void tick(int s) { (void)s; ticks++; }

static void restart(int sa_flags, const char *name) {
    int p[2];
    if (pipe(p)) { perror("pipe"); exit(1); }
    char c;
    /* A first, non-blocking execution of the site (the rewrite). */
    write(p[1], "x", 1);
    raw_read(p[0], &c, 1);
    struct sigaction sa = {0};
    sa.sa_handler = tick;
    sa.sa_flags = sa_flags;
    sigaction(SIGALRM, &sa, NULL);
    pid_t w = fork();
    if (w == 0) {
        usleep(300000);
        write(p[1], "y", 1);
        _exit(0);
    }
    ticks = 0;
    struct itimerval it = {{0, 50000}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    long r = raw_read(p[0], &c, 1);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    waitpid(w, NULL, 0);
    if (r == 1)
        printf("%s: read returned 1 byte '%c' after signals: %s\n", name, c, yn(ticks > 0));
    else
        printf("%s: read returned %s after signals: %s\n", name, r == -EINTR ? "-EINTR" : "something else", yn(ticks > 0));
    close(p[0]);
    close(p[1]);
    signal(SIGALRM, SIG_DFL);
}

static void stop_continue(void) {
    struct timespec t = {0, 1000};
    raw_nanosleep(&t, NULL); /* the rewrite */
    pid_t me = getpid();
    pid_t k = fork();
    if (k == 0) {
        usleep(100000);
        kill(me, SIGSTOP);
        usleep(100000);
        kill(me, SIGCONT);
        _exit(0);
    }
    struct timespec req = {0, 400000000}, rem = {0, 0};
    long r = raw_nanosleep(&req, &rem);
    int st;
    waitpid(k, &st, 0);
    printf("nanosleep across SIGSTOP/SIGCONT (restart_syscall): returned %ld\n", r);
}

static sigjmp_buf jb;
static void jump(int s) { (void)s; siglongjmp(jb, 1); }

static void longjumps(void) {
    struct sigaction sa = {0};
    sa.sa_handler = jump;
    sigaction(SIGUSR1, &sa, NULL);
    int pid = getpid(), tid = (int)syscall(SYS_gettid);
    volatile int n = 0;
    sigsetjmp(jb, 1);
    while (n < 100000) {
        n++;
        if (sigsetjmp(jb, 1) == 0)
            raw_tgkill(pid, tid, SIGUSR1);
    }
    signal(SIGUSR1, SIG_DFL);
    printf("siglongjmp out of a handler: %d times, getppid still right: %s\n", n, yn(raw_getppid() == getppid()));
}

static void processes(void) {
    pid_t parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        _exit(raw_getppid() == parent ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    printf("fork child's rewritten call: %s\n", yn(WIFEXITED(st) && WEXITSTATUS(st) == 0));
    c = vfork();
    if (c == 0) {
        _exit(raw_getppid() == parent ? 0 : 1);
    }
    waitpid(c, &st, 0);
    printf("vfork child's rewritten call: %s\n", yn(WIFEXITED(st) && WEXITSTATUS(st) == 0));
    char *argv[] = {"sh", "-c", "exit 7", NULL};
    pid_t s;
    int e = posix_spawn(&s, "/bin/sh", NULL, NULL, argv, environ);
    waitpid(s, &st, 0);
    printf("posix_spawn: %d, exit %d\n", e, WEXITSTATUS(st));
    char *none[] = {"missing", NULL};
    execve("/nonexistent/program", none, environ);
    printf("failed execve: %s; rewritten call after it: %s\n", strerror(errno), yn(raw_getppid() == getppid()));
}

/* mov eax, 39 (getpid); syscall; ret — then made getppid (110) in place. */
static void self_modifying(void) {
    unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    const unsigned char code[] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3};
    memcpy(p, code, sizeof code);
    long (*f)(void) = (long (*)(void))p;
    int ok = 1;
    for (int i = 0; i < 10; i++) ok &= f() == getpid();
    p[1] = 110;
    for (int i = 0; i < 10; i++) ok &= f() == getppid();
    p[1] = 39;
    for (int i = 0; i < 10; i++) ok &= f() == getpid();
    printf("self-modifying RWX code: every call as written at the time: %s\n", yn(ok));
    munmap(p, 4096);
}

static pthread_barrier_t bar;
static void *racer(void *a) {
    (void)a;
    pthread_barrier_wait(&bar);
    long ok = 1;
    for (int i = 0; i < 100; i++) ok &= raw_getpid_race() == getpid();
    return (void *)ok;
}

static void race(void) {
    int good = 0;
    for (int proc = 0; proc < 20; proc++) {
        pid_t c = fork();
        if (c == 0) {
            pthread_t t[64];
            pthread_barrier_init(&bar, NULL, 64);
            for (int i = 0; i < 64; i++) pthread_create(&t[i], NULL, racer, NULL);
            long ok = 1;
            for (int i = 0; i < 64; i++) {
                void *r;
                pthread_join(t[i], &r);
                ok &= (long)r;
            }
            _exit(ok ? 0 : 1);
        }
        int st;
        waitpid(c, &st, 0);
        good += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    printf("64 threads racing on a site's first execution, 20 processes: %d good\n", good);
}

/* Path calls from rewritten sites: /proc/self/exe must stay the program
   (launcher mode makes it virtual), for stat, open and openat alike. */
#include <fcntl.h>
#include <sys/stat.h>
static void self_exe(const char *argv0) {
    struct stat prog, st;
    if (stat(argv0, &prog)) { perror("stat argv0"); exit(1); }
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        ok &= stat("/proc/self/exe", &st) == 0 && st.st_ino == prog.st_ino;
        int fd = open("/proc/self/exe", O_RDONLY);
        ok &= fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == prog.st_ino;
        close(fd);
        fd = openat(AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC);
        ok &= fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == prog.st_ino;
        close(fd);
        ok &= fstatat(AT_FDCWD, "/proc/self/exe", &st, 0) == 0 && st.st_ino == prog.st_ino;
        ok &= access("/proc/self/exe", X_OK) == 0;
    }
    int fd = open("/proc/self/exe", O_RDONLY);
    printf("/proc/self/exe is the program for stat, open, openat, fstatat, each 3 times: %s; the fd is the lowest free: %s\n",
           yn(ok), yn(fd == 3));
    close(fd);
    /* The link itself for lstat and AT_SYMLINK_NOFOLLOW, so that realpath
       reads it and ends at the program. */
    int link = 1;
    for (int i = 0; i < 3; i++) {
        link &= lstat("/proc/self/exe", &st) == 0 && S_ISLNK(st.st_mode);
        link &= fstatat(AT_FDCWD, "/proc/self/exe", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    }
    char *a = realpath("/proc/self/exe", NULL), *b = realpath(argv0, NULL);
    printf("/proc/self/exe is a link for lstat: %s; realpath of it is the program's: %s\n", yn(link),
           yn(a && b && strcmp(a, b) == 0));
    /* readlink from rewritten sites (the handler gate makes the others
       itself): the program's path, nothing written past it, other links
       and bad pointers as the kernel answers. */
    int rl = 1;
    for (int i = 0; i < 3; i++) {
        char buf[4096];
        memset(buf, 0x55, sizeof buf);
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf);
        rl &= b && n == (ssize_t)strlen(b) && memcmp(buf, b, n) == 0 && buf[n] == 0x55;
        memset(buf, 0x55, sizeof buf);
        n = readlinkat(AT_FDCWD, "/proc/self/exe", buf, sizeof buf);
        rl &= b && n == (ssize_t)strlen(b) && memcmp(buf, b, n) == 0 && buf[n] == 0x55;
        n = readlink("/proc/self/exe", buf, 3);
        rl &= b && n == 3 && memcmp(buf, b, 3) == 0;
        char want[4096];
        ssize_t m = syscall(SYS_readlink, "/proc/self/cwd", want, sizeof want);
        n = readlink("/proc/self/cwd", buf, sizeof buf);
        rl &= m > 0 && n == m && memcmp(buf, want, n) == 0;
        errno = 0;
        rl &= readlink((const char *)8, buf, sizeof buf) == -1 && errno == EFAULT;
        errno = 0;
        rl &= readlink("/proc/self/exe", (char *)8, sizeof buf) == -1 && errno == EFAULT;
        errno = 0;
        rl &= readlink("/no/such/link", buf, sizeof buf) == -1 && errno == ENOENT;
        /* Spelt with extra / and . names, as the kernel walks them. */
        static const char *spelt[] = { "//proc/self/exe", "/proc/./self/exe", "/./proc//self/./exe" };
        for (unsigned k = 0; k < sizeof spelt / sizeof *spelt; k++) {
            n = readlink(spelt[k], buf, sizeof buf);
            rl &= b && n == (ssize_t)strlen(b) && memcmp(buf, b, n) == 0;
            rl &= stat(spelt[k], &st) == 0 && st.st_ino == prog.st_ino;
        }
    }
    printf("readlink and readlinkat of /proc/self/exe are the program, others the kernel's, 3 times: %s\n", yn(rl));
    /* readlinkat's directory fd plays no part for an absolute path (from
       the handler gate it named ld-preld, from the trap path EINVAL), and
       bufsiz is the kernel's int: EINVAL unless positive (it answered 0
       and the whole path). */
    int at = 1;
    for (int i = 0; i < 3; i++) {
        char buf[4096];
        int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        memset(buf, 0x55, sizeof buf);
        ssize_t n = readlinkat(dir, "/proc/self/exe", buf, sizeof buf);
        at &= dir >= 0 && b && n == (ssize_t)strlen(b) && memcmp(buf, b, n) == 0 && buf[n] == 0x55;
        close(dir);
        memset(buf, 0x55, sizeof buf);
        errno = 0;
        at &= syscall(SYS_readlink, "/proc/self/exe", buf, 0L) == -1 && errno == EINVAL;
        errno = 0;
        at &= syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf, -1L) == -1 && errno == EINVAL && buf[0] == 0x55;
    }
    printf("readlinkat of /proc/self/exe beside a directory fd is the program, bufsiz 0 and -1 EINVAL, 3 times: %s\n", yn(at));
    free(a);
    free(b);
}

/* Numbers no kernel call has (a gap of the table, past its end, negative),
   through glibc's syscall(), a site whose number is known only at run
   time: ENOSYS, as natively (preld died of them once). */
static void invalid_numbers(void) {
    long nrs[] = {337, 511, 512, 100000, -1};
    int ok = 1;
    for (int round = 0; round < 3; round++)
        for (unsigned i = 0; i < sizeof nrs / sizeof nrs[0]; i++) {
            errno = 0;
            long r = syscall(nrs[i], 1, 2, 3);
            ok &= r == -1 && errno == ENOSYS;
        }
    printf("syscall() with numbers that are no call: -1 ENOSYS each: %s\n", yn(ok));
}

int main(int argc, char **argv) {
    (void)argc;
    setvbuf(stdout, NULL, _IONBF, 0);
    invalid_numbers();
    self_exe(argv[0]);
    registers();
    restart(SA_RESTART, "SA_RESTART");
    restart(0, "no SA_RESTART");
    stop_continue();
    longjumps();
    processes();
    self_modifying();
    race();
    long n = 0;
    for (int i = 0; i < 100000; i++) n += raw_getppid() == getppid();
    printf("100000 rewritten calls right: %s\n", yn(n == 100000));
    int z = open("/dev/zero", O_RDONLY);
    long bytes = 0;
    char b[16];
    for (int i = 0; i < 100000; i++) {
        memset(b, 1, sizeof b);
        long r = raw_read_xor(z, b, sizeof b);
        bytes += r == (long)sizeof b && b[0] == 0 && b[15] == 0 ? r : 0;
    }
    close(z);
    printf("100000 reads from an xor-eax site: %ld bytes of zeros\n", bytes);
    /* mmap from a rewritten site: the kernel's choice of address is made
       from the gate, a fixed one by the handler (which guards preld's
       memory); both as natively. */
    int mm_ok = 1;
    for (int i = 0; i < 20; i++) {
        long a = raw_mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mm_ok &= a > 0 && a % 4096 == 0;
        long f = raw_mmap((void *)a, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        mm_ok &= f == a;
        long e = raw_mmap((void *)a, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        mm_ok &= e == -EEXIST;
        munmap((void *)a, 8192);
    }
    printf("mmap from a rewritten site, placed, fixed and fixed-noreplace: %s\n", yn(mm_ok));
    return 0;
}
