/* fault: dies the way argv[1] asks (a real SIGSEGV from a NULL store, abort(), or exit(N)) so that the terminating signal or exit code can be compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
    /* No core files: the wait status must not depend on core_pattern. */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (argc < 2) {
        fprintf(stderr, "usage: fault segv|abort|exit N\n");
        return 2;
    }
    printf("fault: %s\n", argv[1]);
    fflush(stdout);
    if (strcmp(argv[1], "segv") == 0) {
        volatile int *p = (volatile int *)0;
        *p = 1;
    } else if (strcmp(argv[1], "abort") == 0) {
        abort();
    } else if (strcmp(argv[1], "exit") == 0 && argc > 2) {
        exit(atoi(argv[2]));
    }
    fprintf(stderr, "fault: still alive\n");
    return 3;
}
