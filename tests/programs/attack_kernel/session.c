/* The session's own lifecycle, attacked from inside (run by the test
 * `the_session_cannot_end_its_launcher_badly` of tests/tests/attacks_kernel.rs,
 * not by the per-item suite: each mode ends or stops the session itself).
 *
 *   kill-init  sets the RLIMIT_CPU hard limit of pid 1 (the session's init,
 *              same uid: prlimit64 checks ids only) to 1 s, then makes the
 *              init burn CPU: 1500 orphans (children of the init) in a
 *              process group of their own, stopped and continued over and
 *              over, each round a SIGCHLD and O(n^2) waitpid scans in the
 *              init. The kernel SIGKILLs the init at its hard limit, every
 *              process of the session dies with it and the launcher exits
 *              (125) without putting the user's terminal back from raw mode.
 *              Refuses to run unless it is pid 2 (pid 1 the session's init):
 *              natively pid 1 is the machine's init.
 *   stop-self  stops itself (SIGSTOP); a child continues it 0.5 s later and
 *              it exits 0. Natively that takes 0.5 s; the launcher, told by
 *              the init that the program stopped, stops itself with SIGSTOP
 *              and nothing in the session can continue it. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int kill_init(void) {
    if (getpid() != 2) {
        printf("kill-init: not pid 2 of a session (pid %d): refused\n", getpid());
        return 3;
    }
    struct rlimit r = { 1, 1 };
    long x = syscall(SYS_prlimit64, 1, RLIMIT_CPU, &r, 0);
    printf("kill-init: prlimit64(1, RLIMIT_CPU, 1 s): %s\n", x < 0 ? strerror(errno) : "set");
    fflush(stdout);
    if (x < 0) return 0;
    int p[2], pg = 0;
    if (pipe(p) < 0) return 4;
    for (int i = 0; i < 1500; i++) {
        pid_t c = fork();
        if (c < 0) break;
        if (c == 0) {
            if (fork() == 0) {
                if (setpgid(0, pg) < 0) _exit(1);
                if (!pg) { int me = getpid(); (void)!write(p[1], &me, 4); }
                for (;;) pause();
            }
            _exit(0);
        }
        waitpid(c, 0, 0);
        if (!pg && read(p[0], &pg, 4) != 4) return 5;
    }
    printf("kill-init: orphans in group %d, stopping and continuing them\n", pg);
    fflush(stdout);
    for (int k = 0; k < 200000; k++) {
        kill(-pg, SIGSTOP);
        kill(-pg, SIGCONT);
    }
    kill(-pg, SIGKILL);
    printf("kill-init: the init survived\n");
    return 0;
}

static int stop_self(void) {
    pid_t me = getpid(), c = fork();
    if (c == 0) {
        usleep(500000);
        kill(me, SIGCONT);
        _exit(0);
    }
    printf("stop-self: stopping\n");
    fflush(stdout);
    raise(SIGSTOP);
    waitpid(c, 0, 0);
    printf("stop-self: continued by my child, exiting\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "kill-init")) return kill_init();
    if (argc > 1 && !strcmp(argv[1], "stop-self")) return stop_self();
    fprintf(stderr, "usage: %s kill-init|stop-self\n", argv[0]);
    return 2;
}
