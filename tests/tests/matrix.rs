//! The loader's integration matrix: real programs (coreutils, bash, python3,
//! perl, gcc, busybox-static, a static Go program, git, make) and the C
//! programs of tests/programs/c in every ELF kind, each run natively, under
//! `ld-preld PROG`, under `preld run -- PROG` and as a copy patched by `preld
//! patch` (PT_INTERP mode; skipped only for static programs, which have no
//! PT_INTERP). stdout, the wait status and, where deterministic, stderr must
//! be identical. See preld_tests::modes for the harness.
//!
//! A missing host tool fails the test with the Debian package to install.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use preld_tests::modes::{path_str, write_pseudo_random, Case, ElfKind, Expect};
use preld_tests::scratch::test_dir;
use preld_tests::{program, require_file, require_tool};

/// Files the cases read, made once per test process.
struct Fixture {
    /// A directory with fixed names, modes and mtimes, for `ls -la`.
    listing: PathBuf,
    /// Unsorted lines for `sort`.
    unsorted: PathBuf,
    /// A small file to hash.
    small: PathBuf,
    /// 50 MB of fixed pseudo-random bytes.
    big: PathBuf,
}

fn touch(date: &str, path: &Path) {
    let st = Command::new(require_file("/usr/bin/touch", "coreutils"))
        .args(["-h", "-d", date])
        .arg(path)
        .env("TZ", "UTC")
        .status()
        .unwrap();
    assert!(st.success(), "touch -d {date} {} failed", path.display());
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let root = test_dir().join("fixture");
        let parent = root.join("tree");
        let listing = parent.join("listing");
        std::fs::create_dir_all(listing.join("gamma")).unwrap();
        let file = |name: &str, body: &[u8], mode: u32| {
            let p = listing.join(name);
            std::fs::write(&p, body).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            p
        };
        file("alpha", b"alpha\n", 0o644);
        file("beta.txt", &[b'b'; 1000], 0o600);
        file("run.sh", b"#!/bin/sh\necho run\n", 0o755);
        file("gamma/inner", b"inner\n", 0o640);
        symlink("alpha", listing.join("delta")).unwrap();
        for (date, name) in [
            ("2021-02-03 04:05:06", "alpha"),
            ("2020-12-31 23:59:59", "beta.txt"),
            ("2019-07-08 09:10:11", "run.sh"),
            ("2022-01-01 00:00:00", "delta"),
            ("2018-05-06 07:08:09", "gamma/inner"),
            ("2018-05-06 07:08:10", "gamma"),
            ("2023-03-04 05:06:07", ""),
        ] {
            touch(date, &listing.join(name));
        }
        std::fs::set_permissions(&listing, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).unwrap();
        // `ls -la` also shows "..".
        touch("2017-01-02 03:04:05", &parent);

        let unsorted = root.join("unsorted.txt");
        std::fs::write(&unsorted, "pear\nApple\nbanana\n42\napple\npear\n 7\nZebra\n\ncherry\n").unwrap();
        let small = root.join("small.txt");
        std::fs::write(&small, "The quick brown fox jumps over the lazy dog\n".repeat(100)).unwrap();
        let big = root.join("big.bin");
        write_pseudo_random(&big, 50 << 20);
        Fixture {
            listing,
            unsorted,
            small,
            big,
        }
    })
}

fn coreutil(name: &str) -> PathBuf {
    require_file(&format!("/usr/bin/{name}"), "coreutils")
}

fn bash() -> PathBuf {
    require_file("/usr/bin/bash", "bash")
}

// ---------------------------------------------------------------- coreutils

#[test]
fn coreutils_ls_la() {
    Case::exec(
        "coreutils_ls_la",
        coreutil("ls"),
        ["-la".as_ref(), fixture().listing.as_os_str()],
    )
    .stderr()
    .stdout_has("-rw-r--r-- 1 root root    6 Feb  3  2021 alpha")
    .stdout_has("delta -> alpha")
    .check();
}

#[test]
fn coreutils_sort() {
    Case::exec("coreutils_sort", coreutil("sort"), [&fixture().unsorted])
        .stderr()
        .stdout_is("\n 7\n42\nApple\nZebra\napple\nbanana\ncherry\npear\npear\n")
        .check();
}

#[test]
fn coreutils_sha256sum() {
    let f = &fixture().small;
    Case::exec("coreutils_sha256sum", coreutil("sha256sum"), [f])
        .stderr()
        .stdout_has(&format!("  {}\n", f.display()))
        .check();
}

#[test]
fn coreutils_cat_50mb_into_sha256sum() {
    let script = format!("set -o pipefail; {{cat}} {} | {{sha256sum}}", path_str(&fixture().big));
    Case::shell(
        "coreutils_cat_50mb_into_sha256sum",
        &script,
        &[("cat", &coreutil("cat")), ("sha256sum", &coreutil("sha256sum"))],
    )
    .stderr()
    .stdout_has("  -\n")
    .check();
}

#[test]
fn coreutils_date() {
    Case::exec("coreutils_date", coreutil("date"), ["-d", "@1700000000", "+%FT%T%z"])
        .env("TZ", "UTC")
        .stderr()
        .stdout_is("2023-11-14T22:13:20+0000\n")
        .check();
}

#[test]
fn coreutils_false() {
    Case::exec("coreutils_false", coreutil("false"), [""; 0])
        .stderr()
        .expect(Expect::Exit(1))
        .stdout_is("")
        .check();
}

#[test]
fn signal_sh_kill_term_self() {
    let dash = require_file("/usr/bin/dash", "dash");
    Case::exec(
        "signal_sh_kill_term_self",
        dash,
        ["-c", "echo before; kill -TERM $$; echo after"],
    )
    .stderr()
    .expect(Expect::Signal(15))
    .stdout_is("before\n")
    .check();
}

#[test]
fn signal_bash_kill_segv_self() {
    Case::exec(
        "signal_bash_kill_segv_self",
        bash(),
        ["-c", "ulimit -c 0; echo before; kill -SEGV $$; echo after"],
    )
    .stderr()
    .expect(Expect::Signal(11))
    .stdout_is("before\n")
    .check();
}

// ---------------------------------------------------------------- bash, python3, perl, gcc

#[test]
fn bash_pipeline_subshell_trap() {
    let script = r#"trap "echo trapped" EXIT; (echo sub; exit 3); echo $?; printf "a\nb\n" | wc -l; x=$(echo cmd sub | tr a-z A-Z); echo "$x"; for i in 1 2 3; do echo -n "$i "; done; echo; declare -A h=([k]=v); echo "${h[k]} ${#x}""#;
    Case::exec("bash_pipeline_subshell_trap", bash(), ["-c", script])
        .stderr()
        .stdout_is("sub\n3\n2\nCMD SUB\n1 2 3 \nv 7\ntrapped\n")
        .check();
}

#[test]
fn python3_threads_subprocess() {
    let python = require_file("/usr/bin/python3", "python3");
    let script = r#"
import hashlib, subprocess, threading
results = [None] * 8
def work(i):
    h = hashlib.sha256()
    for k in range(2000):
        h.update(f"{i}:{k}".encode())
    results[i] = (sum(x * x for x in range(i * 10000, (i + 1) * 10000)), h.hexdigest()[:16])
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
for i, r in enumerate(results): print(i, *r)
r = subprocess.run(["echo", "x"], capture_output=True, text=True)
print("subprocess:", repr(r.stdout), r.returncode)
print("sorted:", sorted({"b": 2, "a": 1, "c": 3}.items()))
"#;
    // PYTHONHOME: the patched copy lives outside /usr, where python would
    // not find its library by itself; all modes get the same environment.
    Case::exec("python3_threads_subprocess", python, ["-c", script])
        .env("PYTHONHOME", "/usr")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONHASHSEED", "0")
        .stderr()
        .stdout_has("subprocess: 'x\\n' 0")
        .stdout_has("7 ")
        .check();
}

/// node: V8 compiles the hot loop into anonymous executable memory, which
/// preld's fast path must leave alone (only file-backed code is rewritten);
/// its threads, timers, fs and a child process behave as natively.
#[test]
fn node_jit_fs_timers_child() {
    let node = require_tool("node", "nodejs");
    let script = r#"
const fs = require('fs'), cp = require('child_process');
function hot(n) { let s = 0; for (let i = 0; i < n; i++) s = (s + i * i) % 1000003; return s; }
let t = 0; for (let k = 0; k < 200; k++) t = (t + hot(20000)) % 1000003;
console.log('jit', t);
console.log('fs', fs.readFileSync('/etc/hostname').length > 0, fs.readdirSync('/usr').includes('bin'));
console.log('child', JSON.stringify(cp.execFileSync('/bin/echo', ['hi']).toString()));
setTimeout(() => Promise.resolve(7).then(v => console.log('timer then', v)), 20);
"#;
    Case::exec("node_jit_fs_timers_child", node, ["-e", script])
        .stderr()
        .stdout_has("fs true true\nchild \"hi\\n\"\ntimer then 7\n")
        .check();
}

#[test]
fn perl_hash_sprintf_regex() {
    let perl = require_file("/usr/bin/perl", "perl");
    let script = r#"my %h = map { $_ => length($_) * 3 } qw(alpha beta gamma delta); for my $k (sort keys %h) { printf("%-6s|%04d|%x\n", $k, $h{$k}, $h{$k} * 255) } my $s = "2023-11-14T22:13:20"; if ($s =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+)/) { print "date $3/$2/$1 time $4h$5\n" } (my $t = "a-b-c") =~ s/-/+/g; print "$t\n"; print join(",", map { sprintf "%.3f", sqrt($_) } 1..4), "\n";"#;
    Case::exec("perl_hash_sprintf_regex", perl, ["-e", script])
        .stderr()
        .stdout_is("alpha |0015|ef1\nbeta  |0012|bf4\ndelta |0015|ef1\ngamma |0015|ef1\ndate 14/11/2023 time 22h13\na+b+c\n1.000,1.414,1.732,2.000\n")
        .check();
}

#[test]
fn gcc_compile_and_run() {
    let gcc = require_file("/usr/bin/gcc", "gcc");
    let dir = test_dir().join("gcc");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("prog.c"),
        r#"#include <stdio.h>
#include <stdlib.h>
static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
int main(void) {
    int v[] = {5, 3, 9, 1, 7};
    qsort(v, 5, sizeof v[0], cmp);
    for (int i = 0; i < 5; i++)
        printf("%d ", v[i]);
    printf("\ncompiled ok\n");
    return 0;
}
"#,
    )
    .unwrap();
    // gcc (and so cc1, as and ld, its children) under the mode; the result
    // runs natively; the binary itself must be the same in every mode.
    Case::shell(
        "gcc_compile_and_run",
        "rm -f prog && {gcc} -O2 -Wall -o prog prog.c && ./prog && sha256sum prog",
        &[("gcc", &gcc)],
    )
    .cwd(&dir)
    // gcc finds cc1 relative to its own path first: the patched copy is not
    // in /usr/bin. Every mode gets the same environment.
    .env("GCC_EXEC_PREFIX", "/usr/lib/gcc/")
    .stderr()
    .stdout_has("1 3 5 7 9 \ncompiled ok\n")
    .check();
}

// ---------------------------------------------------------------- busybox-static

fn busybox() -> PathBuf {
    require_file("/bin/busybox", "busybox-static")
}

#[test]
fn busybox_echo() {
    Case::exec("busybox_echo", busybox(), ["echo", "hello", "from", "busybox"])
        .kind(ElfKind::Static)
        .stderr()
        .stdout_is("hello from busybox\n")
        .check();
}

#[test]
fn busybox_sha256sum() {
    let f = &fixture().small;
    Case::exec("busybox_sha256sum", busybox(), ["sha256sum".as_ref(), f.as_os_str()])
        .kind(ElfKind::Static)
        .stderr()
        .stdout_has(&format!("  {}\n", f.display()))
        .check();
}

#[test]
fn busybox_ls() {
    Case::exec(
        "busybox_ls",
        busybox(),
        ["ls".as_ref(), "-la".as_ref(), fixture().listing.as_os_str()],
    )
    .kind(ElfKind::Static)
    .stderr()
    .stdout_has("delta -> alpha")
    .check();
}

#[test]
fn busybox_sh() {
    let script = "x=0; for i in 1 2 3 4 5; do x=$((x+i*i)); done; echo sum=$x; f() { return 4; }; f; echo f=$?; \
                  (exit 5); echo sub=$?; echo $(echo nested); echo a b | { read p q; echo $q $p; }";
    Case::exec("busybox_sh", busybox(), ["sh", "-c", script])
        .kind(ElfKind::Static)
        .stderr()
        .stdout_is("sum=55\nf=4\nsub=5\nnested\nb a\n")
        .check();
}

/// busybox sh runs an applet that is not a shell builtin (wc) by exec'ing
/// /proc/self/exe with argv[0] = the applet's name.
#[test]
fn busybox_sh_runs_applet() {
    Case::exec(
        "busybox_sh_runs_applet",
        busybox(),
        ["sh", "-c", "printf 'a\\nb\\nc\\n' | wc -l; echo done"],
    )
    .kind(ElfKind::Static)
    .stderr()
    .stdout_is("3\ndone\n")
    .check();
}

// ---------------------------------------------------------------- Go

#[test]
fn go_static_goroutines() {
    let input = test_dir().join("go-input.txt");
    std::fs::write(&input, (1..=500).map(|i| format!("line {i}\n")).collect::<String>()).unwrap();
    Case::exec("go_static_goroutines", program("go-hello"), [&input])
        .kind(ElfKind::StaticExec)
        .stderr()
        .stdout_has("goroutines=200 ")
        .stdout_has("file lines=500 ")
        .stdout_has("timer fired")
        .check();
}

// ---------------------------------------------------------------- git, make

#[test]
fn git_version() {
    let git = require_file("/usr/bin/git", "git");
    Case::exec("git_version", git, ["--version"])
        .stderr()
        .stdout_has("git version ")
        .check();
}

#[test]
fn make_version() {
    let make = require_file("/usr/bin/make", "make");
    Case::exec("make_version", make, ["--version"])
        .stderr()
        .stdout_has("GNU Make")
        .check();
}

// ---------------------------------------------------------------- C programs

/// The four ELF kinds build.rs links each C program in.
fn c_kind(suffix: &str) -> ElfKind {
    match suffix {
        "dyn-pie" => ElfKind::DynPie,
        "dyn-exec" => ElfKind::DynExec,
        "static-exec" => ElfKind::StaticExec,
        "static-pie" => ElfKind::StaticPie,
        _ => unreachable!("{suffix}"),
    }
}

/// A case for the C program NAME in KIND (a build.rs suffix).
fn c_case(name: &str, kind: &str, args: &[&str]) -> Case {
    Case::exec(
        &format!("c_{name}_{}", kind.replace('-', "_")),
        program(&format!("{name}-{kind}")),
        args,
    )
    .kind(c_kind(kind))
}

/// One #[test] per ELF kind, in a module named after the case.
macro_rules! c_tests {
    ($module:ident: [$($kind:ident),*] $build:expr) => {
        mod $module {
            $(
                #[test]
                fn $kind() {
                    let build: fn(&str) -> preld_tests::modes::Case = $build;
                    build(&stringify!($kind).replace('_', "-")).check();
                }
            )*
        }
    };
}

c_tests!(c_hello: [dyn_pie, dyn_exec, static_exec, static_pie] |k| {
    super::c_case("hello", k, &["one", "two words"])
        .env("PRELD_TEST_VALUE", "v=1")
        .stderr()
        .expect(super::Expect::Exit(7))
        .stdout_has("argv[2]=two words\nPRELD_TEST_VALUE=v=1\n")
});

c_tests!(c_fault_segv: [dyn_pie, dyn_exec, static_exec, static_pie] |k| {
    super::c_case("fault", k, &["segv"]).stderr().expect(super::Expect::Signal(11)).stdout_is("fault: segv\n")
});

c_tests!(c_fault_abort: [dyn_pie, dyn_exec, static_exec, static_pie] |k| {
    super::c_case("fault", k, &["abort"]).stderr().expect(super::Expect::Signal(6)).stdout_is("fault: abort\n")
});

c_tests!(c_fault_exit: [dyn_pie, dyn_exec, static_exec, static_pie] |k| {
    super::c_case("fault", k, &["exit", "42"]).stderr().expect(super::Expect::Exit(42)).stdout_is("fault: exit\n")
});

c_tests!(c_bigbss: [dyn_pie, dyn_exec, static_exec, static_pie] |k| {
    super::c_case("bigbss", k, &[]).stderr().stdout_has("bigbss: zero=yes sum=737283 data=1,2,3,0")
});

c_tests!(c_tls: [dyn_pie, dyn_exec, static_exec, static_pie] |k| {
    super::c_case("tls", k, &[]).stderr().stdout_has("tls id=8 initial=ok").stdout_has("main after: 42 thread-0\n")
});

c_tests!(c_threads: [dyn_pie, dyn_exec, static_exec, static_pie] |k| {
    super::c_case("threads", k, &[]).stderr().stdout_has("arrived=8\n")
});

// dlopen needs the dynamic linker: dynamic kinds only.
c_tests!(c_dlopen: [dyn_pie, dyn_exec] |k| {
    super::c_case("dlopen", k, &[])
        .stderr()
        .stdout_is("plugin_value(13)=40\nplugin_tls=77,78\ncos(0.5)=0.877582562 pow(2,0.5)=1.414213562\nplugin_getppid across dlclose/dlopen: right\ndlclose=0,0\n")
});

c_tests!(c_auxv: [dyn_pie, dyn_exec, static_exec, static_pie] |k| {
    let mut c = super::c_case("auxv", k, &[]).stderr().stdout_has("AT_PAGESZ=4096\n");
    // Natively every check holds: the cases compare the same text under preld.
    for check in [
        "AT_PHDR is this program's headers",
        "AT_PHNUM is e_phnum",
        "AT_ENTRY is _start",
        "AT_BASE is ld.so (dl_iterate_phdr)",
        "AT_BASE is ld.so (/proc/self/maps)",
        "AT_EXECFN is the path run",
        "AT_RANDOM has 16 readable bytes",
        "AT_SYSINFO_EHDR is an ELF header",
    ] {
        c = c.stdout_has(&format!("{check}: yes\n"));
    }
    c
});
