//! The tracers' side of the text protocol (docs/tracer-protocol.md): their
//! answer lines, and `rewrite NAME(ARGS)` turned back into argument words
//! in strace's syntax. Everything here takes what a tracer wrote as
//! untrusted: a bad line is an error message, never a panic.

use super::names;

/// One line a tracer wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Cont,
    Step,
    SkipOk(i64),
    SkipFail(i32),
    Rewrite(String),
    Ok(i64),
    Fail(i32),
    Set(usize, Vec<u8>),
    Deliver(Option<i32>),
    Suppress,
    Detach,
}

/// Parses one line (without its newline).
pub fn line(l: &str) -> Result<Line, String> {
    let l = l.trim_end_matches('\r');
    let (word, rest) = match l.find(' ') {
        Some(i) => (&l[..i], l[i + 1..].trim()),
        None => (l, ""),
    };
    let none = |v: Line| if rest.is_empty() { Ok(v) } else { Err(format!("`{word}` takes no argument")) };
    match word {
        "cont" => none(Line::Cont),
        "step" => none(Line::Step),
        "suppress" => none(Line::Suppress),
        "detach" => none(Line::Detach),
        "skip-ok" => int(rest).map(Line::SkipOk).ok_or_else(|| format!("`skip-ok` needs a number, not `{rest}`")),
        "ok" => int(rest).map(Line::Ok).ok_or_else(|| format!("`ok` needs a number, not `{rest}`")),
        "skip-fail" => errno(rest).map(Line::SkipFail),
        "fail" => errno(rest).map(Line::Fail),
        "deliver" if rest.is_empty() => Ok(Line::Deliver(None)),
        "deliver" => names::signal(rest).map(|s| Line::Deliver(Some(s))).ok_or_else(|| format!("unknown signal `{rest}`")),
        "rewrite" if rest.is_empty() => Err("`rewrite` needs NAME(ARGS)".into()),
        "rewrite" => Ok(Line::Rewrite(rest.to_string())),
        "set" => {
            let (i, s) = rest.split_once(' ').ok_or("`set` needs I \"BYTES\"")?;
            let i: usize = i.parse().ok().filter(|&i| i < 6).ok_or_else(|| format!("`set` needs an argument index 0 to 5, not `{i}`"))?;
            let bytes = quoted(s.trim()).ok_or_else(|| format!("`set` needs a quoted string, not `{s}`"))?;
            Ok(Line::Set(i, bytes))
        }
        "" => Err("empty line".into()),
        w => Err(format!("unknown answer `{w}`")),
    }
}

fn errno(s: &str) -> Result<i32, String> {
    names::errno(s).ok_or_else(|| format!("unknown errno `{s}`"))
}

/// An integer as strace writes one: decimal, negative, 0x hex, 0 octal.
pub fn int(s: &str) -> Option<i64> {
    let (neg, d) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = if let Some(h) = d.strip_prefix("0x").or_else(|| d.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else if d.len() > 1 && d.starts_with('0') {
        u64::from_str_radix(&d[1..], 8).ok()?
    } else {
        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        d.parse::<u64>().ok()?
    };
    Some(if neg { (v as i64).wrapping_neg() } else { v as i64 })
}

/// A string in strace's quotes and escapes (`"a\nb\x00\1"`), without a
/// trailing `...` (a cut string cannot be given back).
pub fn quoted(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b'"' || b[b.len() - 1] != b'"' {
        return None;
    }
    let inner = &b[1..b.len() - 1];
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        i += 1;
        if c == b'"' {
            return None;
        }
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *inner.get(i)?;
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'f' => out.push(0x0c),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'\\' | b'"' | b'\'' | b'?' => out.push(e),
            b'x' => {
                let h = inner.get(i..i + 2)?;
                out.push(u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < inner.len() && (b'0'..=b'7').contains(&inner[i]) {
                    v = v * 8 + (inner[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push(u8::try_from(v).ok()?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Walks `s` as strace writes values: calls `at(i, c, depth)` for each
/// character outside quoted strings, `depth` the brackets, braces and
/// parentheses open before it, and stops when `at` says so. None: a
/// closing bracket too many, or (walked to the end) a string or bracket
/// left open.
fn walk(s: &str, mut at: impl FnMut(usize, char, i32) -> bool) -> Option<()> {
    let (mut depth, mut in_str, mut esc) = (0i32, false, false);
    for (i, c) in s.char_indices() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if at(i, c, depth) {
            return Some(());
        }
        match c {
            '"' => in_str = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    (!in_str && depth == 0).then_some(())
}

/// `s` split at `sep` outside quotes and brackets (the text as it is if it
/// does not balance).
pub fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let balanced = walk(s, |i, c, depth| {
        if c == sep && depth == 0 {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
        false
    });
    if balanced.is_none() {
        return vec![s];
    }
    out.push(&s[start..]);
    out
}

/// Where the bracket that opens at `open` closes.
pub fn closing(s: &str, open: usize) -> Option<usize> {
    let mut close = None;
    let _ = walk(&s[open..], |i, c, depth| {
        if matches!(c, ')' | ']' | '}') && depth == 1 {
            close = Some(open + i);
        }
        close.is_some()
    });
    close
}

/// `NAME(ARGS)`: the name and the arguments' texts, split at the commas
/// outside quotes, brackets, braces and parentheses.
pub fn split_call(s: &str) -> Option<(&str, Vec<&str>)> {
    let s = s.trim();
    let open = s.find('(')?;
    let name = &s[..open];
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || !s.ends_with(')') {
        return None;
    }
    let inner = &s[open + 1..s.len() - 1];
    walk(inner, |_, _, _| false)?;
    if inner.trim().is_empty() {
        return Some((name, Vec::new()));
    }
    Some((name, split_top(inner, ',').into_iter().map(str::trim).collect()))
}

/// A rewritten call's argument words: `strmask` bit i says word i is an
/// offset into `blob`, where a NUL-terminated string starts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rewrite {
    pub args: [u64; 6],
    pub strmask: u8,
    pub blob: Vec<u8>,
}

/// `rewrite NEW` of a call shown as `orig` with argument words `words`: an
/// argument written as it was shown keeps its word; any other is parsed
/// (integer, NULL, quoted string, constant, `A|B` flags).
pub fn rewrite(orig: &str, words: &[u64; 6], new: &str, max_blob: usize) -> Result<Rewrite, String> {
    let (oname, oargs) = split_call(orig).ok_or("the call's own line cannot be split into arguments")?;
    let (nname, nargs) = split_call(new).ok_or_else(|| format!("`{new}` is not NAME(ARGS)"))?;
    if nname != oname {
        return Err(format!("a rewrite keeps the call: `{nname}` is not `{oname}`"));
    }
    if nargs.len() != oargs.len() {
        return Err(format!("{oname} was shown with {} arguments, the rewrite has {}", oargs.len(), nargs.len()));
    }
    if nargs.len() > 6 {
        return Err(format!("{oname}'s line has more than 6 arguments: its arguments cannot be told apart"));
    }
    let mut r = Rewrite { args: *words, ..Default::default() };
    for (i, (n, o)) in nargs.iter().zip(&oargs).enumerate() {
        if n == o {
            continue;
        }
        if n.starts_with('"') {
            let s = quoted(n).ok_or_else(|| format!("argument {i}: bad string `{n}`"))?;
            if s.contains(&0) {
                return Err(format!("argument {i}: a string argument cannot hold a NUL byte"));
            }
            if r.blob.len() + s.len() + 1 > max_blob {
                return Err(format!("argument {i}: the rewrite's strings exceed {max_blob} bytes"));
            }
            r.args[i] = r.blob.len() as u64;
            r.blob.extend_from_slice(&s);
            r.blob.push(0);
            r.strmask |= 1 << i;
            continue;
        }
        r.args[i] = value(n).map_err(|e| format!("argument {i}: {e}"))? as u64;
    }
    Ok(r)
}

/// An integer argument: a number, NULL, a constant or `A|B|...`.
pub fn value(s: &str) -> Result<i64, String> {
    if s == "NULL" {
        return Ok(0);
    }
    if let Some(v) = int(s) {
        return Ok(v);
    }
    let mut v = 0i64;
    for part in s.split('|') {
        let part = part.trim();
        v |= int(part).or_else(|| names::constant(part)).ok_or_else(|| {
            format!("`{part}` is neither a number, NULL, a string nor a constant preld knows (to keep an argument, give it back as it was shown)")
        })?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(line("cont"), Ok(Line::Cont));
        assert_eq!(line("skip-ok 12"), Ok(Line::SkipOk(12)));
        assert_eq!(line("skip-ok -1"), Ok(Line::SkipOk(-1)));
        assert_eq!(line("skip-fail EIO"), Ok(Line::SkipFail(5)));
        assert_eq!(line("fail ENOENT\r"), Ok(Line::Fail(2)));
        assert_eq!(line("ok 0x10"), Ok(Line::Ok(16)));
        assert_eq!(line("set 0 \"\\x01\\0a\""), Ok(Line::Set(0, vec![1, 0, b'a'])));
        assert_eq!(line("deliver SIGUSR2"), Ok(Line::Deliver(Some(12))));
        assert_eq!(line("deliver"), Ok(Line::Deliver(None)));
        assert_eq!(line("rewrite close(3)"), Ok(Line::Rewrite("close(3)".into())));
        for bad in ["", "cont 1", "skip-ok", "skip-ok x", "skip-fail EBOGUS", "set 6 \"a\"", "set 0 abc", "set", "frob",
            "deliver SIGFOO", "rewrite", "ok 99999999999999999999999"]
        {
            assert!(line(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn strings_and_numbers() {
        assert_eq!(quoted(r#""/etc/passwd""#), Some(b"/etc/passwd".to_vec()));
        assert_eq!(quoted(r#""a\"b\\c\n\t\x7f\177\0""#), Some(b"a\"b\\c\n\t\x7f\x7f\0".to_vec()));
        assert_eq!(quoted(r#""abc"..."#), None);
        assert_eq!(quoted(r#""a"b""#), None);
        assert_eq!(quoted(r#""\400""#), None);
        assert_eq!(int("0644"), Some(0o644));
        assert_eq!(int("-100"), Some(-100));
        assert_eq!(int("0"), Some(0));
        assert_eq!(value("O_RDONLY|O_CLOEXEC"), Ok(0o2000000));
        assert_eq!(value("O_WRONLY|O_CREAT|0x100000"), Ok(1 | 0o100 | 0x100000));
        assert_eq!(value("AT_FDCWD"), Ok(-100));
        assert!(value("{st_mode=S_IFREG}").is_err());
    }

    #[test]
    fn rewrites() {
        let orig = r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)"#;
        let words = [(-100i64) as u64, 0x5555, 0o2000000, 0, 0, 0];
        let r = rewrite(orig, &words, r#"openat(AT_FDCWD, "/tmp/passwd", O_RDONLY|O_CLOEXEC)"#, 4096).unwrap();
        assert_eq!(r.args, [(-100i64) as u64, 0, 0o2000000, 0, 0, 0]);
        assert_eq!((r.strmask, &r.blob[..]), (2, &b"/tmp/passwd\0"[..]));
        let r = rewrite("read(0, 0x7ffd0000, 10)", &[0, 0x7ffd0000, 10, 0, 0, 0], "read(0, 0x7ffd0000, 3)", 4096).unwrap();
        assert_eq!(r.args[2], 3);
        assert!(rewrite(orig, &words, "close(3)", 4096).is_err());
        assert!(rewrite(orig, &words, "openat(AT_FDCWD)", 4096).is_err());
        assert!(rewrite(orig, &words, r#"openat(AT_FDCWD, "/x", O_BOGUS)"#, 4096).is_err());
        assert!(rewrite(orig, &words, r#"openat(AT_FDCWD, "/x\0y", 0)"#, 4096).is_err());
        assert!(rewrite(orig, &words, r#"openat(AT_FDCWD, "/xxxxxx", 0)"#, 4).is_err());
        // A struct given back as shown keeps its word.
        let o = "fstat(3, {st_mode=S_IFREG|0644, st_size=3, ...})";
        let r = rewrite(o, &[3, 0x1000, 0, 0, 0, 0], "fstat(4, {st_mode=S_IFREG|0644, st_size=3, ...})", 4096).unwrap();
        assert_eq!(r.args[..2], [4, 0x1000]);
    }

    #[test]
    fn no_line_makes_the_parser_panic() {
        // A small deterministic fuzz: every prefix, and bytes flipped, of
        // lines and rewrites that mean something.
        let seeds = [
            r#"rewrite openat(AT_FDCWD, "/tmp/x\x41\101", O_RDONLY|O_CLOEXEC|0x10)"#,
            r#"set 1 "\x00\xff\777\"""#,
            "skip-fail EIO",
            "rewrite f((a, [b]), {c=\"d,\"}, -0x10)",
        ];
        let orig = r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)"#;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for s in seeds {
            let b = s.as_bytes();
            for cut in 0..=b.len() {
                let t = String::from_utf8_lossy(&b[..cut]).into_owned();
                let _ = line(&t);
                let _ = rewrite(orig, &[0; 6], t.trim_start_matches("rewrite "), 64);
            }
            for _ in 0..2000 {
                let mut m = b.to_vec();
                for _ in 0..3 {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let i = (state % m.len() as u64) as usize;
                    m[i] = b"\\\"(),[]{}|x0-\n "[(state >> 32) as usize % 15];
                }
                let t = String::from_utf8_lossy(&m).into_owned();
                let _ = line(&t);
                let _ = rewrite(orig, &[0; 6], t.trim_start_matches("rewrite "), 64);
                let _ = split_call(&t);
            }
        }
    }
}
