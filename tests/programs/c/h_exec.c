/* h_exec: execve and execveat as the caller and the new program see them: argv (argv[0] included), envp, AT_EXECFN, /proc/self/exe, the thread name (comm), whether ld-preld is mapped (the new program must be under preld again), fexecve on O_PATH/O_RDONLY/O_CLOEXEC fds, exec from a multithreaded process, /proc/self/exe, and the errno of failing execs. Usage: h_exec GROUP DIR (GROUP: execve, execveat, execfn-at, errors, comm, self), or h_exec child ARGS... or H_EXEC_CHILD=1 h_exec (the exec'd side). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *ld_preld_mapped(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int found = 0;
    if (!f) return "cannot read /proc/self/maps";
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n') line[--n] = 0;
        if (n >= 9 && strcmp(line + n - 9, "/ld-preld") == 0) found = 1;
    }
    fclose(f);
    return found ? "yes" : "no";
}

/* The thread name (/proc/self/comm): the kernel sets it from the file name
 * at exec. */
static const char *comm(void) {
    static char c[32];
    int fd = open("/proc/self/comm", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, c, sizeof c - 1) : -1;
    if (fd >= 0) close(fd);
    c[n > 0 ? n : 0] = 0;
    if (n > 0 && c[n - 1] == '\n') c[n - 1] = 0;
    return c;
}

/* The exec'd side: everything it was given, one item a line. */
static int child(int argc, char **argv) {
    printf("  new program: argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("  argv[%d]=\"%s\"\n", i, argv[i]);
    for (char **e = environ; *e; e++) printf("  env \"%s\"\n", *e);
    const char *fn = (const char *)getauxval(AT_EXECFN);
    /* AT_EXECFN only for the groups that compare it: execveat's names a
     * file descriptor (see execfn-at). */
    if (getenv("H_EXEC_SHOW_EXECFN")) printf("  AT_EXECFN=\"%s\"\n", fn ? fn : "(none)");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    const char *self = getenv("H_EXEC_SELF");
    printf("  /proc/self/exe is the program: %s\n", self && strcmp(exe, self) == 0 ? "yes" : exe);
    printf("  ld-preld mapped: %s\n", ld_preld_mapped());
    if (getenv("H_EXEC_SHOW_COMM")) printf("  comm: %s\n", comm());
    return 0;
}

static char self[PATH_MAX];
static const char *dir;

static void wait_show(pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid)
        printf("  waitpid: %s\n", strerror(errno));
    else if (WIFEXITED(st))
        printf("  exit %d\n", WEXITSTATUS(st));
    else
        printf("  signal %d\n", WTERMSIG(st));
}

/* Runs fn in a child; prints the title first and the status after. */
static void in_child(const char *title, void (*fn)(void)) {
    printf("%s\n", title);
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        /* fn returns only when the exec failed. */
        printf("  exec failed: %s\n", strerrorname_np(errno));
        _exit(0);
    }
    wait_show(pid);
}

static char *envp_custom[] = {"H_EXEC_SHOW_EXECFN=1", NULL, "B=two words", "EMPTY=", NULL};
static char self_env[PATH_MAX + 16];

static void setup_env(void) {
    snprintf(self_env, sizeof self_env, "H_EXEC_SELF=%s", self);
    envp_custom[1] = self_env;
}

/* ---- group execve ---- */

static void ex_abs(void) {
    char *argv[] = {"custom-name", "child", "one", "two words", "", NULL};
    execve(self, argv, envp_custom);
}

static void ex_relative(void) {
    char *slash = strrchr(self, '/');
    char rel[PATH_MAX];
    *slash = 0;
    if (chdir(self) != 0) return;
    snprintf(rel, sizeof rel, "./%s", slash + 1);
    char *argv[] = {rel, "child", NULL};
    execve(rel, argv, envp_custom);
}

static void ex_empty_env(void) {
    char *argv[] = {"no-env", "child", NULL};
    char *envp[] = {NULL};
    execve(self, argv, envp);
}

static void ex_no_argv(void) {
    /* argc = 0: the kernel (>= 5.18) gives the new program argv[0] = "". */
    char *argv[] = {NULL};
    char *envp[] = {"H_EXEC_CHILD=1", "H_EXEC_SHOW_EXECFN=1", self_env, NULL};
    execve(self, argv, envp);
}

static void *sleeper(void *arg) {
    int *p = arg;
    char c;
    (void)!read(p[0], &c, 1); /* blocks until the exec ends this thread */
    return NULL;
}

static void ex_threads(void) {
    static int p[2];
    if (pipe(p) != 0) return;
    pthread_t t;
    for (int i = 0; i < 3; i++) pthread_create(&t, NULL, sleeper, p);
    usleep(20000);
    char *argv[] = {"from-threads", "child", NULL};
    execve(self, argv, envp_custom);
}

static void ex_execvp(void) {
    /* execvp searches PATH (a missing directory first), then execs the path
     * it built: that is the AT_EXECFN. */
    char d[PATH_MAX], path[PATH_MAX + 32];
    strcpy(d, self);
    char *slash = strrchr(d, '/');
    *slash = 0;
    snprintf(path, sizeof path, "PATH=/nonexistent:%s", d);
    char *env[] = {path, "H_EXEC_SHOW_EXECFN=1", self_env, NULL};
    environ = env;
    char *argv[] = {"via-execvp", "child", NULL};
    execvp(slash + 1, argv);
}

/* ---- group execveat ---- */

static int open_self(int flags) {
    int fd = open(self, flags);
    if (fd < 0) printf("  open: %s\n", strerror(errno));
    return fd;
}

static void at_dirfd(void) {
    char *slash = strrchr(self, '/');
    *slash = 0;
    int d = open(self, O_RDONLY | O_DIRECTORY);
    *slash = '/';
    char *argv[] = {"at-dirfd", "child", NULL};
    syscall(SYS_execveat, d, slash + 1, argv, envp_custom + 1, 0);
}

static void at_rdonly(void) {
    char *argv[] = {"at-rdonly", "child", NULL};
    syscall(SYS_execveat, open_self(O_RDONLY), "", argv, envp_custom + 1, AT_EMPTY_PATH);
}

static void at_path(void) {
    char *argv[] = {"at-opath", "child", NULL};
    syscall(SYS_execveat, open_self(O_PATH), "", argv, envp_custom + 1, AT_EMPTY_PATH);
}

static void at_cloexec(void) {
    char *argv[] = {"at-cloexec", "child", NULL};
    syscall(SYS_execveat, open_self(O_RDONLY | O_CLOEXEC), "", argv, envp_custom + 1, AT_EMPTY_PATH);
}

static void at_opath_cloexec(void) {
    char *argv[] = {"at-opath-cloexec", "child", NULL};
    syscall(SYS_execveat, open_self(O_PATH | O_CLOEXEC), "", argv, envp_custom + 1, AT_EMPTY_PATH);
}

static void at_fexecve(void) {
    char *argv[] = {"fexecve", "child", NULL};
    fexecve(open_self(O_RDONLY), argv, envp_custom + 1);
}

static void at_fdcwd_abs(void) {
    char *argv[] = {"at-fdcwd", "child", NULL};
    syscall(SYS_execveat, AT_FDCWD, self, argv, envp_custom, 0);
}

static void at_dirfd_abs(void) {
    /* An absolute path ignores the dirfd. */
    char *argv[] = {"at-abs", "child", NULL};
    syscall(SYS_execveat, 0, self, argv, envp_custom, 0);
}

/* ---- group execfn-at: AT_EXECFN after execveat names the fd ---- */

static void fn_rdonly(void) {
    char *argv[] = {"fn-rdonly", "child", NULL};
    int fd = open_self(O_RDONLY);
    if (fd != 3) dup2(fd, 3), close(fd);
    syscall(SYS_execveat, 3, "", argv, envp_custom, AT_EMPTY_PATH);
}

static void fn_dirfd(void) {
    char *slash = strrchr(self, '/');
    *slash = 0;
    int d = open(self, O_RDONLY | O_DIRECTORY);
    *slash = '/';
    if (d != 3) dup2(d, 3), close(d);
    char *argv[] = {"fn-dirfd", "child", NULL};
    syscall(SYS_execveat, 3, slash + 1, argv, envp_custom, 0);
}

/* ---- group errors ---- */

static char path_buf[PATH_MAX];

static const char *in_dir(const char *name) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
    return path_buf;
}

static void make(const char *name, const char *text, mode_t mode) {
    int fd = open(in_dir(name), O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        printf("cannot make %s: %s\n", name, strerror(errno));
        exit(1);
    }
    close(fd);
    chmod(in_dir(name), mode);
}

static void try_execve(const char *title, const char *path) {
    char *argv[] = {"x", "child", NULL};
    errno = 0;
    long r = syscall(SYS_execve, path, argv, envp_custom);
    printf("%s: returned %ld %s\n", title, r, strerrorname_np(errno));
}

static void try_execveat(const char *title, int fd, const char *path, int flags) {
    char *argv[] = {"x", "child", NULL};
    errno = 0;
    long r = syscall(SYS_execveat, fd, path, argv, envp_custom, flags);
    printf("%s: returned %ld %s\n", title, r, strerrorname_np(errno));
}

static void errors(void) {
    make("plain.txt", "just text\n", 0644);
    make("text.sh", "echo no shebang line\n", 0755);
    make("badinterp", "#!/nonexistent/interpreter\n", 0755);
    make("script", "#!/bin/sh\necho script ran\n", 0755);
    mkdir(in_dir("subdir"), 0755);
    /* Each in a child: a wrongly successful exec replaces the child only. */
    struct {
        const char *title, *name;
    } cases[] = {
        {"execve of a missing file", "missing"},
        {"execve of a file without execute permission", "plain.txt"},
        {"execve of an executable text file without #!", "text.sh"},
        {"execve of a #! script with a missing interpreter", "badinterp"},
        {"execve of a directory", "subdir"},
        {"execve through a file as a directory", "plain.txt/x"},
        {"execve in a missing directory", "nodir/x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            try_execve(cases[i].title, in_dir(cases[i].name));
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("  (child status %#x)\n", st);
    }
    struct {
        const char *title, *name;
        int oflags, atflags;
    } at[] = {
        {"execveat AT_EMPTY_PATH of a non-executable fd", "plain.txt", O_RDONLY, AT_EMPTY_PATH},
        {"execveat of an empty path without AT_EMPTY_PATH", "plain.txt", O_RDONLY, 0},
        {"execveat AT_EMPTY_PATH of a text fd without #!", "text.sh", O_RDONLY, AT_EMPTY_PATH},
        {"execveat AT_EMPTY_PATH of a #! script on an O_CLOEXEC fd", "script", O_RDONLY | O_CLOEXEC, AT_EMPTY_PATH},
        {"execveat AT_EMPTY_PATH of a directory fd", "subdir", O_RDONLY, AT_EMPTY_PATH},
    };
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open(in_dir(at[i].name), at[i].oflags);
            if (fd < 0) printf("open %s: %s\n", at[i].name, strerror(errno));
            try_execveat(at[i].title, fd, "", at[i].atflags);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("  (child status %#x)\n", st);
    }
    unlink(in_dir("link"));
    if (symlink(self, in_dir("link")) != 0) printf("symlink: %s\n", strerror(errno));
    const char *bad[] = {"execveat with a bad fd", "execveat with an unknown flag", "execve with a bad path pointer",
                         "execveat AT_SYMLINK_NOFOLLOW of a symlink"};
    for (int i = 0; i < 4; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            if (i == 0) try_execveat(bad[i], 12345, "x", 0);
            if (i == 1) try_execveat(bad[i], AT_FDCWD, self, 0x1);
            if (i == 2) try_execve(bad[i], (const char *)8);
            if (i == 3) try_execveat(bad[i], AT_FDCWD, in_dir("link"), AT_SYMLINK_NOFOLLOW);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("  (child status %#x)\n", st);
    }
    /* The caller is unharmed: it can still exec. */
    in_child("execve after the failures", ex_abs);
}

/* ---- group comm ---- */

static void comm_execve(void) {
    char *argv[] = {"custom-name", "child", NULL};
    char *envp[] = {"H_EXEC_SHOW_COMM=1", self_env, NULL};
    execve(self, argv, envp);
}

/* ---- group self ---- */

static void self_exe(void) {
    char *argv[] = {"selfexe", "child", "again", NULL};
    execve("/proc/self/exe", argv, envp_custom);
}

static void self_pid_exe(void) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/exe", getpid());
    char *argv[] = {"pid-exe", "child", NULL};
    execve(p, argv, envp_custom + 1);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if ((argc >= 2 && strcmp(argv[1], "child") == 0) || getenv("H_EXEC_CHILD")) return child(argc, argv);
    if (argc != 3) {
        fprintf(stderr, "usage: h_exec execve|execveat|execfn-at|errors|comm|self DIR\n");
        return 2;
    }
    dir = argv[2];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    setup_env();
    printf("caller: ld-preld mapped: %s\n", ld_preld_mapped());
    const char *g = argv[1];
    if (strcmp(g, "execve") == 0) {
        in_child("execve, absolute path, argv[0]=custom-name", ex_abs);
        in_child("execve, relative path", ex_relative);
        in_child("execve, empty environment", ex_empty_env);
        in_child("execve, empty argv", ex_no_argv);
        in_child("execve from a process with 3 threads blocked in read", ex_threads);
        in_child("execvp through PATH", ex_execvp);
    } else if (strcmp(g, "execveat") == 0) {
        in_child("execveat, dirfd and a relative name", at_dirfd);
        in_child("execveat AT_EMPTY_PATH, O_RDONLY fd", at_rdonly);
        in_child("execveat AT_EMPTY_PATH, O_PATH fd", at_path);
        in_child("execveat AT_EMPTY_PATH, O_RDONLY|O_CLOEXEC fd", at_cloexec);
        in_child("execveat AT_EMPTY_PATH, O_PATH|O_CLOEXEC fd", at_opath_cloexec);
        in_child("fexecve", at_fexecve);
        in_child("execveat AT_FDCWD, absolute path", at_fdcwd_abs);
        in_child("execveat, absolute path with a dirfd", at_dirfd_abs);
    } else if (strcmp(g, "execfn-at") == 0) {
        in_child("execveat AT_EMPTY_PATH on fd 3", fn_rdonly);
        in_child("execveat, dirfd 3 and a relative name", fn_dirfd);
    } else if (strcmp(g, "errors") == 0) {
        errors();
    } else if (strcmp(g, "comm") == 0) {
        printf("caller's comm: %s\n", comm());
        in_child("execve, argv[0]=custom-name", comm_execve);
    } else if (strcmp(g, "self") == 0) {
        in_child("execve(\"/proc/self/exe\")", self_exe);
        in_child("execve(\"/proc/PID/exe\")", self_pid_exe);
    } else {
        fprintf(stderr, "unknown group %s\n", g);
        return 2;
    }
    return 0;
}
