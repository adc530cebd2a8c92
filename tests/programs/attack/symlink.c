#include "attack.h"
int main(int argc, char **argv) {
    ARGS
    char *l1 = cat2(rw, "/abs"), *l2 = cat2(rw, "/rel"), *l3 = cat2(rw, "/proc"), *l4 = cat2(rw, "/dir"), *l5 = cat2(rw, "/tovictim");
    printf("symlink abs: %ld\n", lc(symlink(secret, l1)));
    printf("symlink rel: %ld\n", lc(symlink(cat2("../../../../../../../..", secret), l2)));
    printf("symlink proc: %ld\n", lc(symlink(cat2("/proc/self/root", secret), l3)));
    char *sd = strdup(secret); *strrchr(sd, '/') = 0;
    printf("symlink dir: %ld\n", lc(symlink(sd, l4)));
    printf("symlink to ro victim: %ld\n", lc(symlink(cat2(ro, "/victim"), l5)));
    show("open abs link", lc(open(l1, O_RDONLY)));
    show("open rel link", lc(open(l2, O_RDONLY)));
    show("open proc link", lc(open(l3, O_RDONLY)));
    show("open dir link/secret", lc(open(cat2(l4, "/secret"), O_RDONLY)));
    show("raw open abs link", raw(SYS_openat, AT_FDCWD, l1, O_RDONLY, 0));
    try_write_ro("open link to ro victim for writing", lc(open(l5, O_WRONLY)));
    char *h = cat2(rw, "/hard");
    long r = lc(link(secret, h));
    printf("hard link secret into rw: %ld\n", r);
    show("open hard link", lc(open(h, O_RDONLY)));
    r = lc(link(cat2(ro, "/victim"), cat2(rw, "/hardvictim")));
    printf("hard link ro victim into rw: %ld\n", r);
    try_write_ro("open hard link of victim for writing", lc(open(cat2(rw, "/hardvictim"), O_WRONLY)));
    r = lc(rename(cat2(ro, "/victim"), cat2(rw, "/stolen")));
    printf("rename ro victim into rw: %ld%s\n", r, r == 0 ? " ESCAPE: renamed out of a read-only grant" : "");
    return 0;
}
