/* h_spawn: children that share the parent's memory or stack: vfork then execve of /bin/echo, vfork then _exit, a raw vfork, posix_spawn of /bin/echo (and of a missing program), system("echo hi"), each with its exit status; deterministic output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void show(const char *what, pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        printf("%s: waitpid: %s\n", what, strerror(errno));
        return;
    }
    if (WIFEXITED(st))
        printf("%s: exit %d\n", what, WEXITSTATUS(st));
    else
        printf("%s: signal %d\n", what, WTERMSIG(st));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    /* vfork + execve: the child runs on the parent's stack until the exec. */
    char *echo_argv[] = {"echo", "from", "vfork+execve", NULL};
    pid_t pid = vfork();
    if (pid == 0) {
        execve("/bin/echo", echo_argv, environ);
        _exit(127);
    }
    show("vfork+execve", pid);

    /* vfork + a failing execve + _exit: the parent sees the child's status. */
    pid = vfork();
    if (pid == 0) {
        execve("/nonexistent/program", echo_argv, environ);
        _exit(errno == ENOENT ? 3 : 4);
    }
    show("vfork+failed execve+_exit", pid);

    /* vfork + _exit only. */
    volatile int touched = 0;
    pid = vfork();
    if (pid == 0) {
        touched = 1; /* shared memory: the parent sees it */
        _exit(5);
    }
    show("vfork+_exit", pid);
    printf("vfork child wrote the parent's memory: %s\n", touched ? "yes" : "no");

    /* vfork as a raw system call; the child touches no stack before its
     * raw exit(6). */
    long r;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "mov $60, %%eax\n\t"
        "mov $6, %%edi\n\t"
        "syscall\n"
        "1:"
        : "=a"(r)
        : "0"((long)SYS_vfork)
        : "rcx", "rdi", "r11", "memory");
    show("raw vfork+exit", (pid_t)r);

    /* posix_spawn: glibc uses clone(CLONE_VM|CLONE_VFORK) with a new stack. */
    char *spawn_argv[] = {"echo", "from", "posix_spawn", NULL};
    int e = posix_spawn(&pid, "/bin/echo", NULL, NULL, spawn_argv, environ);
    if (e != 0)
        printf("posix_spawn: %s\n", strerror(e));
    else
        show("posix_spawn", pid);
    /* with file actions: stdout to /dev/null, then back */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    e = posix_spawn(&pid, "/bin/echo", &fa, NULL, spawn_argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0)
        printf("posix_spawn (file actions): %s\n", strerror(e));
    else
        show("posix_spawn to /dev/null", pid);
    /* A missing program: posix_spawn reports the exec's errno. */
    e = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, spawn_argv, environ);
    printf("posix_spawn of a missing program: %s\n", e ? strerrorname_np(e) : "succeeded");
    if (e == 0) show("posix_spawn of a missing program", pid);
    /* posix_spawnp searches PATH. */
    char *p_argv[] = {"echo", "from", "posix_spawnp", NULL};
    e = posix_spawnp(&pid, "echo", NULL, NULL, p_argv, environ);
    if (e != 0)
        printf("posix_spawnp: %s\n", strerror(e));
    else
        show("posix_spawnp", pid);

    /* system: posix_spawn of /bin/sh -c. */
    int st = system("echo hi");
    printf("system(\"echo hi\"): exit %d\n", WEXITSTATUS(st));
    st = system("exit 7");
    printf("system(\"exit 7\"): exit %d\n", WEXITSTATUS(st));
    return 0;
}
