/* Renames argv[1] to argv[2] and back, for ever (the test kills it): a
 * directory that holds a mount point, moved between the launcher's read of
 * its mountinfo and the covers made in a grant's copy. With a third
 * argument `exchange`, swaps the two names instead (renameat2
 * RENAME_EXCHANGE): a granted directory and a symlink, between the
 * launcher's realpath of the grant and its copy. Run natively by the test
 * (as another session's program would through the server: it has a
 * read-write grant of the names' parent). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: rename_flip A B [exchange]\n"); return 2; }
    if (argc > 3 && !strcmp(argv[3], "exchange"))
        for (;;) syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], 2 /* RENAME_EXCHANGE */);
    for (;;) {
        rename(argv[1], argv[2]);
        rename(argv[2], argv[1]);
    }
}
