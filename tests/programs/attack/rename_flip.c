/* Renames argv[1] to argv[2] and back, for ever (the test kills it): a
 * directory that holds a mount point, moved between the launcher's read of
 * its mountinfo and the covers made in a grant's copy. Run natively by the
 * test (as another session's program would through the server: it has a
 * read-write grant of the directory's parent). */
#include <stdio.h>
int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: rename_flip A B\n"); return 2; }
    for (;;) {
        rename(argv[1], argv[2]);
        rename(argv[2], argv[1]);
    }
}
