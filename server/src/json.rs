//! `preld trace --json`: one JSON object per line, for tools. The handler
//! writes its strace lines with a machine prefix (`\x1e PID TID SEQ NS\t`,
//! handler/src/trace/mod.rs) into a pipe; this side reads them, parses
//! strace's syntax into values and writes the objects. docs/trace-json.md
//! is the format.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::OwnedFd;

use crate::tracer::parse::{closing, split_top};

/// A parsed value of strace's syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i128),
    Str(String),
    /// A string strace cut at -s: the part shown.
    Cut(String),
    /// A symbolic name (AT_FDCWD, O_RDONLY).
    Name(String),
    /// `A|B|0644`: the parts.
    Flags(Vec<Value>),
    /// `{a=1, b=2}` (a field without a name gets its position as key).
    Struct(Vec<(String, Value)>),
    Array(Vec<Value>),
    /// `3</etc/passwd>` (strace -y).
    Fd(i64, String),
    /// Anything else, as written.
    Raw(String),
}

/// strace's quoted string (escapes) as a JSON-able string: UTF-8 when the
/// bytes are, else each byte as the character of that number (latin-1).
fn unquote(s: &str) -> Option<String> {
    let bytes = crate::tracer::parse::quoted(s)?;
    Some(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    })
}

/// One value of strace's syntax.
pub fn value(s: &str) -> Value {
    let s = s.trim();
    if s.is_empty() {
        return Value::Raw(String::new());
    }
    if s == "NULL" {
        return Value::Null;
    }
    if let Some(body) = s.strip_suffix("...") {
        if let Some(v) = unquote(body) {
            return Value::Cut(v);
        }
    }
    if s.starts_with('"') {
        if let Some(v) = unquote(s) {
            return Value::Str(v);
        }
    }
    if let Some(v) = crate::tracer::parse::int(s) {
        return Value::Int(v as i128);
    }
    if let (Some(inner), true) = (s.strip_prefix('{'), s.ends_with('}')) {
        let inner = &inner[..inner.len() - 1];
        let mut fields = Vec::new();
        for (k, f) in split_top(inner, ',').into_iter().enumerate() {
            let f = f.trim();
            if f.is_empty() {
                continue;
            }
            let named = f.find('=').filter(|&i| f[..i].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
            match named {
                Some(i) => fields.push((f[..i].to_string(), value(&f[i + 1..]))),
                None if f == "..." => fields.push(("...".to_string(), Value::Null)),
                None => fields.push((k.to_string(), value(f))),
            }
        }
        return Value::Struct(fields);
    }
    if let (Some(inner), true) = (s.strip_prefix('['), s.ends_with(']')) {
        let inner = &inner[..inner.len() - 1];
        if inner.trim().is_empty() {
            return Value::Array(Vec::new());
        }
        return Value::Array(split_top(inner, ',').into_iter().map(value).collect());
    }
    if let Some(lt) = s.find('<') {
        if let (Some(fd), true) = (crate::tracer::parse::int(&s[..lt]), s.ends_with('>')) {
            return Value::Fd(fd, s[lt + 1..s.len() - 1].to_string());
        }
    }
    let parts = split_top(s, '|');
    if parts.len() > 1 {
        return Value::Flags(parts.into_iter().map(value).collect());
    }
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) {
        return Value::Name(s.to_string());
    }
    Value::Raw(s.to_string())
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Str(s) | Value::Name(s) | Value::Raw(s) => json_str(out, s),
        Value::Cut(s) => {
            out.push_str("{\"string\":");
            json_str(out, s);
            out.push_str(",\"truncated\":true}");
        }
        Value::Flags(parts) | Value::Array(parts) => {
            out.push('[');
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(out, p);
            }
            out.push(']');
        }
        Value::Struct(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                json_value(out, v);
            }
            out.push('}');
        }
        Value::Fd(fd, path) => {
            let _ = write!(out, "{{\"fd\":{fd},\"path\":");
            json_str(out, path);
            out.push('}');
        }
    }
}

/// The machine prefix of a line: (pid, tid, seq, ns) and the rest.
fn header(line: &str) -> (Option<(i64, i64, i64, u64)>, &str) {
    let Some(rest) = line.strip_prefix('\u{1e}') else { return (None, line) };
    let Some((h, text)) = rest.split_once('\t') else { return (None, line) };
    let f: Vec<&str> = h.split(' ').collect();
    match f[..] {
        [pid, tid, seq, ns] => match (pid.parse(), tid.parse(), seq.parse(), ns.parse()) {
            (Ok(p), Ok(t), Ok(s), Ok(n)) => (Some((p, t, s, n)), text),
            _ => (None, line),
        },
        _ => (None, line),
    }
}

/// One trace line as a JSON object (without the newline).
pub fn convert(line: &str) -> String {
    let (head, text) = header(line);
    let mut out = String::from("{");
    let kind = if text.starts_with("--- ") {
        "signal"
    } else if text.starts_with("+++ ") {
        "exit"
    } else if text.contains('(') && text.contains(" = ") {
        "call"
    } else {
        "text"
    };
    let _ = write!(out, "\"type\":\"{kind}\"");
    if let Some((pid, tid, seq, ns)) = head {
        let _ = write!(out, ",\"pid\":{pid},\"tid\":{tid},\"seq\":{seq},\"time\":{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000);
    }
    match kind {
        "call" => call(&mut out, text),
        "signal" => {
            let body = text.trim_start_matches("--- ").trim_end_matches(" ---");
            let (sig, info) = body.split_once(' ').unwrap_or((body, ""));
            out.push_str(",\"signal\":");
            json_str(&mut out, sig);
            if !info.is_empty() {
                out.push_str(",\"info\":");
                json_value(&mut out, &value(info));
            }
        }
        "exit" => {
            let body = text.trim_start_matches("+++ ").trim_end_matches(" +++");
            if let Some(code) = body.strip_prefix("exited with ") {
                let _ = write!(out, ",\"status\":{}", code.trim().parse::<i64>().unwrap_or(-1));
            } else if let Some(sig) = body.strip_prefix("killed by ") {
                let (sig, core) = match sig.strip_suffix(" (core dumped)") {
                    Some(s) => (s, true),
                    None => (sig, false),
                };
                out.push_str(",\"killed_by\":");
                json_str(&mut out, sig);
                let _ = write!(out, ",\"core_dumped\":{core}");
            }
        }
        _ => {
            out.push_str(",\"text\":");
            json_str(&mut out, text);
        }
    }
    out.push('}');
    out
}

/// `name(args) = result[ (MARK)...][ <duration>]`.
fn call(out: &mut String, text: &str) {
    let open = text.find('(').unwrap_or(0);
    let name = &text[..open];
    // The argument list ends at the `)` that closes the first `(`.
    let close = closing(text, open);
    let close = close.unwrap_or(text.len().saturating_sub(1));
    let args = &text[open + 1..close.max(open + 1)];
    out.push_str(",\"name\":");
    json_str(out, name);
    out.push_str(",\"args\":[");
    if !args.trim().is_empty() {
        for (i, a) in split_top(args, ',').into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_value(out, &value(a));
        }
    }
    out.push(']');
    let mut result = text[close + 1..].trim().trim_start_matches('=').trim();
    // -T's duration, then the marks, from the end.
    if let (Some(lt), true) = (result.rfind(" <"), result.ends_with('>')) {
        if let Ok(d) = result[lt + 2..result.len() - 1].parse::<f64>() {
            let _ = write!(out, ",\"duration\":{d}");
            result = result[..lt].trim_end();
        }
    }
    let mut marks = Vec::new();
    for m in ["(INJECTED)", "(DELAYED)"] {
        if let Some(r) = result.strip_suffix(m) {
            marks.push(&m[1..m.len() - 1]);
            result = r.trim_end();
        }
    }
    if result == "?" {
        out.push_str(",\"result\":null,\"errno\":null");
    } else if let Some(rest) = result.strip_prefix("-1 ").filter(|r| r.starts_with('E')) {
        let (errno, msg) = rest.split_once(' ').unwrap_or((rest, ""));
        out.push_str(",\"result\":-1,\"errno\":");
        json_str(out, errno);
        let msg = msg.trim().trim_start_matches('(').trim_end_matches(')');
        if !msg.is_empty() {
            out.push_str(",\"error\":");
            json_str(out, msg);
        }
    } else {
        // `3</path>`, `0x7f...`, `0 (Timeout)`, `? ERESTARTSYS (...)`.
        let (val, note) = match split_top(result, ' ').as_slice() {
            [v] => (*v, ""),
            [v, ..] => (*v, result[v.len()..].trim()),
            [] => ("", ""),
        };
        out.push_str(",\"result\":");
        match value(val) {
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            v => json_value(out, &v),
        }
        out.push_str(",\"errno\":null");
        if !note.is_empty() {
            out.push_str(",\"note\":");
            json_str(out, note);
        }
    }
    if !marks.is_empty() {
        out.push_str(",\"marks\":[");
        for (i, m) in marks.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_str(out, m);
        }
        out.push(']');
    }
}

/// Reads the handler's lines from `input` until it closes; writes one
/// object per line to `output`.
pub fn pump(input: OwnedFd, output: OwnedFd) {
    let reader = BufReader::new(std::fs::File::from(input));
    let mut w = std::io::BufWriter::new(std::fs::File::from(output));
    for line in reader.split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line);
        if line.is_empty() {
            continue;
        }
        let _ = writeln!(w, "{}", convert(&line));
        let _ = w.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_become_objects() {
        let j = convert("\u{1e}12 13 7 1700000000123456789\topenat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3</etc/passwd>");
        assert_eq!(
            j,
            "{\"type\":\"call\",\"pid\":12,\"tid\":13,\"seq\":7,\"time\":1700000000.123456789,\"name\":\"openat\",\
             \"args\":[\"AT_FDCWD\",\"/etc/passwd\",[\"O_RDONLY\",\"O_CLOEXEC\"]],\"result\":{\"fd\":3,\"path\":\"/etc/passwd\"},\"errno\":null}"
        );
        let j = convert("\u{1e}1 1 0 5\tstat(\"/nope\", 0x7ffd1234) = -1 ENOENT (No such file or directory) (INJECTED) <0.000012>");
        assert!(j.contains("\"result\":-1,\"errno\":\"ENOENT\",\"error\":\"No such file or directory\""), "{j}");
        assert!(j.contains("\"duration\":0.000012") && j.contains("\"marks\":[\"INJECTED\"]"), "{j}");
        let j = convert("\u{1e}1 1 0 5\texit_group(0) = ?");
        assert!(j.contains("\"args\":[0],\"result\":null"), "{j}");
        let j = convert("\u{1e}1 1 0 5\tread(3, \"ab\\ncd\"..., 4096) = 4096");
        assert!(j.contains("{\"string\":\"ab\\ncd\",\"truncated\":true}"), "{j}");
        let j = convert("\u{1e}1 1 0 5\tfstat(3, {st_mode=S_IFREG|0644, st_size=1234, ...}) = 0");
        assert!(j.contains("{\"st_mode\":[\"S_IFREG\",420],\"st_size\":1234,\"...\":null}"), "{j}");
        let j = convert("\u{1e}1 1 0 5\tpoll([{fd=3, events=POLLIN}], 1, -1) = 1 ([{fd=3, revents=POLLIN}])");
        assert!(j.contains("\"result\":1,\"errno\":null,\"note\":\"([{fd=3, revents=POLLIN}])\""), "{j}");
    }

    #[test]
    fn signals_exits_and_text() {
        let j = convert("\u{1e}5 5 3 9\t--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=6, si_status=0} ---");
        assert!(j.starts_with("{\"type\":\"signal\",\"pid\":5") && j.contains("\"signal\":\"SIGCHLD\",\"info\":{\"si_signo\":\"SIGCHLD\""), "{j}");
        assert_eq!(convert("+++ exited with 3 +++"), "{\"type\":\"exit\",\"status\":3}");
        assert_eq!(convert("+++ killed by SIGSEGV (core dumped) +++"), "{\"type\":\"exit\",\"killed_by\":\"SIGSEGV\",\"core_dumped\":true}");
        assert_eq!(convert("something"), "{\"type\":\"text\",\"text\":\"something\"}");
        // Bytes that are not UTF-8 come as the characters of their numbers.
        assert!(convert("\u{1e}1 1 0 5\twrite(1, \"\\377\", 1) = 1").contains("\"args\":[1,\"\u{ff}\",1]"));
    }
}
