/* Kernel state shared with the host: an inotify watch on a host directory,
 * a key of the user's keyring (keyctl search+read, request_key), SysV
 * shared memory and a message queue made outside, and another process of
 * the same user (prlimit64, setpriority, sched_setaffinity, ioprio_set,
 * kill with signal 0).
 * Keys: watch_dir, key_desc, shm, msg, victim_pid.
 * Helper modes the harness runs natively, as the uid under test:
 *   victim                       sleeps until killed
 *   setup-key key_desc= key_payload=   adds a user key to the user keyring
 *   unlink-key key_id=           invalidates it
 *   setup-ipc ipc_marker=        makes the SysV objects, prints their ids
 *   remove-ipc shm= msg=         removes them */
#include "kattack.h"
#include <sched.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/shm.h>

#define KEY_SPEC_USER_KEYRING -4
#define KEYCTL_INVALIDATE 21
#define KEYCTL_SEARCH 10
#define KEYCTL_READ 11
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct kmsg { long mtype; char mtext[200]; };

static int helper(const char *mode) {
    if (!strcmp(mode, "victim")) {
        for (;;) pause();
    }
    if (!strcmp(mode, "setup-key")) {
        const char *d = arg("key_desc"), *p = arg("key_payload");
        long id = syscall(SYS_add_key, "user", d, p, strlen(p), KEY_SPEC_USER_KEYRING);
        if (id < 0) { perror("add_key"); return 1; }
        printf("key=%ld\n", id);
        return 0;
    }
    if (!strcmp(mode, "unlink-key")) {
        return syscall(SYS_keyctl, KEYCTL_INVALIDATE, argl("key_id")) < 0;
    }
    if (!strcmp(mode, "setup-ipc")) {
        const char *m = arg("ipc_marker");
        int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        int msg = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        if (shm < 0 || msg < 0) { perror("shmget/msgget"); return 1; }
        char *p = shmat(shm, 0, 0);
        if (p == (void *)-1) { perror("shmat"); return 1; }
        snprintf(p, 4096, "%s", m);
        shmdt(p);
        struct kmsg k = { 1, "" };
        snprintf(k.mtext, sizeof k.mtext, "%s", m);
        if (msgsnd(msg, &k, strlen(k.mtext) + 1, 0) < 0) { perror("msgsnd"); return 1; }
        printf("shm=%d msg=%d\n", shm, msg);
        return 0;
    }
    if (!strcmp(mode, "remove-ipc")) {
        shmctl((int)argl("shm"), IPC_RMID, 0);
        msgctl((int)argl("msg"), IPC_RMID, 0);
        return 0;
    }
    fprintf(stderr, "kattack: unknown mode %s\n", mode);
    return 2;
}

static void read_key(const char *item, long id) {
    char buf[256];
    if (id < 0) { held(item, "%s", err(id)); return; }
    long n = TRY(syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof buf - 1), SYS_keyctl, KEYCTL_READ, id, buf, sizeof buf - 1);
    if (n < 0) { held(item, "found key %ld, read: %s", id, err(n)); return; }
    buf[n < (long)sizeof buf ? n : (long)sizeof buf - 1] = 0;
    escape(item, "read key %ld: %s", id, buf);
}

static void attacks(void) {
    const char *dir = arg("watch_dir");
    long ifd = TRY(inotify_init1(IN_CLOEXEC), SYS_inotify_init1, IN_CLOEXEC);
    if (ifd < 0) {
        held("inotify-watch", "inotify_init1: %s", err(ifd));
    } else {
        long wd = TRY(inotify_add_watch((int)ifd, dir, IN_ALL_EVENTS), SYS_inotify_add_watch, ifd, dir, IN_ALL_EVENTS);
        verdict("inotify-watch", wd, "watching a host directory");
        closefd(ifd);
    }

    const char *desc = arg("key_desc");
    long id = TRY(syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", desc, 0), SYS_keyctl, KEYCTL_SEARCH,
                  KEY_SPEC_USER_KEYRING, "user", desc, 0);
    read_key("keyctl-read", id);
    id = TRY(syscall(SYS_request_key, "user", desc, 0, 0), SYS_request_key, "user", desc, 0, 0);
    read_key("request-key", id);

    int shm = (int)argl("shm"), msg = (int)argl("msg");
    long p = TRY(shmat(shm, 0, SHM_RDONLY), SYS_shmat, shm, 0, SHM_RDONLY);
    if (p < 0) {
        held("sysv-shm", "%s", err(p));
    } else {
        char m[64];
        snprintf(m, sizeof m, "%.60s", (char *)p);
        if (!strncmp(m, "kattack-", 8)) escape("sysv-shm", "attached the harness's segment: %s", m);
        else held("sysv-shm", "attached a segment without the marker");
        shmdt((void *)p);
    }

    struct kmsg k;
    memset(&k, 0, sizeof k);
    long n = TRY(msgrcv(msg, &k, sizeof k.mtext, 0, IPC_NOWAIT | MSG_COPY), SYS_msgrcv, msg, &k, sizeof k.mtext, 0,
                 IPC_NOWAIT | MSG_COPY);
    if (n == -ENOSYS) { /* no MSG_COPY: take it and put it back */
        n = TRY(msgrcv(msg, &k, sizeof k.mtext, 0, IPC_NOWAIT), SYS_msgrcv, msg, &k, sizeof k.mtext, 0, IPC_NOWAIT);
        if (n > 0) msgsnd(msg, &k, n, IPC_NOWAIT);
    }
    if (n > 0) escape("sysv-msg", "received the harness's message: %.60s", k.mtext);
    else held("sysv-msg", "%s", err(n));

    int pid = (int)argl("victim_pid");
    struct rlimit rl = { 77, 77 };
    long r = TRY(prlimit(pid, RLIMIT_NOFILE, &rl, 0), SYS_prlimit64, pid, RLIMIT_NOFILE, &rl, 0);
    verdict("prlimit", r, "set the victim's RLIMIT_NOFILE to 77");
    r = TRY(setpriority(PRIO_PROCESS, pid, 19), SYS_setpriority, PRIO_PROCESS, pid, 19);
    verdict("setpriority", r, "reniced the victim to 19");
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    r = TRY(sched_setaffinity(pid, sizeof set, &set), SYS_sched_setaffinity, pid, sizeof set, &set);
    verdict("sched-setaffinity", r, "pinned the victim to CPU 0");
    r = TRY(syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, pid, 3 << 13 /* IDLE */), SYS_ioprio_set, 1, pid, 3 << 13);
    verdict("ioprio-set", r, "set the victim's I/O class to idle");
    r = TRY(kill(pid, 0), SYS_kill, pid, 0);
    verdict("kill-0", r, "may signal the victim");
}
