//! Finding a command in PATH the way a shell does.

use alloc::vec::Vec;

/// The search path when PATH is unset (glibc's execvp default).
pub const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// True if `name` is used as a path rather than searched for.
pub fn has_slash(name: &[u8]) -> bool {
    name.contains(&b'/')
}

/// The candidates for `name` in `path`, in order: `dir/name` for each entry;
/// an empty entry means the current directory.
pub fn candidates<'a>(path: &'a [u8], name: &'a [u8]) -> impl Iterator<Item = Vec<u8>> + 'a {
    path.split(|&c| c == b':').map(move |dir| {
        let mut c = Vec::with_capacity(dir.len() + name.len() + 1);
        if dir.is_empty() {
            c.extend_from_slice(b".");
        } else {
            c.extend_from_slice(dir);
        }
        if !c.ends_with(b"/") {
            c.push(b'/');
        }
        c.extend_from_slice(name);
        c
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        let c: Vec<_> = candidates(b"/usr/bin::/bin/", b"ls").collect();
        assert_eq!(c, vec![b"/usr/bin/ls".to_vec(), b"./ls".to_vec(), b"/bin/ls".to_vec()]);
        assert!(has_slash(b"./x") && !has_slash(b"x"));
    }
}
