//! `kmodel drift` and `kmodel affected` on the synthetic kernel-like trees and patches under
//! tests/fixtures/kernel/ (see its README): statuses, exit codes, --diff, --record, and the
//! functions a patch touches.

use std::path::PathBuf;
use std::process::{Command, Output};

const K: &str = "tests/fixtures/kernel";

fn kmodel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kmodel"))
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tables() -> Vec<String> {
    vec![
        "--port".into(),
        format!("mmcid={K}/mmcid.toml"),
        "--port".into(),
        format!("mrelease={K}/mrelease.toml"),
    ]
}

fn drift(tree: &str, extra: &[&str]) -> Output {
    let kernel = format!("{K}/{tree}");
    let mut args = vec!["drift", "--kernel", kernel.as_str()];
    let t = tables();
    args.extend(t.iter().map(String::as_str));
    args.extend(extra);
    kmodel(&args)
}

/// The status printed for `name`.
fn status(out: &str, name: &str) -> String {
    out.lines()
        .find(|l| l.split_whitespace().any(|w| w == name))
        .map(|l| l.trim().split("  ").next().unwrap_or("").trim().to_string())
        .unwrap_or_else(|| panic!("{name} not in output:\n{out}"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kmodel-drift-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn unchanged_tree_exits_0() {
    let o = drift("pin", &[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    for f in [
        "mm_cid_fixup_task_to_cpu",
        "process_mrelease",
        "mm_mm_cid",
        "MM_CID_UNSET",
    ] {
        assert_eq!(status(&out, f), "unchanged", "{out}");
    }
    assert!(
        out.contains("0 changed, 0 missing, 8 unchanged, 0 not yet pinned"),
        "{out}"
    );
}

#[test]
fn changed_missing_and_comment_only() {
    let o = drift("next", &[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert_eq!(status(&out, "mm_cid_fixup_task_to_cpu"), "CHANGED");
    // Only comments and layout changed in sched_mm_cid_fork().
    assert_eq!(status(&out, "sched_mm_cid_fork"), "unchanged");
    assert_eq!(status(&out, "mm_cid_work_fn"), "MISSING");
    assert_eq!(status(&out, "process_mrelease"), "MISSING FILE");
    assert!(out.contains("1 changed, 3 missing, 4 unchanged"), "{out}");
}

#[test]
fn diff_against_an_older_tree() {
    let old = format!("{K}/pin");
    let o = drift("next", &["--diff", &old]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("-\tif (!t->mm_cid.active)"), "{out}");
    assert!(out
        .contains("+++ tests/fixtures/kernel/next/kernel/sched/core.c: mm_cid_fixup_task_to_cpu"));
    // No diff for the comment-only change.
    assert!(!out.contains("a new task has no CID"), "{out}");
}

#[test]
fn record_round_trip() {
    let dir = scratch("record");
    let pinned = std::fs::read_to_string(format!("{K}/mmcid.toml")).unwrap();
    // The same table before recording: every fingerprint "".
    let unpinned: String = pinned
        .lines()
        .map(|l| {
            if l.starts_with("fingerprint = \"") && l.len() > 20 {
                let comment = l
                    .find('#')
                    .map(|i| format!("   {}", &l[i..]))
                    .unwrap_or_default();
                format!("fingerprint = \"\"{comment}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let table = dir.join("mmcid.toml");
    std::fs::write(&table, &unpinned).unwrap();
    let spec = format!("mmcid={}", table.display());
    let pin = format!("{K}/pin");
    let run = |extra: &[&str]| {
        let mut a = vec!["drift", "--kernel", pin.as_str(), "--port", spec.as_str()];
        a.extend(extra);
        kmodel(&a)
    };
    let o = run(&[]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "not yet pinned is inconclusive: {}",
        stdout(&o)
    );
    assert_eq!(status(&stdout(&o), "mm_cid_schedout"), "not yet pinned");
    let o = run(&["--record"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let recorded = std::fs::read_to_string(&table).unwrap();
    assert_eq!(
        recorded, pinned,
        "recording reproduces the pinned table, comments kept"
    );
    assert_eq!(run(&[]).status.code(), Some(0));
}

#[test]
fn bad_input_exits_2() {
    let o = kmodel(&["drift", "--kernel", "/no/such/tree", "mmcid"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a directory"));
    // A path the port names that cannot be read (here: a directory).
    let dir = scratch("unreadable");
    std::fs::create_dir_all(dir.join("mm/oom_kill.c")).unwrap();
    let spec = format!("mrelease={K}/mrelease.toml");
    let o = kmodel(&["drift", "--kernel", dir.to_str().unwrap(), "--port", &spec]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot read it") && err.lines().count() == 1,
        "{err}"
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[kernel]\ntree = \"x\"\n").unwrap();
    let o = kmodel(&[
        "drift",
        "--kernel",
        dir.to_str().unwrap(),
        "--port",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing field"));
}

fn affected(patch: &str) -> Output {
    let p = format!("{K}/patches/{patch}");
    let mut args = vec!["affected", p.as_str()];
    let t = tables();
    args.extend(t.iter().map(String::as_str));
    kmodel(&args)
}

#[test]
fn affected_by_a_patch_mail() {
    let o = affected("mail.eml");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("touched  kernel/sched/core.c mm_cid_fixup_task_to_cpu  -> mode.rs::mm_cid_fixup_task_to_cpu"), "{out}");
    assert!(
        out.contains("check: cargo run --release -- check mmcid"),
        "{out}"
    );
    assert!(!out.contains("mrelease"), "{out}");
    // Derived, not listed: every variant, and which ones a fixed-schedule run entered.
    let n = kmodel_harness::Model::variants(&kmodel_models::mmcid::MODEL).len();
    assert!(out.contains(&format!("variants: all {n} (")), "{out}");
    assert!(out.contains("entered in one fixed-schedule run"), "{out}");
}

#[test]
fn affected_by_format_patch_over_several_files() {
    let o = affected("format-patch.patch");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("touched  kernel/sched/sched.h mm_cid_schedout"),
        "{out}"
    );
    assert!(
        out.contains("touched  mm/oom_kill.c process_mrelease"),
        "{out}"
    );
    assert!(
        !out.contains("touched  mm/oom_kill.c find_lock_task_mm"),
        "context only: {out}"
    );
    assert!(
        out.contains("check: cargo run --release -- check mrelease"),
        "{out}"
    );
    assert!(
        out.contains("not ported: mm/oom_kill.c fixture_flags_valid"),
        "{out}"
    );
    // From stdin too.
    let patch = std::fs::read(format!("{K}/patches/format-patch.patch")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kmodel"))
        .args([
            "affected",
            "-",
            "--port",
            &format!("mrelease={K}/mrelease.toml"),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&patch).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(stdout(&o).contains("touched  mm/oom_kill.c process_mrelease"));
}

#[test]
fn affected_by_a_rename_no_match_and_bad_input() {
    let out = stdout(&affected("rename.patch"));
    assert!(
        out.contains("touched  kernel/sched/core.c mm_cid_work_fn")
            && out.contains("definition line changed"),
        "{out}"
    );
    let o = affected("unrelated.patch");
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with("no ported function touched"),
        "{}",
        stdout(&o)
    );
    for (p, why) in [
        ("malformed.patch", "ends inside a hunk"),
        ("no-such.patch", "No such file"),
    ] {
        let o = affected(p);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(why) && err.lines().count() == 1, "{err}");
    }
    let o = affected("../README.md");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no unified diff"));
}
