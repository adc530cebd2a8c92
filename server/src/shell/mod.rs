//! `preld shell`: a capability shell (Plash's pola-shell). Each command of
//! a line runs as a least-authority session of its own (`preld pola -B`),
//! granted what its command line names (grants.rs): the user's words are
//! the authority, and a command reaches nothing else of the user's files.
//!
//! - syntax.rs: the language (sh's simple commands, pipelines, lists,
//!   redirections, and Plash's `=> FILE` and `+ DIR`), lexer and parser;
//! - expand.rs: variables, `~` and globs, when a command runs;
//! - grants.rs: the grants rule, the session's `preld pola` command line;
//! - exec.rs: pipelines, redirections, builtins, job control, statuses;
//! - edit.rs: line editing (rustyline): completion, the history file.
//!
//! Interactive when its stdin and stdout are a terminal: a prompt, line
//! editing, history, completion, job control. Otherwise (a pipe, a file,
//! `-c`, a script) it reads lines with no prompt, as sh does, one byte at
//! a time from a stdin it shares with the commands, so that what a command
//! reads of it is not taken by the shell first.

mod edit;
mod exec;
mod expand;
mod grants;
mod syntax;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rustyline::error::ReadlineError;

use exec::{Shell, Terminal};

/// Read commands and run each in a capability session of its own.
#[derive(Args, Debug)]
#[command(long_about = LONG_ABOUT)]
pub struct ShellArgs {
    /// Run the commands of CMD (one or more lines), then exit with the
    /// last one's status
    #[arg(short = 'c', value_name = "CMD", conflicts_with = "script")]
    pub command: Option<OsString>,
    /// Give every session the host's network (as `preld pola --net`)
    #[arg(long)]
    pub net: bool,
    /// Before each session starts, print its `preld pola` command line
    /// (which shows its grants) on stderr
    #[arg(short = 'v')]
    pub verbose: bool,
    /// Read the commands from FILE instead of the standard input
    #[arg(value_name = "FILE")]
    pub script: Option<PathBuf>,
}

const LONG_ABOUT: &str = "Read commands and run each in a capability session of its own.

A capability shell, as Plash's pola-shell: every simple command runs as
`preld pola -B` (the base system, a private /tmp, the program and what it
needs to start) plus what its command line names, and nothing else:

  cat notes.txt               notes.txt (an existing file or directory named
                              as an argument) is granted read-only
  sort data => sorted         `=> FILE` grants FILE read-write (an empty file
                              is made if it is missing); FILE is passed on
  tar -xf a.tar -C + outdir   `+ DIR` grants the existing directory DIR
                              read-write (quote a plus sign to pass it: '+')
  grep x < in > out 2>> err   redirections are opened by the shell with the
                              user's authority: the session gets the open
                              file and nothing is granted
  cd src; make + .            sessions start in the shell's directory, so
                              relative names work (a directory in no grant
                              is an empty one in the session)

Names that do not exist are not granted. Pipelines, `&&`, `||`, `;`, `&`,
`!`, `NAME=value cmd`, quoting ('...', \"...\", \\), `$?`, `$$`, `$NAME`,
`${NAME}`, `~`, globs and `#` comments are as in sh; a variable is never
split into words. Builtins: cd [DIR|-], pwd, exit [N], export, unset,
jobs, fg, bg, wait, help. Exit statuses are sh's: a pipeline's is its last
command's, 128+N for a command killed by signal N, 127 for a command not
found, 126 for one that cannot run, 2 for a syntax error (the shell goes
on). There are no compound commands (if, for, while), subshells, command
substitution or here-documents: use `preld pola -B -- sh -c '...'`.

At a terminal: line editing, history (up arrow, Ctrl-R) and completion of
file and command names (Tab); the history is kept in
$XDG_STATE_HOME/preld/shell_history, or ~/.local/state/preld/shell_history
(a line that starts with a space is not kept). Ctrl-C clears the line,
Ctrl-D exits; during a command, Ctrl-C and Ctrl-Z reach it (fg and bg
continue a stopped one). Otherwise (a pipe, FILE, -c) commands are read
line by line with no prompt: `echo 'cat x' | preld shell`.";

pub fn main(args: ShellArgs) -> ExitCode {
    let preld = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("preld shell: cannot locate the preld binary: {}", crate::reason(&e));
            return ExitCode::from(2);
        }
    };
    let opts = grants::Options { preld, net: args.net };
    // SAFETY: isatty only looks at the fds.
    let tty = unsafe { libc::isatty(0) == 1 && libc::isatty(1) == 1 };
    let interactive = tty && args.command.is_none() && args.script.is_none();
    let term = if interactive { Terminal::take() } else { None };
    let mut shell = Shell::new(opts, args.verbose, term);
    if let Some(c) = &args.command {
        run_text(&mut shell, c.as_bytes());
    } else if let Some(path) = &args.script {
        match std::fs::read(path) {
            Ok(text) => run_text(&mut shell, &text),
            Err(e) => {
                eprintln!("preld shell: {}: {}", path.display(), crate::reason(&e));
                return ExitCode::from(127);
            }
        }
    } else if interactive {
        interact(&mut shell);
    } else {
        read_stdin(&mut shell);
    }
    ExitCode::from(shell.exit.unwrap_or(shell.status) as u8)
}

/// Parses and runs one piece of input; a syntax error is said, `$?` is 2
/// and the shell goes on.
fn run_source(shell: &mut Shell, src: &[u8]) {
    match syntax::parse(src) {
        Ok(list) => shell.run_list(&list),
        Err(e) => {
            eprintln!("preld shell: {e}");
            shell.status = 2;
        }
    }
}

/// Runs lines as they come, joining a line to the next while it is
/// incomplete (an open quote, a trailing `|`), as sh reads a script.
struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// Takes a line (with its newline); runs what is complete.
    fn feed(&mut self, shell: &mut Shell, line: &[u8]) {
        self.pending.extend_from_slice(line);
        match syntax::parse(&self.pending) {
            Err(e) if e.incomplete => return,
            Err(e) => {
                eprintln!("preld shell: {e}");
                shell.status = 2;
            }
            Ok(list) => shell.run_list(&list),
        }
        self.pending.clear();
    }

    /// At the end of the input: what is left is an error.
    fn finish(self, shell: &mut Shell) {
        if !self.pending.is_empty() {
            run_source(shell, &self.pending);
        }
    }
}

fn run_text(shell: &mut Shell, text: &[u8]) {
    let mut lines = Lines { pending: Vec::new() };
    for line in text.split_inclusive(|&b| b == b'\n') {
        lines.feed(shell, line);
        shell.reap();
        if shell.exit.is_some() {
            return;
        }
    }
    lines.finish(shell);
}

/// Reads fd 0 a byte at a time: the rest of the input stays for the
/// commands that read it (sh does the same).
fn read_stdin(shell: &mut Shell) {
    let mut lines = Lines { pending: Vec::new() };
    let mut line = Vec::new();
    loop {
        let mut b = 0u8;
        // SAFETY: reading one byte into a local.
        let n = unsafe { libc::read(0, (&mut b as *mut u8).cast(), 1) };
        if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        if n <= 0 {
            break;
        }
        line.push(b);
        if b == b'\n' {
            lines.feed(shell, &line);
            line.clear();
            shell.reap();
            if shell.exit.is_some() {
                return;
            }
        }
    }
    if !line.is_empty() {
        lines.feed(shell, &line);
    }
    lines.finish(shell);
}

/// `preld:DIR$ ` (`#` for root), the shell's HOME shown as `~`.
fn prompt(shell: &Shell) -> String {
    let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "?".into());
    let home = shell.vars.get("HOME").map(|h| String::from_utf8_lossy(&h.bytes).into_owned()).unwrap_or_default();
    let shown = match cwd.strip_prefix(&home) {
        Some(rest) if !home.is_empty() && home != "/" && (rest.is_empty() || rest.starts_with('/')) => format!("~{rest}"),
        _ => cwd,
    };
    // SAFETY: geteuid has no failure.
    let sign = if unsafe { libc::geteuid() } == 0 { '#' } else { '$' };
    format!("preld:{shown}{sign} ")
}

/// The interactive loop: a line editor with history and completion.
fn interact(shell: &mut Shell) {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(10_000)
        .and_then(|c| c.history_ignore_dups(true))
        .map(|c| c.build());
    let editor = config.and_then(rustyline::Editor::<edit::Helper, rustyline::history::DefaultHistory>::with_config);
    let mut rl = match editor {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("preld shell: cannot start the line editor: {e}");
            shell.status = 1;
            return;
        }
    };
    rl.set_helper(Some(edit::Helper::new()));
    let history = edit::history_file();
    if let Some(h) = &history {
        // A missing history is a first run.
        let _ = rl.load_history(h);
    }
    loop {
        shell.reap();
        match rl.readline(&prompt(shell)) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                    if let Some(h) = &history {
                        save_history(&mut rl, h);
                    }
                }
                run_source(shell, line.as_bytes());
                if shell.exit.is_some() {
                    return;
                }
            }
            Err(ReadlineError::Interrupted) => shell.status = 130,
            Err(ReadlineError::Eof) => {
                if shell.refuse_exit() {
                    continue;
                }
                eprintln!("exit");
                return;
            }
            Err(e) => {
                eprintln!("preld shell: reading the terminal: {e}");
                shell.status = 1;
                return;
            }
        }
    }
}

/// Appends the new entries to the history file (made with its directory
/// on first use), so that a shell killed keeps what was typed.
fn save_history(rl: &mut rustyline::Editor<edit::Helper, rustyline::history::DefaultHistory>, h: &std::path::Path) {
    if let Some(dir) = h.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = rl.append_history(h) {
        // Said once: a read-only home must not spam every prompt.
        static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
            eprintln!("preld shell: cannot save the history in {}: {e}", h.display());
        }
    }
}
