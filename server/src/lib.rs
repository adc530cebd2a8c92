//! The capability server of `preld pola` as a library: the session's
//! namespace, the server that answers its requests, and the system calls
//! they make. The `preld` binary (main.rs) runs it from the launcher
//! (pola/mod.rs); tests/tests/pola_server.rs drives it in-process.

pub mod pola {
    //! The parts of `preld pola` that need no command line; the launcher's
    //! (mod.rs, confine.rs, tty.rs) are the binary's.

    pub mod ns;
    pub mod profile;
    pub mod serve;
    pub mod sys;
}
