//! Per-call cost of clock_gettime(CLOCK_MONOTONIC): N calls through the vDSO.
// Under preld the vDSO is preld's own image, so this measures its function-
// call path; ptrace-based tools do not see these calls at all. As in
// getppid_loop.c, the fastest of BATCHES batches is printed.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCHES 2000

/* N/BATCHES calls a batch, but at least 100 (or N): the two clock reads
   around a batch must stay small against it. */
static long batch_size(long n) {
    long per = n / BATCHES;
    return per >= 100 ? per : n < 100 ? n : 100;
}

static double ns(const struct timespec *ts) { return ts->tv_sec * 1e9 + ts->tv_nsec; }

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (n <= 0) {
        fprintf(stderr, "usage: %s N (N > 0)\n", argv[0]);
        return 2;
    }
    struct timespec t0, t, t1;
    for (int i = 0; i < 100; i++)
        clock_gettime(CLOCK_MONOTONIC, &t);
    long per = batch_size(n);
    double best = 1e300;
    for (int b = 0; b < n / per; b++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < per; i++)
            clock_gettime(CLOCK_MONOTONIC, &t);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double d = (ns(&t1) - ns(&t0)) / per;
        best = d < best ? d : best;
    }
    printf("%.1f\n", best);
    return 0;
}
