/* tls: __thread variables with initializers (and .tbss) in the main program and, for dynamic builds, in a shared library: each thread must see the initial values and its own copies. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

__thread int t_int = 42;
__thread char t_str[32] = "main-tls";
__thread long t_zero;
static __thread double t_dbl = 2.5;
static __thread char t_big[8192] = {[0] = 'a', [8191] = 'z'};

#ifndef NO_SHLIB
extern __thread int lib_tls;
int lib_get(void);
const char *lib_str(void);
long lib_bump(long by);
#endif

static void report(char *out, size_t n, int id) {
    int ok = t_int == 42 && strcmp(t_str, "main-tls") == 0 && t_zero == 0 && t_dbl == 2.5 &&
             t_big[0] == 'a' && t_big[8191] == 'z' && t_big[100] == 0;
#ifndef NO_SHLIB
    ok = ok && lib_get() == 1234 && lib_tls == 1234 && strcmp(lib_str(), "lib-tls") == 0;
#endif
    /* Now make this thread's copies differ. */
    t_int += id;
    t_zero = id * 10;
    snprintf(t_str, sizeof t_str, "thread-%d", id);
    long lz = 0;
#ifndef NO_SHLIB
    lz = lib_bump(id);
    ok = ok && lib_tls == 1235 && lz == id;
#endif
    snprintf(out, n, "id=%d initial=%s now=%d,%ld,%s lib=%ld", id, ok ? "ok" : "BAD", t_int, t_zero,
             t_str, lz);
}

static char lines[9][128];

static void *worker(void *arg) {
    int id = (int)(long)arg;
    report(lines[id], sizeof lines[id], id);
    return 0;
}

int main(void) {
    pthread_t th[8];
    for (long i = 0; i < 8; i++)
        pthread_create(&th[i], 0, worker, (void *)(i + 1));
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], 0);
    report(lines[0], sizeof lines[0], 0);
    for (int i = 0; i < 9; i++)
        printf("tls %s\n", lines[i]);
    /* The threads' changes must not have leaked into the main thread. */
    printf("main after: %d %s\n", t_int, t_str);
    return 0;
}
