//! The line editor's side of the shell (rustyline): completion of file
//! names, and of command names (builtins and PATH) in a command's first
//! word; where the history is kept.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::Context;

/// The builtins, for completion and `help`.
pub const BUILTINS: &[&str] = &["bg", "cd", "exit", "export", "fg", "help", "jobs", "pwd", "unset", "wait"];

/// The history file: $XDG_STATE_HOME/preld/shell_history, else
/// ~/.local/state/preld/shell_history. None without either variable.
pub fn history_file() -> Option<PathBuf> {
    let abs = |v: std::ffi::OsString| (v.as_bytes().first() == Some(&b'/')).then(|| PathBuf::from(v));
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").and_then(abs) {
        return Some(state.join("preld/shell_history"));
    }
    std::env::var_os("HOME").and_then(abs).map(|h| h.join(".local/state/preld/shell_history"))
}

/// Completes what is before the cursor.
pub struct Helper {
    files: FilenameCompleter,
}

impl Helper {
    pub fn new() -> Helper {
        Helper { files: FilenameCompleter::new() }
    }
}

/// Where a word being typed stops going back: sh's separators.
fn breaks(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '"' | '\'' | '<' | '>' | ';' | '|' | '&' | '(' | ')' | '=')
}

/// Whether a word starting at byte `start` of `line` is a command's first
/// word: nothing but separators, `!` or assignments before it.
fn command_position(line: &str, start: usize) -> bool {
    let before = line[..start].trim_end();
    let last = before.rsplit([';', '|', '&']).next().unwrap_or("");
    last.split_whitespace().all(|w| w == "!" || w.split_once('=').is_some_and(|(n, _)| !n.is_empty() && !n.contains('/')))
}

/// Builtins and the executables in PATH whose name starts with `prefix`.
fn commands(prefix: &str) -> Vec<Pair> {
    let mut names: BTreeSet<String> = BUILTINS.iter().filter(|b| b.starts_with(prefix)).map(|b| b.to_string()).collect();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str().filter(|n| n.starts_with(prefix)) else { continue };
            let exe = std::fs::metadata(e.path()).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            if exe {
                names.insert(name.to_owned());
            }
        }
    }
    names.into_iter().map(|n| Pair { replacement: format!("{n} "), display: n }).collect()
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, word) = rustyline::completion::extract_word(line, pos, Some('\\'), breaks);
        if command_position(line, start) && !word.contains('/') && !word.starts_with('~') {
            return Ok((start, commands(word)));
        }
        let (at, mut pairs) = self.files.complete(line, pos, ctx)?;
        // Inside quotes, nothing below expands.
        if !matches!(line[..at].chars().next_back(), Some('"' | '\'')) {
            for p in &mut pairs {
                p.replacement = escape_name(&p.replacement);
            }
        }
        Ok((at, pairs))
    }
}

/// A file name completed, with what rustyline leaves unescaped but this
/// shell expands also backslashed in its last component (the name found;
/// the directory is as typed): a glob (`*`, `?`, `[`), `~` at a word's
/// start, `#` (a comment), a lone `+` (`+ DIR`: a read-write grant of the
/// next word). A name a previous command made in a directory granted to it
/// (`~`, `*`) would otherwise, completed, grant the home directory or every
/// file beside it (session-20b adversary, test `escape_name_escapes_what_this_shell_expands`).
fn escape_name(replacement: &str) -> String {
    let body = replacement.strip_suffix('/').unwrap_or(replacement);
    let cut = body.rfind('/').map_or(0, |i| i + 1);
    let (dir, name) = replacement.split_at(cut);
    let mut out = String::from(dir);
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                out.extend(chars.next());
            }
            '*' | '?' | '[' | ']' | '~' | '#' | '+' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

impl Hinter for Helper {
    type Hint = String;
}

impl Highlighter for Helper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for Helper {}

impl rustyline::Helper for Helper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_name_escapes_what_this_shell_expands() {
        assert_eq!(escape_name("~"), "\\~");
        assert_eq!(escape_name("~/docs/~x"), "~/docs/\\~x");
        assert_eq!(escape_name("out/*"), "out/\\*");
        assert_eq!(escape_name("a[1]?/"), "a\\[1\\]\\?/");
        assert_eq!(escape_name("#x"), "\\#x");
        assert_eq!(escape_name("+"), "\\+");
        assert_eq!(escape_name("a\\ b"), "a\\ b", "rustyline's escapes stay");
        assert_eq!(escape_name("plain.c"), "plain.c");
        // What the shell makes of them: one word, the name itself, no grant.
        use crate::shell::syntax::{parse, GrantKind};
        for name in ["~", "~root", "*", "#x", "+", "a[1]?"] {
            let l = parse(format!("cat {} x", escape_name(name)).as_bytes()).unwrap();
            let args = &l[0].and_or.first.cmds[0].args;
            assert_eq!(args.len(), 3, "{name}");
            assert!(args.iter().all(|a| a.grant == GrantKind::Auto), "{name}");
            let env = crate::shell::expand::Env { status: 0, vars: &Default::default() };
            assert_eq!(crate::shell::expand::words(&args[1].word, &env), [name.as_bytes().to_vec()], "{name}");
        }
    }

    #[test]
    fn command_names_first() {
        assert!(command_position("", 0));
        assert!(command_position("ls a | gr", 7));
        assert!(command_position("a && ! b", 7));
        assert!(command_position("X=1 ca", 4));
        assert!(!command_position("cat fi", 4));
        assert!(!command_position("cat a > ", 8));
        let c = commands("ex");
        assert!(c.iter().any(|p| p.display == "exit" && p.replacement == "exit "), "builtins");
        assert!(commands("tru").iter().any(|p| p.display == "true"), "PATH");
    }
}
