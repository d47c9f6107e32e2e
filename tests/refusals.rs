//! Bad input and a broken environment are refused at the edge (issue 24, items 4 and 5): one
//! line on stderr naming the cause, exit 2, before any work; never a verdict, never a silent
//! adjustment of what was asked.

use std::process::{Command, Output};

fn kmodel_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kmodel"));
    c.arg("-q")
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env_remove("KMODEL_VERBOSE");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("runs")
}

fn kmodel(args: &[&str]) -> Output {
    kmodel_env(args, &[])
}

/// Exit 2, exactly one line on stderr containing `says`, nothing on stdout.
fn assert_refused(o: &Output, says: &str) {
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr:\n{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.starts_with("kmodel: error: "), "{e}");
    assert!(e.contains(says), "wanted '{says}' in: {e}");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kmodel-refusals-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_missing_temporary_directory_is_an_io_error_not_a_verdict() {
    let out = scratch("tmpdir");
    let out = out.to_str().unwrap();
    let missing = [("TMPDIR", "/nonexistent-kmodel-tmp")];
    let says = "TMPDIR /nonexistent-kmodel-tmp: No such directory";
    for args in [
        vec!["check", "mrelease/today", "--out", out],
        vec!["explore", "mrelease/today", "--scenes", "2", "--out", out],
        vec!["bench", "--out", out],
    ] {
        assert_refused(&kmodel_env(&args, &missing), says);
    }
    // replay blames the environment, not the trace.
    let o = kmodel(&["check", "mrelease/today", "--engine", "loom", "--out", out]);
    assert_eq!(o.status.code(), Some(0));
    let trace = format!("{out}/mrelease/today--no-spurious-esrch.loom.json");
    assert_refused(&kmodel_env(&["replay", &trace], &missing), says);
    let file = std::path::Path::new(out).join("mrelease/results.json");
    let not_dir = [("TMPDIR", file.to_str().unwrap())];
    assert_refused(
        &kmodel_env(&["replay", &trace], &not_dir),
        "results.json: not a directory",
    );
}

#[test]
fn drift_on_a_directory_that_is_no_kernel_tree_is_exit_2() {
    let empty = scratch("not-a-kernel");
    let o = kmodel(&["drift", "--kernel", empty.to_str().unwrap()]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("not a kernel tree: none of the "), "{e}");
    assert!(e.contains(" pinned files exist"), "{e}");
}

#[test]
fn values_out_of_range_are_refused_not_adjusted() {
    let out = scratch("ranges");
    let out = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["check", "mrelease/today", "--jobs", "0"],
            "'--jobs <JOBS>': expected a whole number in 1..=1024",
        ),
        (
            &["bench", "--jobs", "0"],
            "'--jobs <JOBS>': expected a whole number in 1..=1024",
        ),
        (
            &["bench", "--seeds", "0"],
            "'--seeds <SEEDS>': expected a whole number in 1..=1000",
        ),
        (
            &["check", "--schedules", "0"],
            "'--schedules <SCHEDULES>': expected a whole number of at least 1",
        ),
        (
            &["explore", "--scenes", "0"],
            "'--scenes <SCENES>': expected a whole number in 1..=10000000",
        ),
        (
            &[
                "explore",
                "mmcid",
                "--exhaustive",
                "--engine",
                "shuttle-pct",
            ],
            "engine 'shuttle-pct' does not sweep exhaustively (engines: dpor, loom)",
        ),
        (&["explore", "mmcid", "--engine", "dpor"], "--exhaustive"),
        (
            &["bench", "--spin-anchors", "/nonexistent-kmodel-anchors"],
            "--spin-anchors /nonexistent-kmodel-anchors: no mmcid_v3_livelock.pml there",
        ),
        (
            &[
                "check",
                "mrelease",
                "--param",
                "nr_vmas=1",
                "--param",
                "nr_vmas=2",
            ],
            "--param nr_vmas given twice (nr_vmas=1, nr_vmas=2)",
        ),
    ];
    for (args, says) in cases {
        let mut a = args.to_vec();
        a.extend(["--out", out]);
        assert_refused(&kmodel(&a), says);
    }
    let o = kmodel(&["check", "mrelease/today", "--engine", "loom", "--out", out]);
    assert_eq!(o.status.code(), Some(0));
    let trace = format!("{out}/mrelease/today--no-spurious-esrch.loom.json");
    for width in ["0", "10", "39"] {
        assert_refused(
            &kmodel(&["explain", &trace, "--width", width]),
            "'--width <WIDTH>': expected a whole number in 40..=10000",
        );
    }
    assert!(kmodel(&["explain", &trace, "--width", "40"])
        .status
        .success());
}

#[test]
fn negative_numbers_name_the_option_and_its_range() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["check", "--budget", "-5s"],
            "'--budget <BUDGET>': a duration is 0s or more",
        ),
        (
            &["explore", "--budget", "-5s"],
            "'--budget <BUDGET>': a duration is 0s or more",
        ),
        (
            &["bench", "--stress-budget", "-1s"],
            "'--stress-budget <STRESS_BUDGET>': a duration is 0s or more",
        ),
        (
            &["explore", "--scene-executions", "-1"],
            "'--scene-executions <SCENE_EXECUTIONS>': expected a whole number of at least 0",
        ),
        (
            &["replay", "x.json", "--timeout", "-1s"],
            "'--timeout <TIMEOUT>': a duration is 0s or more",
        ),
        (
            &["check", "--jobs", "-2"],
            "'--jobs <JOBS>': expected a whole number in 1..=1024",
        ),
        (
            &["check", "--seed", "-5"],
            "'--seed <SEED>': expected a whole number of at least 0",
        ),
        (
            &["explore", "--cpus", "-3"],
            "'--cpus <CPUS>': -3 is not in 1..=64",
        ),
        (
            &["check", "--preemptions", "-1"],
            "'--preemptions <PREEMPTIONS>'",
        ),
    ];
    for (args, says) in cases {
        let o = kmodel(args);
        assert_refused(&o, says);
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("'-- -"),
            "{o:?}"
        );
    }
}

#[test]
fn every_command_with_an_out_checks_it_first_in_the_same_words() {
    let dir = scratch("out-file");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let f = file.to_str().unwrap();
    let says = format!("--out {f}: not a directory");
    for args in [
        vec!["check", "mrelease/today", "--out", f],
        vec!["explore", "mrelease/today", "--scenes", "2", "--out", f],
        vec!["bench", "--out", f],
        vec!["report", "--out", f],
        vec!["merge", "no-such-shard.json", "--out", f],
    ] {
        assert_refused(&kmodel(&args), &says);
    }
}

/// No green run on nothing (issue 24, item 3): a shard that drew no part of the search, and a
/// merge of documents without reports, establish nothing: inconclusive, exit 3.
#[test]
fn a_run_of_nothing_is_inconclusive() {
    // mainline-execfail's loom search has fewer subtrees than 12 shards.
    let o = kmodel(&[
        "check",
        "mmcid/mainline-execfail",
        "--engine",
        "loom",
        "--shard",
        "11/12",
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("no execution ran"),
        "{e}"
    );

    let d = scratch("empty-merge");
    let empty = d.join("empty.json");
    let o = kmodel(&[
        "check",
        "mmcid/mainline-execfail",
        "--engine",
        "loom",
        "--json",
    ]);
    let mut doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("check --json");
    doc["reports"] = serde_json::json!([]);
    std::fs::write(&empty, doc.to_string()).unwrap();
    let out = d.join("traces");
    let o = kmodel(&[
        "merge",
        empty.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(e.contains("nothing was checked"), "{e}");
}

/// `--budget` bounds `explore --scene` like any sweep (issue 24, item 3): with no time at all,
/// not one of the given scenes runs, and the run says so and is inconclusive.
#[test]
fn the_budget_bounds_given_scenes() {
    let scene = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/traces/mmcid/sweep/mainline--no-cid-leak.loom.json"
    );
    let o = kmodel(&[
        "explore",
        "mmcid/mainline",
        "--scene",
        scene,
        "--exhaustive",
        "--budget",
        "0s",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.contains("0 under dpor") && out.contains("stopped by the time budget"),
        "{out}"
    );
}

/// Scene files are size-checked before anything runs (issue 24, item 3): a scene beyond
/// `SceneBounds::LIMIT`, a file with too many scenes, a file too large to read; exit 2, one line.
#[test]
fn oversized_scene_files_are_refused() {
    let d = scratch("oversized");
    let scene = serde_json::json!({
        "actors": [{"cpu": 0, "ops": ["exit"]}, {"cpu": 1, "ops": ["exec-fail"]}],
        "nr_cpus_allowed": 2, "num_possible_cpus": 2, "tasks": 3,
        "setup": [{"cpu": 1, "op": {"switch": 1}}],
    });
    let write = |name: &str, v: &serde_json::Value| {
        let p = d.join(name);
        std::fs::write(&p, serde_json::to_string(v).unwrap()).unwrap();
        p.to_str().unwrap().to_string()
    };
    let explore = |file: &str| kmodel(&["explore", "mmcid/mainline", "--scene", file]);

    let mut long = scene.clone();
    long["setup"] = serde_json::Value::Array(vec![scene["setup"][0].clone(); 65]);
    assert_refused(&explore(&write("long.json", &long)), "scene too large: ");

    let many = serde_json::Value::Array(vec![scene.clone(); 10_001]);
    assert_refused(&explore(&write("many.json", &many)), "at most 10000");

    let big = d.join("big.json");
    std::fs::write(&big, vec![b' '; (8 << 20) + 1]).unwrap();
    assert_refused(
        &explore(big.to_str().unwrap()),
        "bytes; a scene file holds at most",
    );
    let o = kmodel(&["replay", big.to_str().unwrap()]);
    assert_refused(&o, "bytes; a trace file holds at most");
}
