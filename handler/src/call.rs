//! The call type every entry of the transfer table takes, and what an
//! entry decides. Below the entry modules, so that they depend on it and
//! not on `dispatch`, which depends on them.

use preld_arch::Ucontext;

use crate::thread::ThreadBlock;

/// A trapped call being served.
pub struct Call<'a> {
    pub t: &'a mut ThreadBlock,
    pub uc: &'a mut Ucontext,
    pub nr: usize,
    /// The arguments the real call will get (an entry may rewrite them).
    pub args: [usize; 6],
    /// The arguments as the application passed them.
    pub orig: [usize; 6],
    /// Set by clone in a fork child (dispatch tells the tracer).
    pub forked_child: bool,
}

/// What an entry decided.
pub enum Outcome {
    /// Answer the application with this (a value or -errno).
    Return(isize),
    /// Make the call with `args`.
    Real,
    /// Make the call with `args`, then pass its result through `After`.
    RealThen(After),
    /// The entry redirected the context itself (clone, sigreturn).
    Diverted,
    /// Not this layer's call after all: the next layer of the table decides
    /// (a session entry that only looked, as close does for virtual
    /// directories).
    Next,
}

impl Outcome {
    /// Fail the call with `errno` (an errno.rs name).
    pub fn err(errno: i32) -> Outcome {
        Outcome::Return(-(errno as isize))
    }
}

/// What sees a real call's result (raw: value or -errno) and returns the
/// one the application gets; runs in a second trap, with the original
/// arguments (`dispatch::after` holds the functions). It crosses the
/// application's stack as a small number, so a forged post trap can name
/// only one of these, never an address.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(usize)]
pub enum After {
    /// exec.rs: a failed execve takes back what was prepared for it.
    ExecFailed = 1,
    /// fds.rs: a raised RLIMIT_NOFILE moves preld's fds above it.
    RlimitSet = 2,
    /// fds.rs: a listing of /proc/self/fd loses preld's own fds.
    HideOwnFds = 3,
    /// tracer.rs: an external tracer stepped the call and sees its result
    /// (the table's own continuation, if any, waits with the step).
    TracerStep = 4,
    /// clockcalls.rs: a scaled sleep's remaining time, written back in
    /// virtual time.
    SleepRemaining = 5,
    /// memory.rs: a call that may take access away from memory; the page
    /// cache forgets after it (`dispatch::after_call`), nothing else.
    PagesForgotten = 6,
}

impl After {
    const ALL: [After; 6] = [
        After::ExecFailed,
        After::RlimitSet,
        After::HideOwnFds,
        After::TracerStep,
        After::SleepRemaining,
        After::PagesForgotten,
    ];

    /// The word stored in the tail slot (0 is "nothing after").
    pub fn word(self) -> usize {
        self as usize
    }

    /// The continuation a word names; None for 0 and for any other word.
    pub fn from_word(w: usize) -> Option<After> {
        After::ALL.into_iter().find(|a| a.word() == w)
    }
}

#[cfg(test)]
mod tests {
    use super::After;

    #[test]
    fn words_name_each_continuation_once_and_nothing_else() {
        for a in After::ALL {
            assert_eq!(After::from_word(a.word()), Some(a));
        }
        for w in [0, 7, usize::MAX, 0x7fff_0000_1000] {
            assert_eq!(After::from_word(w), None);
        }
    }
}
