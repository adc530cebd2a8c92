//! The `--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, ...} ---` line
//! strace writes when a signal is delivered, decoded from the kernel's
//! siginfo_t (asm-generic/siginfo.h, x86_64 layout).

use core::fmt::{self, Write};

const SIGNALS: [&str; 32] = [
    "0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
    "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
    "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
    "SIGSYS",
];

pub fn signal_name(o: &mut dyn Write, s: i32) -> fmt::Result {
    match s {
        1..=31 => o.write_str(SIGNALS[s as usize]),
        32 => o.write_str("SIGRTMIN"),
        33..=64 => write!(o, "SIGRT_{}", s - 32),
        _ => write!(o, "{s}"),
    }
}

fn i32_at(b: &[u8; 128], off: usize) -> i32 {
    i32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn u64_at(b: &[u8; 128], off: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(w)
}

fn ptr(o: &mut dyn Write, v: u64) -> fmt::Result {
    if v == 0 { o.write_str("NULL") } else { write!(o, "{v:#x}") }
}

/// si_code names shared by every signal (values <= 0), then the
/// signal-specific ones.
fn code_name(sig: i32, code: i32) -> Option<&'static str> {
    Some(match code {
        0 => "SI_USER",
        0x80 => "SI_KERNEL",
        -1 => "SI_QUEUE",
        -2 => "SI_TIMER",
        -3 => "SI_MESGQ",
        -4 => "SI_ASYNCIO",
        -5 => "SI_SIGIO",
        -6 => "SI_TKILL",
        -7 => "SI_DETHREAD",
        -60 => "SI_ASYNCNL",
        _ => {
            let names: &[&str] = match sig {
                4 => &["ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"],
                8 => &["FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"],
                11 => &["SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR"],
                7 => &["BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"],
                5 => &["TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT"],
                17 => &["CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"],
                29 => &["POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP"],
                31 => &["SYS_SECCOMP", "SYS_USER_DISPATCH"],
                _ => &[],
            };
            return usize::try_from(code).ok().and_then(|c| c.checked_sub(1)).and_then(|i| names.get(i)).copied();
        }
    })
}

/// Writes `--- SIGx {...} ---` (without the newline).
pub fn write_signal(o: &mut dyn Write, sig: i32, info: &[u8; 128]) -> fmt::Result {
    let signo = i32_at(info, 0);
    let code = i32_at(info, 8);
    o.write_str("--- ")?;
    signal_name(o, sig)?;
    o.write_str(" {si_signo=")?;
    signal_name(o, signo)?;
    o.write_str(", si_code=")?;
    match code_name(signo, code) {
        Some(n) => o.write_str(n)?,
        None => write!(o, "{code}")?,
    }
    let (pid, uid) = (i32_at(info, 16), i32_at(info, 20) as u32);
    match code {
        0 | -6 => write!(o, ", si_pid={pid}, si_uid={uid}")?,
        -1 | -3 => {
            write!(o, ", si_pid={pid}, si_uid={uid}, si_int={}, si_ptr=", i32_at(info, 24))?;
            ptr(o, u64_at(info, 24))?;
        }
        -2 => {
            write!(o, ", si_timerid={:#x}, si_overrun={}, si_int={}, si_ptr=", pid, uid, i32_at(info, 24))?;
            ptr(o, u64_at(info, 24))?;
        }
        c if c > 0 && c != 0x80 => match signo {
            17 => {
                let status = i32_at(info, 24);
                write!(o, ", si_pid={pid}, si_uid={uid}, si_status=")?;
                if c == 2 || c == 3 {
                    signal_name(o, status)?;
                } else {
                    write!(o, "{status}")?;
                }
                write!(o, ", si_utime={}, si_stime={}", u64_at(info, 32), u64_at(info, 40))?;
            }
            4 | 7 | 8 | 11 | 5 => {
                o.write_str(", si_addr=")?;
                ptr(o, u64_at(info, 16))?;
            }
            29 => write!(o, ", si_band={}, si_fd={}", u64_at(info, 16) as i64, i32_at(info, 24))?,
            31 => {
                o.write_str(", si_call_addr=")?;
                ptr(o, u64_at(info, 16))?;
                write!(o, ", si_syscall={}, si_arch=", i32_at(info, 24))?;
                match i32_at(info, 28) as u32 {
                    0xc000_003e => o.write_str("AUDIT_ARCH_X86_64")?,
                    a => write!(o, "{a:#x}")?,
                }
            }
            _ => {}
        },
        0x80 if matches!(signo, 4 | 7 | 8 | 11) => {
            o.write_str(", si_addr=")?;
            ptr(o, u64_at(info, 16))?;
        }
        _ => {}
    }
    o.write_str("} ---")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct S(std::string::String);
    impl Write for S {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0.push_str(s);
            Ok(())
        }
    }

    fn info(words: &[(usize, i32)]) -> [u8; 128] {
        let mut b = [0u8; 128];
        for &(off, v) in words {
            b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
        }
        b
    }

    fn line(sig: i32, i: &[u8; 128]) -> std::string::String {
        let mut s = S(std::string::String::new());
        write_signal(&mut s, sig, i).unwrap();
        s.0
    }

    #[test]
    fn as_strace_writes_them() {
        assert_eq!(
            line(10, &info(&[(0, 10), (8, 0), (16, 1234), (20, 0)])),
            "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1234, si_uid=0} ---"
        );
        assert_eq!(
            line(17, &info(&[(0, 17), (8, 1), (16, 77), (20, 1000), (24, 3)])),
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=77, si_uid=1000, si_status=3, si_utime=0, si_stime=0} ---"
        );
        assert_eq!(
            line(17, &info(&[(0, 17), (8, 2), (16, 77), (24, 15)])),
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=77, si_uid=0, si_status=SIGTERM, si_utime=0, si_stime=0} ---"
        );
        assert_eq!(line(11, &info(&[(0, 11), (8, 1)])), "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---");
        assert_eq!(
            line(12, &info(&[(0, 12), (8, -6), (16, 5), (20, 0)])),
            "--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_TKILL, si_pid=5, si_uid=0} ---"
        );
        assert_eq!(line(34, &info(&[(0, 34), (8, 0x80)])), "--- SIGRT_2 {si_signo=SIGRT_2, si_code=SI_KERNEL} ---");
    }
}
