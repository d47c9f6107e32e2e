//! The CLI's contract for bad input: one clear line on stderr, exit code 2, never a panic;
//! and nothing a user saved is overwritten without --force.

use std::process::{Command, Output};

fn kmodel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kmodel"))
        .args(args)
        .output()
        .expect("runs")
}

fn assert_input_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kmodel-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

#[test]
fn list_names_every_model() {
    let out = kmodel(&["list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for m in kmodel_models::REGISTRY {
        assert!(stdout.contains(m.name), "{stdout}");
    }
}

#[test]
fn unknown_model_variant_engine_and_flags_exit_2() {
    assert_input_error(
        &kmodel(&["check", "no-such-model"]),
        "unknown model 'no-such-model'",
    );
    assert_input_error(
        &kmodel(&["check", "--engine", "tla"]),
        "unknown engine 'tla'",
    );
    assert_input_error(&kmodel(&["check", "--budget", "soon"]), "soon");
    assert_input_error(&kmodel(&["check", "--frobnicate"]), "--frobnicate");
    if let Some(m) = kmodel_models::REGISTRY.first() {
        assert_input_error(
            &kmodel(&["check", &format!("{}/nope", m.name)]),
            "has no variant 'nope'",
        );
        assert_input_error(
            &kmodel(&["check", m.name, "--param", "nope=1"]),
            "has no parameter nope",
        );
    }
}

#[test]
fn bad_trace_files_exit_2_with_one_line() {
    let missing = std::env::temp_dir().join("kmodel-definitely-missing.json");
    for cmd in ["replay", "explain"] {
        assert_input_error(
            &kmodel(&[cmd, missing.to_str().unwrap()]),
            "cannot read trace",
        );
        let p = temp_file(
            "garbage.json",
            "{\"format\": \"kmodel-trace\", \"version\": 1, \"mod",
        );
        assert_input_error(
            &kmodel(&[cmd, p.to_str().unwrap()]),
            "truncated or corrupted",
        );
        let p = temp_file(
            "future.json",
            "{\"format\": \"kmodel-trace\", \"version\": 7}",
        );
        assert_input_error(
            &kmodel(&[cmd, p.to_str().unwrap()]),
            "version 7 is not supported",
        );
        let p = temp_file("other.json", "[1, 2, 3]");
        assert_input_error(&kmodel(&[cmd, p.to_str().unwrap()]), "not a kmodel trace");
    }
}

#[test]
fn stale_trace_is_an_input_error() {
    let Some(path) = first_committed_trace() else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["source_hash"] = "0123456789abcdef".into();
    let p = temp_file("stale.json", &v.to_string());
    assert_input_error(&kmodel(&["replay", p.to_str().unwrap()]), "stale trace");
}

#[test]
fn committed_trace_replays_and_explains() {
    let Some(path) = first_committed_trace() else {
        return;
    };
    let p = path.to_str().unwrap();
    let out = kmodel(&["replay", p]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("reproduced"));
    for format in ["text", "mermaid", "json"] {
        let out = kmodel(&["explain", p, "--format", format]);
        assert!(out.status.success());
        assert!(!out.stdout.is_empty());
    }
}

fn first_committed_trace() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                return Some(p);
            }
        }
    }
    None
}

#[test]
fn check_never_overwrites_a_saved_trace_without_force() {
    // The first variant that declares a violation gives a trace to play with.
    let Some((m, v)) = kmodel_models::REGISTRY.iter().find_map(|m| {
        m.variants
            .iter()
            .find(|v| {
                v.expect
                    .iter()
                    .any(|(_, e)| *e == kmodel_harness::Expect::Violated)
            })
            .map(|v| (m.name, v.name))
    }) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kmodel-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spec = format!("{m}/{v}");
    let args = [
        "check",
        &spec,
        "--engine",
        "shuttle-pct",
        "--out",
        dir.to_str().unwrap(),
    ];
    let first = kmodel(&args);
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    let written: Vec<_> = walk(&dir);
    assert!(!written.is_empty(), "{stdout}");
    let saved = &written[0];
    std::fs::write(saved, "my notes").unwrap();
    let again = kmodel(&args);
    assert!(String::from_utf8_lossy(&again.stderr).contains("kept the existing file"));
    assert_eq!(std::fs::read_to_string(saved).unwrap(), "my notes");
    let mut forced = args.to_vec();
    forced.push("--force");
    kmodel(&forced);
    assert_ne!(std::fs::read_to_string(saved).unwrap(), "my notes");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn check_json_and_markdown_report_the_declared_verdicts() {
    let out = kmodel(&[
        "check",
        "mrelease/today",
        "--engine",
        "shuttle-pct",
        "--json",
        "--out",
        "target/kmodel/cli-test",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let props = reports[0]["properties"].as_array().expect("properties");
    let esrch = props
        .iter()
        .find(|p| p["property"] == "no-spurious-esrch")
        .expect("property listed");
    assert_eq!(esrch["violated"], true);
    assert_eq!(esrch["agreement"], "as-expected");
    assert!(reports[0]["explored"]
        .as_str()
        .unwrap()
        .contains("PCT schedules"));

    let out = kmodel(&[
        "check",
        "mrelease/today",
        "--engine",
        "shuttle-pct",
        "--markdown",
        "--out",
        "target/kmodel/cli-test",
    ]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("#### mrelease") && md.contains("| `today` |") && md.contains("**Violated**"),
        "{md}"
    );
}

#[test]
fn bad_shards_and_merge_inputs_exit_2() {
    assert_input_error(&kmodel(&["check", "--shard", "2/2"]), "expected K/N");
    assert_input_error(&kmodel(&["check", "--shard", "x"]), "expected K/N");
    let junk = temp_file("not-a-report.json", "{\"model\": 1}");
    assert_input_error(
        &kmodel(&["merge", junk.to_str().unwrap()]),
        "not the --json output of kmodel check",
    );
    assert_input_error(
        &kmodel(&["merge", "/no/such/shard.json"]),
        "/no/such/shard.json",
    );
}

#[test]
fn bench_keeps_a_foreign_results_file() {
    let file = temp_file("bench.json", "{\"mine\": true}");
    let dir = file.parent().unwrap().to_str().unwrap();
    assert_input_error(
        &kmodel(&["bench", "--out", dir]),
        "not written by kmodel bench",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"mine\": true}");
}

/// A loom search dealt into shards (`--shard K/N`, one process or machine each) and merged
/// reaches the same verdicts and the same first counterexamples as one unsharded run.
#[test]
fn sharded_loom_search_merges_to_the_unsharded_verdicts() {
    let dir = std::env::temp_dir().join(format!("kmodel-shards-{}", std::process::id()));
    let out = dir.join("traces");
    let run = |extra: &[&str]| {
        let mut args = vec!["check", "mrelease/today", "--engine", "loom", "--json"];
        args.extend(["--out", out.to_str().unwrap(), "--force"]);
        args.extend(extra);
        let o = kmodel(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let whole: serde_json::Value = serde_json::from_slice(&run(&["--jobs", "1"])).unwrap();
    let mut files = vec![];
    for k in 0..3 {
        let path = dir.join(format!("shard-{k}.json"));
        std::fs::write(&path, run(&["--shard", &format!("{k}/3")])).unwrap();
        files.push(path.to_str().unwrap().to_string());
    }
    // Two of three shards are not one search.
    let partial = kmodel(&["merge", &files[0], &files[2]]);
    assert_input_error(&partial, "do not make up one search");
    let mut args = vec!["merge", "--json", "--out", out.to_str().unwrap(), "--force"];
    args.extend(files.iter().map(String::as_str));
    let merged = kmodel(&args);
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    let verdicts = |v: &serde_json::Value| -> Vec<(String, bool, String)> {
        v[0]["properties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let events = p["trace"]["events"].to_string();
                (
                    p["property"].to_string(),
                    p["violated"].as_bool().unwrap(),
                    events,
                )
            })
            .collect()
    };
    assert_eq!(verdicts(&whole), verdicts(&merged));
    // The split explores every thread at its first branch points: at least as many executions.
    assert!(merged[0]["executions"].as_u64() >= whole[0]["executions"].as_u64());
}
