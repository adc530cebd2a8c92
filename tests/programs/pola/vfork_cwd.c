/* vfork_cwd: getcwd (answered in the handler gate since session 23) and a
 * relative stat in a vfork child and a CLONE_VM child without CLONE_FS
 * after their chdir, and in the parent after them: each its own cwd, as
 * natively (the children share the memory, not the cwd). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static char child[4][256];
static long gc(char *b) { long r = 0; for (int i = 0; i < 4; i++) r = syscall(SYS_getcwd, b, 256); return r; }
static char stack[65536];
static int thread_fn(void *a) { (void)a; chdir("/usr/include"); gc(child[2]); struct stat st; snprintf(child[3], 256, "stat stdio.h %s", stat("stdio.h", &st) ? strerrorname_np(errno) : "ok"); return 0; }
int main(void) {
    char b[256];
    for (int i = 0; i < 4; i++) gc(b);
    printf("parent before: %s\n", b);
    pid_t p = vfork();
    if (p == 0) { chdir("/etc"); gc(child[0]); struct stat st; snprintf(child[1], 256, "stat passwd %s", stat("passwd", &st) ? strerrorname_np(errno) : "ok"); _exit(0); }
    waitpid(p, 0, 0);
    gc(b);
    printf("vfork child: %s, %s; parent after: %s\n", child[0], child[1], b);
    /* a CLONE_VM child without CLONE_FS */
    pid_t t = clone(thread_fn, stack + sizeof stack, CLONE_VM | SIGCHLD, 0);
    waitpid(t, 0, 0);
    gc(b);
    printf("CLONE_VM child: %s, %s; parent after: %s\n", child[2], child[3], b);
    struct stat st; printf("parent stat passwd: %s\n", stat("passwd", &st) ? strerrorname_np(errno) : "ok");
    return 0;
}
