/* Capabilities (they matter when the session is started by root):
 * bpf(BPF_PROG_LOAD) of a trivial socket filter, system-wide
 * perf_event_open, fanotify_init with permission events, finit_module's
 * capability check, capget's effective set, setuid(0) when not root,
 * (info only) unshare(CLONE_NEWUSER), ptrace(PTRACE_TRACEME) in a child; pid 1 (the session's init, which
 * holds capabilities) through kcmp, process_vm_readv, pidfd_getfd, setns,
 * kill 0, PTRACE_SEIZE and prlimit64 (a no-op set of RLIMIT_CPU), and unshare of every namespace type. No keys. */
#include "kattack.h"
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/fanotify.h>
#include <sys/ptrace.h>

NO_HELPERS

/* The session's init (pid 1 of its PID namespace, with every capability in
 * the session's user namespace) as seen from the program: kcmp (ptrace read
 * access), process_vm_readv (attach access: EFAULT at a bad address means
 * the check passed), pidfd_getfd of its fd 0, setns into its network
 * namespace through a pidfd, kill with signal 0; and unshare of each
 * namespace type (in a child). Natively pid 1 is the machine's init;
 * nothing here changes it. */
static void init_attacks(void) {
    long r = TRY(syscall(SYS_kcmp, getpid(), 1, KCMP_VM, 0, 0), SYS_kcmp, getpid(), 1, KCMP_VM, 0, 0);
    verdict("kcmp-init", r, "compared our memory with pid 1's (ptrace read access)");

    char b[8];
    struct iovec l = { b, sizeof b }, rm = { (void *)1, sizeof b };
    r = TRY(process_vm_readv(1, &l, 1, &rm, 1, 0), SYS_process_vm_readv, 1, &l, 1, &rm, 1, 0);
    if (r >= 0 || r == -EFAULT) escape("process-vm-readv-init", "passed the ptrace attach check on pid 1 (%s)", err(r));
    else held("process-vm-readv-init", "%s", err(r));

    long pfd = TRY(syscall(SYS_pidfd_open, 1, 0), SYS_pidfd_open, 1, 0);
    if (pfd < 0) {
        held("pidfd-getfd-init", "pidfd_open(1): %s", err(pfd));
        held("setns-init", "pidfd_open(1): %s", err(pfd));
    } else {
        r = TRY(syscall(SYS_pidfd_getfd, pfd, 0, 0), SYS_pidfd_getfd, pfd, 0, 0);
        verdict("pidfd-getfd-init", r, "took a copy of pid 1's fd 0");
        closefd(r);
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            r = TRY(setns((int)pfd, CLONE_NEWNET), SYS_setns, pfd, CLONE_NEWNET);
            verdict("setns-init", r, "joined pid 1's network namespace");
            _exit(0);
        }
        int st;
        if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st)) held("setns-init", "the child did not report");
        closefd(pfd);
    }

    r = TRY(kill(1, 0), SYS_kill, 1, 0);
    verdict("kill-0-init", r, "may signal pid 1");

    /* Becoming pid 1's tracer (a session lets its processes trace each
     * other: Landlock keeps them to its own domain). Natively this
     * machine refuses it to root too (EPERM); if seized, pid 1 goes on
     * running and our exit detaches it. */
    r = TRY(ptrace(PTRACE_SEIZE, 1, 0, 0), SYS_ptrace, PTRACE_SEIZE, 1, 0, 0);
    verdict("ptrace-seize-init", r, "became pid 1's tracer");

    /* pid 1's resource limits: the same uid may change them (prlimit64
     * checks ids only, and Landlock has no hook for it). Set to the values
     * it has (harmless natively, where pid 1 is the machine's init); in a
     * session a lower RLIMIT_CPU hard limit makes the kernel SIGKILL the
     * session's init (session.c, kill-init). */
    struct rlimit cur;
    r = TRY(prlimit(1, RLIMIT_CPU, 0, &cur), SYS_prlimit64, 1, RLIMIT_CPU, 0, &cur);
    if (r < 0) held("prlimit-init", "reading pid 1's RLIMIT_CPU: %s", err(r));
    else {
        r = TRY(prlimit(1, RLIMIT_CPU, &cur, 0), SYS_prlimit64, 1, RLIMIT_CPU, &cur, 0);
        verdict("prlimit-init", r, "may set pid 1's RLIMIT_CPU (a hard limit of 1 s gets the session's init SIGKILLed)");
    }

    const struct { int flag; const char *name; } ns[] = {
        { CLONE_NEWNS, "mount" }, { CLONE_NEWNET, "net" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" },
        { CLONE_NEWPID, "pid" }, { CLONE_NEWCGROUP, "cgroup" }, { 0x80 /* CLONE_NEWTIME */, "time" }, { CLONE_NEWUSER, "user" },
    };
    char got[256] = "", why[256] = "";
    for (unsigned i = 0; i < sizeof ns / sizeof *ns; i++) {
        int p[2];
        if (pipe(p) < 0) break;
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            long s = TRY(unshare(ns[i].flag), SYS_unshare, ns[i].flag);
            (void)!write(p[1], &s, sizeof s);
            _exit(0);
        }
        long s = -EIO;
        close(p[1]);
        (void)!read(p[0], &s, sizeof s);
        close(p[0]);
        int st;
        waitpid(c, &st, 0);
        char *to = s == 0 ? got : why;
        snprintf(to + strlen(to), 256 - strlen(to), "%s%s%s%s", *to ? ", " : "", ns[i].name, s == 0 ? "" : " ", s == 0 ? "" : err(s));
    }
    if (*got) escape("unshare", "new namespaces: %s (refused: %s)", got, why);
    else held("unshare", "%s", why);
}

static void attacks(void) {
    struct bpf_insn insns[2];
    memset(insns, 0, sizeof insns);
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K; /* r0 = 0 */
    insns[1].code = BPF_JMP | BPF_EXIT;
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insn_cnt = 2;
    a.insns = (unsigned long)insns;
    a.license = (unsigned long)"GPL";
    long r = TRY(syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a), SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
    verdict("bpf-prog-load", r, "loaded a BPF program");
    closefd(r);

    struct perf_event_attr pa;
    memset(&pa, 0, sizeof pa);
    pa.type = PERF_TYPE_SOFTWARE;
    pa.size = sizeof pa;
    pa.config = PERF_COUNT_SW_CPU_CLOCK;
    pa.disabled = 1;
    r = TRY(syscall(SYS_perf_event_open, &pa, -1, 0, -1, 0), SYS_perf_event_open, &pa, -1, 0, -1, 0);
    verdict("perf-system-wide", r, "opened a system-wide perf event on CPU 0");
    closefd(r);

    r = TRY(fanotify_init(FAN_CLASS_CONTENT, O_RDONLY), SYS_fanotify_init, FAN_CLASS_CONTENT, O_RDONLY);
    verdict("fanotify-init", r, "made a fanotify group with permission events");
    closefd(r);

    /* The capability check comes before the fd's: EBADF means it passed. */
    r = TRY(syscall(SYS_finit_module, -1, "", 0), SYS_finit_module, -1, "", 0);
    if (r == -EBADF) escape("finit-module", "passed the CAP_SYS_MODULE check (EBADF for fd -1)");
    else held("finit-module", "%s", err(r));

    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    r = TRY(syscall(SYS_capget, &h, d), SYS_capget, &h, d);
    if (r < 0) held("capabilities", "capget: %s", err(r));
    else if (d[0].effective | d[1].effective)
        escape("capabilities", "effective set %08x%08x", d[1].effective, d[0].effective);
    else held("capabilities", "effective set empty");

    if (geteuid() != 0) {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            long s = TRY(setresuid(0, 0, 0), SYS_setresuid, 0, 0, 0);
            verdict("setuid-0", s, "became uid 0");
            _exit(0);
        }
        int st;
        waitpid(p, &st, 0);
    }

    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        long s = TRY(unshare(CLONE_NEWUSER), SYS_unshare, CLONE_NEWUSER);
        info("unshare(CLONE_NEWUSER) via %s: %s", wayname, s < 0 ? err(s) : "ok");
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);

    /* PTRACE_TRACEME in a child: its parent becomes its tracer. In a
     * session the handler and the seccomp filter refuse it; made around them, the child would
     * stop at its next signal or exec for a tracer that never waits for
     * it (the session's init, for the program itself). The child exits
     * at once: natively it just ends, traced. */
    fflush(stdout);
    int tp[2];
    if (pipe(tp) == 0) {
        p = fork();
        if (p == 0) {
            long s = TRY(ptrace(PTRACE_TRACEME, 0, 0, 0), SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
            (void)!write(tp[1], &s, sizeof s);
            _exit(0);
        }
        long s = -EIO;
        close(tp[1]);
        (void)!read(tp[0], &s, sizeof s);
        close(tp[0]);
        waitpid(p, &st, 0);
        verdict("ptrace-traceme", s, "made its parent its tracer (around the handler: a stop nobody waits for)");
    }

    init_attacks();
}
