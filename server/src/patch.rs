//! `preld patch`: copy a dynamically linked program, making ld-preld its interpreter.
//!
//! The copy is the original byte for byte plus one region appended at the end
//! (new program-header table, ld-preld's path, the original interpreter's path)
//! and a PT_LOAD that maps it. Nothing is moved, so section headers, symbol
//! tables and debug data stay valid.

use std::fs::{self, Permissions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::header::{self, Header, EI_CLASS, EI_DATA, ELFCLASS64, ELFDATA2LSB, EM_X86_64};
use goblin::elf::program_header::{ProgramHeader, PF_R, PT_INTERP, PT_LOAD, PT_PHDR};
use goblin::elf::Elf;
use preld_loader::elf::{PT_PRELD_INTERP, USER_END};
use preld_loader::{page_up, PAGE};

use crate::{reason, PatchArgs};

pub const LONG_ABOUT: &str = "\
Write a copy of a dynamically linked program whose interpreter is ld-preld.

OUT is IN byte for byte plus one region appended at its end: a new
program-header table, ld-preld's absolute path as OUT's interpreter
(PT_INTERP), and IN's original interpreter (usually
/lib64/ld-linux-x86-64.so.2), recorded for ld-preld. When OUT is executed, the
kernel starts ld-preld for it, and ld-preld starts the recorded interpreter
with preld's system-call handler underneath: OUT runs under preld without
`preld run`, also when other programs execute it. OUT gets IN's permissions.

IN may itself be a patched program: its recorded interpreter is kept, so
patching again only changes the ld-preld path. OUT may be IN. Static programs
have no interpreter to replace: run them with `preld run`.

OUT names ld-preld by its absolute path. Moved to a machine where ld-preld
lives elsewhere (or nowhere), OUT cannot start: the kernel cannot find its
interpreter, so exec fails with ENOENT, and shells print \"No such file or
directory\", \"required file not found\" or \"not found\" although OUT exists.
Fix it there by running that machine's `preld patch OUT OUT`, or patch with
--interp naming where ld-preld will be; or run it with `preld run OUT`.";

/// Size of one Elf64_Phdr.
const PHDR_SIZE: usize = 56;
/// Offsets of e_phoff and e_phnum in an Elf64_Ehdr.
const E_PHOFF: usize = 32;
const E_PHNUM: usize = 56;
/// The kernel reads at most one page of program headers.
const MAX_TABLE: usize = PAGE as usize;
/// The kernel's limit for an interpreter path, NUL included (PATH_MAX).
const MAX_INTERP: usize = 4096;

pub fn main(args: PatchArgs) -> ExitCode {
    let interp = match args.interp {
        Some(p) if p.is_absolute() => p,
        Some(p) => return fail(&p, "--interp must be an absolute path"),
        None => match crate::ld_preld() {
            Ok(ld) => match ld.canonicalize() {
                Ok(ld) => ld,
                Err(e) => return fail(&ld, &reason(&e)),
            },
            Err(why) => {
                eprintln!("preld: patch: {why} (give its path with --interp)");
                return ExitCode::FAILURE;
            }
        },
    };
    match patch_file(&args.input, &args.output, interp.as_os_str().as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err((file, why)) => fail(&file, &why),
    }
}

fn fail(file: &Path, why: &str) -> ExitCode {
    eprintln!("preld: patch: {}: {why}", file.display());
    ExitCode::FAILURE
}

/// Writes the patched copy of `input` to `output`; on error, the file the
/// error is about and why.
pub fn patch_file(input: &Path, output: &Path, interp: &[u8]) -> Result<(), (PathBuf, String)> {
    fn on(file: &Path) -> impl Fn(io::Error) -> (PathBuf, String) + '_ {
        move |e| (file.to_owned(), reason(&e))
    }
    let bytes = fs::read(input).map_err(on(input))?;
    let perms = fs::metadata(input).map_err(on(input))?.permissions();
    let out = patched(&bytes, interp).map_err(|why| (input.to_owned(), why))?;
    replace(output, &out, perms).map_err(on(output))
}

/// Writes a new file and renames it over `path`: a running program keeps its
/// inode, and `path` is never seen half written (it may be the input).
fn replace(path: &Path, bytes: &[u8], perms: Permissions) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().set_permissions(perms)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The patched image of ELF file `file`, with interpreter `interp`.
pub fn patched(file: &[u8], interp: &[u8]) -> Result<Vec<u8>, String> {
    if interp.is_empty() || interp.contains(&0) || interp.len() >= MAX_INTERP {
        return Err("unusable interpreter path".into());
    }
    if !file.starts_with(b"\x7fELF") {
        return Err("not an ELF file".into());
    }
    let hdr = Elf::parse_header(file).map_err(|_| "corrupt ELF header")?;
    if hdr.e_ident[EI_CLASS] != ELFCLASS64 || hdr.e_ident[EI_DATA] != ELFDATA2LSB || hdr.e_machine != EM_X86_64 {
        return Err("not a 64-bit x86_64 program".into());
    }
    if hdr.e_type != header::ET_EXEC && hdr.e_type != header::ET_DYN {
        return Err("not an executable program".into());
    }
    if usize::from(hdr.e_phentsize) != PHDR_SIZE {
        return Err("corrupt program headers".into());
    }
    let ctx = Ctx::new(Container::Big, Endian::Little);
    let phdrs = usize::try_from(hdr.e_phoff)
        .ok()
        .and_then(|off| ProgramHeader::parse(file, off, hdr.e_phnum.into(), ctx).ok())
        .ok_or("corrupt program headers")?;
    let find = |t: u32| phdrs.iter().find(|p| p.p_type == t);
    let original = match (find(PT_PRELD_INTERP), find(PT_INTERP)) {
        (Some(rec), _) => string_at(file, rec).ok_or("corrupt recorded interpreter path")?,
        (None, Some(i)) => string_at(file, i).ok_or("corrupt PT_INTERP")?,
        (None, None) => return Err("static program, run it with `preld run` instead".into()),
    };
    let Some(self_ref) = find(PT_PHDR) else {
        return Err("no PT_PHDR: ld.so would not find the moved program headers".into());
    };

    // Re-patching drops the previous region instead of stacking another one,
    // so that patching is idempotent and the header count stays bounded.
    let (kept_len, dropped) = match find(PT_PRELD_INTERP).and(previous_region(file, &hdr, &phdrs)) {
        Some((i, off)) => (off, Some(i)),
        None => (file.len(), None),
    };
    let rest: Vec<&ProgramHeader> = phdrs
        .iter()
        .enumerate()
        .filter(|&(i, p)| Some(i) != dropped && ![PT_PHDR, PT_INTERP, PT_PRELD_INTERP].contains(&p.p_type))
        .map(|(_, p)| p)
        .collect();

    let count = rest.len() + 4;
    let table = count * PHDR_SIZE;
    if table > MAX_TABLE {
        return Err("too many program headers".into());
    }
    let interp_at = table as u64;
    let original_at = interp_at + interp.len() as u64 + 1;
    let size = original_at + original.len() as u64 + 1;
    let offset = page_up(kept_len as u64).ok_or("file too large")?;
    let top = rest
        .iter()
        .filter(|p| p.p_type == PT_LOAD)
        .try_fold(0u64, |top, p| p.p_vaddr.checked_add(p.p_memsz).map(|end| top.max(end)))
        .and_then(page_up)
        .filter(|v| v.checked_add(size).is_some_and(|end| end <= USER_END))
        .ok_or("segments reach the end of the address space")?;
    // Page-aligned file offset and address: p_offset ≡ p_vaddr mod the page
    // size. Kernels before 5.18 derived AT_PHDR from the first PT_LOAD
    // instead of the one holding e_phoff; they would misplace this table.
    let place = |p: &ProgramHeader, at: u64, len: u64| ProgramHeader {
        p_offset: offset + at,
        p_vaddr: top + at,
        p_paddr: top + at,
        p_filesz: len,
        p_memsz: len,
        ..p.clone()
    };
    let region = ProgramHeader {
        p_type: PT_LOAD,
        p_flags: PF_R,
        p_align: PAGE,
        ..place(self_ref, 0, size)
    };
    let string = |p_type, at, len: usize| ProgramHeader {
        p_type,
        p_flags: PF_R,
        p_align: 1,
        ..place(self_ref, at, len as u64 + 1)
    };
    let last_load = rest.iter().rposition(|p| p.p_type == PT_LOAD);
    let mut headers = vec![
        place(self_ref, 0, table as u64),
        string(PT_INTERP, interp_at, interp.len()),
    ];
    for (k, p) in rest.iter().enumerate() {
        headers.push((*p).clone());
        if Some(k) == last_load {
            headers.push(region.clone());
        }
    }
    if last_load.is_none() {
        headers.push(region);
    }
    headers.push(string(PT_PRELD_INTERP, original_at, original.len()));

    let mut out = file[..kept_len].to_vec();
    out.resize(offset as usize, 0);
    for h in &headers {
        for field in [h.p_type, h.p_flags] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        for field in [h.p_offset, h.p_vaddr, h.p_paddr, h.p_filesz, h.p_memsz, h.p_align] {
            out.extend_from_slice(&field.to_le_bytes());
        }
    }
    for s in [interp, &original] {
        out.extend_from_slice(s);
        out.push(0);
    }
    out[E_PHOFF..E_PHOFF + 8].copy_from_slice(&offset.to_le_bytes());
    out[E_PHNUM..E_PHNUM + 2].copy_from_slice(&(count as u16).to_le_bytes());
    Ok(out)
}

/// The NUL-terminated path a PT_INTERP-like header describes, without the NUL.
fn string_at(file: &[u8], p: &ProgramHeader) -> Option<Vec<u8>> {
    let start = usize::try_from(p.p_offset).ok()?;
    let bytes = file.get(start..start.checked_add(usize::try_from(p.p_filesz).ok()?)?)?;
    match bytes.split_last() {
        Some((0, s)) if !s.is_empty() && !s.contains(&0) && bytes.len() <= MAX_INTERP => Some(s.to_vec()),
        _ => None,
    }
}

/// In a patched file: the PT_LOAD index and file offset of the region a
/// previous `preld patch` appended, if it is still the file's tail and nothing
/// but the headers this patch replaces points into it.
fn previous_region(file: &[u8], hdr: &Header, phdrs: &[ProgramHeader]) -> Option<(usize, usize)> {
    let (i, load) = phdrs
        .iter()
        .enumerate()
        .find(|(_, p)| p.p_type == PT_LOAD && p.p_offset == hdr.e_phoff)?;
    let start = usize::try_from(load.p_offset).ok()?;
    if load.p_offset.checked_add(load.p_filesz)? != file.len() as u64 {
        return None;
    }
    let sections_end = hdr.e_shoff + u64::from(hdr.e_shnum) * u64::from(hdr.e_shentsize);
    let others_before = phdrs.iter().enumerate().all(|(j, p)| {
        j == i
            || [PT_PHDR, PT_INTERP, PT_PRELD_INTERP].contains(&p.p_type)
            || p.p_filesz == 0
            || p.p_offset.saturating_add(p.p_filesz) <= load.p_offset
    });
    (others_before && (hdr.e_shnum == 0 || sections_end <= load.p_offset)).then_some((i, start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    const LD: &str = "/opt/preld/ld-preld";
    const LD_SO: &[u8] = b"/lib64/ld-linux-x86-64.so.2";
    const PROGRAMS: &[&str] = &[
        "/bin/ls",
        "/usr/bin/python3",
        "/usr/bin/bash",
        "/usr/bin/perl",
        "/usr/bin/gcc",
    ];

    fn programs() -> impl Iterator<Item = &'static Path> {
        let found: Vec<_> = PROGRAMS.iter().map(Path::new).filter(|p| p.exists()).collect();
        assert!(!found.is_empty(), "none of {PROGRAMS:?} on this machine");
        found.into_iter()
    }

    /// Checks everything ld-preld, ld.so and the kernel rely on in a patch of
    /// `input`, and returns the patched bytes.
    fn check(input: &Path, patched: &Path, interp: &str) -> Vec<u8> {
        let bytes = fs::read(patched).unwrap();
        let elf = Elf::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", patched.display()));
        assert_eq!(elf.interpreter, Some(interp));
        let ph = &elf.program_headers;
        assert_eq!(ph[0].p_type, PT_PHDR);
        assert_eq!(ph[1].p_type, PT_INTERP);
        assert_eq!(ph[0].p_offset, elf.header.e_phoff);
        assert_eq!(ph[0].p_filesz, ph.len() as u64 * PHDR_SIZE as u64);

        let rec = ph.iter().filter(|p| p.p_type == PT_PRELD_INTERP).collect::<Vec<_>>();
        assert_eq!(rec.len(), 1);
        assert_eq!(string_at(&bytes, rec[0]).unwrap(), LD_SO);

        let loads: Vec<_> = ph.iter().filter(|p| p.p_type == PT_LOAD).collect();
        for w in loads.windows(2) {
            assert!(
                w[0].p_vaddr + w[0].p_memsz <= w[1].p_vaddr,
                "PT_LOADs unsorted or overlapping"
            );
        }
        let mapped = |p: &ProgramHeader| {
            loads.iter().any(|l| {
                l.p_offset <= p.p_offset
                    && p.p_offset + p.p_filesz <= l.p_offset + l.p_filesz
                    && p.p_vaddr - l.p_vaddr == p.p_offset - l.p_offset
            })
        };
        assert!(
            mapped(&ph[0]) && mapped(&ph[1]) && mapped(rec[0]),
            "new headers or strings not mapped"
        );
        assert!(loads.iter().all(|l| l.p_offset % PAGE == l.p_vaddr % PAGE));

        // The table lives at the runtime address the loader finds it at.
        let table = &bytes[ph[0].p_offset as usize..][..ph[0].p_filesz as usize];
        assert_eq!(
            preld_loader::elf::recorded_interpreter(table, ph[0].p_vaddr as usize),
            Ok(Some((rec[0].p_vaddr as usize, LD_SO.len() + 1)))
        );
        assert_eq!(
            fs::metadata(input).unwrap().permissions().mode(),
            fs::metadata(patched).unwrap().permissions().mode()
        );
        bytes
    }

    #[test]
    fn patches_real_programs_and_keeps_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        for input in programs() {
            let out = dir.path().join(input.file_name().unwrap());
            patch_file(input, &out, LD.as_bytes()).unwrap();
            let patched = check(input, &out, LD);
            let original = fs::read(input).unwrap();
            let mut header = original[..64].to_vec();
            header[E_PHOFF..E_PHOFF + 8].copy_from_slice(&patched[E_PHOFF..E_PHOFF + 8]);
            header[E_PHNUM..E_PHNUM + 2].copy_from_slice(&patched[E_PHNUM..E_PHNUM + 2]);
            assert_eq!(patched[..64], header[..], "{}: header", input.display());
            assert!(
                patched[64..original.len()] == original[64..],
                "{}: bytes changed",
                input.display()
            );
        }
    }

    #[test]
    fn repatching_keeps_the_original_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        for input in programs() {
            let once = dir.path().join("once");
            let twice = dir.path().join("twice");
            patch_file(input, &once, LD.as_bytes()).unwrap();
            patch_file(&once, &twice, b"/elsewhere/ld-preld").unwrap();
            check(input, &twice, "/elsewhere/ld-preld");
            // In place, back to the first path: the same bytes as the first patch.
            patch_file(&twice, &twice, LD.as_bytes()).unwrap();
            assert!(
                fs::read(&once).unwrap() == fs::read(&twice).unwrap(),
                "{}",
                input.display()
            );
        }
    }

    /// A statically linked program: busybox where installed, else one built
    /// with `cc -static`.
    fn static_program(dir: &Path) -> PathBuf {
        let busybox = Path::new("/bin/busybox");
        if fs::read(busybox).is_ok_and(|b| Elf::parse(&b).is_ok_and(|e| e.interpreter.is_none())) {
            return busybox.to_owned();
        }
        let src = dir.join("static.c");
        let exe = dir.join("static");
        fs::write(&src, "int main(void) { return 0; }\n").unwrap();
        let status = Command::new("cc").arg("-static").arg("-o").arg(&exe).arg(&src).status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "no static program: /bin/busybox missing and `cc -static` failed"
        );
        exe
    }

    #[test]
    fn rejects_what_it_cannot_patch() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let why = |input: &Path| patch_file(input, &out, LD.as_bytes()).unwrap_err().1;

        assert!(why(&static_program(dir.path())).starts_with("static program"));
        assert_eq!(why(&dir.path().join("missing")), "No such file or directory");
        let text = dir.path().join("text");
        fs::write(&text, "#!/bin/sh\n").unwrap();
        assert_eq!(why(&text), "not an ELF file");

        let mut bytes = fs::read("/bin/ls").unwrap();
        bytes[EI_CLASS] = 1;
        assert_eq!(
            patched(&bytes, LD.as_bytes()).unwrap_err(),
            "not a 64-bit x86_64 program"
        );

        // Turning PT_PHDR into PT_NULL leaves a program ld.so could not run patched.
        let mut bytes = fs::read("/bin/ls").unwrap();
        let phoff = u64::from_le_bytes(bytes[E_PHOFF..E_PHOFF + 8].try_into().unwrap()) as usize;
        assert_eq!(bytes[phoff..phoff + 4], PT_PHDR.to_le_bytes());
        bytes[phoff..phoff + 4].fill(0);
        assert!(patched(&bytes, LD.as_bytes()).unwrap_err().starts_with("no PT_PHDR"));
        assert!(!out.exists());
    }
}
