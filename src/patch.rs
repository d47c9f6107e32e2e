//! Unified diffs (a patch mail, `git format-patch` or `git diff` output): the files they change
//! and the kernel definitions their changed lines fall in.

use std::collections::BTreeSet;

use crate::csource::{definition_on_line, Kind};

/// A kernel definition a patch changes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Touched {
    /// The file, as the patch names it (`a/`/`b/` stripped).
    pub file: String,
    pub name: String,
    pub kind: Kind,
    /// The definition line itself is added or removed (new, removed or renamed).
    pub header_changed: bool,
}

/// What a patch changes: the files and the definitions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchSummary {
    pub files: BTreeSet<String>,
    pub touched: BTreeSet<Touched>,
    /// Changed lines outside any definition the extractor recognises (includes, declarations).
    pub outside: usize,
}

fn strip_path(p: &str) -> Option<String> {
    let p = p.split('\t').next().unwrap_or(p).trim_end();
    if p == "/dev/null" {
        return None;
    }
    let p = p
        .strip_prefix("a/")
        .or_else(|| p.strip_prefix("b/"))
        .unwrap_or(p);
    Some(p.to_string())
}

/// `@@ -a,b +c,d @@ context` -> (old count, new count, context).
fn hunk_header(line: &str) -> Option<(u64, u64, &str)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, context) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let count = |r: &str| -> Option<u64> {
        let mut it = r.splitn(2, ',');
        it.next()?.parse::<u64>().ok()?;
        match it.next() {
            Some(n) => n.parse().ok(),
            None => Some(1),
        }
    };
    Some((count(old)?, count(new)?, context.trim_start()))
}

/// Parses every file diff in `text` and attributes each changed line to the definition it is
/// in: the hunk header's function context, then each definition line the hunk passes; a `}` in
/// column 0 ends a definition. Errors (one line) on a malformed hunk or when there is no diff.
pub fn parse(text: &str) -> Result<PatchSummary, String> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut out = PatchSummary::default();
    let mut i = 0;
    let mut diffs = 0;
    while i < lines.len() {
        let is_header =
            lines[i].starts_with("--- ") && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ "));
        if !is_header {
            i += 1;
            continue;
        }
        let old = strip_path(&lines[i][4..]);
        let new = strip_path(&lines[i + 1][4..]);
        if old.is_none() && new.is_none() {
            return Err(format!(
                "line {}: a diff from /dev/null to /dev/null",
                i + 1
            ));
        }
        diffs += 1;
        out.files.extend(old.iter().chain(new.iter()).cloned());
        i += 2;
        while i < lines.len() && lines[i].starts_with("@@") {
            let (mut old_left, mut new_left, context) = hunk_header(lines[i])
                .ok_or_else(|| format!("line {}: malformed hunk header: {}", i + 1, lines[i]))?;
            let mut current = definition_on_line(context);
            i += 1;
            while old_left > 0 || new_left > 0 {
                let Some(&line) = lines.get(i) else {
                    return Err(format!(
                        "the patch ends inside a hunk ({old_left} old and {new_left} new lines missing)"
                    ));
                };
                let (marker, body) = match line.as_bytes().first() {
                    None => (b' ', ""),
                    Some(&m) => (m, &line[1..]),
                };
                let (old_side, new_side) = match marker {
                    b' ' => (true, true),
                    b'-' => (true, false),
                    b'+' => (false, true),
                    b'\\' => {
                        i += 1;
                        continue;
                    }
                    _ => {
                        return Err(format!(
                            "line {}: hunk ends early ({old_left} old and {new_left} new lines missing): {line}",
                            i + 1
                        ))
                    }
                };
                if (old_side && old_left == 0) || (new_side && new_left == 0) {
                    return Err(format!(
                        "line {}: more lines than the hunk header says",
                        i + 1
                    ));
                }
                old_left -= u64::from(old_side);
                new_left -= u64::from(new_side);
                let header = definition_on_line(body);
                if header.is_some() {
                    current = header.clone();
                }
                if marker != b' ' {
                    let file = if marker == b'-' { &old } else { &new };
                    match (&current, file) {
                        (Some((name, kind)), Some(file)) => {
                            out.touched.insert(Touched {
                                file: file.clone(),
                                name: name.clone(),
                                kind: *kind,
                                header_changed: header.is_some(),
                            });
                        }
                        _ => out.outside += 1,
                    }
                }
                if body.starts_with('}') {
                    current = None;
                }
                i += 1;
            }
        }
    }
    if diffs == 0 {
        return Err("no unified diff in the input (no `--- a/FILE` / `+++ b/FILE` pair)".into());
    }
    // A definition touched both with and without its header line: keep the header flag.
    let mut merged: BTreeSet<Touched> = BTreeSet::new();
    for t in &out.touched {
        let other = Touched {
            header_changed: !t.header_changed,
            ..t.clone()
        };
        if t.header_changed || !out.touched.contains(&other) {
            merged.insert(t.clone());
        }
    }
    out.touched = merged;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &str = "From: Someone <s@example.org>
Subject: [PATCH] sched: change things

Body text.
---
 kernel/sched/core.c | 3 ++-
 1 file changed

diff --git a/kernel/sched/core.c b/kernel/sched/core.c
index 111..222 100644
--- a/kernel/sched/core.c
+++ b/kernel/sched/core.c
@@ -10,7 +10,7 @@ static void mm_cid_fixup(struct mm_struct *mm)
 {
 \tint a;
-\ta = 1;
+\ta = 2;
 }
 
 static void other(void)
 {
@@ -30,3 +30,4 @@ void unrelated(void)
 {
+\tb();
 }
 
-- 
2.43.0
";

    #[test]
    fn attributes_changed_lines() {
        let p = parse(MAIL).unwrap();
        let names: Vec<_> = p.touched.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["mm_cid_fixup", "unrelated"]);
        assert_eq!(p.files.len(), 1);
    }

    #[test]
    fn renamed_and_malformed() {
        let rename = "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n-static void old_name(void)\n+static void new_name(void)\n {\n }\n";
        let p = parse(rename).unwrap();
        let names: Vec<_> = p
            .touched
            .iter()
            .map(|t| (t.name.as_str(), t.header_changed))
            .collect();
        assert_eq!(names, [("new_name", true), ("old_name", true)]);
        assert!(parse("no diff here")
            .unwrap_err()
            .contains("no unified diff"));
        assert!(parse("--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,2 @@\n x\n")
            .unwrap_err()
            .contains("ends inside"));
        assert!(parse("--- a/f.c\n+++ b/f.c\n@@ -x +1 @@\n")
            .unwrap_err()
            .contains("malformed"));
    }
}
