/* argv[1]: a file of root's on a grant (in a session of nobody's, its owners
   show as the overflow id: the handler fixes them under its owners lock).
   Two threads lstat it over and over; the main thread forks 3000 times,
   each child lstats it once and exits. A child that has not exited after
   5 s is stuck (killed, counted; session-19b adversary: a child forked
   while another thread held the handler's owners lock spun on it for
   good). Prints "done: N stuck". */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *file;

static void *statter(void *arg) {
    (void)arg;
    struct stat st;
    for (;;) lstat(file, &st);
    return NULL;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) return 2;
    file = argv[1];
    struct stat st;
    if (lstat(file, &st) != 0) { printf("lstat: %s\n", strerror(errno)); return 1; }
    printf("owners %u:%u\n", st.st_uid, st.st_gid);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, statter, NULL);
    int stuck = 0;
    for (int i = 0; i < 3000 && stuck == 0; i++) {
        pid_t c = fork();
        if (c < 0) { printf("fork: %s\n", strerror(errno)); return 1; }
        if (c == 0) {
            struct stat s;
            lstat(file, &s);
            _exit(0);
        }
        int pfd = (int)syscall(SYS_pidfd_open, c, 0);
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        if (pfd >= 0 && poll(&p, 1, 5000) == 0) {
            printf("child %d (fork %d): stuck\n", c, i);
            stuck++;
            kill(c, SIGKILL);
        }
        waitpid(c, NULL, 0);
        close(pfd);
    }
    printf("done: %d stuck\n", stuck);
    _exit(0);
}
