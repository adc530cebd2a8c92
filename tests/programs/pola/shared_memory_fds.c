/* argv: MODE RW_DIR. Processes that share the memory but not always the fd
   table, with preld's fds among the program's numbers (fd limit soft ==
   hard: from 1008 up). Each dup2s over and closes fds 1000-1099 (none of
   them the program's: natively every call succeeds), or only closes them
   (EBADF each), and then makes a file in RW_DIR (a session request). Prints "done: 0 wrong" as natively
   (pola_sessions.rs, processes_sharing_memory_keep_their_own_fds).
   vfork-grandchild: a vfork child makes a process sharing its memory and
     fd table (CLONE_VM | CLONE_FILES) and exits; that process runs on,
     closes 1000-1099, dup2s over them and makes a file (it used the
     vfork child's set of preld's fds after the parent had freed it: its
     dup2 over its table's connection went through).
   clone-vm: a process sharing the memory but not the fd table (CLONE_VM
     without CLONE_FILES); both use their fds.
   vfork-dup2: a vfork child dup2s over 1000-1099 and exits; posix_spawn
     with dup2 file actions there; then the parent.
   spawn-race: two threads dup2 over and close 1000-1039 and make files
     while the main thread posix_spawns /bin/true 300 times (each must
     exit 0). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static const char *dir;
static volatile int stage;
static volatile int wrong;

static void use_fds(const char *who) {
    for (int fd = 1000; fd < 1100; fd++) {
        if (dup2(1, fd) != fd) {
            dprintf(1, "%s: dup2(1, %d): %s\n", who, fd, strerror(errno));
            wrong++;
        } else if (close(fd) != 0) {
            dprintf(1, "%s: close(%d): %s\n", who, fd, strerror(errno));
            wrong++;
        }
    }
}

static void make(const char *who, int i) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s%d", dir, who, i);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    if (fd < 0) {
        dprintf(1, "%s: open %s: %s\n", who, p, strerror(errno));
        wrong++;
    } else {
        close(fd);
    }
}

static void close_fds(const char *who) {
    for (int fd = 1000; fd < 1100; fd++) {
        if (close(fd) == 0 || errno != EBADF) {
            dprintf(1, "%s: close(%d): %s\n", who, fd, strerror(errno));
            wrong++;
        }
    }
}

static volatile int stop;

static void *racer(void *a) {
    while (!stop) {
        for (int fd = 1000; fd < 1040; fd++) {
            /* (Natively EBUSY only where another thread's dup2 to the same
               number is half done: the two racers take turns by parity.) */
            if ((fd & 1) != (int)(long)a)
                continue;
            if (dup2(2, fd) != fd) {
                dprintf(1, "racer: dup2(2, %d): %s\n", fd, strerror(errno));
                wrong++;
            }
            close(fd);
        }
        make("racer", (int)(long)a);
    }
    return NULL;
}

static int grandchild(void *a) {
    while (stage != 1)
        usleep(1000);
    for (int i = 0; i < 5; i++)
        make("grandchild", i);
    close_fds("grandchild");
    use_fds("grandchild");
    make("grandchild", 9);
    stage = 2;
    return 0;
}

static int sibling(void *a) {
    make("sibling", 0);
    stage = 1;
    while (stage != 2)
        usleep(1000);
    use_fds("sibling");
    make("sibling", 9);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argv[1];
    dir = argv[2];
    char *stack = malloc(1 << 20);
    if (strcmp(mode, "vfork-grandchild") == 0) {
        int pid = vfork();
        if (pid == 0) {
            if (clone(grandchild, stack + (1 << 20), CLONE_VM | CLONE_FILES | SIGCHLD, NULL) < 0)
                wrong++;
            _exit(0);
        }
        waitpid(pid, NULL, 0);
        for (int i = 0; i < 5; i++) {
            /* more vfork children: the allocator reuses what was freed */
            int q = vfork();
            if (q == 0)
                _exit(0);
            waitpid(q, NULL, 0);
        }
        make("parent", 0);
        stage = 1;
        while (stage != 2)
            usleep(1000);
        /* (No request of the parent's after: the grandchild's dup2 over
           its table's connection moved the number the memory keeps, the
           vfork-dup2 case.) */
        printf("done: %d wrong\n", wrong);
        return wrong != 0;
    } else if (strcmp(mode, "clone-vm") == 0) {
        int pid = clone(sibling, stack + (1 << 20), CLONE_VM | SIGCHLD, NULL);
        if (pid < 0)
            return 2;
        while (stage != 1)
            usleep(1000);
        use_fds("parent");
        stage = 2;
        int s;
        waitpid(pid, &s, 0);
        if (s != 0)
            wrong++;
    } else if (strcmp(mode, "spawn-race") == 0) {
        pthread_t t[2];
        for (long i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, racer, (void *)i);
        for (int i = 0; i < 300 && wrong < 10; i++) {
            int pid, s;
            char *av[] = {"/bin/true", NULL};
            if (posix_spawn(&pid, "/bin/true", NULL, NULL, av, environ) != 0) {
                printf("posix_spawn %d failed\n", i);
                wrong++;
            } else if (waitpid(pid, &s, 0) == pid && s != 0) {
                printf("posix_spawn %d: status %x\n", i, s);
                wrong++;
            }
        }
        stop = 1;
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
    } else {
        int pid = vfork();
        if (pid == 0) {
            for (int fd = 1000; fd < 1100; fd++)
                if (dup2(1, fd) != fd)
                    _exit(3);
            _exit(0);
        }
        int s;
        waitpid(pid, &s, 0);
        if (s != 0) {
            printf("vfork child: status %x\n", s);
            wrong++;
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        for (int fd = 1000; fd < 1100; fd += 7)
            posix_spawn_file_actions_adddup2(&fa, 1, fd);
        char *av[] = {"/bin/true", NULL};
        if (posix_spawn(&pid, "/bin/true", &fa, NULL, av, environ) != 0) {
            printf("posix_spawn failed\n");
            wrong++;
        } else if (waitpid(pid, &s, 0) == pid && s != 0) {
            printf("posix_spawn: status %x\n", s);
            wrong++;
        }
        use_fds("parent");
    }
    make("parent", 9);
    printf("done: %d wrong\n", wrong);
    return wrong != 0;
}
