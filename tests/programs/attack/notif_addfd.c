/* notif_addfd: a process's fd replaced by the kernel with no call of its
 * own: its own seccomp filter sends getppid to a listener (a fork child),
 * which puts the process's /proc/PID/fd directory at the number of a
 * grant's directory fd (SECCOMP_IOCTL_NOTIF_ADDFD, SECCOMP_ADDFD_FLAG_SETFD)
 * that the session's fast path knew as the grant's (FAST_FD_GRANT, the
 * number's close count unchanged). A listing through that number then must
 * name only fds the process has (natively so); one it cannot use is one of
 * preld's, listed by the kernel as the grant's directory would be (LEAK).
 * A stat beside it of each number not open must be ENOENT (natively so).
 * argv: secret ro rw */
#include "attack.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char lbuf[1 << 16];

static int list_foreign(int fd) {
    lseek(fd, 0, SEEK_SET);
    int bad = 0;
    long r;
    while ((r = syscall(SYS_getdents64, fd, lbuf, sizeof lbuf)) > 0)
        for (long o = 0; o < r; o += *(unsigned short *)(lbuf + o + 16)) {
            const char *name = lbuf + o + 19;
            char *end;
            long n = strtol(name, &end, 10);
            if (*name >= '0' && *name <= '9' && !*end && fcntl((int)n, F_GETFD) < 0 && errno == EBADF)
                bad++;
        }
    return r < 0 ? -1 : bad;
}

int main(int argc, char **argv) {
    ARGS
    setvbuf(stdout, NULL, _IOLBF, 0);
    int d = open(ro, O_RDONLY | O_DIRECTORY);
    if (d < 0) {
        printf("open %s: %s\n", ro, strerror(errno));
        return 1;
    }
    /* The grant's directory learnt and its listing site rewritten. */
    struct stat st;
    for (int i = 0; i < 4; i++) {
        syscall(SYS_newfstatat, d, "victim", &st, AT_SYMLINK_NOFOLLOW);
        list_foreign(d);
    }
    printf("the grant's directory lists: %d foreign\n", list_foreign(d));
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    int l = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (l < 0) {
        printf("no listener: %s\n", strerror(errno));
        printf("notif_addfd: done\n");
        return 0;
    }
    pid_t parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/fd", (int)parent);
        int s = open(p, O_RDONLY | O_DIRECTORY);
        struct seccomp_notif *req = calloc(1, 4096);
        struct seccomp_notif_resp *resp = calloc(1, 4096);
        if (s < 0 || ioctl(l, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
            printf("child: %s\n", strerror(errno));
            _exit(1);
        }
        struct seccomp_notif_addfd a = {.id = req->id, .flags = SECCOMP_ADDFD_FLAG_SETFD, .srcfd = (unsigned)s, .newfd = (unsigned)d, .newfd_flags = 0};
        long r = ioctl(l, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
        printf("child: addfd %s\n", r >= 0 ? "ok" : strerror(errno));
        resp->id = req->id;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(l, SECCOMP_IOCTL_NOTIF_SEND, resp);
        _exit(0);
    }
    syscall(SYS_getppid);
    waitpid(c, 0, 0);
    int bad = list_foreign(d);
    printf("the number after the listener's addfd lists: %s\n", bad < 0 ? "fails" : bad ? "LEAK: preld's fds listed" : "only the program's fds");
    int found = 0;
    for (int n = 3; n < 1100; n++) {
        if (fcntl(n, F_GETFD) >= 0 || errno != EBADF)
            continue;
        char name[16];
        snprintf(name, sizeof name, "%d", n);
        if (syscall(SYS_newfstatat, d, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            found++;
    }
    printf("stats beside it of numbers not open: %s\n", found ? "LEAK: preld's fds found" : "none found");
    printf("notif_addfd: done\n");
    return 0;
}
