//! `preld shell`, the capability shell (issue 11): each command runs in a
//! `preld pola -B` session of its own, granted what its line names. The
//! grants rule (a named file is readable and its unnamed sibling does not
//! exist; `=> FILE` and `+ DIR` are writable), pipelines and redirections
//! (opened by the shell), `cd` and relative names (below /tmp, where -B's
//! private /tmp holds the session's directory, and elsewhere, where it is
//! an empty directory of the namespace), sh's statuses, syntax errors the
//! shell survives, commands piped in without a terminal, and a user at a
//! terminal (tests/programs/shell/interactive.py drives a pty: completion,
//! history, ^C, ^Z and fg, ^D).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use preld_tests::run::{run, run_limited, Output};
use preld_tests::scratch::{case_dir, Scratch};
use preld_tests::{fast_env, preld, require_tool, root};

/// The environment of every run (the test's own is not passed on).
const ENV: [(&str, &str); 3] = [("PATH", "/usr/bin:/bin"), ("LC_ALL", "C"), ("HOME", "/nonexistent")];

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(preld());
    c.arg("shell").args(args).env_clear().envs(ENV).envs(fast_env()).current_dir(dir);
    c
}

/// `preld shell -c SCRIPT` in `dir`.
fn shell(dir: &Path, script: &str) -> Output {
    run(command(dir, &["-c", script]))
}

/// A directory with a, b (siblings), sub/c and notexec (mode 644).
fn fixture(name: &str) -> Scratch {
    let d = Scratch::new(&format!("shell-{name}"));
    d.write("a", "alpha\n");
    d.write("b", "beta\n");
    d.write("sub/c", "gamma\n");
    d.file("notexec", "#!/bin/sh\n", 0o644);
    d
}

fn assert_out(o: &Output, stdout: &str, what: &str) {
    assert_eq!(o.stdout_str(), stdout, "{what}: {}", o.report());
}

fn assert_err_has(o: &Output, says: &[&str], what: &str) {
    for s in says {
        assert!(o.stderr_str().contains(s), "{what}: stderr lacks `{s}`: {}", o.report());
    }
}

#[test]
fn a_named_file_is_readable_and_its_unnamed_sibling_does_not_exist() {
    let d = fixture("names");
    let abs_b = d.join("b");
    let script = format!(
        "cat a\n\
         sh -c 'cat \"$0\"; cat b' a; echo st=$?\n\
         sh -c 'cat b'; echo st=$?\n\
         cat {b}\n\
         cat sub/c; ls sub\n\
         sh -c 'echo more >> \"$0\"' a; echo st=$?\n",
        b = abs_b.display()
    );
    let o = shell(d.path(), &script);
    assert_out(&o, "alpha\nalpha\nst=1\nst=1\nbeta\ngamma\nc\nst=2\n", "grants");
    assert_err_has(&o, &["cat: b: No such file or directory", "cannot create a: Read-only file system"], "grants");
    assert_eq!(std::fs::read_to_string(d.join("a")).unwrap(), "alpha\n", "a read-only grant is not written");
}

#[test]
fn rw_file_and_rw_dir_grants() {
    let d = fixture("rw");
    d.dir("outdir");
    let o = shell(
        d.path(),
        "sh -c 'echo written > \"$0\"' => out\n\
         sh -c 'echo appended >> \"$0\"' => out\n\
         sh -c 'echo no > \"$0\"' b; echo b=$?\n\
         sh -c 'echo made > \"$0\"/f && mkdir \"$0\"/g' + outdir; echo dir=$?\n\
         sh -c 'echo no > \"$0\"/h' outdir; echo ro=$?\n\
         cat => no/such/dir/f; echo missing=$?\n\
         expr 1 + 2; echo plus=$?; expr 1 '+' 2\n",
    );
    assert_out(&o, "b=2\ndir=0\nro=2\nmissing=1\nplus=1\n3\n", "=> and +");
    assert!(!d.join("2").exists(), "a lone + makes no directory");
    assert_err_has(&o, &["2: No such directory (`+ DIR` grants an existing directory"], "+ of a missing directory");
    assert_eq!(std::fs::read_to_string(d.join("out")).unwrap(), "written\nappended\n");
    assert_eq!(std::fs::read_to_string(d.join("b")).unwrap(), "beta\n");
    assert_eq!(std::fs::read_to_string(d.join("outdir/f")).unwrap(), "made\n", "+ DIR is writable");
    assert!(d.join("outdir/g").is_dir());
    assert!(!d.join("outdir/h").exists());
    assert_err_has(&o, &["preld shell: no/such/dir/f: No such file or directory"], "=> in a missing directory");
}

#[test]
fn pipelines_and_redirections_opened_by_the_shell() {
    let d = fixture("pipes");
    let o = shell(
        d.path(),
        "cat a | tr a-z A-Z > upper; cat upper\n\
         tr a-z A-Z < b\n\
         cat a >> log; cat b >> log; wc -l < log\n\
         cat nosuch 2> err; cat err\n\
         cat nosuch 2>&1 | tr a-z A-Z\n\
         sh -c 'echo three >&3' 3> f3; cat f3\n\
         sh -c 'echo out; echo err >&2' &> both; sort both\n\
         echo into > sub/new; cat sub/new\n\
         > empty; wc -c < empty\n\
         cat < missing; echo st=$?\n",
    );
    assert_out(
        &o,
        "ALPHA\nBETA\n2\ncat: nosuch: No such file or directory\nCAT: NOSUCH: NO SUCH FILE OR DIRECTORY\nthree\nerr\nout\ninto\n0\nst=1\n",
        "pipes",
    );
    assert_err_has(&o, &["preld shell: missing: No such file or directory"], "a missing input");
}

/// `cd` changes where relative names resolve, in the shell and in the
/// sessions, below /tmp (-B's private /tmp) and elsewhere.
#[test]
fn cd_changes_where_relative_names_resolve() {
    let tmp = fixture("cd");
    let elsewhere = case_dir("cd");
    for (f, name) in [("a", "alpha\n"), ("b", "beta\n"), ("sub/c", "gamma\n")] {
        preld_tests::scratch::write(&elsewhere.join(f), name);
    }
    for d in [tmp.path(), elsewhere.as_path()] {
        let home = d.join("sub");
        let mut c = command(d, &["-c", "cd sub; cat c; cat ../a; pwd; /bin/pwd; cd ..; cat sub/c; cd -; cd; pwd; cd /no/such; echo st=$?"]);
        c.env("HOME", &home);
        let o = run(c);
        let s = d.join("sub");
        let s = s.display();
        assert_out(&o, &format!("gamma\nalpha\n{s}\n{s}\ngamma\n{s}\n{s}\nst=1\n"), &format!("cd in {}", d.display()));
        assert_err_has(&o, &["cd: /no/such: No such file or directory"], "cd");
    }
}

#[test]
fn statuses_are_sh_s() {
    let d = fixture("status");
    let o = shell(
        d.path(),
        "false && echo x; echo a=$?\n\
         true || echo y; echo b=$?\n\
         false || echo c\n\
         ! false; echo d=$?\n\
         sh -c 'exit 3' | true; echo e=$?\n\
         true | sh -c 'exit 4'; echo f=$?\n\
         sh -c 'kill -TERM $$'; echo g=$?\n\
         no-such-command-here; echo h=$?\n\
         ./notexec; echo i=$?\n\
         true; echo j=$?\n\
         sh -c 'exit 5'",
    );
    assert_out(&o, "a=1\nb=0\nc\nd=0\ne=0\nf=4\ng=143\nh=127\ni=126\nj=0\n", "statuses");
    assert_err_has(&o, &["no-such-command-here: command not found", "./notexec: Permission denied", "Terminated"], "statuses");
    assert_eq!(o.status.code(), Some(5), "the shell ends with the last status: {}", o.report());
    let o = shell(d.path(), "exit 9; echo not-here");
    assert_eq!((o.status.code(), o.stdout_str().as_str()), (Some(9), ""), "{}", o.report());
}

#[test]
fn syntax_errors_say_what_and_the_shell_goes_on() {
    let d = fixture("syntax");
    let script = Scratch::new("shell-syntax-script");
    let file = script.write(
        "script",
        "cat <\necho $?\n| cat\necho $?\nif true; then echo; fi\necho $?\necho $(ls)\necho $?\ncp a =>\necho $?\n\
         cat a |\n tr a-z A-Z\necho 'unterminated\n",
    );
    let o = run(command(d.path(), &[file.to_str().unwrap()]));
    assert_out(&o, "2\n2\n2\n2\n2\nALPHA\n", "syntax errors");
    assert_err_has(
        &o,
        &[
            "preld shell: syntax error: a redirection needs a file name",
            "syntax error: unexpected `|`",
            "syntax error: `if`: compound commands are not supported",
            "syntax error: command substitution",
            "syntax error: `=>` needs a file name",
            "syntax error: unterminated single quote",
        ],
        "syntax errors",
    );
    assert_eq!(o.status.code(), Some(2), "{}", o.report());
}

/// No terminal: lines are read from the pipe with no prompt, one byte at a
/// time, so a command reading the shell's input gets the next line.
#[test]
fn commands_piped_in_without_a_terminal() {
    let d = fixture("pipe-in");
    let input = Scratch::new("shell-pipe-input");
    let file = input.write("in", "cat a\nsh -c 'read x; echo \"got $x\"'\nthe next line\necho after\n");
    let mut c = Command::new(require_tool("sh", "dash"));
    c.args(["-c", "cat \"$1\" | \"$0\" shell"]).arg(preld()).arg(&file);
    c.env_clear().envs(ENV).envs(fast_env()).current_dir(d.path());
    let o = run(c);
    assert_out(&o, "alpha\ngot the next line\nafter\n", "piped in");
    assert_eq!((o.status.code(), o.stderr_str().as_str()), (Some(0), ""), "{}", o.report());
}

#[test]
fn globs_variables_and_background_jobs() {
    let d = fixture("words");
    d.write("x.txt", "X\n");
    d.write("y.txt", "Y\n");
    let o = shell(
        d.path(),
        "cat *.txt\n\
         F=x.txt; cat $F; sh -c 'echo ${F:-not-exported}'; export F; sh -c 'echo $F'\n\
         G='x.txt y.txt'; cat $G 2>/dev/null; echo split=$?\n\
         X=1 sh -c 'echo X=$X'\n\
         sh -c 'sleep 0.2; echo bg > \"$0\"' => f &\n\
         echo before; wait; cat f\n",
    );
    assert_out(&o, "X\nY\nX\nnot-exported\nx.txt\nsplit=1\nX=1\nbefore\nbg\n", "globs and variables");
}

#[test]
fn verbose_shows_each_session_s_grants() {
    let d = fixture("verbose");
    d.dir("outdir");
    let o = run(command(d.path(), &["-v", "-c", "cat a => o + outdir > /dev/null"]));
    let p = d.path().display();
    assert_err_has(&o, &[&format!("--ro={p}/a"), &format!("--rw={p}/o"), &format!("--rw={p}/outdir"), &format!("--cwd {p} -- cat a o outdir")], "-v");
    assert!(!o.stderr_str().contains(&format!("{p}/b")), "nothing unnamed is granted: {}", o.report());
}

#[test]
fn help_says_how_grants_are_made() {
    let d = fixture("help");
    let o = run(command(d.path(), &["--help"]));
    assert!(o.status.success());
    for s in ["=> FILE", "+ DIR", "shell_history", "read-only"] {
        assert!(o.stdout_str().contains(s), "--help lacks `{s}`: {}", o.report());
    }
    let o = shell(d.path(), "help");
    assert!(o.stdout_str().contains("=> FILE") && o.stdout_str().contains("builtins"), "{}", o.report());
}

/// A user at a terminal (a pty): Tab completion, the up arrow, the history
/// kept across shells, ^C at the prompt and during a command, a program
/// reading the terminal, ^Z, jobs and fg, ^D, exit N.
#[test]
fn a_user_at_a_terminal() {
    let py = require_tool("python3", "python3");
    let d = Scratch::new("shell-tty");
    d.write("completeme.txt", "the completed file\n");
    let state: PathBuf = d.dir(".state");
    let mut c = Command::new(py);
    c.arg(root().join("tests/programs/shell/interactive.py")).arg(preld()).arg(d.path()).arg(&state);
    c.envs(fast_env());
    let o = run_limited(c, Duration::from_secs(120)).unwrap_or_else(|e| panic!("interactive.py: {e}"));
    assert!(o.status.success(), "{}", o.report());
    let history = std::fs::read_to_string(state.join("preld/shell_history")).unwrap();
    assert!(history.contains("cat completeme.txt\n") && history.contains("exit 3"), "history: {history}");
}

/// Session-20b adversary: a command given `+ out` plants symlinks there to
/// files and directories it was not given; the next command's glob over
/// `out` must not grant what they lead to (the user never saw those
/// names). A link to a sibling is granted as before; the planted links
/// stay arguments the session cannot follow.
#[test]
fn a_symlink_a_glob_matches_does_not_grant_its_target() {
    let d = fixture("glob-links");
    d.dir("out");
    let key = d.write("secret/key.txt", "TOPSECRET\n");
    let secret = d.join("secret");
    let script = format!(
        "sh -c 'echo ok > \"$0\"/real.txt; ln -s real.txt \"$0\"/sib.txt; ln -s {key} \"$0\"/x.txt; ln -s {secret} \"$0\"/dir; ln -s .. \"$0\"/up' + out\n\
         cat out/*.txt; echo st=$?\n\
         cat out/*/key.txt; echo st=$?\n\
         cat out/u*/secret/key.txt; echo st=$?\n\
         cat o*/dir/key.txt; echo st=$?\n",
        key = key.display(),
        secret = secret.display()
    );
    let o = shell(d.path(), &script);
    assert!(!o.stdout_str().contains("TOPSECRET"), "a planted link granted its target: {}", o.report());
    assert_out(&o, "ok\nok\nst=1\nst=1\nst=1\nst=1\n", "links a glob matched");
    assert_err_has(&o, &["preld shell: out/x.txt: a symlink a pattern matched, leading out of its directory: not granted"], "said");
}

/// Session-20b adversary: a name the user types is granted as what it
/// leads to, also when a previous command planted it as a symlink to a
/// file it was not given (the rule follows symlinks, as Plash's did).
#[test]
#[ignore = "bug (design): a typed name is granted as its symlink's target, so a link planted by an earlier command in its `+ DIR` grants the next command what it leads to"]
fn a_symlink_planted_by_a_command_does_not_grant_its_target_when_named() {
    let d = fixture("named-links");
    d.dir("out");
    let key = d.write("secret/key.txt", "TOPSECRET\n");
    let script = format!("sh -c 'ln -s {key} \"$0\"/report.txt' + out\nls -l out/report.txt > /dev/null; cat out/report.txt\n", key = key.display());
    let o = shell(d.path(), &script);
    assert!(!o.stdout_str().contains("TOPSECRET"), "{}", o.report());
}

/// Session-20b adversary: as above, read-write: `=> FILE` where an earlier
/// command given `+ out` made FILE a symlink to a file of the user's grants
/// the link's target read-write (a compiler's linker, natively, would
/// replace the link, not write through it).
#[test]
#[ignore = "bug (design): `=> FILE` grants a planted symlink's target read-write; the rule follows symlinks"]
fn a_symlink_planted_by_a_command_is_not_written_through_by_the_next() {
    let d = fixture("rw-links");
    d.dir("out");
    let victim = d.write("victim/rc", "original\n");
    let script = format!("sh -c 'ln -s {v} \"$0\"/result' + out\nsh -c 'echo pwned > \"$0\"' => out/result\n", v = victim.display());
    let o = shell(d.path(), &script);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original\n", "written through the planted link: {}", o.report());
}

/// Session-20b adversary: a previous command made a file named `~` (or
/// `[ab]c`) in the shell's directory; the user completes a name with Tab
/// and runs the line. Completion must insert the name as a name: not `~`,
/// which the shell would expand to the home directory (granted read-only,
/// whole), nor a glob granting other files beside it (`bc`).
#[test]
fn a_completed_name_is_not_expanded_into_grants() {
    let py = require_tool("python3", "python3");
    for (name, typed, other) in [("~", "cat -- ", None), ("[ab]c", "cat -- [", Some("bc"))] {
        let d = Scratch::new("shell-complete-names");
        let home = Scratch::new("shell-complete-home");
        home.write("secret", "TOPSECRET\n");
        d.write(name, "planted\n");
        if let Some(o) = other {
            d.write(o, "OTHER\n");
        }
        let script = r#"
import os, pty, select, sys, time
preld, here, home, typed = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(here)
    os.execve(preld, [preld, "shell"], {"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": home, "LC_ALL": "C", "XDG_STATE_HOME": home})
def read(limit):
    out, end = b"", time.time() + limit
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out
read(1.5)
os.write(fd, typed.encode() + b"\t")
read(0.7)
os.write(fd, b"\r")
out = read(2.0)
os.write(fd, b"exit\r")
read(1.0)
sys.stdout.write(out.decode(errors="replace"))
"#;
        let mut c = Command::new(&py);
        c.args(["-c", script]).arg(preld()).arg(d.path()).arg(home.path()).arg(typed);
        c.envs(fast_env());
        let o = run_limited(c, Duration::from_secs(60)).unwrap();
        let out = o.stdout_str();
        let home_shown = home.path().to_str().unwrap();
        assert!(!out.contains(home_shown) && !out.contains("OTHER"), "{name:?}: completion expanded into grants: {}", o.report());
        assert!(out.contains("planted"), "{name:?}: {}", o.report());
    }
}
