//! `preld run`: replace this process with ld-preld, which loads the program.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use crate::RunArgs;

/// Exit statuses of a shell that could not start a command.
const EXIT_NOT_FOUND: u8 = 127;
const EXIT_CANNOT_EXEC: u8 = 126;
/// A usage error, as clap's.
const EXIT_USAGE: u8 = 2;

pub fn run(args: RunArgs) -> ExitCode {
    let ld = match crate::ld_preld() {
        Ok(ld) => ld,
        Err(why) => {
            eprintln!("preld: {why}");
            return ExitCode::from(EXIT_NOT_FOUND);
        }
    };
    // exec rather than spawn: the program must be this process (its pid,
    // parent and signals), as it would be without preld.
    let mut cmd = Command::new(&ld);
    cmd.arg0(&ld);
    for m in &args.maps {
        cmd.arg("--map").arg(m.arg());
    }
    if args.no_fast {
        cmd.arg("--no-fast");
    }
    if args.stats {
        cmd.arg("--fast-stats");
    }
    match args.clock.loader_args() {
        Ok(a) => {
            cmd.args(a);
        }
        Err(why) => {
            eprintln!("preld: {why}");
            return ExitCode::from(EXIT_USAGE);
        }
    }
    // SAFETY: the closure only sets two signal dispositions.
    unsafe {
        cmd.pre_exec(|| {
            // As the caller left them (std's exec sets SIGPIPE's default).
            crate::dispositions::for_the_program();
            Ok(())
        });
    }
    let err = cmd.arg("--").args(&args.command).exec();
    eprintln!("preld: cannot execute {}: {}", ld.display(), crate::reason(&err));
    ExitCode::from(EXIT_CANNOT_EXEC)
}
