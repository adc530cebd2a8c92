//! preld's documentation made from its own clap definitions, so that it
//! never disagrees with the command line: a man page for `preld` and one
//! per subcommand (`preld-trace(1)`...), and completions for bash, zsh and
//! fish. The hidden `preld generate-docs DIR` writes them; `cargo xtask
//! install` puts them where man and the shells look.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use clap_complete::Shell;

/// Writes DIR/man1/preld.1, DIR/man1/preld-SUB.1 for each visible
/// subcommand, and DIR/completions/{preld.bash,_preld,preld.fish}.
pub fn generate(cmd: clap::Command, dir: &Path) -> io::Result<()> {
    let mut cmd = cmd.name("preld").bin_name("preld");
    cmd.build();
    let man = dir.join("man1");
    fs::create_dir_all(&man)?;
    clap_mangen::Man::new(cmd.clone()).render(&mut File::create(man.join("preld.1"))?)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        // clap takes names as &'static str: the few made here live as long
        // as this one-shot command.
        let name: &'static str = Box::leak(format!("preld-{}", sub.get_name()).into_boxed_str());
        let page = sub.clone().name(name).bin_name(format!("preld {}", sub.get_name()));
        clap_mangen::Man::new(page).title(name).render(&mut File::create(man.join(format!("{name}.1")))?)?;
    }
    let completions = dir.join("completions");
    fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd, "preld", &completions)?;
    }
    Ok(())
}
