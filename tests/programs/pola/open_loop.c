//! Per-open cost: N openat+close pairs of one file (argv[2], default
//! /usr/include/stdio.h, inside -B's grants), timed like
//! tests/programs/bench/getppid_loop.c: only the loop, in batches, the
//! fastest batch printed as ns per pair. In a capability session the
//! file lies in a grant the process resolves beneath itself
//! (handler/src/beneath.rs): the open is an openat2 from the grant's fd,
//! made in the handler gate, under Landlock and the session's seccomp
//! filter; no round trip to the capability server.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BATCHES 2000

static long batch_size(long n) {
    long per = n / BATCHES;
    return per >= 100 ? per : n < 100 ? n : 100;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000;
    const char *path = argc > 2 ? argv[2] : "/usr/include/stdio.h";
    if (n <= 0) {
        fprintf(stderr, "usage: %s N [FILE] (N > 0)\n", argv[0]);
        return 2;
    }
    for (long i = 0; i < 100; i++) {
        int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            perror(path);
            return 1;
        }
        close(fd);
    }
    long per = batch_size(n);
    double best = 1e300;
    for (int b = 0; b < n / per; b++) {
        double t0 = now_ns();
        for (long i = 0; i < per; i++)
            close(openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
        double t = (now_ns() - t0) / per;
        best = t < best ? t : best;
    }
    printf("%.1f\n", best);
    return 0;
}
