//! ld-preld on programs it must refuse: missing, not executable, not ELF,
//! truncated or corrupt ELF, bad PT_INTERP, foreign ELF, broken `#!` chains.
//! Each must end with the shell's exit status (127 not found, 126 cannot
//! run), one line `ld-preld: FILE: REASON` on stderr, and no signal. Also the
//! good `#!` paths, whose argv must be the one native execve gives.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use preld_tests::ld_preld;
use preld_tests::run::{run, Output};
use preld_tests::scratch::Scratch;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ld(args: &[&str]) -> Output {
    run(Command::new(ld_preld()).args(args))
}

/// Checks a refusal: exit `code`, no signal, nothing on stdout, and stderr
/// exactly one line `ld-preld: FILE: ...REASON...`.
fn assert_refused(out: &Output, code: i32, file: &str, reason: &str) {
    let err = out.stderr_str();
    assert_eq!(out.status.signal(), None, "killed by a signal; stderr: {err:?}");
    assert_eq!(out.status.code(), Some(code), "exit status; stderr: {err:?}");
    assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout_str());
    assert!(err.ends_with('\n') && err.matches('\n').count() == 1, "not exactly one line: {err:?}");
    let prefix = format!("ld-preld: {file}: ");
    assert!(err.starts_with(&prefix), "expected {prefix:?}...: {err:?}");
    assert!(err[prefix.len()..].contains(reason), "expected the reason {reason:?}: {err:?}");
}

/// Runs `path` with ld-preld and checks the refusal names `path`.
fn refuses(path: &Path, code: i32, reason: &str) {
    assert_refused(&ld(&[s(path)]), code, s(path), reason);
}

// ------------------------------------------------------- finding the program

#[test]
fn missing_program() {
    let d = Scratch::new("missing");
    let p = d.join("no-such-program");
    refuses(&p, 127, "No such file or directory");
    // After `--` too.
    let out = ld(&["--", s(&p)]);
    assert_refused(&out, 127, s(&p), "No such file or directory");
}

#[test]
fn name_not_in_path() {
    let d = Scratch::new("not-in-path");
    let out = run(Command::new(ld_preld()).arg("preld-no-such-command").env("PATH", d.path()));
    assert_refused(&out, 127, "preld-no-such-command", "command not found");
}

/// Found in PATH but not executable: as a shell, "Permission denied".
#[test]
fn name_in_path_not_executable() {
    let d = Scratch::new("in-path-644");
    let p = d.file("preld-not-executable", b"#!/bin/sh\n", 0o644);
    let out = run(Command::new(ld_preld()).arg("preld-not-executable").env("PATH", d.path()));
    assert_refused(&out, 126, s(&p), "Permission denied");
}

#[test]
fn not_executable() {
    let d = Scratch::new("not-executable");
    let ls = std::fs::read("/bin/ls").unwrap();
    let p = d.file("ls-644", &ls, 0o644);
    refuses(&p, 126, "Permission denied");
}

#[test]
fn directory() {
    let d = Scratch::new("directory");
    refuses(d.path(), 126, "Is a directory");
}

#[test]
fn device() {
    refuses(Path::new("/dev/null"), 126, "not a regular file");
}

#[test]
fn empty_and_text_files() {
    let d = Scratch::new("text");
    refuses(&d.exe("empty", b""), 126, "not an ELF executable");
    refuses(&d.exe("text", b"echo hello\n"), 126, "not an ELF executable");
    refuses(&d.exe("tiny", b"\x7fEL"), 126, "not an ELF executable");
    refuses(&d.exe("hash", b"#\n"), 126, "not an ELF executable");
}

// ------------------------------------------------------------- corrupt ELF

/// A copy of /bin/ls to corrupt, with its program headers located.
struct Ls {
    bytes: Vec<u8>,
    phoff: usize,
    phnum: usize,
}

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PF_X: u32 = 1;

impl Ls {
    fn new() -> Ls {
        let bytes = std::fs::read("/bin/ls").unwrap();
        let phoff = u64::from_le_bytes(bytes[32..40].try_into().unwrap()) as usize;
        let phnum = u16::from_le_bytes(bytes[56..58].try_into().unwrap()) as usize;
        Ls { bytes, phoff, phnum }
    }
    fn ph(&self, i: usize) -> usize {
        self.phoff + i * 56
    }
    fn u32_at(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().unwrap())
    }
    fn u64_at(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.bytes[at..at + 8].try_into().unwrap())
    }
    fn set_u64(&mut self, at: usize, v: u64) {
        self.bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }
    /// Indices of the program headers of type `ty`.
    fn all(&self, ty: u32) -> Vec<usize> {
        (0..self.phnum).filter(|&i| self.u32_at(self.ph(i)) == ty).collect()
    }
    fn text(&self) -> usize {
        *self.all(PT_LOAD).iter().find(|&&i| self.u32_at(self.ph(i) + 4) & PF_X != 0).unwrap()
    }
    // Program header fields, by index.
    fn offset(&self, i: usize) -> usize {
        self.ph(i) + 8
    }
    fn vaddr(&self, i: usize) -> usize {
        self.ph(i) + 16
    }
    fn filesz(&self, i: usize) -> usize {
        self.ph(i) + 32
    }
    fn memsz(&self, i: usize) -> usize {
        self.ph(i) + 40
    }
}

#[test]
fn truncated_elf() {
    let d = Scratch::new("truncated");
    let ls = std::fs::read("/bin/ls").unwrap();
    refuses(&d.exe("ls-100", &ls[..100]), 126, "program headers lie outside the file (truncated?)");
    refuses(&d.exe("ls-1000", &ls[..1000]), 126, "lies outside the file (truncated?)");
    refuses(&d.exe("ls-40", &ls[..40]), 126, "truncated ELF file");
    refuses(&d.exe("ls-half", &ls[..ls.len() / 2]), 126, "lies outside the file (truncated?)");
}

#[test]
fn huge_memsz() {
    let d = Scratch::new("huge-memsz");
    let mut e = Ls::new();
    let last = *e.all(PT_LOAD).last().unwrap();
    let at = e.memsz(last);
    e.set_u64(at, 1 << 50);
    refuses(&d.exe("ls", &e.bytes), 126, &format!("segment {last} lies outside user address space"));
    e.set_u64(at, u64::MAX);
    refuses(&d.exe("ls2", &e.bytes), 126, &format!("segment {last} lies outside user address space"));
}

#[test]
fn huge_memsz_inside_user_space() {
    // Plausible to the planner, impossible to map (natively: SIGSEGV). Under
    // ld-preld: a clean refusal, or, where overcommit lets the bss through,
    // ls running normally; never a signal.
    let d = Scratch::new("huge-memsz-user");
    for (name, memsz) in [("ls45", 1u64 << 45), ("ls47", 0x7fff_0000_0000)] {
        let mut e = Ls::new();
        let last = *e.all(PT_LOAD).last().unwrap();
        let at = e.memsz(last);
        e.set_u64(at, memsz);
        let p = d.exe(name, &e.bytes);
        let out = ld(&[s(&p), "--version"]);
        if out.status.success() {
            assert!(out.stdout_str().contains("ls"), "{}", out.stdout_str());
        } else {
            assert_refused(&out, 126, s(&p), "cannot ");
        }
    }
}

/// A minimal static ET_EXEC at 0x400000 that exits with status 42, plus a
/// bss-only PT_LOAD whose p_offset lies far past the end of the file.
fn exit42_with_bss_past_eof() -> Vec<u8> {
    let ph = |ty: u32, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64| {
        let mut v = Vec::new();
        for x in [u64::from(ty) | u64::from(flags) << 32, off, vaddr, vaddr, filesz, memsz, 0x1000] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v
    };
    let mut b = b"\x7fELF\x02\x01\x01".to_vec();
    b.resize(16, 0);
    for x in [2u16, 62] {
        b.extend_from_slice(&x.to_le_bytes()); // e_type ET_EXEC, e_machine x86_64
    }
    b.extend_from_slice(&1u32.to_le_bytes());
    for x in [0x400080u64, 64, 0] {
        b.extend_from_slice(&x.to_le_bytes()); // e_entry, e_phoff, e_shoff
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    for x in [64u16, 56, 2, 64, 0, 0] {
        b.extend_from_slice(&x.to_le_bytes());
    }
    b.extend(ph(PT_LOAD, 5, 0, 0x400000, 0x100, 0x100));
    b.extend(ph(PT_LOAD, 6, 0x5000, 0x405000, 0, 0x1000));
    b.resize(0x80, 0);
    // mov eax, 60 (exit); mov edi, 42; syscall
    b.extend_from_slice(&[0xb8, 60, 0, 0, 0, 0xbf, 42, 0, 0, 0, 0x0f, 0x05]);
    b.resize(0x100, 0);
    b
}

#[test]
fn bss_only_segment_past_end_of_file_runs() {
    // The kernel reads nothing for p_filesz 0 and runs this; so must ld-preld.
    let d = Scratch::new("bss-past-eof");
    let p = d.exe("exit42", &exit42_with_bss_past_eof());
    let native = run(Command::new(&p));
    assert_eq!(native.status.code(), Some(42));
    let out = ld(&[s(&p)]);
    assert_eq!((out.status, out.stderr_str()), (native.status, String::new()));
}

#[test]
fn misaligned_segment() {
    let d = Scratch::new("misaligned");
    let mut e = Ls::new();
    let t = e.text();
    let at = e.offset(t);
    e.set_u64(at, e.u64_at(at) + 8);
    refuses(&d.exe("offset", &e.bytes), 126, &format!("segment {t}: p_offset and p_vaddr are not congruent"));
    let mut e = Ls::new();
    let at = e.vaddr(t);
    e.set_u64(at, e.u64_at(at) + 0x10);
    refuses(&d.exe("vaddr", &e.bytes), 126, &format!("segment {t}: p_offset and p_vaddr are not congruent"));
}

#[test]
fn filesz_over_memsz() {
    let d = Scratch::new("filesz");
    let mut e = Ls::new();
    let last = *e.all(PT_LOAD).last().unwrap();
    let memsz = e.u64_at(e.memsz(last));
    let at = e.filesz(last);
    e.set_u64(at, memsz + 1);
    refuses(&d.exe("ls", &e.bytes), 126, &format!("segment {last}: p_filesz exceeds p_memsz"));
}

#[test]
fn too_many_program_headers() {
    let d = Scratch::new("phnum");
    let mut e = Ls::new();
    e.bytes[56..58].copy_from_slice(&1000u16.to_le_bytes());
    refuses(&d.exe("ls", &e.bytes), 126, "too many program headers (1000)");
}

#[test]
fn no_program_headers() {
    let d = Scratch::new("phnum0");
    let mut e = Ls::new();
    e.bytes[56..58].copy_from_slice(&0u16.to_le_bytes());
    refuses(&d.exe("ls0", &e.bytes), 126, "ELF file has no program headers");
}

#[test]
fn overlapping_segments() {
    let d = Scratch::new("overlap");
    let mut e = Ls::new();
    let t = e.text();
    let loads = e.all(PT_LOAD);
    let next = loads[loads.iter().position(|&i| i == t).unwrap() + 1];
    // Move the next segment onto the text, keeping it page-congruent.
    let vaddr = e.u64_at(e.vaddr(t)) + e.u64_at(e.offset(next)) % 4096;
    let at = e.vaddr(next);
    e.set_u64(at, vaddr);
    refuses(&d.exe("ls", &e.bytes), 126, &format!("segment {next} overlaps or precedes the previous one"));
}

#[test]
fn entry_outside_text() {
    let d = Scratch::new("entry");
    for (name, entry) in [("data", None), ("nowhere", Some(0x7000_0000_0000u64))] {
        let mut e = Ls::new();
        // A readable, not executable segment, or no segment at all.
        let entry = entry.unwrap_or_else(|| {
            let i = *e.all(PT_LOAD).iter().find(|&&i| e.u32_at(e.ph(i) + 4) & PF_X == 0).unwrap();
            e.u64_at(e.vaddr(i))
        });
        e.set_u64(24, entry);
        refuses(&d.exe(name, &e.bytes), 126, &format!("entry point {entry:#x} is not in an executable segment"));
    }
}

/// /bin/ls with `bytes` at `at`, refused with `reason`.
fn foreign(name: &str, at: usize, bytes: &[u8], reason: &str) {
    let d = Scratch::new(name);
    let mut e = Ls::new();
    e.bytes[at..at + bytes.len()].copy_from_slice(bytes);
    refuses(&d.exe("ls", &e.bytes), 126, reason);
}

#[test]
fn class32() {
    foreign("class32", 4, &[1], "32-bit ELF is not supported"); // EI_CLASS = ELFCLASS32
}

#[test]
fn big_endian() {
    foreign("big-endian", 5, &[2], "big-endian ELF is not supported"); // EI_DATA = ELFDATA2MSB
}

#[test]
fn other_machine() {
    // EM_AARCH64
    foreign("aarch64", 18, &183u16.to_le_bytes(), "ELF for another architecture (e_machine 183, not x86_64)");
}

#[test]
fn relocatable_object() {
    // ET_REL
    foreign("et-rel", 16, &1u16.to_le_bytes(), "ELF type 1 is not an executable or shared object");
}

// --------------------------------------------------------------- PT_INTERP

/// /bin/ls with its PT_INTERP pointing at `path` (NUL included or not),
/// appended to the file, and declared `filesz` long.
fn with_interp(path: &[u8], filesz: u64) -> Vec<u8> {
    let mut e = Ls::new();
    let i = e.all(PT_INTERP)[0];
    let off = e.bytes.len() as u64;
    e.bytes.extend_from_slice(path);
    let (o, fs, ms) = (e.offset(i), e.filesz(i), e.memsz(i));
    e.set_u64(o, off);
    e.set_u64(fs, filesz);
    e.set_u64(ms, filesz);
    e.bytes
}

fn nul_terminated(p: &Path) -> Vec<u8> {
    let mut v = s(p).as_bytes().to_vec();
    v.push(0);
    v
}

#[test]
fn interp_missing() {
    let d = Scratch::new("interp-missing");
    let interp = b"/nonexistent-preld/ld.so\0";
    let p = d.exe("ls", &with_interp(interp, interp.len() as u64));
    // Natively: execve fails with ENOENT.
    let native = Command::new(&p).output().map(|o| o.status);
    assert_eq!(native.map_err(|e| e.raw_os_error()), Err(Some(2)));
    // The file that is missing is the interpreter: it is the one named.
    assert_refused(&ld(&[s(&p)]), 126, "/nonexistent-preld/ld.so", "No such file or directory");
}

#[test]
fn interp_not_a_program() {
    let d = Scratch::new("interp-text");
    let text = d.exe("fake-ld.so", b"not an ELF file at all\n");
    let p = d.exe("ls", &with_interp(&nul_terminated(&text), nul_terminated(&text).len() as u64));
    // Named: the interpreter, with the program it serves.
    let reason = format!("not an ELF executable (interpreter of {})", s(&p));
    assert_refused(&ld(&[s(&p)]), 126, s(&text), &reason);
}

#[test]
fn interp_is_a_directory() {
    let d = Scratch::new("interp-dir");
    let dir = nul_terminated(d.path());
    let p = d.exe("ls-dir", &with_interp(&dir, dir.len() as u64));
    assert_refused(&ld(&[s(&p)]), 126, s(d.path()), "Is a directory");
}

#[test]
fn interp_not_nul_terminated() {
    let d = Scratch::new("interp-nul");
    let p = d.exe("ls", &with_interp(b"/lib64/ld-linux-x86-64.so.2X", 28));
    refuses(&p, 126, "bad PT_INTERP: path is not NUL-terminated");
}

#[test]
fn interp_with_a_nul_inside() {
    let d = Scratch::new("interp-inner-nul");
    let p = d.exe("ls-inner", &with_interp(b"/lib64\0ld-linux-x86-64.so.2\0", 28));
    refuses(&p, 126, "bad PT_INTERP: path contains a NUL byte");
}

#[test]
fn interp_empty() {
    let d = Scratch::new("interp-empty");
    let p = d.exe("ls-empty", &with_interp(b"\0", 1));
    refuses(&p, 126, "bad PT_INTERP: empty path");
}

#[test]
fn interp_absurdly_long() {
    let d = Scratch::new("interp-long");
    let p = d.exe("ls", &with_interp(b"", 1 << 20));
    refuses(&p, 126, "bad PT_INTERP: path longer than PATH_MAX");
    let p = d.exe("ls-max", &with_interp(b"", u64::MAX));
    refuses(&p, 126, "bad PT_INTERP: path longer than PATH_MAX");
}

/// Long enough, but reaching past the end of the file.
#[test]
fn interp_past_the_end_of_the_file() {
    let d = Scratch::new("interp-past");
    let mut e = Ls::new();
    let i = e.all(PT_INTERP)[0];
    let len = e.bytes.len() as u64;
    let at = e.offset(i);
    e.set_u64(at, len - 10);
    refuses(&d.exe("ls-past", &e.bytes), 126, "bad PT_INTERP: path lies outside the file");
}

// ------------------------------------------------------------- #! scripts

#[test]
fn script_interpreter_missing() {
    let d = Scratch::new("script-missing");
    let p = d.exe("script", b"#!/nonexistent-preld/sh\necho hi\n");
    let out = ld(&[s(&p)]);
    assert_refused(&out, 126, "/nonexistent-preld/sh", "No such file or directory");
}

#[test]
fn script_without_interpreter() {
    let d = Scratch::new("script-empty");
    for (name, body) in [("blank", &b"#!\n"[..]), ("spaces", b"#!  \t \necho hi\n"), ("bare", b"#!")] {
        refuses(&d.exe(name, body), 126, "#! line names no interpreter");
    }
}

#[test]
fn script_interpreter_path_too_long() {
    let d = Scratch::new("script-long");
    let mut long = b"#!/".to_vec();
    long.extend(std::iter::repeat_n(b'a', 300));
    refuses(&d.exe("long", &long), 126, "#! line: interpreter path longer than 256 bytes");
}

#[test]
fn script_interpreter_not_executable() {
    let d = Scratch::new("script-interp-644");
    let interp = d.file("interp", b"#!/bin/sh\n", 0o644);
    let p = d.exe("script", format!("#!{}\n", s(&interp)).as_bytes());
    assert_refused(&ld(&[s(&p)]), 126, s(&interp), "Permission denied");
}

/// `levels` scripts, each the interpreter of the next, the innermost run by
/// /bin/sh; returns the outermost.
fn script_chain(d: &Scratch, levels: usize) -> PathBuf {
    let mut interp = PathBuf::from("/bin/sh");
    for i in 0..levels {
        let body = if i == 0 {
            format!("#!{}\nprintf '[%s]' \"$0\" \"$@\"; echo\n", s(&interp))
        } else {
            format!("#!{}\n", s(&interp))
        };
        interp = d.exe(&format!("level{i}"), body.as_bytes());
    }
    interp
}

// The kernel's exec_binprm runs at most 5 nested scripts and fails the
// 6th with ELOOP; ld-preld must draw the line at the same place.

#[test]
fn script_nesting_up_to_5_levels_runs() {
    let d = Scratch::new("nesting");
    for levels in 1..=5 {
        let top = script_chain(&d, levels);
        same_as_native(&top, &["a b", ""]);
    }
}

#[test]
fn script_nesting_6_levels_is_refused() {
    let d = Scratch::new("nesting6");
    let top = script_chain(&d, 6);
    let native = Command::new(&top).output().map(|o| o.status);
    assert_eq!(native.map_err(|e| e.raw_os_error()), Err(Some(40)), "natively: ELOOP");
    refuses(&top, 126, "too many levels of #! interpreters");
    let top = script_chain(&d, 7);
    refuses(&top, 126, "too many levels of #! interpreters");
}

/// Runs `script` natively and under ld-preld with the same arguments:
/// stdout, stderr and the wait status must be identical.
fn same_as_native(script: &Path, args: &[&str]) -> Output {
    let native = run(Command::new(script).args(args));
    let preld = run(Command::new(ld_preld()).arg(script).args(args));
    assert_eq!(preld.status.signal(), None, "under ld-preld: {}", preld.stderr_str());
    assert_eq!(
        (preld.stdout_str(), preld.stderr_str(), preld.status),
        (native.stdout_str(), native.stderr_str(), native.status),
        "{} under ld-preld (left) and natively (right)",
        script.display()
    );
    native
}

#[test]
fn sh_script_sees_its_argv() {
    let d = Scratch::new("sh-script");
    let p = d.exe("show", b"#!/bin/sh\nprintf '[%s]' \"$0\" \"$@\"; echo\nexit 3\n");
    let out = same_as_native(&p, &["one", "two words", "", "-e"]);
    assert_eq!(out.stdout_str(), format!("[{}][one][two words][][-e]\n", s(&p)));
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn script_with_optional_argument() {
    let d = Scratch::new("sh-e");
    // sh -e: the failing `false` ends the script before the last echo.
    let p = d.exe("errexit", b"#!/bin/sh -e\nprintf '[%s]' \"$0\" \"$@\"; echo\nfalse\necho not reached\n");
    let out = same_as_native(&p, &["x"]);
    assert_eq!(out.stdout_str(), format!("[{}][x]\n", s(&p)));
    assert_eq!(out.status.code(), Some(1));
}

/// Blanks around the interpreter and the argument, tab separated.
#[test]
fn script_with_blanks_around_the_interpreter() {
    let d = Scratch::new("sh-blanks");
    let p = d.exe("blanks", b"#! \t/bin/sh\t-e  \nprintf '[%s]' \"$0\" \"$@\"; echo\n");
    same_as_native(&p, &["y"]);
}

/// A short file whose #! line has no newline and ends in a blank: the
/// kernel passes an empty argument (sh then fails to open "").
#[test]
fn script_with_a_trailing_blank_and_no_newline() {
    let d = Scratch::new("sh-trailing");
    let p = d.exe("trailing", b"#!/bin/sh ");
    let out = same_as_native(&p, &[]);
    assert!(!out.status.success());
}

#[test]
fn env_python_script_sees_its_argv() {
    let d = Scratch::new("env-python");
    let python = preld_tests::require_tool("python3", "python3");
    let p = d.exe("show.py", b"#!/usr/bin/env python3\nimport sys\nprint(sys.argv)\n");
    let out = same_as_native(&p, &["1", "two words"]);
    assert_eq!(out.stdout_str(), format!("['{}', '1', 'two words']\n", s(&p)));
    assert!(python.exists());
}

#[test]
fn script_found_in_path() {
    let d = Scratch::new("script-path");
    d.exe("preld-show", b"#!/bin/sh\nprintf '[%s]' \"$0\" \"$@\"; echo\n");
    let path = format!("{}:/usr/bin:/bin", s(d.path()));
    let native = run(Command::new("preld-show").arg("z").env("PATH", &path));
    let preld = run(Command::new(ld_preld()).args(["preld-show", "z"]).env("PATH", &path));
    assert_eq!((preld.stdout_str(), preld.status), (native.stdout_str(), native.status));
    assert_eq!(native.stdout_str(), format!("[{}/preld-show][z]\n", s(d.path())));
}
