/* Built static: prints the file named by argv[1]. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror("static-cat open"); return 1; }
    char b[256];
    long n = read(fd, b, sizeof b);
    printf("static-cat READ: ");
    fflush(stdout);
    if (n > 0) write(1, b, n);
    printf("\n");
    if (argc > 2) { /* write mode: argv[2] is a file to overwrite */
        int w = open(argv[2], O_WRONLY | O_TRUNC);
        printf("static-cat open %s for writing: %d%s\n", argv[2], w, w >= 0 ? " ESCAPE: opened a read-only grant for writing" : "");
    }
    return 0;
}
