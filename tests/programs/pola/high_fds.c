/* argv: N GRANTED. With preld's fds in the program's range (from 1008 up
   where the fd limit leaves no room above it): prints the fd table's size
   (FDSize), makes N fcntl calls on an fd of its own above preld's lowest
   (1100), dup2s onto 1010 (one of preld's: it moves away) and 1030, and
   opens GRANTED after, through the session's fds wherever they went
   (pola_sessions.rs, preld_s_fds_keep_the_fd_table_small). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = atol(argv[1]);
    char line[128];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "FDSize:", 7)) fputs(line, stdout);
    if (f) fclose(f);
    if (dup2(0, 1100) != 1100) { perror("dup2 1100"); return 1; }
    for (long i = 0; i < n; i++)
        if (fcntl(1100, F_GETFD) < 0) { perror("fcntl 1100"); return 1; }
    printf("fcntl on 1100, %ld times: ok\n", n);
    fflush(stdout);
    for (int fd = 1010; fd <= 1030; fd += 20) {
        if (dup2(1, fd) != fd) { perror("dup2"); return 1; }
        if (dprintf(fd, "written through %d\n", fd) < 0) { perror("write"); return 1; }
    }
    int g = open(argv[2], O_RDONLY);
    char b[64] = {0};
    if (g < 0 || read(g, b, sizeof b - 1) < 0) { perror(argv[2]); return 1; }
    printf("open after: %s", b);
    return 0;
}
