/* argv[4]: handle_type, argv[5]: hex handle bytes of the secret (made by the test). */
#include "attack.h"
int main(int argc, char **argv) {
    ARGS
    if (argc < 6) return 2;
    struct { unsigned int bytes; int type; unsigned char h[128]; } fh;
    fh.type = atoi(argv[4]);
    fh.bytes = strlen(argv[5]) / 2;
    for (unsigned i = 0; i < fh.bytes; i++) sscanf(argv[5] + 2 * i, "%2hhx", &fh.h[i]);
    int mfd = open(ro, O_RDONLY | O_DIRECTORY);
    printf("mount fd (ro dir): %d\n", mfd);
    show("libc open_by_handle_at", lc(open_by_handle_at(mfd, (struct file_handle *)&fh, O_RDONLY)));
    show("raw open_by_handle_at", raw(SYS_open_by_handle_at, mfd, &fh, O_RDONLY, 0));
    show("raw open_by_handle_at AT_FDCWD", raw(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY, 0));
    struct { unsigned int bytes; int type; unsigned char h[128]; } mine = { 128, 0, {0} };
    int mnt;
    long r = raw6(SYS_name_to_handle_at, AT_FDCWD, (long)secret, (long)&mine, (long)&mnt, 0, 0);
    printf("raw name_to_handle_at secret: %ld\n", r);
    if (r == 0) show("open_by_handle_at of own handle", raw(SYS_open_by_handle_at, mfd, &mine, O_RDONLY, 0));
    return 0;
}
