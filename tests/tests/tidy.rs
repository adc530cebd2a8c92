//! The tree's own rules for its Rust sources, checked like any other test
//! (as rust-analyzer's tidy test does). Every `.rs` file of the workspace,
//! fuzz/ included (but not target/ directories, fuzz corpora or artifacts,
//! hidden directories), must:
//!
//! - open with a `//!` line saying what the file is;
//! - have a `// SAFETY:` comment for every `unsafe { ... }` block, on the
//!   block's line or in the comment block right above that line
//!   (attributes may stand between), saying why the block is sound;
//! - have a `# Safety` section in the doc comment of every `unsafe fn`
//!   (`unsafe extern "C" fn` and naked functions included), saying what a
//!   caller must guarantee.
//!
//! - in handler/, use only the modules below its own in the layers that
//!   handler/src/lib.rs declares.
//!
//! A failure names each file and line. Comments, string and character
//! literals are blanked before the code is searched, so the words in them
//! (this file's own included) are not mistaken for code.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// What a finding breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    /// The file does not open with a `//!` line.
    FileDoc,
    /// An `unsafe` block without a `// SAFETY:` comment.
    SafetyComment,
    /// An `unsafe fn` without a `# Safety` section in its doc comment.
    SafetyDoc,
}

/// Findings tolerated for now: files under folders that other branches
/// are rewriting while this test was written (handler/src/fast/,
/// handler/src/trace/, handler/src/vdso.rs and handler/src/vdso/,
/// arch/src/x86_64/fast.rs) are left to those branches, so that main stays
/// green meanwhile. Each entry is (file, rule, findings allowed at most);
/// more findings than that fail the test as usual. Lower or remove an
/// entry as soon as its file passes (the test prints a note when one is
/// stale). Nothing outside those folders belongs here.
const KNOWN_EXCEPTIONS: &[(&str, Rule, usize)] = &[
    // call_all's block, whose comment says `SAFETY (all calls below):`;
    // `KernelVdso::parse(own_vdso())` in installed_image_calls_the_handlers,
    // without one; custom_handlers_get_the_calls's `unsafe extern "C" fn
    // fixed`, without a doc comment.
    ("handler/src/vdso/tests.rs", Rule::SafetyComment, 2),
    ("handler/src/vdso/tests.rs", Rule::SafetyDoc, 1),
];

/// Directory names never walked into, wherever they are.
const SKIP_DIRS: &[&str] = &["target"];
/// Directories, relative to the root, never walked into: fuzz corpora and
/// crash artifacts (cargo-fuzz's layout).
const SKIP_PATHS: &[&str] = &["fuzz/corpus", "fuzz/artifacts"];

#[derive(Debug)]
struct Finding {
    file: String,
    line: usize,
    rule: Rule,
    text: String,
}

/// One source line split in two: the code with comments and the contents
/// of literals blanked (delimiters kept), and the text of its comments.
#[derive(Default)]
struct Line {
    code: String,
    comment: String,
    /// The original line, for messages.
    raw: String,
}

/// Splits `src` into lines of code and comment text. A lexer just good
/// enough for this tree: line and (nested) block comments, string, byte
/// string, C string and raw string literals, character literals told from
/// lifetimes.
fn lex(src: &str) -> Vec<Line> {
    let chars: Vec<char> = src.chars().collect();
    let mut lines = vec![Line::default()];
    let n = chars.len();
    let mut i = 0;
    // Pushes c to the current line's code (`code`) or comment text.
    fn put(lines: &mut Vec<Line>, c: char, code: bool) {
        if c == '\n' {
            lines.push(Line::default());
            return;
        }
        let l = lines.last_mut().unwrap();
        l.raw.push(c);
        if code {
            l.code.push(c);
        } else {
            l.comment.push(c);
            l.code.push(' ');
        }
    }
    // Pushes c as the blanked inside of a literal.
    fn blank(lines: &mut Vec<Line>, c: char) {
        if c == '\n' {
            lines.push(Line::default());
            return;
        }
        let l = lines.last_mut().unwrap();
        l.raw.push(c);
        l.code.push(' ');
    }
    let ident_before = |i: usize| i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    while i < n {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < n && chars[i] != '\n' {
                put(&mut lines, chars[i], false);
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < n {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    put(&mut lines, '/', false);
                    put(&mut lines, '*', false);
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    put(&mut lines, '*', false);
                    put(&mut lines, '/', false);
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    put(&mut lines, chars[i], false);
                    i += 1;
                }
            }
            continue;
        }
        // Raw strings: r"..", r#".."#, br#".."#, cr#".."#.
        if !ident_before(i) && matches!(c, 'r' | 'b' | 'c') {
            let mut j = i;
            if c != 'r' && next == Some('r') {
                j += 1;
            }
            if chars[j] == 'r' {
                let mut k = j + 1;
                while k < n && chars[k] == '#' {
                    k += 1;
                }
                if k < n && chars[k] == '"' {
                    let hashes = k - j - 1;
                    for &d in &chars[i..=k] {
                        put(&mut lines, d, true);
                    }
                    i = k + 1;
                    loop {
                        if i >= n {
                            break;
                        }
                        if chars[i] == '"' && chars[i + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes {
                            for &d in &chars[i..=i + hashes] {
                                put(&mut lines, d, true);
                            }
                            i += 1 + hashes;
                            break;
                        }
                        blank(&mut lines, chars[i]);
                        i += 1;
                    }
                    continue;
                }
            }
        }
        if c == '"' {
            put(&mut lines, c, true);
            i += 1;
            while i < n && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < n {
                    blank(&mut lines, chars[i]);
                    i += 1;
                }
                blank(&mut lines, chars[i]);
                i += 1;
            }
            if i < n {
                put(&mut lines, '"', true);
                i += 1;
            }
            continue;
        }
        if c == '\'' {
            // 'x' or '\..' is a character; 'a (no closing quote after one
            // character) a lifetime or a label.
            let end = if next == Some('\\') && i + 3 <= n {
                // After the escaped character: '\'' and '\\' too.
                chars[i + 3..].iter().position(|&d| d == '\'').map(|p| i + 3 + p)
            } else if chars.get(i + 2) == Some(&'\'') && next != Some('\n') {
                Some(i + 2)
            } else {
                None
            };
            if let Some(end) = end {
                put(&mut lines, '\'', true);
                for &d in &chars[i + 1..end] {
                    blank(&mut lines, d);
                }
                put(&mut lines, '\'', true);
                i = end + 1;
                continue;
            }
        }
        put(&mut lines, c, true);
        i += 1;
    }
    lines
}

/// The words of a code line: identifiers (and numbers) and single
/// punctuation characters.
fn tokens(code: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in code.char_indices() {
        let word = c.is_alphanumeric() || c == '_';
        match (start, word) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push(&code[s..i]);
                start = None;
            }
            _ => {}
        }
        if !word && !c.is_whitespace() {
            out.push(&code[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        out.push(&code[s..]);
    }
    out
}

fn is_attribute(code: &str) -> bool {
    let t = code.trim();
    t.starts_with("#[") || t.starts_with("#![")
}

fn only_comment(l: &Line) -> bool {
    l.code.trim().is_empty() && !l.comment.trim().is_empty()
}

/// Whether the unsafe block on line `k` has its `SAFETY:` comment.
fn has_safety_comment(lines: &[Line], k: usize) -> bool {
    if lines[k].comment.contains("SAFETY:") {
        return true;
    }
    let mut j = k;
    while j > 0 {
        j -= 1;
        let l = &lines[j];
        if only_comment(l) {
            if l.comment.contains("SAFETY:") {
                return true;
            }
        } else if !is_attribute(&l.code) {
            return false;
        }
    }
    false
}

/// Whether the fn on line `k` has a `# Safety` section in its doc comment
/// (the `///` lines above it, attributes and plain comments between).
fn has_safety_doc(lines: &[Line], k: usize) -> bool {
    let mut j = k;
    while j > 0 {
        j -= 1;
        let l = &lines[j];
        if only_comment(l) {
            let c = l.comment.trim();
            if let Some(doc) = c.strip_prefix("///") {
                if doc.trim() == "# Safety" {
                    return true;
                }
            }
        } else if !is_attribute(&l.code) {
            return false;
        }
    }
    false
}

/// The findings of one file; `rel` is its path from the root.
fn check_file(rel: &str, src: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let lines = lex(src);
    let mut add = |line: usize, rule: Rule| {
        out.push(Finding { file: rel.to_string(), line: line + 1, rule, text: lines[line].raw.trim().to_string() });
    };
    if !src.starts_with("//!") {
        add(0, Rule::FileDoc);
    }
    for (k, l) in lines.iter().enumerate() {
        let t = tokens(&l.code);
        for (w, tok) in t.iter().enumerate() {
            if *tok != "unsafe" {
                continue;
            }
            let rest = &t[w + 1..];
            if rest.first() == Some(&"{") {
                if !has_safety_comment(&lines, k) {
                    add(k, Rule::SafetyComment);
                }
                continue;
            }
            // unsafe [extern ["ABI"]] fn NAME: a function, not a pointer type.
            let mut r = rest;
            if r.first() == Some(&"extern") {
                r = &r[1..];
                if r.first() == Some(&"\"") {
                    match r[1..].iter().position(|x| *x == "\"") {
                        Some(p) => r = &r[p + 2..],
                        None => continue,
                    }
                }
            }
            if r.first() == Some(&"fn") && r.get(1).is_some_and(|x| x.starts_with(|c: char| c.is_alphabetic() || c == '_')) {
                if !has_safety_doc(&lines, k) {
                    add(k, Rule::SafetyDoc);
                }
            }
        }
    }
    out
}

/// Every .rs file below `dir`, in a stable order.
fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            if name.starts_with('.') || SKIP_DIRS.contains(&name.as_str()) || SKIP_PATHS.contains(&rel.as_str()) {
                continue;
            }
            walk(root, &p, out);
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::FileDoc => "does not open with a `//!` line saying what the file is",
        Rule::SafetyComment => "unsafe block without a `// SAFETY:` comment on its line or right above it",
        Rule::SafetyDoc => "unsafe fn without a `# Safety` section in its doc comment",
    }
}

#[test]
fn tidy() {
    let root = preld_tests::root();
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    assert!(files.len() > 50, "only {} .rs files found below {}", files.len(), root.display());
    let mut by_rule: BTreeMap<(String, Rule), Vec<Finding>> = BTreeMap::new();
    for p in &files {
        let rel = p.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
        for f in check_file(&rel, &src) {
            by_rule.entry((f.file.clone(), f.rule)).or_default().push(f);
        }
    }
    let mut report = String::new();
    for ((file, rule), found) in &by_rule {
        let allowed = KNOWN_EXCEPTIONS.iter().find(|(f, r, _)| f == file && r == rule).map_or(0, |e| e.2);
        if found.len() <= allowed {
            continue;
        }
        if allowed > 0 {
            report.push_str(&format!("{file}: {} findings of {rule:?}, KNOWN_EXCEPTIONS allows {allowed}:\n", found.len()));
        }
        for f in found {
            report.push_str(&format!("{}:{}: {}\n    {}\n", f.file, f.line, describe(f.rule), f.text));
        }
    }
    for (file, rule, allowed) in KNOWN_EXCEPTIONS {
        let n = by_rule.get(&(file.to_string(), *rule)).map_or(0, Vec::len);
        if n < *allowed {
            eprintln!("tidy: note: {file} has {n} findings of {rule:?} now; lower or remove its entry in KNOWN_EXCEPTIONS ({allowed})");
        }
    }
    assert!(report.is_empty(), "tidy: {} files checked; fix these (or, only for files other branches own, see KNOWN_EXCEPTIONS):\n{report}", files.len());
}

/// The checks themselves, on made-up sources.
#[test]
fn tidy_finds_what_it_should() {
    let rules = |src: &str| check_file("x.rs", src).into_iter().map(|f| (f.line, f.rule)).collect::<Vec<_>>();
    assert_eq!(rules("fn main() {}\n"), [(1, Rule::FileDoc)]);
    assert_eq!(rules("//! x\nfn f() { unsafe { g() } }\n"), [(2, Rule::SafetyComment)]);
    assert_eq!(rules("//! x\n// SAFETY: g has no contract.\nfn f() { unsafe { g() } }\n"), []);
    assert_eq!(rules("//! x\nfn f() { unsafe { g() } } // SAFETY: none.\n"), []);
    // The comment block right above, attributes between; not further up.
    assert_eq!(rules("//! x\n// SAFETY: a\n// more.\n#[allow(x)]\nlet a = unsafe { g() };\n"), []);
    assert_eq!(rules("//! x\n// SAFETY: a\nlet b = 1;\nlet a = unsafe { g() };\n"), [(4, Rule::SafetyComment)]);
    assert_eq!(rules("//! x\n// SAFETY: a\n\nlet a = unsafe { g() };\n"), [(4, Rule::SafetyComment)]);
    // Not code: comments, strings, raw strings, characters.
    assert_eq!(rules("//! x\n// unsafe { g() }\n/* unsafe fn f() {} */\nlet s = \"unsafe {\";\nlet r = r#\"unsafe fn x()\"#;\nlet c = '{';\nlet q = '\\'';\nlet b = '\\\\';\nlet d = \"unsafe {\";\n"), []);
    assert_eq!(rules("//! x\nfn f<'a>(x: &'a u8) { unsafe { g() } }\n"), [(2, Rule::SafetyComment)]);
    // unsafe fns, with and without an ABI, naked; pointer types are no fns.
    assert_eq!(rules("//! x\n/// Does.\npub unsafe fn f() {}\n"), [(3, Rule::SafetyDoc)]);
    assert_eq!(
        rules("//! x\n/// Does.\n///\n/// # Safety\n/// None.\n#[unsafe(naked)]\npub unsafe extern \"C\" fn f() {}\n"),
        []
    );
    assert_eq!(rules("//! x\n#[unsafe(naked)]\nunsafe extern \"C\" fn f() {}\n"), [(3, Rule::SafetyDoc)]);
    assert_eq!(rules("//! x\ntype F = unsafe extern \"C\" fn(i32);\nstatic G: unsafe fn() = h;\n"), []);
    // unsafe impl, unsafe extern blocks and unsafe attributes are no blocks.
    assert_eq!(rules("//! x\nunsafe impl Send for X {}\nunsafe extern \"C\" {\n    fn g();\n}\n#[unsafe(no_mangle)]\nfn h() {}\n"), []);
}

/// The layers handler/src/lib.rs declares: each line's modules, lowest first.
fn declared_layers(lib: &str) -> Vec<String> {
    let mut order = Vec::new();
    let mut inside = false;
    for line in lib.lines().map(|l| l.trim_start_matches("//!").trim()) {
        if line.starts_with("```") {
            if inside {
                break;
            }
            inside = !order.is_empty() || line == "```text";
            continue;
        }
        if inside {
            let (_, mods) = line.split_once(':').expect("a layer line is `what: modules`");
            order.extend(mods.split_whitespace().map(String::from));
        }
    }
    order
}

/// The handler modules `src` (of module `me`) uses: `crate::x` paths and
/// `use crate::{x, y::z}` lists, outside comments.
fn crate_uses(me: &str, src: &str) -> BTreeSet<String> {
    let code: String = lex(src).iter().map(|l| l.code.as_str()).collect::<Vec<_>>().join("\n");
    let mut out = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            // Top-level names of a use list: after `{` or a `,` at depth 0.
            let mut depth = 0;
            let mut start = true;
            for (k, c) in list.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        out.insert(ident(&list[k..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| m != me && !m.is_empty() && m.chars().next().is_some_and(|c| c.is_ascii_lowercase()));
    out
}

#[test]
fn handler_modules_use_only_the_layers_below_them() {
    let src = preld_tests::root().join("handler/src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let order = declared_layers(&lib);
    assert!(order.len() > 10, "handler/src/lib.rs declares no layers (a ```text block of `what: modules` lines)");
    let mut files = Vec::new();
    walk(&src, &src, &mut files);
    let mut modules = BTreeSet::new();
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if top == "lib" {
            continue;
        }
        modules.insert(top.clone());
        let Some(me) = order.iter().position(|m| *m == top) else {
            wrong.push(format!("handler/src/{}: module `{top}` is in no layer of lib.rs", rel.display()));
            continue;
        };
        for used in crate_uses(&top, &fs::read_to_string(f).unwrap()) {
            match order.iter().position(|m| *m == used) {
                Some(u) if u < me => {}
                Some(_) => wrong.push(format!("handler/src/{}: `{top}` uses `{used}`, which is not below it", rel.display())),
                None => wrong.push(format!("handler/src/{}: `{top}` uses `{used}`, which is in no layer", rel.display())),
            }
        }
    }
    for m in &order {
        if !modules.contains(m) {
            wrong.push(format!("lib.rs lists `{m}`, which is no module"));
        }
    }
    assert!(wrong.is_empty(), "the handler's layering (handler/src/lib.rs) does not hold:\n{}", wrong.join("\n"));
}

#[test]
fn the_layering_check_reads_uses() {
    let uses = |s: &str| crate_uses("me", s).into_iter().collect::<Vec<_>>();
    assert_eq!(uses("use crate::a::B;\nfn f() { crate::b::g(); }\n"), ["a", "b"]);
    assert_eq!(uses("use crate::{c, d::{E, F}, me};\n// crate::x::y\nlet s = \"crate::z\";\n"), ["c", "d"]);
    assert_eq!(uses("fn f() -> crate::StartError { loop {} }\n"), Vec::<String>::new());
    let lib = "//! x\n//!\n//! ```text\n//! low: a b\n//! high: c\n//! ```\n";
    assert_eq!(declared_layers(lib), ["a", "b", "c"]);
}

/// Where the kernel's constants are written: the ABI modules, which take
/// them from linux-raw-sys, and the trace's name tables (strace's, checked
/// against strace). Paths from the root.
const ABI_MODULES: &[&str] = &["handler/src/abi.rs", "arch/src/abi.rs", "loader/src/abi.rs", "handler/src/errno.rs"];
const NAME_TABLES: &[&str] = &["handler/src/trace/decode/xlat.rs"];
/// The source trees whose kernel constants must come from an ABI module.
const ABI_CHECKED: &[&str] = &["handler/src", "arch/src", "loader/src", "loader/ld-preld/src"];

/// Prefixes of the kernel's constant names (its UAPI headers'), as a
/// hand-written copy would be called.
const KERNEL_PREFIXES: &[&str] = &[
    "SA_", "SIG_", "SS_", "O_", "AT_", "MAP_", "PROT_", "MADV_", "MREMAP_", "FD_", "PR_", "ARCH_", "CLONE_", "SECCOMP_", "RLIMIT_", "S_IF", "S_IS", "MSG_",
    "SOL_", "SCM_", "SO_", "AF_", "SOCK_", "CLOCK_", "FUTEX_", "SEEK_", "CLD_", "SYS_", "SI_", "SEGV_", "PTRACE_", "LANDLOCK_", "BPF_", "AUDIT_ARCH_",
    "TIOC", "UTIME_", "CLOSE_RANGE_", "R_X86_64_", "EFD_", "MFD_", "TFD_", "EPOLL", "POLL", "IN_", "WNOHANG", "MINSIGSTKSZ", "X_OK", "R_OK", "W_OK", "F_OK",
];

/// Whether `name` is written like a kernel constant: an errno name (from
/// errno.rs's table), a signal (SIGxxx), a `F_` fcntl command or a name
/// with one of KERNEL_PREFIXES.
fn kernel_like(name: &str, errnos: &[String]) -> bool {
    let upper = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !upper(name) {
        return false;
    }
    errnos.iter().any(|e| e == name)
        || (name.starts_with("SIG") && name[3..].chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        || (name.starts_with("F_") && name[2..].chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        || KERNEL_PREFIXES.iter().any(|p| name.starts_with(p))
}

const INT_TYPES: &[&str] = &["u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize"];

/// Hand-written kernel constants in one file's source: `const NAME: INT =`
/// a value of literals only (numbers, operators, casts), NAME written like
/// a kernel constant; `const` asm operands that are a bare number; raw
/// system calls with a bare number. (line, what, what to use instead).
fn kernel_constants(src: &str, errnos: &[String]) -> Vec<(usize, String, &'static str)> {
    let lines = lex(src);
    // Every token with its line, across lines (a value may span several).
    let toks: Vec<(usize, &str)> = lines.iter().enumerate().flat_map(|(k, l)| tokens(&l.code).into_iter().map(move |t| (k, t))).collect();
    let number = |t: &str| t.starts_with(|c: char| c.is_ascii_digit());
    let mut out = Vec::new();
    for (i, &(k, t)) in toks.iter().enumerate() {
        let next = |j: usize| toks.get(i + j).map_or("", |x| x.1);
        if t == "const" && next(2) == ":" && INT_TYPES.contains(&next(3)) && next(4) == "=" {
            let name = next(1);
            let value: Vec<&str> = toks[i + 5..].iter().map(|x| x.1).take_while(|x| *x != ";").collect();
            let literal = value.iter().any(|x| number(x)) && value.iter().all(|x| !x.starts_with(|c: char| c.is_alphabetic() || c == '_') || *x == "as" || INT_TYPES.contains(x));
            if literal && kernel_like(name, errnos) {
                let instead = if errnos.iter().any(|e| e == name) {
                    "the errno by name from handler/src/errno.rs (linux-raw-sys's value)"
                } else {
                    "the constant of the crate's ABI module (handler/src/abi.rs, arch/src/abi.rs, loader/src/abi.rs), which takes it from linux-raw-sys"
                };
                out.push((k, format!("`const {name}: {}` written by hand", next(3)), instead));
            }
        } else if t == "const" && number(next(1)) && i > 0 && toks[i - 1].1 == "=" {
            out.push((k, format!("asm operand `const {}`: a bare number", next(1)), "a named constant: arch/src/abi.rs (`__NR_*`, flags from linux-raw-sys) or a `const` of the file saying what the number is"));
        } else if t.starts_with("syscall") && next(1) == "(" && number(next(2)) {
            out.push((k, format!("`{t}({}, ..)`: a system call by bare number", next(2)), "`syscalls::Sysno::NAME as usize`, or arch/src/abi.rs's SYS_ constants in arch/"));
        }
    }
    out
}

#[test]
fn kernel_constants_come_from_the_abi_modules() {
    let root = preld_tests::root();
    // The errno names, from errno.rs's table: `(N, "NAME", "message"),`.
    let errno_src = std::fs::read_to_string(root.join("handler/src/errno.rs")).expect("handler/src/errno.rs");
    let errnos: Vec<String> = errno_src
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix('(')?;
            let (n, rest) = l.split_once(", \"")?;
            n.parse::<u32>().ok()?;
            Some(rest.split_once('"')?.0.to_string())
        })
        .collect();
    assert!(errnos.iter().any(|e| e == "ENOENT") && errnos.len() > 100, "errno.rs's table not found ({} names)", errnos.len());
    let mut files = Vec::new();
    for dir in ABI_CHECKED {
        walk(&root, &root.join(dir), &mut files);
    }
    let mut report = String::new();
    let mut checked = 0;
    for p in &files {
        let rel = p.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let test_file = rel.ends_with("/tests.rs") || rel.contains("/tests/");
        if ABI_MODULES.contains(&rel.as_str()) || NAME_TABLES.contains(&rel.as_str()) || test_file {
            continue;
        }
        checked += 1;
        let src = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
        let lines: Vec<&str> = src.lines().collect();
        for (k, what, instead) in kernel_constants(&src, &errnos) {
            report.push_str(&format!("{rel}:{}: {what}; use {instead}\n    {}\n", k + 1, lines.get(k).map_or("", |l| l.trim())));
        }
    }
    assert!(checked > 40, "only {checked} files checked");
    assert!(report.is_empty(), "kernel constants written by hand outside the ABI modules ({checked} files checked):\n{report}");
}

/// The kernel-constant check itself, on made-up sources.
#[test]
fn kernel_constants_are_found() {
    let errnos = vec!["EPERM".to_string(), "EINVAL".to_string(), "E2BIG".to_string()];
    let found = |src: &str| kernel_constants(src, &errnos).into_iter().map(|f| f.0 + 1).collect::<Vec<_>>();
    assert_eq!(found("//! x\nconst EINVAL: isize = 22;\nconst E2BIG: i32 = 7;\n"), [2, 3]);
    assert_eq!(found("//! x\nconst SA_KNOWN: usize = 0x1 | 0x2;\nconst AT_FDCWD: usize = -100isize as usize;\n"), [2, 3]);
    assert_eq!(found("//! x\n    const F_DUPFD_CLOEXEC: usize =\n        1030;\nconst SIGSYS: usize = 31;\n"), [2, 4]);
    // Named values, other names, other types: not hand-written kernel constants.
    assert_eq!(found("//! x\nconst EINVAL: i32 = abi::EINVAL as i32;\nconst SIGSYS_BIT: u64 = 1 << (SIGSYS - 1);\n"), []);
    assert_eq!(found("//! x\nconst EH: usize = 0x100;\nconst SLOT_SIZE: usize = 80;\nconst O_NAMES: &[&str] = &[];\n"), []);
    assert_eq!(found("//! x\n// const EPERM: i32 = 1;\nlet s = \"const SA_X: u32 = 1;\";\n"), []);
    // asm operands and raw calls by number.
    assert_eq!(found("//! x\nasm!(\"syscall\", nr = const 15, x = const abi::SYS_GETTID, n = const N);\n"), [2]);
    assert_eq!(found("//! x\nfn f() { syscall6(158, 1, 0, 0, 0, 0, 0); syscall6(NR, 0, 0, 0, 0, 0, 0); }\n"), [2]);
    assert_eq!(found("//! x\nconst fn f() {}\nconst N: usize = 4;\nconst { 5 };\n"), []);
}
