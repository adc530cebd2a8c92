/* h_nested: a read that blocks 300 ms (a thread writes then) while a
 * SIGALRM handler, 250 ms in, makes calls of its own (SA_RESTART: the read
 * goes on). A trace must show the read with its own arguments and time. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int p[2];

static void on_alarm(int sig) {
    (void)sig;
    char b[16];
    (void)getppid();
    int n = snprintf(b, sizeof b, "alarm\n");
    (void)!write(1, b, (size_t)n);
}

static void *writer(void *arg) {
    (void)arg;
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    (void)!write(p[1], "x", 1);
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (pipe(p) != 0) return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 250 * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    pthread_t t;
    pthread_create(&t, NULL, writer, NULL);
    char c;
    ssize_t n = read(p[0], &c, 1);
    pthread_join(t, NULL);
    printf("read %zd\n", n);
    return 0;
}
