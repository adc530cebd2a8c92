//! `preld`: the command line that starts programs under ld-preld.

mod patch;
mod pola;
mod run;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "preld",
    version,
    about = "Run Linux programs with an in-process system-call handler underneath them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(RunArgs),
    Patch(PatchArgs),
    Pola(pola::PolaArgs),
}

/// Run a program under ld-preld.
#[derive(Args)]
struct RunArgs {
    /// The program (searched in PATH when it has no slash) and its arguments.
    // trailing_var_arg: everything from PROG on belongs to the program, so its
    // own options are never taken for preld's.
    #[arg(value_name = "PROG", required = true, trailing_var_arg = true)]
    command: Vec<OsString>,
}

/// Write a copy of a dynamically linked program whose interpreter is ld-preld.
#[derive(Args)]
#[command(long_about = patch::LONG_ABOUT)]
struct PatchArgs {
    /// Absolute path OUT will name as its interpreter [default: the ld-preld
    /// next to this preld]
    #[arg(long, value_name = "PATH")]
    interp: Option<PathBuf>,
    /// The program to copy (x86_64 ELF, dynamically linked, or already patched)
    #[arg(value_name = "IN")]
    input: PathBuf,
    /// Where to write the patched copy (may be IN itself)
    #[arg(value_name = "OUT")]
    output: PathBuf,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => run::run(args),
        Command::Patch(args) => patch::main(args),
        Command::Pola(args) => pola::main(args),
    }
}

/// The ld-preld installed beside this preld binary: the two are built and
/// installed together, and ld-preld must match preld's private arguments.
fn ld_preld() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot locate the preld binary: {e}"))?;
    let ld = me.with_file_name("ld-preld");
    if ld.is_file() {
        Ok(ld)
    } else {
        Err(format!("cannot find ld-preld next to {}", me.display()))
    }
}

/// An io::Error as a one-line reason, without std's "(os error N)" suffix.
fn reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(argv: &[&str]) -> Vec<OsString> {
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Run(r) => r.command,
            _ => panic!("not parsed as run"),
        }
    }

    #[test]
    fn run_passes_the_program_its_own_options() {
        assert_eq!(
            run_args(&["preld", "run", "--", "ls", "-la", "--", "x"]),
            ["ls", "-la", "--", "x"]
        );
        assert_eq!(run_args(&["preld", "run", "ls", "--help"]), ["ls", "--help"]);
        assert!(Cli::try_parse_from(["preld", "run"]).is_err());
    }
}
