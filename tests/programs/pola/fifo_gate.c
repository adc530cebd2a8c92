/* Opens of a FIFO in a grant the process resolves beneath itself (the
 * handler gate's own opens, no look at the type first): a blocking open
 * waits for the other end; a signal's handler runs during the wait (with
 * SA_RESTART the open goes on, without it the open fails with EINTR);
 * non-blocking opens as natively. Usage: fifo_gate DIR (DIR/fifo exists,
 * DIR/plain is a file). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static char fifo[4096];
static volatile pid_t writer;
static volatile int handled;

static void on_alarm(int sig) {
    (void)sig;
    handled++;
    kill(writer, SIGUSR1); /* the writer opens its end only now */
}

static void on_usr1(int sig) { (void)sig; }

/* The writer: waits for SIGUSR1 (or 5 s: "late"), then writes. */
static pid_t start_writer(void) {
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGUSR1, on_usr1);
        struct timespec five = {5, 0};
        siginfo_t si;
        int got = sigtimedwait(&usr1, &si, &five);
        int fd = open(fifo, O_WRONLY);
        const char *msg = got == SIGUSR1 ? "hi" : "late";
        if (fd >= 0)
            (void)!write(fd, msg, strlen(msg));
        _exit(0);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return pid;
}

static void alarm_in_100ms(int restart) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    snprintf(fifo, sizeof fifo, "%s/fifo", argv[1]);
    char plain[4096];
    snprintf(plain, sizeof plain, "%s/plain", argv[1]);
    /* The open site runs a few times first, while the process has one
     * thread and no child: preld rewrites it to its gate. */
    for (int i = 0; i < 4; i++)
        close(open(plain, O_RDONLY | O_CLOEXEC));

    int fd = open(fifo, O_WRONLY | O_NONBLOCK);
    printf("write end, non-blocking, no reader: %s\n", fd < 0 ? strerror(errno) : "opened");
    fd = open(fifo, O_RDONLY | O_NONBLOCK);
    printf("read end, non-blocking: %s\n", fd < 0 ? strerror(errno) : "opened");
    if (fd >= 0)
        close(fd);

    handled = 0;
    writer = start_writer();
    alarm_in_100ms(1);
    fd = open(fifo, O_RDONLY);
    char buf[16] = {0};
    if (fd >= 0)
        (void)!read(fd, buf, sizeof buf - 1);
    printf("SA_RESTART: open %s, handler ran %d time(s) during it, read \"%s\"\n", fd < 0 ? strerror(errno) : "returned an fd", handled, buf);
    if (fd >= 0)
        close(fd);
    waitpid(writer, NULL, 0);

    handled = 0;
    writer = start_writer();
    alarm_in_100ms(0);
    fd = open(fifo, O_RDONLY);
    int e = errno;
    printf("no SA_RESTART: open %s, handler ran %d time(s)\n", fd < 0 ? strerror(e) : "returned an fd", handled);
    if (fd >= 0)
        close(fd);
    /* The writer, told by the handler, waits on its own open: a reader
     * lets it go. */
    fd = open(fifo, O_RDONLY);
    if (fd >= 0)
        close(fd);
    waitpid(writer, NULL, 0);
    return 0;
}
