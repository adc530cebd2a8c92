/* Shared by the owners table's attacks (owners_table.c, owners_forge.c). */
#include <sys/stat.h>

/* Prints the owners of `file` (a file of root's on a grant): any other
   than 0:0 is ESCAPE. */
static void owners(const char *what, const char *file) {
    struct stat st;
    if (lstat(file, &st) != 0) { printf("%s: lstat: %s\n", what, strerror(errno)); return; }
    printf("%s: owners %u:%u%s\n", what, st.st_uid, st.st_gid,
           st.st_uid != 0 || st.st_gid != 0 ? " ESCAPE: root's file shows other owners" : "");
    fflush(stdout);
}
