/* h_clone: new threads on new stacks: pthread_create (glibc 2.36 uses clone3), a thread on a tiny user-supplied stack, a raw clone3 thread and a raw clone(CLONE_VM) process whose children print from their own stacks and leave with a raw exit; the output is deterministic. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_STACK (256 * 1024)

/* --- raw system calls, usable on a stack and TLS glibc knows nothing of --- */

static long raw3(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

static void raw_exit(int code) {
    for (;;) raw3(SYS_exit, code, 0, 0);
}

/* Appends s to buf at *n. */
static void put(char *buf, int *n, const char *s) {
    while (*s) buf[(*n)++] = *s++;
}

struct child_arg {
    const char *who;
    char *stack_lo, *stack_hi;
    unsigned long value;
};

/* The children's body: checks that it runs on the stack it was given, writes
 * one line with a raw write(2) and ends with a raw exit(2). */
static void child_body(struct child_arg *a) {
    volatile char here = 0;
    char line[128];
    int n = 0;
    int on_own = (char *)&here >= a->stack_lo && (char *)&here < a->stack_hi;
    put(line, &n, a->who);
    put(line, &n, ": child on its own stack=");
    put(line, &n, on_own ? "yes" : "no");
    put(line, &n, " getppid-matches=");
    put(line, &n, raw3(SYS_getppid, 0, 0, 0) == (long)a->value ? "yes" : "no");
    line[n++] = '\n';
    raw3(SYS_write, 1, (long)line, n);
    raw_exit(0);
}

/* clone3(args, size): the child calls fn(arg) on its new stack. */
static long clone3_call(struct clone_args *args, void (*fn)(struct child_arg *), struct child_arg *arg) {
    long r;
    register void (*r12)(struct child_arg *) __asm__("r12") = fn;
    register struct child_arg *r13 __asm__("r13") = arg;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xor %%ebp, %%ebp\n\t"
        "and $-16, %%rsp\n\t"
        "mov %%r13, %%rdi\n\t"
        "call *%%r12\n\t"
        "ud2\n"
        "1:"
        : "=a"(r)
        : "0"((long)SYS_clone3), "D"(args), "S"(sizeof *args), "r"(r12), "r"(r13)
        : "rcx", "r11", "memory");
    return r;
}

/* clone(flags, sp, parent_tid, child_tid, tls): the child calls fn(arg). */
static long clone_call(unsigned long flags, void *sp, int *ptid, int *ctid, void (*fn)(struct child_arg *),
                       struct child_arg *arg) {
    long r;
    register int *r10 __asm__("r10") = ctid;
    register long r8 __asm__("r8") = 0;
    register void (*r12)(struct child_arg *) __asm__("r12") = fn;
    register struct child_arg *r13 __asm__("r13") = arg;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xor %%ebp, %%ebp\n\t"
        "and $-16, %%rsp\n\t"
        "mov %%r13, %%rdi\n\t"
        "call *%%r12\n\t"
        "ud2\n"
        "1:"
        : "=a"(r)
        : "0"((long)SYS_clone), "D"(flags), "S"(sp), "d"(ptid), "r"(r10), "r"(r8), "r"(r12), "r"(r13)
        : "rcx", "r11", "memory");
    return r;
}

/* Waits until the kernel clears *tid at the child's exit (CLONE_CHILD_CLEARTID). */
static void wait_cleartid(volatile int *tid) {
    int v;
    while ((v = *tid) != 0) syscall(SYS_futex, tid, FUTEX_WAIT, v, NULL, NULL, 0);
}

static char *new_stack(void) {
    char *s = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (s == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return s;
}

/* --- pthreads --- */

static char *main_stack_var;

static void *pt_worker(void *arg) {
    long id = (long)arg;
    char here;
    long dist = labs((char *)&here - main_stack_var);
    /* A few calls from the thread: its own tid, a pipe round trip. */
    int fds[2];
    char buf[8] = {0};
    if (pipe(fds) != 0 || write(fds[1], "abc", 3) != 3 || read(fds[0], buf, 8) != 3) return (void *)-1;
    close(fds[0]);
    close(fds[1]);
    int own_tid = syscall(SYS_gettid) != getpid();
    return (void *)(id * 100 + (dist > 4096) * 10 + own_tid + (strcmp(buf, "abc") == 0) * 1000);
}

/* A thread on a 16K-ish stack given by the program: its system calls must not
 * need more of it than natively. */
static void *tiny_worker(void *arg) {
    (void)arg;
    char path[] = "/proc/self/stat";
    long ok = 0;
    for (int i = 0; i < 100; i++) {
        int fd = open(path, O_RDONLY);
        char b[64];
        if (fd >= 0 && read(fd, b, sizeof b) > 0) ok++;
        close(fd);
        sched_yield();
    }
    return (void *)ok;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char here;
    main_stack_var = &here;

    /* 1. pthread_create: glibc makes the thread with clone3 and a new stack. */
    enum { N = 6 };
    pthread_t th[N];
    for (long i = 0; i < N; i++)
        if ((errno = pthread_create(&th[i], NULL, pt_worker, (void *)i)) != 0) {
            perror("pthread_create");
            return 1;
        }
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(th[i], &r);
        printf("pthread %d: returned %ld\n", i, (long)r);
    }

    /* 2. A pthread on a small stack of the program's own. */
    size_t tiny = PTHREAD_STACK_MIN;
    char *ts = new_stack();
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, ts + CHILD_STACK - tiny, tiny);
    pthread_t t;
    void *r;
    if ((errno = pthread_create(&t, &attr, tiny_worker, NULL)) != 0) {
        perror("pthread_create (tiny stack)");
        return 1;
    }
    pthread_join(t, &r);
    printf("tiny-stack pthread (%zu bytes): %ld of 100 opens read\n", tiny, (long)r);

    /* 3. Raw clone3: a thread (CLONE_THREAD) on a new stack; the parent
     * waits on the futex the kernel clears at its exit. */
    char *s3 = new_stack();
    static volatile int tid3;
    /* CLONE_THREAD: the child's parent is ours. */
    struct child_arg a3 = {"clone3 thread", s3, s3 + CHILD_STACK, (unsigned long)getppid()};
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
               CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    ca.parent_tid = (uintptr_t)&tid3;
    ca.child_tid = (uintptr_t)&tid3;
    ca.stack = (uintptr_t)s3;
    ca.stack_size = CHILD_STACK;
    long c3 = clone3_call(&ca, child_body, &a3);
    if (c3 < 0) {
        printf("clone3 failed: %s\n", strerror(-c3));
        return 1;
    }
    wait_cleartid(&tid3);
    printf("clone3 thread: parent saw the child exit (tid cleared)\n");

    /* 4. Raw clone3, a process sharing memory (no CLONE_THREAD), SIGCHLD at
     * exit, waited for with waitpid. */
    char *s4 = new_stack();
    struct child_arg a4 = {"clone3 vm process", s4, s4 + CHILD_STACK, (unsigned long)getpid()};
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_VM;
    ca.exit_signal = SIGCHLD;
    ca.stack = (uintptr_t)s4;
    ca.stack_size = CHILD_STACK;
    long c4 = clone3_call(&ca, child_body, &a4);
    if (c4 < 0) {
        printf("clone3 (process) failed: %s\n", strerror(-c4));
        return 1;
    }
    int st;
    if (waitpid(c4, &st, 0) != c4) perror("waitpid");
    printf("clone3 vm process: exited=%d code=%d\n", WIFEXITED(st), WEXITSTATUS(st));

    /* 5. Raw clone(CLONE_VM) with a new stack: a process sharing memory. */
    char *s5 = new_stack();
    struct child_arg a5 = {"clone vm process", s5, s5 + CHILD_STACK, (unsigned long)getpid()};
    long c5 = clone_call(CLONE_VM | SIGCHLD, s5 + CHILD_STACK, NULL, NULL, child_body, &a5);
    if (c5 < 0) {
        printf("clone failed: %s\n", strerror(-c5));
        return 1;
    }
    if (waitpid(c5, &st, 0) != c5) perror("waitpid");
    printf("clone vm process: exited=%d code=%d\n", WIFEXITED(st), WEXITSTATUS(st));

    /* 6. Raw clone thread (CLONE_THREAD) with a new stack, futex wait. */
    char *s6 = new_stack();
    static volatile int tid6;
    struct child_arg a6 = {"clone thread", s6, s6 + CHILD_STACK, (unsigned long)getppid()};
    long c6 = clone_call(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                             CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
                         s6 + CHILD_STACK, (int *)&tid6, (int *)&tid6, child_body, &a6);
    if (c6 < 0) {
        printf("clone thread failed: %s\n", strerror(-c6));
        return 1;
    }
    wait_cleartid(&tid6);
    printf("clone thread: parent saw the child exit (tid cleared)\n");

    /* 7. Many short clone3 threads in a row: thread slots are reused. */
    int done = 0;
    for (int i = 0; i < 300; i++) {
        pthread_t x;
        if (pthread_create(&x, NULL, pt_worker, (void *)1L) == 0 && pthread_join(x, &r) == 0 && (long)r == 1111)
            done++;
    }
    printf("300 threads in a row: %d ok\n", done);
    return 0;
}
