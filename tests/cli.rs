//! The CLI's contract for bad input: one clear line on stderr, exit code 2, never a panic;
//! and nothing a user saved is overwritten without --force.

use std::process::{Command, Output};

use kmodel_harness::results::is_results_file;

/// Runs kmodel without progress lines (`-q`: stderr holds only what a test looks for).
fn kmodel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kmodel"))
        .arg("-q")
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
        assert!(stdout.contains(m.name()), "{stdout}");
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
            &kmodel(&["check", &format!("{}/nope", m.name())]),
            "has no variant 'nope'",
        );
        assert_input_error(
            &kmodel(&["check", m.name(), "--param", "nope=1"]),
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
fn fresh_trace_replays_and_explains() {
    for path in fresh_traces() {
        let p = path.to_str().unwrap();
        let out = kmodel(&["replay", p]);
        assert!(
            out.status.success(),
            "{p}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("reproduced"));
        for format in ["text", "mermaid", "json"] {
            let out = kmodel(&["explain", p, "--format", format]);
            assert!(out.status.success(), "{p}");
            assert!(!out.stdout.is_empty());
            assert!(
                out.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
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
            } else if p.extension().is_some_and(|x| x == "json") && !is_results_file(&p) {
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
        m.variants()
            .into_iter()
            .find(|v| {
                v.expect
                    .into_iter()
                    .any(|(_, e)| e == kmodel_harness::Expect::Violated)
            })
            .map(|v| (m.name(), v.name))
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
    // Not a trace: corrupt, never kept silently (exit 2), and not overwritten either.
    let again = kmodel(&args);
    assert_input_error(
        &again,
        "the existing file is corrupt; --force overwrites it",
    );
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
        } else if !is_results_file(&p) {
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
    assert_eq!(reports["format"], "kmodel-check");
    assert_eq!(reports["version"], 1);
    let props = reports["reports"][0]["properties"]
        .as_array()
        .expect("properties");
    let esrch = props
        .iter()
        .find(|p| p["property"] == "no-spurious-esrch")
        .expect("property listed");
    assert_eq!(esrch["violated"], true);
    assert_eq!(esrch["agreement"], "as-expected");
    assert!(reports["reports"][0]["explored"]
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
        v["reports"][0]["properties"]
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
    assert!(
        merged["reports"][0]["executions"].as_u64() >= whole["reports"][0]["executions"].as_u64()
    );
}

// ---- the exit-code contract (README "Exit codes"), case by case from issue 12 ----

/// Runs kmodel as CI does, with `RUST_BACKTRACE=1` in the environment.
fn kmodel_ci(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kmodel"))
        .arg("-q")
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env_remove("KMODEL_VERBOSE")
        .output()
        .expect("runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// No panic report, backtrace or engine advice reached stderr.
fn assert_quiet(out: &Output) {
    let e = stderr(out);
    for noise in [
        "panicked at",
        "stack backtrace",
        "RUST_BACKTRACE",
        "Test deadlocked",
        "failing seed",
        "check_random_with_seed",
        "test panicked in task",
        "internal error",
    ] {
        assert!(!e.contains(noise), "'{noise}' on stderr:\n{e}");
    }
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
    assert_quiet(out);
}

/// A fresh, empty directory for this test process.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kmodel-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Traces recorded by this build (committed ones may be stale on a branch): mrelease/today
/// under loom and shuttle-pct, and mmcid/v3 under loom. Recorded once per test process.
fn fresh_traces() -> Vec<std::path::PathBuf> {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = scratch("fresh");
        let out = d.to_str().unwrap();
        for args in [
            vec!["check", "mrelease/today", "--out", out],
            vec!["check", "mmcid/v3", "--engine", "loom", "--out", out],
        ] {
            let o = kmodel_ci(&args);
            assert_exit(&o, 0);
        }
        d
    });
    let mut files = walk(dir);
    files.retain(|p| p.extension().is_some_and(|x| x == "json") && !is_results_file(p));
    assert!(files.len() >= 5, "{files:?}");
    files
}

fn fresh(name: &str) -> std::path::PathBuf {
    fresh_traces()
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(name))
        .unwrap_or_else(|| panic!("no fresh trace {name}"))
}

fn edited(from: &str, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fresh(from)).unwrap()).unwrap();
    edit(&mut v);
    let dir = std::env::temp_dir().join(format!("kmodel-cli-{}-edited", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn out_that_cannot_be_written_exits_2_before_exploring() {
    let file = temp_file("regular-file", "not a directory");
    for out in ["/proc/x", file.to_str().unwrap()] {
        let o = kmodel_ci(&["check", "mrelease/today", "--out", out]);
        assert_exit(&o, 2);
        assert!(
            stderr(&o).starts_with("kmodel: error: --out"),
            "{}",
            stderr(&o)
        );
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        assert!(stdout(&o).is_empty(), "explored anyway:\n{}", stdout(&o));
    }
}

#[test]
fn a_trace_write_failure_exits_2() {
    // The directory is writable, but where the model's traces go is a file.
    let dir = scratch("write-fail");
    std::fs::write(dir.join("mrelease"), "in the way").unwrap();
    let o = kmodel_ci(&[
        "check",
        "mrelease/today",
        "--engine",
        "shuttle-pct",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("cannot write"));
}

#[test]
fn a_budget_that_stops_before_a_declared_violation_exits_3() {
    let out = scratch("budget");
    let out = out.to_str().unwrap();
    let o = kmodel_ci(&["check", "mrelease/today", "--budget", "0s", "--out", out]);
    assert_exit(&o, 3);
    assert!(stderr(&o).contains("inconclusive"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("all verdicts as declared"));
    let o = kmodel_ci(&[
        "check",
        "mrelease/today",
        "--budget",
        "0s",
        "--allow-partial",
        "--out",
        out,
    ]);
    assert_exit(&o, 0);
}

#[test]
fn the_budget_given_is_the_budget_printed() {
    // loom's iterative deepening runs each pass with what is left of the budget; the table
    // reports the budget given.
    let o = kmodel_ci(&[
        "check",
        "ipi-mask/preemptible-percpu-mask",
        "--engine",
        "loom",
        "--budget",
        "1s",
        "--allow-partial",
        "--out",
        scratch("budget-given").to_str().unwrap(),
    ]);
    assert_exit(&o, 0);
    let s = stdout(&o);
    assert!(
        s.contains("stopped by the 1s time budget") || s.contains("exhaustive up to 2"),
        "{s}"
    );
    assert!(!s.contains("stopped by the 0s"), "{s}");
}

#[test]
fn a_dfs_search_stopped_at_its_cap_without_a_declared_violation_exits_3() {
    // shuttle-dfs stops at 100,000 schedules here without reaching today's -ESRCH race.
    let o = kmodel_ci(&[
        "check",
        "mrelease/today",
        "--engine",
        "shuttle-dfs",
        "--out",
        scratch("dfs").to_str().unwrap(),
    ]);
    assert_exit(&o, 3);
    assert!(stdout(&o).contains("DFS schedules (bound reached)"));
    assert!(
        stderr(&o).contains("expected violation not reached"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn zero_schedules_iterations_or_depth_are_refused_at_the_edge() {
    for flag in ["--schedules", "--iterations", "--depth"] {
        let o = kmodel_ci(&["check", "mrelease/today", flag, "0"]);
        assert_exit(&o, 2);
        assert!(stderr(&o).starts_with("kmodel: error:"), "{}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
}

#[test]
fn parameters_out_of_range_are_refused_with_name_value_and_range() {
    for (model, param) in [
        ("mm-cpumask", "nr_cpu_ids=100000"),
        ("mm-cpumask", "nr_cpu_ids=0"),
        ("mm-cpumask", "from_cpu=40"),
        ("mrelease", "victim_threads=9"),
        ("mrelease", "nr_vmas=0"),
        ("mmcid", "fork_num_possible_cpus=1"),
        ("ipi-mask", "b_calls=999999999"),
    ] {
        let o = kmodel_ci(&["check", model, "--param", param]);
        assert_exit(&o, 2);
        let name = param.split('=').next().unwrap();
        assert!(stderr(&o).contains(name), "{param}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
}

/// The example binary `examples/panicky.rs`: a registry whose `boom` variant panics.
fn panicky(args: &[&str], verbose: bool) -> Output {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples")
        .join("panicky");
    let mut c = Command::new(&bin);
    c.arg("-q").args(args).env("RUST_BACKTRACE", "1");
    if verbose {
        c.env("KMODEL_VERBOSE", "1");
    } else {
        c.env_remove("KMODEL_VERBOSE");
    }
    c.output()
        .unwrap_or_else(|e| panic!("{}: {e} (built by cargo test)", bin.display()))
}

#[test]
fn a_model_panic_is_one_line_model_error_exit_1() {
    let out = scratch("panicky");
    let out = out.to_str().unwrap();
    for jobs in ["1", "2"] {
        let o = panicky(&["check", "panicky", "--jobs", jobs, "--out", out], false);
        assert_exit(&o, 1);
        let e = stderr(&o);
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 2, "{e}");
        for (line, engine) in lines.iter().zip(["loom", "shuttle-pct"]) {
            assert!(
                line.starts_with(&format!(
                    "kmodel: model error in panicky/boom under {engine}: index out of bounds"
                )),
                "{e}"
            );
        }
    }
    // Verbose shows the panic itself.
    let o = panicky(
        &["check", "panicky/boom", "--engine", "loom", "--out", out],
        true,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("panicked at"), "{}", stderr(&o));
}

#[test]
fn engines_stay_quiet_and_findings_name_their_replay_command() {
    let out = scratch("quiet");
    let out = out.to_str().unwrap();
    // In-process (--jobs 1): a deadlocking variant under shuttle, and shuttle-random's seeds.
    let o = kmodel_ci(&[
        "check",
        "mrelease/write-locked-gup",
        "--engine",
        "shuttle-pct,shuttle-random",
        "--jobs",
        "1",
        "--out",
        out,
    ]);
    assert_exit(&o, 0);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert!(stdout(&o).contains("; kmodel replay "), "{}", stdout(&o));
    let o = kmodel_ci(&[
        "check",
        "mrelease/today",
        "--engine",
        "shuttle-random",
        "--out",
        out,
    ]);
    assert_exit(&o, 0);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn traces_are_validated_before_any_engine_runs() {
    let cases: Vec<(String, &str)> = vec![
        (
            edited("v3--no-livelock.loom.json", "relabelled.json", |v| {
                v["model"] = "mrelease".into()
            }),
            "unknown variant 'v3' for model mrelease",
        ),
        (
            edited("today--no-spurious-esrch.loom.json", "prop.json", |v| {
                v["property"] = "no-such-claim".into()
            }),
            "unknown property 'no-such-claim' for model mrelease",
        ),
        (
            edited("today--no-spurious-esrch.loom.json", "model.json", |v| {
                v["model"] = "no-such-model".into()
            }),
            "unknown model 'no-such-model'",
        ),
        (
            edited("today--no-spurious-esrch.loom.json", "param.json", |v| {
                v["params"]["nr_vmas"] = 999_999_999.into()
            }),
            "parameter nr_vmas=999999999 is out of range",
        ),
        (
            edited(
                "today--no-spurious-esrch.loom.json",
                "unknown-param.json",
                |v| v["params"]["b_calls"] = 1.into(),
            ),
            "has no parameter b_calls",
        ),
        (
            edited("today--no-spurious-esrch.loom.json", "path.json", |v| {
                v["replay"]["path"]["branches"]["entries"][0]["Schedule"]["threads"] =
                    serde_json::json!(["Active", "Active", "Active", "Active", "Active"])
            }),
            "loom path entry 0",
        ),
        (
            edited(
                "today--no-spurious-esrch.loom.json",
                "path-type.json",
                |v| v["replay"]["path"]["pos"] = "far".into(),
            ),
            "loom path",
        ),
        (
            edited(
                "today--no-spurious-esrch.shuttle-pct.json",
                "task.json",
                |v| v["replay"]["schedule"][0] = 1000.into(),
            ),
            "task 1000",
        ),
        (
            edited("today--no-spurious-esrch.loom.json", "token.json", |v| {
                v["replay"] = serde_json::json!({"kind": "shuttle", "schedule": [0, 1]})
            }),
            "a loom trace needs a loom path",
        ),
    ];
    for (file, needle) in &cases {
        for cmd in ["replay", "explain"] {
            let o = kmodel_ci(&[cmd, file]);
            assert_exit(&o, 2);
            assert!(stderr(&o).contains(needle), "{cmd} {file}: {}", stderr(&o));
            assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        }
    }
    // A path of another variant of the same model: loom itself cannot follow it.
    let other = edited("today--no-spurious-esrch.loom.json", "variant.json", |v| {
        v["variant"] = "write-locked-teardown".into()
    });
    let o = kmodel_ci(&["replay", &other]);
    assert!(matches!(o.status.code(), Some(1 | 2)), "{}", stderr(&o));
    assert_quiet(&o);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn explain_refuses_stale_traces_unless_forced() {
    let stale = edited("today--no-spurious-esrch.loom.json", "stale.json", |v| {
        v["source_hash"] = "0123456789abcdef".into()
    });
    let o = kmodel_ci(&["explain", &stale]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("stale trace"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    let o = kmodel_ci(&["explain", &stale, "--force"]);
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("WARNING"), "{}", stderr(&o));
    assert!(stdout(&o).contains("VIOLATED"));
}

#[test]
fn replay_has_a_time_limit() {
    let t = fresh("today--no-spurious-esrch.loom.json");
    let o = kmodel_ci(&["replay", "--timeout", "0s", t.to_str().unwrap()]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("did not finish within"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn merge_validates_the_traces_in_shard_reports() {
    let dir = scratch("merge");
    let o = kmodel_ci(&[
        "check",
        "mrelease/today",
        "--engine",
        "shuttle-pct",
        "--shard",
        "0/1",
        "--json",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_exit(&o, 0);
    let mut reports: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let trace = reports["reports"][0]["properties"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find_map(|p| p.get_mut("trace").filter(|t| !t.is_null()))
        .expect("a trace");
    trace["params"]["nr_vmas"] = 0.into();
    let shard = dir.join("shard.json");
    std::fs::write(&shard, reports.to_string()).unwrap();
    let o = kmodel_ci(&[
        "merge",
        shard.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("nr_vmas=0 is out of range"),
        "{}",
        stderr(&o)
    );
}

/// `explore --scene` reproduces a committed finding from the scene its trace carries: the
/// failed-execve livelock of mainline mmcid. The other declared sweep violation is not reached
/// by one scene (exit 3, inconclusive), and the shrunk trace is written under `sweep/`.
#[test]
fn explore_reproduces_the_scene_of_a_trace() {
    let out_dir = std::env::temp_dir().join(format!("kmodel-explore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let scene = temp_file(
        "execfail-scene.json",
        r#"{"num_possible_cpus":2,"nr_cpus_allowed":2,"tasks":4,
            "setup":[{"cpu":0,"op":{"fork":[1,1]}},{"cpu":0,"op":{"fork":[2,0]}},
                     {"cpu":1,"op":{"switch":1}},{"cpu":1,"op":"exit"},
                     {"cpu":0,"op":{"switch":2}},{"cpu":0,"op":"exit"},
                     {"cpu":0,"op":{"switch":0}},{"cpu":0,"op":"exec-fail"}],
            "actors":[{"cpu":0,"ops":[{"fork":[3,0]}]}]}"#,
    );
    let out = kmodel(&[
        "explore",
        "mmcid/mainline",
        "--scene",
        scene.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("no-livelock"), "{stdout}");
    assert!(out_dir
        .join("mmcid/sweep/mainline--no-livelock.loom.json")
        .exists());
    // `--allow-partial` accepts the unreached declared violation, as for check and merge.
    let out = kmodel(&[
        "explore",
        "mmcid/mainline",
        "--scene",
        scene.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--allow-partial",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("declared violation not reached: no-transit-left"));
    // A variant that sweeps no design of its own, and a scene the language refuses.
    assert_input_error(
        &kmodel(&["explore", "mmcid/mainline-exit"]),
        "declares no sweep verdicts",
    );
    let bad = temp_file("bad-scene.json", r#"{"num_possible_cpus":0}"#);
    let out = kmodel(&[
        "explore",
        "mmcid/mainline",
        "--scene",
        bad.to_str().unwrap(),
    ]);
    assert_input_error(&out, "scene");
}

/// Off a terminal (as in CI logs), a run prints its progress as plain lines on stderr: at least
/// a start and a finish line naming the command; `-q` prints none.
#[test]
fn a_run_off_a_terminal_prints_progress_lines_unless_quiet() {
    let out = scratch("progress");
    let args = [
        "check",
        "mrelease/today",
        "--engine",
        "shuttle-pct",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = Command::new(env!("CARGO_BIN_EXE_kmodel"))
        .args(args)
        .output()
        .expect("runs");
    assert_exit(&o, 0);
    let e = stderr(&o);
    assert!(
        e.lines()
            .any(|l| l.starts_with("kmodel: check: 1 check: started")),
        "{e}"
    );
    assert!(
        e.lines()
            .any(|l| l.starts_with("kmodel: check: 1 check: done: 1 checks")),
        "{e}"
    );
    assert!(
        !stdout(&o).contains("kmodel: check:"),
        "progress stays off stdout"
    );
    let quiet = kmodel(&args);
    assert_exit(&quiet, 0);
    assert!(stderr(&quiet).is_empty(), "{}", stderr(&quiet));
}

/// A check with parameters the model declares no verdicts for reports violations as findings
/// (exit 0; `--strict`: 1), under trace names that carry the parameters; declared parameter
/// sets are checked against their verdicts.
#[test]
fn non_default_parameters_report_findings_not_failures() {
    let out = scratch("params");
    let o = out.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["check", "mrelease/today", "--engine", "loom", "--out", o];
        args.extend(extra);
        kmodel(&args)
    };
    let found = run(&["--param", "parent_reaps=1"]);
    assert_exit(&found, 0);
    assert!(
        stdout(&found).contains("Violated  (finding)"),
        "{}",
        stdout(&found)
    );
    assert!(
        stderr(&found).contains("findings (no verdicts declared"),
        "{}",
        stderr(&found)
    );
    assert!(out
        .join("mrelease/today@parent_reaps=1--no-spurious-esrch.loom.json")
        .is_file());
    assert_exit(&run(&["--param", "parent_reaps=1", "--strict"]), 1);
    let declared = kmodel(&[
        "check",
        "mrelease/exit-mm-pointer",
        "--engine",
        "loom",
        "--param",
        "parent_reaps=1",
        "--strict",
        "--out",
        o,
    ]);
    assert_exit(&declared, 0);
    assert!(
        stdout(&declared).contains("all verdicts as declared"),
        "{}",
        stdout(&declared)
    );
}

#[test]
fn new_writes_the_whole_example_crate_and_never_overwrites() {
    let root = std::env::temp_dir().join(format!("kmodel-new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join("my-design");
    let out = kmodel(&["new", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Every file of the example but its manifest and README, with the crate's own name.
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sleepwake-model");
    for f in walk(&example.join("src"))
        .into_iter()
        .chain(walk(&example.join("tests")))
        .chain(walk(&example.join("traces")))
    {
        let rel = f.strip_prefix(&example).unwrap();
        let want = std::fs::read_to_string(&f)
            .unwrap()
            .replace("sleepwake_model", "my_design");
        let got = std::fs::read_to_string(dir.join(rel)).unwrap_or_default();
        assert_eq!(got, want, "{} differs from the example", rel.display());
    }
    assert!(std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap()
        .contains("name = \"my-design\""));
    assert!(dir.join("Cargo.lock").is_file());
    assert_input_error(&kmodel(&["new", dir.to_str().unwrap()]), "not empty");
    assert_input_error(
        &kmodel(&["new", root.join("9bad").to_str().unwrap()]),
        "crate name",
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn explore_with_nothing_to_sweep_is_bad_input() {
    assert_input_error(&kmodel(&["explore", "litmus"]), "no scene language");
}
