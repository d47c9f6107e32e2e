//! Snapshot tests of the rendered counterexamples: the timeline a reviewer pastes into a thread
//! and the Mermaid diagram must not change by accident. One pair of snapshots per committed loom
//! trace, named after its path (model, variant and property); both text layouts at 80 columns for
//! the traces the README shows; every timeline fits 80 columns and every diagram passes a
//! structural check of the Mermaid syntax it uses (CI also runs Mermaid's own parser).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use kmodel_harness::render::{self, Layout, TextOptions};
use kmodel_harness::trace::Trace;

fn loom_traces(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            loom_traces(&p, out);
        } else if p.to_string_lossy().ends_with(".loom.json") {
            out.push(p);
        }
    }
}

fn committed() -> Vec<(String, String, Trace)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let mut files = vec![];
    loom_traces(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let t = Trace::load(&path).expect("committed trace loads");
            // Named after the file, not the trace's conventional path: a finding may keep a
            // second scene of one variant and property (traces/mmcid/findings/).
            let rel = path.strip_prefix(&root).expect("under traces/");
            let shown = Path::new("traces").join(rel).display().to_string();
            let name = rel
                .display()
                .to_string()
                .trim_end_matches(".loom.json")
                .replace('/', "__");
            (name, shown, t)
        })
        .collect()
}

#[test]
fn committed_traces_render_stably() {
    for (name, shown, t) in committed() {
        insta::assert_snapshot!(
            format!("{name}__timeline"),
            render::timeline(&t, Some(&shown))
        );
        insta::assert_snapshot!(format!("{name}__mermaid"), render::mermaid(&t));
    }
}

/// The traces the README shows, in both layouts at 80 columns, with the marks they must carry.
#[test]
fn mail_layouts_at_80_columns() {
    let cases: &[(&str, &[&str])] = &[
        (
            "mmcid/v3--no-livelock",
            &[
                "~~ preempted",
                ".. blocks on cpu_rq(2)->__lock held by CPU2",
                ".. spins in mm_get_cid",
            ],
        ),
        (
            "mrelease/today--no-spurious-esrch",
            &["~~ preempted", ".. blocks on T1->alloc_lock held by CPU1"],
        ),
        (
            "litmus/MP+poonceonces--exists-never",
            &[
                "^ reads P0 #2",
                "^ reads the initial",
                "value, misses P0 #1",
            ],
        ),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    for (case, marks) in cases {
        let t = Trace::load(&root.join(format!("{case}.loom.json"))).expect("trace loads");
        let shown = format!("traces/{case}.loom.json");
        for (layout, lname) in [(Layout::Columns, "columns"), (Layout::Events, "events")] {
            let text = render::timeline_with(&t, Some(&shown), TextOptions { width: 80, layout });
            fits(&text, 80, case);
            for m in *marks {
                // A column wraps a mark over lines: there, check its first two words.
                let m = match layout {
                    Layout::Columns => m.split(' ').take(2).collect::<Vec<_>>().join(" "),
                    _ => m.to_string(),
                };
                assert!(text.contains(&m), "{case} ({lname}) lacks {m:?}:\n{text}");
            }
            let snap = format!("mail__{}__{lname}", case.replace('/', "__"));
            insta::assert_snapshot!(snap, text);
        }
    }
}

/// Every line fits `width`, but for a single unbreakable word (a long trace path).
fn fits(text: &str, width: usize, what: &str) {
    for l in text.lines() {
        let n = l.chars().count();
        assert!(
            n <= width || !l.trim().contains(' '),
            "{what}: line of {n} columns:\n{l}"
        );
    }
}

#[test]
fn every_timeline_fits_80_columns() {
    for (name, shown, t) in committed() {
        fits(&render::timeline(&t, Some(&shown)), 80, &name);
        let narrow = TextOptions {
            width: 60,
            layout: Layout::Events,
        };
        fits(&render::timeline_with(&t, Some(&shown), narrow), 60, &name);
    }
}

/// The identifier-like words of `t` (its events, actors and messages).
fn words(t: &Trace) -> HashSet<String> {
    let json = serde_json::to_string(t).expect("trace serializes");
    json.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// The identifiers a columns timeline splits over two lines of one cell other than after an
/// underscore (`smp_call_function_many_|cond`) or inside a word longer than the column.
fn split_identifiers(text: &str, words: &HashSet<String>) -> Vec<String> {
    let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let is_rule = |l: &[char]| {
        let s: String = l.iter().collect();
        let t = s.trim();
        t.starts_with("---") && t.split(" | ").all(|c| c.chars().all(|ch| ch == '-'))
    };
    let Some(r) = lines.iter().position(|l| is_rule(l)) else {
        return vec![];
    };
    let mut cols = vec![];
    let mut i = 0;
    while i < lines[r].len() {
        if lines[r][i] == '-' {
            let start = i;
            while i < lines[r].len() && lines[r][i] == '-' {
                i += 1;
            }
            cols.push((start, i));
        } else {
            i += 1;
        }
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let cell = |l: &[char], (s, e): (usize, usize)| -> String {
        l.iter()
            .skip(s)
            .take(e - s)
            .collect::<String>()
            .trim()
            .to_string()
    };
    let mut bad = vec![];
    for &(s, e) in &cols {
        for pair in lines[r + 1..].windows(2) {
            // A continuation line of the same cell has an empty gutter.
            let gutter: String = pair[1].iter().take(s).collect();
            if !gutter.trim().is_empty() {
                continue;
            }
            let (a, b) = (cell(&pair[0], (s, e)), cell(&pair[1], (s, e)));
            let head: String = a.chars().rev().take_while(|&c| ident(c)).collect();
            let head: String = head.chars().rev().collect();
            let tail: String = b.chars().take_while(|&c| ident(c)).collect();
            let whole = format!("{head}{tail}");
            if head.is_empty() || tail.is_empty() || head.ends_with('_') || words.contains(&head) {
                continue;
            }
            if words.contains(&whole) && !whole.split('_').any(|w| w.len() > e - s) {
                bad.push(format!("{head}|{tail}"));
            }
        }
    }
    bad
}

/// Columns at 80 never wrap inside an identifier's word: long function names break after an
/// underscore, everything else between tokens (issue 25 item 5).
#[test]
fn columns_wrap_at_token_boundaries() {
    let opts = TextOptions {
        width: 80,
        layout: Layout::Columns,
    };
    for (name, shown, t) in committed() {
        let text = render::timeline_with(&t, Some(&shown), opts);
        let bad = split_identifiers(&text, &words(&t));
        assert!(bad.is_empty(), "{name}: split inside {bad:?}:\n{text}");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let case = "ipi-mask/ablation-two-tasks-without-mask--func-done-on-return";
    let t = Trace::load(&root.join(format!("{case}.loom.json"))).expect("trace loads");
    let text = render::timeline_with(&t, Some(&format!("traces/{case}.loom.json")), opts);
    insta::assert_snapshot!("columns_80__ipi-mask__two-tasks-without-mask", text);
}

/// The Mermaid subset the renderer writes: a `sequenceDiagram`, one title, participants
/// declared before any use, notes and arrows between declared participants, `rect ... end`
/// balanced, and no `;` or `#` in any text (Mermaid's grammar ends a message there).
fn check_mermaid(d: &str) -> Result<(), String> {
    let mut lines = d.lines();
    if lines.next() != Some("sequenceDiagram") {
        return Err("does not start with sequenceDiagram".into());
    }
    let mut declared = HashSet::new();
    let mut used = false;
    let mut depth = 0i32;
    let id = |s: &str| -> Option<String> {
        let s = s.trim();
        (s.len() > 1 && s.starts_with('A') && s[1..].bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.to_string())
    };
    for (i, l) in lines.enumerate() {
        let l = l.trim();
        let err = |m: &str| Err(format!("line {}: {m}: {l}", i + 2));
        if l.contains(';') || l.contains('#') {
            return err("`;` or `#` in text");
        }
        if let Some(rest) = l.strip_prefix("title ") {
            if rest.is_empty() || used || !declared.is_empty() {
                return err("title misplaced");
            }
        } else if let Some(rest) = l.strip_prefix("participant ") {
            let (p, alias) = rest.split_once(" as ").ok_or("participant without alias")?;
            let p = id(p).ok_or("bad participant id")?;
            if used || alias.trim().is_empty() || !declared.insert(p) {
                return err("participant late, unnamed or twice");
            }
        } else if let Some(rest) = l.strip_prefix("Note over ") {
            used = true;
            let (p, text) = rest.split_once(": ").ok_or("note without text")?;
            if !id(p).is_some_and(|p| declared.contains(&p)) || text.trim().is_empty() {
                return err("note over an undeclared participant, or empty");
            }
        } else if l.starts_with("rect rgb(") && l.ends_with(')') {
            depth += 1;
        } else if l == "end" {
            depth -= 1;
            if depth < 0 {
                return err("end without rect");
            }
        } else {
            used = true;
            let (arrow, text) = l.split_once(": ").ok_or("unknown line")?;
            let op = ["-->>", "->>", "--x", "-)"]
                .into_iter()
                .find(|op| arrow.contains(op))
                .ok_or("unknown arrow")?;
            let (a, b) = arrow.split_once(op).expect("found");
            let ok = |p: &str| id(p).is_some_and(|p| declared.contains(&p));
            if !ok(a) || !ok(b) || a == b || text.trim().is_empty() {
                return err("arrow between undeclared or equal participants, or without text");
            }
        }
    }
    if depth != 0 {
        return Err("rect without end".into());
    }
    Ok(())
}

#[test]
fn mermaid_is_well_formed() {
    for (name, _, t) in committed() {
        let d = render::mermaid(&t);
        if let Err(e) = check_mermaid(&d) {
            panic!("{name}: {e}\n{d}");
        }
    }
    assert!(check_mermaid("sequenceDiagram\n    Note over A0: x\n").is_err());
    assert!(
        check_mermaid("sequenceDiagram\n    participant A0 as m\n    Note over A0: a; b\n")
            .is_err()
    );
}
