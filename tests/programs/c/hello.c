/* hello: the smallest check: argv (past argv[0]), an environment variable, stdio to stdout and stderr, and the exit code. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *v = getenv("PRELD_TEST_VALUE");
    printf("hello argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    printf("PRELD_TEST_VALUE=%s\n", v ? v : "(unset)");
    unsigned long h = 5381;
    for (int i = 0; i < 100000; i++)
        h = h * 33 + (unsigned long)i;
    printf("hash=%lu\n", h);
    fprintf(stderr, "hello on stderr\n");
    return 7;
}
