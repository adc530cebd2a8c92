/* statfs_full: statfs of `/`, a grant and a file in it by a program at its
 * fd limit (its table full): natively it takes no fd; in a session the
 * handler asks the server for an O_PATH fd of the path, which finds no
 * room in the table (EMFILE). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>
int main(void) {
    for (int fd = 3; fd < 1024; fd++) close(fd);
    struct rlimit rl; getrlimit(RLIMIT_NOFILE, &rl); rl.rlim_cur = 32; setrlimit(RLIMIT_NOFILE, &rl);
    while (open("/usr/include/stdio.h", O_RDONLY) >= 0) ;
    struct statfs s; const char *p[] = {"/", "/usr", "/usr/include/stdio.h", NULL};
    for (int i = 0; p[i]; i++) printf("statfs %s: %s\n", p[i], statfs(p[i], &s) ? strerrorname_np(errno) : "ok");
    return 0;
}
