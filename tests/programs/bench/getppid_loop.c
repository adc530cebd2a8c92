//! Per-call cost of a trivial system call: N raw getppid calls.
// Raw syscall(SYS_getppid) rather than getppid(): a libc may cache the
// answer, and then the loop would measure no system call at all. Only the
// loop is timed (clock_gettime through the vDSO, no system call), so the
// start-up of whatever runs the program does not count. The N calls run in
// BATCHES batches and the fastest batch is printed: on a shared machine a
// batch that lost the CPU to another process measures that process.
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BATCHES 2000

/* N/BATCHES calls a batch, but at least 100 (or N): the two clock reads
   around a batch must stay small against it. */
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
    long n = argc > 1 ? atol(argv[1]) : 200000;
    if (n <= 0) {
        fprintf(stderr, "usage: %s N (N > 0)\n", argv[0]);
        return 2;
    }
    // Warm up: fault in the code paths (and a tracer's first-call work)
    // before the timed loop.
    for (long i = 0; i < 100; i++)
        syscall(SYS_getppid);
    long per = batch_size(n), sum = 0;
    double best = 1e300;
    for (int b = 0; b < n / per; b++) {
        double t0 = now_ns();
        for (long i = 0; i < per; i++)
            sum += syscall(SYS_getppid);
        double t = (now_ns() - t0) / per;
        best = t < best ? t : best;
    }
    if (sum == 0)  // getppid is never 0 for us; keeps `sum` observable
        fprintf(stderr, "odd: getppid summed to 0\n");
    printf("%.1f\n", best);
    return 0;
}
