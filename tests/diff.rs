//! Showing how two outputs differ: a unified diff by line, for the failure
//! messages of the comparisons (native against preld).

/// Each line of `s` indented and marked, for a quoted block in a message.
pub fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  | {l}\n")).collect()
}

/// A unified diff of two outputs by line (the first 60 lines of it), or a
/// note on the first differing byte when they are too large or binary.
pub fn unified_diff(a: &[u8], b: &[u8], name_a: &str, name_b: &str) -> String {
    const MAX_LINES: usize = 60;
    let la: Vec<&[u8]> = a.split_inclusive(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
    let binary = a.contains(&0) || b.contains(&0);
    if binary || la.len() * lb.len() > 4_000_000 {
        let first = a
            .iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        return format!(
            "  ({} vs {} bytes, {} lines vs {}; first difference at byte {first})\n",
            a.len(),
            b.len(),
            la.len(),
            lb.len()
        );
    }
    // Longest common subsequence table, from the end.
    let (n, m) = (la.len(), lb.len());
    let mut t = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i * (m + 1) + j] = if la[i] == lb[j] {
                t[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                t[(i + 1) * (m + 1) + j].max(t[i * (m + 1) + j + 1])
            };
        }
    }
    // The edit script: ' ' common, '-' only in a, '+' only in b.
    let mut ops: Vec<(char, &[u8])> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && la[i] == lb[j] {
            ops.push((' ', la[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || t[i * (m + 1) + j + 1] >= t[(i + 1) * (m + 1) + j]) {
            ops.push(('+', lb[j]));
            j += 1;
        } else {
            ops.push(('-', la[i]));
            i += 1;
        }
    }
    // Changed lines with 3 lines of context, at most MAX_LINES lines.
    let near = |k: usize| {
        ops[k.saturating_sub(3)..(k + 4).min(ops.len())]
            .iter()
            .any(|(c, _)| *c != ' ')
    };
    let mut out = format!("  --- {name_a}\n  +++ {name_b}\n");
    let (mut shown, mut skipped) = (0, false);
    for (k, (c, l)) in ops.iter().enumerate() {
        if !near(k) {
            skipped = true;
            continue;
        }
        if skipped {
            out.push_str("  @@ ...\n");
            skipped = false;
        }
        if shown == MAX_LINES {
            out.push_str("  ... (diff cut; see the files)\n");
            break;
        }
        let s = String::from_utf8_lossy(l);
        match s.strip_suffix('\n') {
            Some(s) => out.push_str(&format!("  {c}{s}\n")),
            None => out.push_str(&format!("  {c}{s}\n  \\ no newline at end\n")),
        }
        shown += 1;
    }
    if ops.is_empty() {
        out.push_str("  (both empty)\n");
    }
    out
}
