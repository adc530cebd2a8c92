//! preld's man pages and shell completions (`preld generate-docs`, which
//! `cargo xtask install` runs): made from the clap definitions, one page
//! per subcommand naming each of its options, and completions that bash
//! actually completes with.

use std::process::Command;

use preld_tests::run::{run, Output};
use preld_tests::scratch::Scratch;
use preld_tests::{preld, require_tool};

fn generate(d: &Scratch) -> Output {
    let mut c = Command::new(preld());
    c.arg("generate-docs").arg(d.path());
    let o = run(c);
    assert!(o.status.success(), "preld generate-docs: {}", o.report());
    o
}

#[test]
fn a_man_page_per_subcommand_names_its_options() {
    let d = Scratch::new("docs-man");
    generate(&d);
    for (page, options) in [
        ("preld", &["run", "trace", "pola", "patch", "shell"][..]),
        ("preld-run", &["\\-\\-map", "\\-\\-no\\-fast", "\\-\\-stats"]),
        ("preld-trace", &["\\-f", "\\-o", "\\-e", "\\-\\-tracer", "inject="]),
        ("preld-pola", &["\\-B", "\\-\\-ro", "\\-\\-rw", "\\-\\-exec", "\\-\\-net", "/etc/passwd", "\\-\\-ask", "\\-\\-learn", "\\-\\-profile"]),
        ("preld-patch", &["\\-\\-interp"]),
        ("preld-shell", &["\\-c", "\\-\\-net", "=> FILE", "shell_history"]),
    ] {
        let text = std::fs::read_to_string(d.join(&format!("man1/{page}.1"))).unwrap_or_else(|e| panic!("{page}.1: {e}"));
        assert!(text.contains(&format!(".TH {page} 1")), "{page}.1 has no .TH line");
        for o in options {
            assert!(text.contains(o), "{page}.1 does not mention {o}");
        }
    }
}

/// What bash completes `words` to with preld's completion script.
fn bash_completes(d: &Scratch, words: &[&str]) -> Vec<String> {
    let bash = require_tool("bash", "bash");
    let script = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; _preld preld \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        d.join("completions/preld.bash").display(),
        words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        words.len() - 1
    );
    let o = run({
        let mut c = Command::new(bash);
        c.args(["--norc", "-c", &script]);
        c
    });
    assert!(o.status.success(), "bash completion: {}", o.report());
    o.stdout_str().lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_subcommands_and_options() {
    let d = Scratch::new("docs-bash");
    generate(&d);
    assert_eq!(bash_completes(&d, &["preld", "tr"]), ["trace"]);
    assert_eq!(bash_completes(&d, &["preld", "sh"]), ["shell"]);
    let opts = bash_completes(&d, &["preld", "pola", "--r"]);
    assert!(opts.contains(&"--ro".to_string()) && opts.contains(&"--rw".to_string()), "{opts:?}");
    assert!(bash_completes(&d, &["preld", "trace", "--tra"]).contains(&"--tracer".to_string()));
    for f in ["_preld", "preld.fish"] {
        let text = std::fs::read_to_string(d.join(&format!("completions/{f}"))).unwrap();
        assert!(text.contains("trace") && text.contains("pola"), "{f} lacks the subcommands");
    }
}
