//! `kmodel replay` checks a trace before any engine runs and vouches only for what it
//! reproduced (issue 24, item 1): a scene, actors and schedule that do not fit each other are
//! bad input (exit 2, one line); header fields that follow from the model and the engine are
//! compared (exit 2); what the replay reproduces (events, violation, actors, steps,
//! preemptions) is compared after it (exit 1, "replay diverged"); never "reproduced" for an
//! edited header, never an abort.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

/// A three-actor mrelease scene (killer, stalled smaps reader, victim) whose loom sweep
/// finds both of mrelease/today's declared violations.
const SCENE: &str = r#"{"actors": [{"ops": ["lmkd"], "role": "task"},
  {"ops": [{"read": {"file": "smaps", "stall": 1}}], "role": "task"},
  {"exit": "killed", "role": "thread", "tid": 0}], "autoreap": false,
  "killer_wait_budget": 0, "nr_vmas": 1, "reader_stealing": false, "setup": [], "threads": 1}"#;

fn kmodel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kmodel"))
        .arg("-q")
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env_remove("KMODEL_VERBOSE")
        .output()
        .expect("runs")
}

fn dir() -> PathBuf {
    std::env::temp_dir().join(format!("kmodel-replay-checks-{}", std::process::id()))
}

/// The loom sweep trace of SCENE, recorded by this build once per test process.
fn sweep_trace() -> Value {
    static TRACE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    TRACE
        .get_or_init(|| {
            let d = dir();
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            let scene = d.join("scene.json");
            std::fs::write(&scene, SCENE).unwrap();
            let out = d.join("traces");
            let o = kmodel(&[
                "explore",
                "mrelease/today",
                "--exhaustive",
                // The one scene does not reach every declared sweep violation (data-race).
                "--allow-partial",
                "--scene",
                scene.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ]);
            assert_eq!(o.status.code(), Some(0), "{o:?}");
            let t = out.join("mrelease/sweep/today--no-spurious-esrch.loom.json");
            serde_json::from_str(&std::fs::read_to_string(t).unwrap()).unwrap()
        })
        .clone()
}

/// Replays the sweep trace after `edit`; returns (exit code, stderr, stdout).
fn replay_edited(name: &str, edit: impl FnOnce(&mut Value)) -> (Option<i32>, String, String) {
    let mut v = sweep_trace();
    edit(&mut v);
    let p: PathBuf = dir().join(format!("{name}.json"));
    std::fs::write(&p, v.to_string()).unwrap();
    replay(&p)
}

fn replay(p: &Path) -> (Option<i32>, String, String) {
    let o = kmodel(&["replay", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    if !o.status.success() {
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    (
        o.status.code(),
        err,
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// A named edit of the trace and what the refusal says.
type Edit = (&'static str, fn(&mut Value), &'static str);

#[test]
fn the_unedited_sweep_trace_reproduces() {
    let (code, err, out) = replay_edited("unedited", |_| {});
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("reproduced"), "{out}");
}

#[test]
fn a_scene_without_one_of_its_actors_is_bad_input_not_an_abort() {
    // "Does it still fail without the reader?": loom would follow the path into the thread that
    // is no longer spawned and abort the process.
    let (code, err, out) = replay_edited("no-reader", |v| {
        v["scene"]["actors"].as_array_mut().unwrap().remove(1);
    });
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("the scene runs 3 actors"), "{err}");
    assert!(out.is_empty());
    // The same with the actor also taken off the trace's list and its events: the loom path
    // still names its thread.
    let (code, err, _) = replay_edited("no-reader-anywhere", |v| {
        v["scene"]["actors"].as_array_mut().unwrap().remove(1);
        v["actors"].as_array_mut().unwrap().remove(2);
        v["events"] = json!([]);
    });
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("schedules thread 3, but the trace has 3 actors"),
        "{err}"
    );
}

#[test]
fn header_fields_the_model_and_engine_fix_are_checked_before_replay() {
    let cases: [Edit; 5] = [
        (
            "memory-model",
            |v| v["memory_model"] = json!("SC"),
            "memory_model 'SC': loom runs",
        ),
        (
            "claim",
            |v| v["claim"] = json!("something else"),
            "claim of [no-spurious-esrch] is not the model's",
        ),
        (
            "engine-version",
            |v| v["engine_version"] = json!("loom 0.1.0"),
            "engine_version 'loom 0.1.0'",
        ),
        (
            "bound",
            |v| v["engine"]["preemption_bound"] = json!(0),
            "above the trace's preemption bound 0",
        ),
        (
            "event-actor",
            |v| v["events"][0]["actor"] = json!(9),
            "event 0 is by actor 9, but the trace has 4 actors",
        ),
    ];
    for (name, edit, says) in cases {
        let (code, err, out) = replay_edited(name, edit);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(!out.contains("reproduced"), "{name}: {out}");
    }
}

#[test]
fn what_the_replay_reproduces_is_compared_after_it() {
    let cases: [Edit; 4] = [
        (
            "steps",
            |v| v["schedule"]["steps"] = json!(v["schedule"]["steps"].as_u64().unwrap() + 1),
            "a different schedule",
        ),
        (
            "preemptions",
            |v| v["schedule"]["preemptions"] = json!(7),
            "a different schedule",
        ),
        (
            "actor-name",
            |v| v["actors"][1] = json!("CPU7 someone else"),
            "different actors",
        ),
        (
            "message",
            |v| v["message"] = json!("another violation"),
            "expected [no-spurious-esrch] another violation",
        ),
    ];
    for (name, edit, says) in cases {
        let (code, err, out) = replay_edited(name, edit);
        assert_eq!(code, Some(1), "{name}: {err}");
        assert!(err.contains("replay diverged"), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(!out.contains("reproduced"), "{name}: {out}");
    }
}
