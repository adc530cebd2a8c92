/* open and openat(AT_FDCWD) with O_RDONLY|O_NOATIME of files the user does
 * not own (argv[4..], in a grant), each three times from one call site (the
 * trap path's first, then the session open gates'): in root's session,
 * where root's CAP_FOWNER allows it natively, every one opens (the
 * handler retries without O_NOATIME). argv: secret ro rw files... */
#include "attack.h"
int main(int argc, char **argv) {
    ARGS
    for (int m = 0; m < 2; m++)
        for (int i = 4; i < argc; i++)
            for (int k = 0; k < 3; k++) {
                int fd = m ? openat(AT_FDCWD, argv[i], O_RDONLY | O_NOATIME) : open(argv[i], O_RDONLY | O_NOATIME);
                printf("%s %s #%d: %s\n", m ? "openat" : "open", argv[i], k, fd < 0 ? strerror(errno) : "opened");
                if (fd >= 0) close(fd);
            }
    printf("noatime_gate: done\n");
    return 0;
}
