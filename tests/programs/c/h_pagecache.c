/* Memory a call has read (a path) or written (a stat) whose access is then
 * taken away, and which is passed again: the handler knows pages it found
 * readable or writable until the mappings change (usermem.rs), and must
 * forget them for every way access goes (munmap, mprotect, MAP_FIXED,
 * mremap, madvise guard pages, shmdt, brk, from another thread, protection
 * keys): each call says EFAULT as natively, never a crash. Prints one line
 * per case. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static const char *PATH = "/dev/null";

/* open of the path at p, stat into p + 2048: "ok" or the errno's name. */
static const char *try_open(char *p) {
    int fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == EFAULT ? "EFAULT" : strerror(errno);
    close(fd);
    return "ok";
}

static const char *try_stat(char *p) {
    if (syscall(SYS_newfstatat, AT_FDCWD, PATH, p + 2048, 0) < 0) return errno == EFAULT ? "EFAULT" : strerror(errno);
    return "ok";
}

static const char *try_access(char *p) {
    if (syscall(SYS_faccessat, AT_FDCWD, p, R_OK) < 0) return errno == EFAULT ? "EFAULT" : strerror(errno);
    return "ok";
}

/* Uses the page (read and written by calls), so that it is known. */
static void use(char *p) {
    strcpy(p, PATH);
    for (int i = 0; i < 3; i++) {
        try_open(p);
        try_stat(p);
        try_access(p);
    }
}

static void show(const char *name, char *p) {
    printf("%-16s open %s, stat %s, access %s\n", name, try_open(p), try_stat(p), try_access(p));
}

static char *fresh(void) {
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    use(p);
    return p;
}

static void *unmapper(void *arg) {
    munmap(arg, 4096);
    return NULL;
}

int main(void) {
    char *p = fresh();
    show("mapped", p);

    munmap(p, 4096);
    show("munmap", p);

    p = fresh();
    mprotect(p, 4096, PROT_NONE);
    show("mprotect none", p);
    munmap(p, 4096);

    p = fresh();
    mprotect(p, 4096, PROT_READ);
    show("mprotect read", p);
    munmap(p, 4096);

    p = fresh();
    if (mmap(p, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) { perror("mmap fixed"); return 2; }
    show("MAP_FIXED none", p);
    munmap(p, 4096);

    p = fresh();
    char *q = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mremap(p, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, q) == MAP_FAILED) { perror("mremap"); return 2; }
    show("mremap away", p);
    munmap(q, 4096);

    p = fresh();
    if (madvise(p, 4096, MADV_GUARD_INSTALL) == 0) show("madvise guard", p);
    else printf("%-16s unsupported\n", "madvise guard");
    munmap(p, 4096);

    p = fresh();
    pthread_t t;
    pthread_create(&t, NULL, unmapper, p);
    pthread_join(t, NULL);
    show("other thread", p);

    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id >= 0) {
        p = shmat(id, NULL, 0);
        shmctl(id, IPC_RMID, NULL);
        if (p == (void *)-1) {
            printf("%-16s %s\n", "shmdt", strerror(errno));
        } else {
            use(p);
            shmdt(p);
            show("shmdt", p);
        }
    } else {
        printf("%-16s %s\n", "shmdt", strerror(errno));
    }

    /* brk: two pages above the break, used, then given back. */
    char *b = sbrk(0);
    char *top = (char *)(((unsigned long)b + 4095) & ~4095UL);
    if (sbrk(top - b + 8192) != (void *)-1) {
        use(top + 4096);
        sbrk(-(top - b + 8192));
        show("brk", top + 4096);
    } else {
        printf("%-16s %s\n", "brk", strerror(errno));
    }

    /* Protection keys: access taken away by WRPKRU, no call at all. */
    int key = syscall(SYS_pkey_alloc, 0, 0);
    if (key < 0) {
        printf("%-16s unsupported\n", "pkey");
    } else {
        p = fresh();
        syscall(SYS_pkey_mprotect, p, 4096, PROT_READ | PROT_WRITE, key);
        use(p);
        unsigned int pkru;
        __asm__ volatile("rdpkru" : "=a"(pkru) : "c"(0) : "rdx");
        pkru |= 1u << (2 * key); /* access disabled */
        __asm__ volatile("wrpkru" : : "a"(pkru), "c"(0), "d"(0));
        const char *o = try_open(p), *s = try_stat(p), *a = try_access(p);
        pkru &= ~(3u << (2 * key));
        __asm__ volatile("wrpkru" : : "a"(pkru), "c"(0), "d"(0));
        printf("%-16s open %s, stat %s, access %s\n", "pkey", o, s, a);
    }
    return 0;
}
