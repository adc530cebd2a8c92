//! The capability shell's language: a lexer and a parser from one line of
//! input to a [`List`].
//!
//! It is sh's simple-command subset: words with `'...'`, `"..."` and `\`
//! quoting, `$?`, `$$`, `$NAME`, `${NAME}`, `~` and globs (expanded when the
//! command runs, expand.rs), `#` comments, `NAME=value` before a command,
//! redirections (`<`, `>`, `>|`, `>>`, `<>`, `N>&M`, `N<&M`, `N>&-`, `&>`,
//! `&>>`; N is 0-9), pipelines with `!`, `&&`, `||`, `;` and `&`. Two
//! words of Plash's: `=> FILE` (FILE is granted read-write, made if
//! missing) and `+ DIR` (the existing directory DIR granted read-write),
//! both also passed to the program as an argument. What sh has beyond that
//! (compound commands, subshells, command substitution, here-documents) is
//! a syntax error that names it, never silently something else.

use std::fmt;

/// A syntax error: one line for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub msg: String,
    /// The input ended too early (an open quote, a trailing `|`, `&&`,
    /// `||` or `\`): a script's next line may complete it.
    pub incomplete: bool,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "syntax error: {}", self.msg)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError { msg: msg.into(), incomplete: false })
}

/// An error that more input could mend.
fn more<T>(msg: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError { msg: msg.into(), incomplete: true })
}

/// A variable reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    /// `$?`: the last status.
    Status,
    /// `$$`: the shell's pid.
    Pid,
    Named(String),
}

/// A piece of a word, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal bytes; `quoted` ones are never glob patterns.
    Text { bytes: Vec<u8>, quoted: bool },
    Var { var: Var, quoted: bool },
    /// `~` or `~USER` at the start of a word (followed by `/` or its end).
    Tilde(Vec<u8>),
}

/// A word: its parts, and the text typed (for messages).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    pub parts: Vec<Part>,
}

impl Word {
    /// The word's bytes when it is plain unquoted text (keywords, `!`).
    pub fn plain(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [Part::Text { bytes, quoted: false }] => Some(bytes),
            _ => None,
        }
    }
}

/// How an argument is granted (grants.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// Read-only if it names an existing file or directory.
    Auto,
    /// `=> FILE`: read-write, made (empty) if missing.
    RwFile,
    /// `+ DIR`: read-write, an existing directory.
    RwDir,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub word: Word,
    pub grant: GrantKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    /// `<`
    In,
    /// `>` and `>|`
    Out,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `N>&M`, `N<&M`: the target is an fd number or `-` (close).
    Dup,
    /// `&>`: stdout and stderr to the file.
    OutErr,
    /// `&>>`
    AppendErr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redir {
    pub fd: i32,
    pub op: RedirOp,
    pub target: Word,
}

/// A simple command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cmd {
    /// `NAME=value` before the command word.
    pub assigns: Vec<(String, Word)>,
    pub args: Vec<Arg>,
    pub redirs: Vec<Redir>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub negate: bool,
    pub cmds: Vec<Cmd>,
    /// As typed (what `jobs` shows once it is stopped).
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Cond, Pipeline)>,
}

/// An and-or list with how it ends (`&`: in the background) and its text
/// (what `jobs` shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub and_or: AndOr,
    pub background: bool,
    pub text: String,
}

/// A line: its items in order.
pub type List = Vec<Item>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(Word),
    Pipe,
    And,
    Or,
    Semi,
    Amp,
    Redir { fd: Option<i32>, op: RedirOp },
    /// `=>`
    RwFile,
    /// `+`
    RwDir,
}

impl Tok {
    fn shown(&self) -> &'static str {
        match self {
            Tok::Word(_) => "a word",
            Tok::Pipe => "`|`",
            Tok::And => "`&&`",
            Tok::Or => "`||`",
            Tok::Semi => "`;`",
            Tok::Amp => "`&`",
            Tok::Redir { .. } => "a redirection",
            Tok::RwFile => "`=>`",
            Tok::RwDir => "`+`",
        }
    }
}

/// Bytes that end an unquoted word.
fn is_delim(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'|' | b'&' | b';' | b'<' | b'>' | b'(' | b')')
}

fn is_name_start(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphabetic()
}

fn is_name(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphanumeric()
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.s.get(self.i + k).copied()
    }

    /// The next token and where it starts and ends, or None at the end.
    fn next(&mut self) -> Result<Option<(Tok, usize, usize)>, SyntaxError> {
        loop {
            match self.peek(0) {
                Some(b' ' | b'\t') => self.i += 1,
                Some(b'#') => {
                    while self.peek(0).is_some_and(|b| b != b'\n') {
                        self.i += 1;
                    }
                }
                // A backslash-newline joins lines (the next one must come).
                Some(b'\\') if self.peek(1) == Some(b'\n') => {
                    if self.i + 2 == self.s.len() {
                        return more("`\\` at the end of the line");
                    }
                    self.i += 2
                }
                _ => break,
            }
        }
        let start = self.i;
        let Some(c) = self.peek(0) else { return Ok(None) };
        let two = |l: &mut Self, t: Tok| {
            l.i += 2;
            t
        };
        let one = |l: &mut Self, t: Tok| {
            l.i += 1;
            t
        };
        let tok = match (c, self.peek(1)) {
            (b'\n', _) => one(self, Tok::Semi),
            (b'|', Some(b'|')) => two(self, Tok::Or),
            (b'|', _) => one(self, Tok::Pipe),
            (b'&', Some(b'&')) => two(self, Tok::And),
            (b'&', Some(b'>')) => {
                if self.peek(2) == Some(b'>') {
                    self.i += 3;
                    Tok::Redir { fd: None, op: RedirOp::AppendErr }
                } else {
                    two(self, Tok::Redir { fd: None, op: RedirOp::OutErr })
                }
            }
            (b'&', _) => one(self, Tok::Amp),
            (b';', Some(b';')) => return err("`;;` is for `case`, which preld shell does not have"),
            (b';', _) => one(self, Tok::Semi),
            (b'<' | b'>', _) => self.redir(None)?,
            (b'(' | b')', _) => return err("subshells `( )` are not supported"),
            (b'=', Some(b'>')) => two(self, Tok::RwFile),
            (b'+', None) => one(self, Tok::RwDir),
            (b'+', Some(n)) if is_delim(n) => one(self, Tok::RwDir),
            (d, _) if d.is_ascii_digit() && self.peek(1).is_some_and(|n| n == b'<' || n == b'>') => {
                self.i += 1;
                self.redir(Some(i32::from(d - b'0')))?
            }
            _ => Tok::Word(self.word()?),
        };
        Ok(Some((tok, start, self.i)))
    }

    /// A redirection operator at `<` or `>`.
    fn redir(&mut self, fd: Option<i32>) -> Result<Tok, SyntaxError> {
        let (c, n) = (self.peek(0), self.peek(1));
        let (op, len) = match (c, n) {
            (Some(b'<'), Some(b'<')) => return err("here-documents `<<` are not supported"),
            (Some(b'<'), Some(b'&')) => (RedirOp::Dup, 2),
            (Some(b'<'), Some(b'>')) => (RedirOp::ReadWrite, 2),
            (Some(b'<'), _) => (RedirOp::In, 1),
            (Some(b'>'), Some(b'>')) => (RedirOp::Append, 2),
            (Some(b'>'), Some(b'&')) => (RedirOp::Dup, 2),
            (Some(b'>'), Some(b'|')) => (RedirOp::Out, 2),
            _ => (RedirOp::Out, 1),
        };
        // `<&` and `<` default to fd 0, the others to fd 1.
        let fd = fd.unwrap_or(if c == Some(b'<') { 0 } else { 1 });
        self.i += len;
        Ok(Tok::Redir { fd: Some(fd), op })
    }

    /// A word, up to the first unquoted delimiter.
    fn word(&mut self) -> Result<Word, SyntaxError> {
        let mut w = Word::default();
        let mut text: Vec<u8> = Vec::new();
        // Unquoted text so far goes into one part.
        fn flush(w: &mut Word, text: &mut Vec<u8>) {
            if !text.is_empty() {
                w.parts.push(Part::Text { bytes: std::mem::take(text), quoted: false });
            }
        }
        if self.peek(0) == Some(b'~') {
            let mut j = self.i + 1;
            while self.s.get(j).is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
                j += 1;
            }
            if self.s.get(j).is_none_or(|&b| b == b'/' || is_delim(b)) {
                w.parts.push(Part::Tilde(self.s[self.i + 1..j].to_vec()));
                self.i = j;
            }
        }
        while let Some(c) = self.peek(0) {
            if is_delim(c) {
                break;
            }
            match c {
                b'\\' => {
                    flush(&mut w, &mut text);
                    match self.peek(1) {
                        Some(b'\n') if self.i + 2 == self.s.len() => return more("`\\` at the end of the line"),
                        Some(b'\n') => self.i += 2,
                        Some(n) => {
                            w.parts.push(Part::Text { bytes: vec![n], quoted: true });
                            self.i += 2;
                        }
                        None => return more("`\\` at the end of the line"),
                    }
                }
                b'\'' => {
                    flush(&mut w, &mut text);
                    let Some(end) = self.s[self.i + 1..].iter().position(|&b| b == b'\'') else {
                        return more("unterminated single quote `'`");
                    };
                    let bytes = self.s[self.i + 1..self.i + 1 + end].to_vec();
                    w.parts.push(Part::Text { bytes, quoted: true });
                    self.i += end + 2;
                }
                b'"' => {
                    flush(&mut w, &mut text);
                    self.i += 1;
                    self.double_quoted(&mut w)?;
                }
                b'$' => {
                    match self.dollar(false)? {
                        Some(p) => {
                            flush(&mut w, &mut text);
                            w.parts.push(p);
                        }
                        None => {
                            text.push(b'$');
                            self.i += 1;
                        }
                    }
                }
                b'`' => return err("command substitution with backquotes is not supported"),
                _ => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut w, &mut text);
        Ok(w)
    }

    /// The inside of `"..."`, after the opening quote.
    fn double_quoted(&mut self, w: &mut Word) -> Result<(), SyntaxError> {
        let mut text = Vec::new();
        loop {
            let Some(c) = self.peek(0) else { return more("unterminated double quote `\"`") };
            match c {
                b'"' => {
                    self.i += 1;
                    break;
                }
                b'\\' => match self.peek(1) {
                    Some(b'\n') => self.i += 2,
                    Some(n @ (b'$' | b'`' | b'"' | b'\\')) => {
                        text.push(n);
                        self.i += 2;
                    }
                    _ => {
                        text.push(b'\\');
                        self.i += 1;
                    }
                },
                b'$' => match self.dollar(true)? {
                    Some(p) => {
                        w.parts.push(Part::Text { bytes: std::mem::take(&mut text), quoted: true });
                        w.parts.push(p);
                    }
                    None => {
                        text.push(b'$');
                        self.i += 1;
                    }
                },
                b'`' => return err("command substitution with backquotes is not supported"),
                _ => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        // Even `""` is a word (an empty argument).
        w.parts.push(Part::Text { bytes: text, quoted: true });
        Ok(())
    }

    /// A `$` expansion at `$`; None when the `$` is literal.
    fn dollar(&mut self, quoted: bool) -> Result<Option<Part>, SyntaxError> {
        let var = match self.peek(1) {
            Some(b'?') => {
                self.i += 2;
                Var::Status
            }
            Some(b'$') => {
                self.i += 2;
                Var::Pid
            }
            Some(b'(') => return err("command substitution `$(...)` is not supported"),
            Some(b'{') => {
                let rest = &self.s[self.i + 2..];
                let Some(end) = rest.iter().position(|&b| b == b'}') else { return err("unterminated `${`") };
                let name = &rest[..end];
                let var = match name {
                    b"?" => Var::Status,
                    b"$" => Var::Pid,
                    n if !n.is_empty() && is_name_start(n[0]) && n.iter().all(|&b| is_name(b)) => {
                        Var::Named(String::from_utf8_lossy(n).into_owned())
                    }
                    n => {
                        return err(format!(
                            "`${{{}}}`: only `${{NAME}}` is supported (no parameter operators)",
                            String::from_utf8_lossy(n)
                        ))
                    }
                };
                self.i += end + 3;
                var
            }
            Some(b) if is_name_start(b) => {
                let mut j = self.i + 1;
                while self.s.get(j).is_some_and(|&b| is_name(b)) {
                    j += 1;
                }
                let name = String::from_utf8_lossy(&self.s[self.i + 1..j]).into_owned();
                self.i = j;
                Var::Named(name)
            }
            _ => return Ok(None),
        };
        Ok(Some(Part::Var { var, quoted }))
    }
}

/// Words sh reserves for compound commands, which this shell does not have.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "function", "select", "{",
    "}", "[[", "]]",
];

struct Parser<'a> {
    toks: Vec<(Tok, usize, usize)>,
    i: usize,
    src: &'a [u8],
}

impl Parser<'_> {
    /// The text typed from token `from` to the last one taken.
    fn text(&self, from: usize) -> String {
        let (start, end) = (self.toks[from].1, self.toks[self.i - 1].2);
        String::from_utf8_lossy(&self.src[start..end]).trim().to_owned()
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.0)
    }

    fn near(&self) -> String {
        match self.toks.get(self.i) {
            // A newline ends an item as `;` does, but is said as what it is.
            Some((Tok::Semi, at, _)) if self.src.get(*at) == Some(&b'\n') => "unexpected end of line".into(),
            Some((t, _, _)) => format!("unexpected {}", t.shown()),
            None => "unexpected end of line".into(),
        }
    }

    fn list(&mut self) -> Result<List, SyntaxError> {
        let mut items = Vec::new();
        loop {
            if self.peek().is_none() {
                return Ok(items);
            }
            let from = self.i;
            let and_or = self.and_or()?;
            let text = self.text(from);
            let background = match self.peek() {
                None => false,
                Some(Tok::Semi) => {
                    self.i += 1;
                    false
                }
                Some(Tok::Amp) => {
                    self.i += 1;
                    true
                }
                Some(_) => return err(self.near()),
            };
            items.push(Item { and_or, background, text });
        }
    }

    fn and_or(&mut self) -> Result<AndOr, SyntaxError> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let cond = match self.peek() {
                Some(Tok::And) => Cond::And,
                Some(Tok::Or) => Cond::Or,
                _ => return Ok(AndOr { first, rest }),
            };
            self.i += 1;
            if self.peek().is_none() {
                return more(format!("{} at the end of the line", if cond == Cond::And { "`&&`" } else { "`||`" }));
            }
            rest.push((cond, self.pipeline()?));
        }
    }

    fn pipeline(&mut self) -> Result<Pipeline, SyntaxError> {
        let from = self.i;
        let mut negate = false;
        if let Some(Tok::Word(w)) = self.peek() {
            if w.plain() == Some(b"!") {
                negate = true;
                self.i += 1;
            }
        }
        let mut cmds = vec![self.command()?];
        while self.peek() == Some(&Tok::Pipe) {
            self.i += 1;
            if self.peek().is_none() {
                return more("`|` at the end of the line");
            }
            cmds.push(self.command()?);
        }
        Ok(Pipeline { negate, cmds, text: self.text(from) })
    }

    fn command(&mut self) -> Result<Cmd, SyntaxError> {
        let mut cmd = Cmd::default();
        while let Some(tok) = self.peek().cloned() {
            match tok {
                Tok::Word(w) => {
                    self.i += 1;
                    if cmd.args.is_empty() {
                        if let Some(a) = assignment(&w) {
                            cmd.assigns.push(a);
                            continue;
                        }
                        if let Some(k) = w.plain().and_then(|p| RESERVED.iter().find(|r| r.as_bytes() == p)) {
                            return err(format!("`{k}`: compound commands are not supported by preld shell"));
                        }
                    }
                    cmd.args.push(Arg { word: w, grant: GrantKind::Auto });
                }
                Tok::RwFile | Tok::RwDir => {
                    self.i += 1;
                    let Some(Tok::Word(w)) = self.peek().cloned() else {
                        return err(format!("{} needs a file name after it", tok.shown()));
                    };
                    self.i += 1;
                    let grant = if tok == Tok::RwFile { GrantKind::RwFile } else { GrantKind::RwDir };
                    cmd.args.push(Arg { word: w, grant });
                }
                Tok::Redir { fd, op } => {
                    self.i += 1;
                    let Some(Tok::Word(target)) = self.peek().cloned() else {
                        return err(format!("a redirection needs a file name after it ({})", self.near()));
                    };
                    self.i += 1;
                    cmd.redirs.push(Redir { fd: fd.unwrap_or(1), op, target });
                }
                _ => break,
            }
        }
        if cmd.args.is_empty() && cmd.assigns.is_empty() && cmd.redirs.is_empty() {
            return err(self.near());
        }
        Ok(cmd)
    }
}

/// `NAME=value` (NAME unquoted).
fn assignment(w: &Word) -> Option<(String, Word)> {
    let Some(Part::Text { bytes, quoted: false }) = w.parts.first() else { return None };
    let eq = bytes.iter().position(|&b| b == b'=')?;
    let name = &bytes[..eq];
    if name.is_empty() || !is_name_start(name[0]) || !name.iter().all(|&b| is_name(b)) {
        return None;
    }
    let mut value = Word::default();
    if eq + 1 < bytes.len() {
        value.parts.push(Part::Text { bytes: bytes[eq + 1..].to_vec(), quoted: false });
    }
    value.parts.extend(w.parts[1..].iter().cloned());
    Some((String::from_utf8_lossy(name).into_owned(), value))
}

/// Parses one line (or several, separated by newlines).
pub fn parse(src: &[u8]) -> Result<List, SyntaxError> {
    let mut lx = Lexer { s: src, i: 0 };
    let mut toks = Vec::new();
    while let Some(t) = lx.next()? {
        toks.push(t);
    }
    // Newlines and `;` alike end items; leading and repeated newlines are
    // nothing (empty lines of a script), and so is one after `|`, `&&` or
    // `||` (the command goes on on the next line, as in sh).
    let mut clean: Vec<(Tok, usize, usize)> = Vec::new();
    for t in toks {
        let newline = t.0 == Tok::Semi && src.get(t.1) == Some(&b'\n');
        let last = clean.last().map(|l| &l.0);
        let after_sep = last.is_none_or(|l| matches!(l, Tok::Semi | Tok::Amp));
        if newline && (after_sep || matches!(last, Some(Tok::Pipe | Tok::And | Tok::Or))) {
            continue;
        }
        if t.0 == Tok::Semi && after_sep {
            return err("unexpected `;`");
        }
        clean.push(t);
    }
    Parser { toks: clean, i: 0, src }.list()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Part {
        Part::Text { bytes: s.as_bytes().to_vec(), quoted: false }
    }

    fn q(s: &str) -> Part {
        Part::Text { bytes: s.as_bytes().to_vec(), quoted: true }
    }

    fn one(src: &str) -> Cmd {
        let l = parse(src.as_bytes()).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(l.len(), 1, "{src}");
        assert_eq!(l[0].and_or.first.cmds.len(), 1, "{src}");
        l[0].and_or.first.cmds[0].clone()
    }

    fn words(c: &Cmd) -> Vec<Vec<Part>> {
        c.args.iter().map(|a| a.word.parts.clone()).collect()
    }

    fn error(src: &str) -> String {
        match parse(src.as_bytes()) {
            Ok(l) => panic!("{src} parsed: {l:?}"),
            Err(e) => e.msg,
        }
    }

    #[test]
    fn words_and_quotes() {
        let c = one(r#"echo a'b c'"d $x" \$y e\ f ~ ~/g ~root h~ '' "#);
        assert_eq!(
            words(&c),
            vec![
                vec![lit("echo")],
                vec![lit("a"), q("b c"), q("d "), Part::Var { var: Var::Named("x".into()), quoted: true }, q("")],
                vec![q("$"), lit("y")],
                vec![lit("e"), q(" "), lit("f")],
                vec![Part::Tilde(vec![])],
                vec![Part::Tilde(vec![]), lit("/g")],
                vec![Part::Tilde(b"root".to_vec())],
                vec![lit("h~")],
                vec![q("")],
            ]
        );
        assert_eq!(words(&one("echo $? ${HOME}x $$ $ a$")), vec![
            vec![lit("echo")],
            vec![Part::Var { var: Var::Status, quoted: false }],
            vec![Part::Var { var: Var::Named("HOME".into()), quoted: false }, lit("x")],
            vec![Part::Var { var: Var::Pid, quoted: false }],
            vec![lit("$")],
            vec![lit("a$")],
        ]);
        assert_eq!(words(&one(r#"echo "a\"b\c\$" # a comment"#)), vec![vec![lit("echo")], vec![q("a\"b\\c$")]]);
        assert_eq!(words(&one("echo a\\\nb")), vec![vec![lit("echo")], vec![lit("a"), lit("b")]]);
    }

    #[test]
    fn grants_and_redirections() {
        let c = one("cp a => b + out 2>err <in >>log 3>&1 2>&- &>all c+d +x");
        let kinds: Vec<GrantKind> = c.args.iter().map(|a| a.grant).collect();
        use GrantKind::*;
        assert_eq!(kinds, [Auto, Auto, RwFile, RwDir, Auto, Auto]);
        assert_eq!(words(&c)[4], vec![lit("c+d")]);
        assert_eq!(words(&c)[5], vec![lit("+x")]);
        let r: Vec<(i32, RedirOp, Vec<Part>)> = c.redirs.iter().map(|r| (r.fd, r.op, r.target.parts.clone())).collect();
        assert_eq!(
            r,
            vec![
                (2, RedirOp::Out, vec![lit("err")]),
                (0, RedirOp::In, vec![lit("in")]),
                (1, RedirOp::Append, vec![lit("log")]),
                (3, RedirOp::Dup, vec![lit("1")]),
                (2, RedirOp::Dup, vec![lit("-")]),
                (1, RedirOp::OutErr, vec![lit("all")]),
            ]
        );
        assert_eq!(one("cat =>b").args[1].grant, RwFile);
        // As in sh, `a=>b` is the word `a=` and `>b`.
        assert_eq!(one("echo a=>b").args.len(), 2);
        assert_eq!(one("echo a>b").redirs[0].target.parts, vec![lit("b")]);
    }

    #[test]
    fn lists_pipelines_and_assignments() {
        let l = parse(b"A=1 B='x y' env | grep A && ! false || echo no; sleep 1 & echo bg").unwrap();
        assert_eq!(l.len(), 3);
        let first = &l[0].and_or;
        assert_eq!(first.first.cmds.len(), 2);
        assert_eq!(first.first.cmds[0].assigns, vec![("A".into(), Word { parts: vec![lit("1")] }), ("B".into(), Word { parts: vec![q("x y")] })]);
        assert_eq!(first.rest.iter().map(|r| (r.0, r.1.negate)).collect::<Vec<_>>(), [(Cond::And, true), (Cond::Or, false)]);
        assert_eq!(l[0].text, "A=1 B='x y' env | grep A && ! false || echo no");
        assert_eq!(first.rest[0].1.text, "! false");
        assert!(!l[0].background && l[1].background && !l[2].background);
        assert_eq!(l[1].text, "sleep 1");
        assert_eq!(one("X=1").assigns.len(), 1);
        assert_eq!(one("echo X=1").assigns.len(), 0);
        assert_eq!(one("> f").redirs.len(), 1);
        assert!(parse(b"").unwrap().is_empty());
        assert!(parse(b"   # only a comment").unwrap().is_empty());
        assert_eq!(parse(b"a\n\nb\n").unwrap().len(), 2);
        assert_eq!(parse(b"a;").unwrap().len(), 1);
        assert_eq!(parse(b"a |\n b &&\n c").unwrap().len(), 1, "a line goes on after `|` and `&&`");
    }

    #[test]
    fn syntax_errors_say_what() {
        assert!(error("echo 'abc").contains("unterminated single quote"));
        assert!(error("echo \"abc").contains("unterminated double quote"));
        assert!(error("cat <").contains("needs a file name"));
        assert!(error("cat <\necho").contains("needs a file name after it (unexpected end of line)"));
        assert!(error("cat > | x").contains("needs a file name"));
        assert!(error("cp a =>").contains("`=>` needs a file name"));
        assert!(error("| cat").contains("unexpected `|`"));
        assert!(error("cat |").contains("`|` at the end"));
        assert!(error("true &&").contains("`&&` at the end"));
        assert!(error("a ;; b").contains("case"));
        assert!(error("; a").contains("unexpected `;`"));
        assert!(error("a ; ; b").contains("unexpected `;`"));
        assert!(error("echo $(ls)").contains("command substitution"));
        assert!(error("echo `ls`").contains("backquotes"));
        assert!(error("(cd x)").contains("subshells"));
        assert!(error("cat <<EOF").contains("here-documents"));
        assert!(error("if true; then x; fi").contains("`if`: compound commands"));
        assert!(error("echo ${x:-y}").contains("only `${NAME}`"));
        assert!(error("echo ${x").contains("unterminated `${`"));
        for (src, incomplete) in [("echo 'a", true), ("echo \"a", true), ("a |", true), ("a ||", true), ("a \\", true), ("a \\\n", true), ("a\\\n", true), ("a >", false), ("a ;;", false)] {
            assert_eq!(parse(src.as_bytes()).err().map(|e| e.incomplete), Some(incomplete), "{src}");
        }
    }
}
