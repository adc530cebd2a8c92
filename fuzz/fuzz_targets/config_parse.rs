//! Fuzz target: ld-preld's options (handler/src/config.rs). An exec in a
//! session passes its image's grants and names back to ld-preld as
//! options (`--beneaths`, `--vpaths`, packed `LEN:ENTRY...`), and a program
//! can exec ld-preld itself with any it likes (attack `forged_exec`): the
//! parser must answer each with a configuration or an error, never panic.
//!
//! Input: the arguments, separated by NUL bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preld_handler::config::{unpack, Config};

fuzz_target!(|data: &[u8]| {
    // SAFETY: ld-preld's arguments live as long as the process, hence the
    // parser's 'static; here what it returns (borrowing from them) is
    // dropped at the end of this statement, before `data` is.
    let args: Vec<&'static [u8]> = data.split(|&b| b == 0).map(|a| unsafe { core::mem::transmute::<&[u8], &'static [u8]>(a) }).collect();
    drop(Config::parse(&args));
    for a in &args {
        if let Some(entries) = unpack(a) {
            // What unpack gives lies within what it was given.
            assert!(entries.iter().map(|e| e.len()).sum::<usize>() <= a.len());
        }
    }
});
