/* The forms of exec, each in a fork child from DIR (argv[1]), which holds
 * s.sh (a #! script that prints its $0, arguments and cwd), r.sh (whose
 * #! line names ./s.sh, relative to the cwd), sh (a copy of /bin/sh) and
 * lnk (a symlink to s.sh): execveat with a directory fd (O_PATH and
 * O_RDONLY), AT_EMPTY_PATH, fexecve, AT_FDCWD as the int syscall(2)
 * passes (0xffffff9c: the kernel reads dirfd as an int),
 * AT_SYMLINK_NOFOLLOW, a relative #! interpreter after chdir and beside a
 * directory fd, posix_spawn with a chdir action and a vfork child's chdir
 * (the parent's cwd stays). Prints each child's output and status. */
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
static const char *dir;

static int dfd(int flags) {
    return open(dir, flags | O_DIRECTORY);
}

static char *path(const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void run(const char *what, int (*f)(void)) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        int r = f();
        printf("%s: failed %d %s\n", what, r, strerror(errno));
        fflush(stdout);
        _exit(99);
    }
    int st;
    waitpid(p, &st, 0);
    printf("%s: status %d\n", what, WEXITSTATUS(st));
}

static char *script_av[] = {"s.sh", "arg", NULL};
static char *sh_av[] = {"sh", "-c", "echo \"  sh: 0=$0 pwd=$(pwd) args=$*\"", "zero", "one", NULL};

static int at_dir_path(void) { return syscall(SYS_execveat, dfd(O_PATH), "s.sh", script_av, environ, 0); }
static int at_dir_rdonly(void) { return syscall(SYS_execveat, dfd(O_RDONLY), "./s.sh", script_av, environ, 0); }
static int at_empty(void) { return syscall(SYS_execveat, open(path("s.sh"), O_PATH), "", script_av, environ, AT_EMPTY_PATH); }
static int fexec(void) { return fexecve(open(path("s.sh"), O_RDONLY), script_av, environ); }
static int at_fdcwd_int(void) {
    if (chdir(dir) < 0) return -1;
    return syscall(SYS_execveat, AT_FDCWD, "s.sh", script_av, environ, 0);
}
static int at_fdcwd_long(void) {
    if (chdir(dir) < 0) return -1;
    return syscall(SYS_execveat, (long)AT_FDCWD, "./sh", sh_av, environ, 0);
}
static int at_abs(void) { return syscall(SYS_execveat, open("/", O_PATH), path("s.sh"), script_av, environ, 0); }
static int elf_rel(void) {
    if (chdir(dir) < 0) return -1;
    return execve("./sh", sh_av, environ);
}
static int elf_at(void) { return syscall(SYS_execveat, dfd(O_PATH), "sh", sh_av, environ, 0); }
static int elf_at_empty(void) { return syscall(SYS_execveat, open(path("sh"), O_PATH), "", sh_av, environ, AT_EMPTY_PATH); }
/* An empty name without AT_EMPTY_PATH: ENOENT (a session's server ran the fd's file). */
static int elf_at_empty_no_flag(void) { return syscall(SYS_execveat, open(path("sh"), O_RDONLY), "", sh_av, environ, 0); }
static int nofollow(void) { return syscall(SYS_execveat, dfd(O_PATH), "lnk", sh_av, environ, AT_SYMLINK_NOFOLLOW); }
static int rel_interp(void) {
    if (chdir(dir) < 0) return -1;
    char *av[] = {"r.sh", "F", NULL};
    return execve("r.sh", av, environ);
}
static int rel_interp_at(void) {
    char *av[] = {"r.sh", "G", NULL};
    return syscall(SYS_execveat, dfd(O_PATH), "r.sh", av, environ, 0);
}
static void show_cwd(const char *what) {
    char b[4096];
    printf("  parent's cwd after %s: %s\n", what, getcwd(b, sizeof b) ? b : strerror(errno));
    fflush(stdout);
}
static int spawn_chdir(void) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    char *av[] = {"s.sh", "H", NULL};
    pid_t p;
    int r = posix_spawn(&p, "./s.sh", &fa, NULL, av, environ);
    if (r) {
        errno = r;
        return -1;
    }
    int st;
    waitpid(p, &st, 0);
    show_cwd("posix_spawn");
    _exit(WEXITSTATUS(st));
}
static int vfork_chdir(void) {
    pid_t p = vfork();
    if (p == 0) {
        if (chdir(dir) == 0) execl("./s.sh", "s.sh", "I", (char *)NULL);
        _exit(98);
    }
    int st;
    waitpid(p, &st, 0);
    show_cwd("vfork");
    _exit(WEXITSTATUS(st));
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    dir = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    run("execveat dir O_PATH", at_dir_path);
    run("execveat dir O_RDONLY", at_dir_rdonly);
    run("execveat AT_EMPTY_PATH", at_empty);
    run("fexecve", fexec);
    run("execveat AT_FDCWD (int)", at_fdcwd_int);
    run("execveat AT_FDCWD (long)", at_fdcwd_long);
    run("execveat absolute", at_abs);
    run("execve ELF relative", elf_rel);
    run("execveat ELF", elf_at);
    run("execveat ELF AT_EMPTY_PATH", elf_at_empty);
    run("execveat ELF empty name without AT_EMPTY_PATH", elf_at_empty_no_flag);
    run("execveat AT_SYMLINK_NOFOLLOW", nofollow);
    run("relative #! interpreter", rel_interp);
    run("relative #! interpreter beside a dir fd", rel_interp_at);
    run("posix_spawn chdir", spawn_chdir);
    run("vfork chdir", vfork_chdir);
    return 0;
}
