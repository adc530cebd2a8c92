#include "attack.h"
int main(int argc, char **argv) {
    ARGS
    char *up = cat2("../../../../../../../../..", secret);
    printf("chdir rw: %ld\n", lc(chdir(rw)));
    show("open ../..secret from rw", lc(open(up, O_RDONLY)));
    show("raw open ../..secret from rw", raw(SYS_openat, AT_FDCWD, up, O_RDONLY, 0));
    printf("chdir ro: %ld\n", lc(chdir(ro)));
    show("open ../..secret from ro", lc(open(up, O_RDONLY)));
    int d = open(ro, O_RDONLY | O_DIRECTORY);
    printf("ro dirfd: %d\n", d);
    show("openat(ro fd, ../..secret)", lc(openat(d, up, O_RDONLY)));
    show("openat(ro fd, up+1 (/..))", lc(openat(d, up + 2, O_RDONLY)));
    int p = openat(d, "..", O_RDONLY | O_DIRECTORY);
    printf("openat(ro fd, ..): %d\n", p);
    if (p >= 0) show("openat(parent of ro, ../..secret)", lc(openat(p, up, O_RDONLY)));
    int r = open(rw, O_RDONLY | O_DIRECTORY);
    show("openat(rw fd, ../..secret)", lc(openat(r, up, O_RDONLY)));
    try_write_ro("openat(rw fd, ../ro/victim)", lc(openat(r, cat2("../../../../../../..", cat2(ro, "/victim")), O_WRONLY)));
    printf("chdir /: %ld\n", lc(chdir("/")));
    printf("chdir ..: %ld\n", lc(chdir("..")));
    show("open secret after chdir ..", lc(open(secret, O_RDONLY)));
    show("open relative secret after chdir /", lc(open(secret + 1, O_RDONLY)));
    return 0;
}
