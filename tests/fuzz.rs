//! Fuzzing the trace-file edge: mutated traces (byte flips, truncation, deleted fields, huge
//! numbers, wrong types, deep nesting, relabelled model/variant/property, swapped replay data)
//! and random JSON go through `kmodel replay` and `kmodel explain` (the built binary, with
//! `RUST_BACKTRACE=1` as in CI). Every run must exit 0, 1, 2 or 3, print no panic or backtrace,
//! and finish within a time limit. Two classes are held to more (issue 24): a trace with an
//! edited header field must be refused (replay exits 1 or 2 with one line on stderr, never
//! "reproduced"), and a sweep trace whose scene lost or changed an element must be refused the
//! same way unless its replay reproduces the recorded execution exactly; neither may abort.
//!
//! The seed traces are recorded by this build into a temp directory (committed ones may be
//! stale on a branch), with two loom sweep traces of one scene. `KMODEL_FUZZ_CASES` sets the
//! number of mutated files (default 3000: about 25 s of runs plus 5 s of recording in `cargo
//! test --release` on 2 CPUs; the nightly job runs 10 minutes' worth), `KMODEL_FUZZ_SEED` the
//! seed. A failing case's file is kept and named.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kmodel_harness::results::is_results_file;
use serde_json::{json, Value};

/// A run slower than this is a hang (replay itself gives up after its `--timeout`).
const LIMIT: Duration = Duration::from_secs(30);

/// splitmix64: a small deterministic generator, so a failing case reruns from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn kmodel() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kmodel"));
    c.env("RUST_BACKTRACE", "1").env_remove("KMODEL_VERBOSE");
    c
}

/// Records the seed traces: every engine kind's replay data, a deadlock and a livelock.
fn seed_traces(dir: &Path) -> Vec<Value> {
    for args in [
        vec![
            "check",
            "mrelease/today",
            "--engine",
            "loom,shuttle-pct,stress",
        ],
        vec!["check", "mrelease/write-locked-gup", "--engine", "loom"],
        vec!["check", "mmcid/v3", "--engine", "loom,shuttle-random"],
        vec![
            "check",
            "ipi-mask/ablation-put-cpu-only-if-remote",
            "--engine",
            "loom",
        ],
    ] {
        let out = kmodel()
            .args(&args)
            .args(["--allow-partial", "--out", dir.to_str().unwrap()])
            .output()
            .expect("runs");
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Sweep traces (a generated scene, loom): the scene-edit class edits their scenes.
    let scene = dir.with_extension("scene.json");
    std::fs::write(&scene, SWEEP_SCENE).unwrap();
    for variant in ["mrelease/today", "mrelease/count-only-gup"] {
        let out = kmodel()
            .args(["explore", variant, "--exhaustive", "--scene"])
            .arg(&scene)
            .args(["--allow-partial", "--out", dir.to_str().unwrap()])
            .output()
            .expect("runs");
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "explore {variant}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut files = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") && !is_results_file(&p) {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect()
}

/// A three-actor mrelease scene (killer, stalled smaps reader, victim) whose loom sweep finds
/// violations in mrelease/today and mrelease/count-only-gup.
const SWEEP_SCENE: &str = r#"{"actors": [{"ops": ["lmkd"], "role": "task"},
  {"ops": [{"read": {"file": "smaps", "stall": 1}}], "role": "task"},
  {"exit": "killed", "role": "thread", "tid": 0}], "autoreap": false,
  "killer_wait_budget": 0, "nr_vmas": 1, "reader_stealing": false, "setup": [], "threads": 1}"#;

/// The mutation classes replay must refuse: exit 1 or 2, one line, never "reproduced".
const SCENE_EDIT: &str = "scene edit";
const HEADER_EDIT: &str = "header edit";

/// Deletes or changes one element of the seed's scene (a sweep trace).
fn edit_scene(rng: &mut Rng, v: &mut Value) -> String {
    let mut all = vec![];
    paths(&v["scene"], &mut vec!["scene".into()], &mut all);
    all.retain(|p| p.len() > 1);
    let path = all[rng.below(all.len())].clone();
    let (last, parent) = path.split_last().unwrap();
    let old = get_mut(v, &path).cloned().unwrap_or(Value::Null);
    let op = if rng.next() & 1 == 1 {
        match get_mut(v, parent) {
            Some(Value::Object(m)) => {
                m.remove(last);
            }
            Some(Value::Array(a)) => {
                a.remove(last.parse::<usize>().unwrap());
            }
            _ => {}
        }
        "delete"
    } else {
        let new = match &old {
            Value::Number(n) => json!(n.as_u64().unwrap_or(0) + 1 + rng.below(3) as u64),
            Value::Bool(b) => json!(!b),
            Value::String(s) => json!(format!("{s}x")),
            Value::Array(a) if !a.is_empty() => {
                let mut a = a.clone();
                a.push(a[rng.below(a.len())].clone());
                Value::Array(a)
            }
            _ => json!(7),
        };
        *get_mut(v, &path).unwrap() = new;
        "change"
    };
    format!("{SCENE_EDIT}: {op} /{}", path.join("/"))
}

/// Changes one header field replay vouches for to a different value.
fn edit_header(rng: &mut Rng, v: &mut Value) -> String {
    let bump = |x: &Value| json!(x.as_u64().unwrap_or(0) + 1);
    let field = rng.below(8);
    let what = match field {
        0 => {
            v["claim"] = json!(format!("{} (edited)", v["claim"].as_str().unwrap_or("")));
            "claim"
        }
        1 => {
            v["memory_model"] = json!(["SC", "LKMM", "C11 (loom subset)x"][rng.below(3)]);
            "memory_model"
        }
        2 => {
            v["schedule"]["steps"] = bump(&v["schedule"]["steps"]);
            "schedule.steps"
        }
        3 => {
            v["schedule"]["preemptions"] = bump(&v["schedule"]["preemptions"]);
            "schedule.preemptions"
        }
        4 => {
            v["engine_version"] = json!("loom 0.7.1");
            "engine_version"
        }
        5 => {
            let i = rng.below(v["actors"].as_array().map_or(1, Vec::len));
            v["actors"][i] = json!("CPU9 someone else");
            "actors"
        }
        6 => {
            v["message"] = json!(format!("{} (edited)", v["message"].as_str().unwrap_or("")));
            "message"
        }
        _ => {
            // A bound loom cannot have (a lowered bound the stored path still fits replays
            // the same execution: not detected), or an event by an actor that does not exist.
            match v["engine"]["kind"].as_str() {
                Some("loom") => v["engine"]["preemption_bound"] = json!(256),
                _ => v["events"][0]["actor"] = json!(17),
            }
            "engine bound"
        }
    };
    format!("{HEADER_EDIT}: {what}")
}

/// Every (path to a value) in `v`, depth first.
fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                at.push(k.clone());
                paths(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate().take(64) {
                at.push(i.to_string());
                paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| match v {
        Value::Object(m) => m.get_mut(k),
        Value::Array(a) => a.get_mut(k.parse::<usize>().ok()?),
        _ => None,
    })
}

fn random_json(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 3 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.next() & 1 == 1),
        2 => json!(rng.next()),
        3 => json!(-(rng.below(1000) as i64)),
        4 => json!(["kmodel-trace", "loom", "mrelease", "\u{0}", "é"][rng.below(5)]),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "format", "version", "model", "kind", "path", "schedule", "x",
            ];
            Value::Object(
                (0..rng.below(4))
                    .map(|_| {
                        (
                            keys[rng.below(keys.len())].to_string(),
                            random_json(rng, depth + 1),
                        )
                    })
                    .collect(),
            )
        }
    }
}

const NAMES: &[&str] = &[
    "mrelease",
    "mmcid",
    "ipi-mask",
    "mm-cpumask",
    "today",
    "v3",
    "mainline",
    "no-deadlock",
    "no-livelock",
    "cid-unique",
    "no-spurious-esrch",
    "",
];

/// One mutated file (its bytes) and what was done, from the seed traces.
fn mutate(rng: &mut Rng, seeds: &[Value]) -> (Vec<u8>, String) {
    let mut v = seeds[rng.below(seeds.len())].clone();
    let kind = rng.below(12);
    let replayable = |v: &Value| v["replay"]["kind"] != "none";
    if kind == 10 {
        let swept: Vec<&Value> = seeds.iter().filter(|s| s.get("scene").is_some()).collect();
        let mut v = swept[rng.below(swept.len())].clone();
        let what = edit_scene(rng, &mut v);
        return (serde_json::to_vec(&v).unwrap(), what);
    }
    if kind == 11 && replayable(&v) {
        let what = edit_header(rng, &mut v);
        return (serde_json::to_vec(&v).unwrap(), what);
    }
    if kind == 0 {
        // Raw bytes: flips and truncation of the serialized trace.
        let mut bytes = serde_json::to_vec_pretty(&v).unwrap();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len());
            bytes[i] = rng.next() as u8;
        }
        if rng.next() & 1 == 1 {
            bytes.truncate(rng.below(bytes.len()));
        }
        return (bytes, "byte flips".into());
    }
    if kind == 1 {
        let doc = random_json(rng, 0);
        let mut v = json!({"format": "kmodel-trace", "version": 1});
        if let (Value::Object(m), Value::Object(extra)) = (&mut v, doc.clone()) {
            m.extend(extra);
        }
        let v = if rng.next() & 1 == 1 { v } else { doc };
        return (v.to_string().into_bytes(), "random JSON".into());
    }
    let mut all = vec![];
    paths(&v, &mut vec![], &mut all);
    let n = 1 + rng.below(3);
    let mut done = vec![];
    for _ in 0..n {
        let path = all[rng.below(all.len())].clone();
        let (parent, last) = match path.split_last() {
            Some((l, p)) => (p.to_vec(), Some(l.clone())),
            None => (vec![], None),
        };
        let Some(target) = get_mut(&mut v, &path) else {
            continue;
        };
        let op = match kind {
            2 => {
                // Delete the field (or array element).
                if let (Some(l), Some(p)) = (&last, get_mut(&mut v, &parent)) {
                    match p {
                        Value::Object(m) => {
                            m.remove(l);
                        }
                        Value::Array(a) => {
                            if let Ok(i) = l.parse::<usize>() {
                                if i < a.len() {
                                    a.remove(i);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                "delete"
            }
            3 => {
                *target = [
                    json!(u64::MAX),
                    json!(999_999_999u64),
                    json!(4_294_967_296u64),
                    json!(-1),
                    json!(1e300),
                    json!(256),
                    json!(65),
                ][rng.below(7)]
                .clone();
                "huge number"
            }
            4 => {
                *target = [json!("x"), json!([]), json!({}), json!(true), Value::Null]
                    [rng.below(5)]
                .clone();
                "wrong type"
            }
            5 => {
                let mut deep = target.clone();
                for _ in 0..(50 + rng.below(400)) {
                    deep = json!([deep]);
                }
                *target = deep;
                "deep nesting"
            }
            6 => {
                let field = ["model", "variant", "property"][rng.below(3)];
                v[field] = json!(NAMES[rng.below(NAMES.len())]);
                "relabel"
            }
            7 => {
                let other = &seeds[rng.below(seeds.len())];
                let field = ["replay", "engine", "params", "events", "scene"][rng.below(5)];
                v[field] = other.get(field).cloned().unwrap_or(Value::Null);
                "swap"
            }
            8 => {
                if let Value::Number(n) = target {
                    let x = n.as_u64().unwrap_or(0);
                    *target = json!(x.wrapping_add(1 + rng.below(3) as u64));
                }
                "increment"
            }
            _ => {
                *target = random_json(rng, 0);
                "random value"
            }
        };
        done.push(format!("{op} at /{}", path.join("/")));
    }
    (serde_json::to_vec(&v).unwrap(), done.join(", "))
}

/// What one run gave: exit code (None: killed), stderr, stdout, elapsed.
struct Ran {
    code: Option<i32>,
    stderr: String,
    stdout: String,
    took: Duration,
}

/// Runs `kmodel ARGS`, killing it after [`LIMIT`].
fn run(args: &[&str]) -> Ran {
    let start = Instant::now();
    let mut child = kmodel()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let err = read(Box::new(child.stderr.take().unwrap()));
    let out = read(Box::new(child.stdout.take().unwrap()));
    loop {
        let code = match child.try_wait().unwrap() {
            Some(status) => Some(status.code()),
            None if start.elapsed() > LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                Some(None)
            }
            None => None,
        };
        if let Some(code) = code {
            return Ran {
                code,
                stderr: err.join().unwrap(),
                stdout: out.join().unwrap(),
                took: start.elapsed(),
            };
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn mutated_traces_never_panic_hang_or_exit_outside_the_contract() {
    let cases: usize = std::env::var("KMODEL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let seed: u64 = std::env::var("KMODEL_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("kmodel-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let seeds = seed_traces(&dir.join("seeds"));
    let cases_dir = dir.join("cases");
    std::fs::create_dir_all(&cases_dir).unwrap();

    let start = Instant::now();
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let failures = std::sync::Mutex::new(vec![]);
    let codes = std::sync::Mutex::new(BTreeMap::<String, usize>::new());
    let slowest = std::sync::Mutex::new(Duration::ZERO);
    std::thread::scope(|s| {
        for w in 0..jobs {
            let (seeds, failures, codes, slowest, cases_dir) =
                (&seeds, &failures, &codes, &slowest, &cases_dir);
            s.spawn(move || {
                for i in (w..cases).step_by(jobs) {
                    // Each case has its own stream: case i is the same whatever the threads.
                    let mut rng = Rng(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
                    let (bytes, what) = mutate(&mut rng, seeds);
                    let file: PathBuf = cases_dir.join(format!("case-{i}.json"));
                    std::fs::write(&file, &bytes).unwrap();
                    let f = file.to_str().unwrap();
                    // replay's own bound (`--timeout`, exit 2) well inside the hang limit: a mutated loom path
                    // can send loom's replay exploring far past it.
                    let refused = what.starts_with(SCENE_EDIT) || what.starts_with(HEADER_EDIT);
                    for cmd in [vec!["replay", "--timeout", "10s", f], vec!["explain", f]] {
                        let Ran {
                            code,
                            stderr,
                            stdout,
                            took,
                        } = run(&cmd);
                        let mut slow = slowest.lock().unwrap();
                        *slow = (*slow).max(took);
                        drop(slow);
                        let class = if refused {
                            what.split(':').next().unwrap()
                        } else {
                            "other"
                        };
                        *codes
                            .lock()
                            .unwrap()
                            .entry(format!("{} {class} {code:?}", cmd[0]))
                            .or_default() += 1;
                        let noisy = ["panicked at", "stack backtrace", "internal error"]
                            .iter()
                            .find(|n| stderr.contains(*n));
                        let bad = match code {
                            None => Some("hang (killed after the limit)".to_string()),
                            Some(c) if !(0..=3).contains(&c) => Some(format!("exit {c}")),
                            _ if noisy.is_some() => noisy.map(|n| format!("'{n}' on stderr")),
                            // An edited header is never vouched for. An edited scene may
                            // still run the recorded execution exactly (a field at its
                            // default deleted, a flag this execution never reads): then the
                            // file is a true counterexample of its scene and "reproduced" is
                            // right; otherwise exit 1 or 2 with one line.
                            Some(0) if what.starts_with(SCENE_EDIT) => None,
                            Some(c) if refused && cmd[0] == "replay" => {
                                if stdout.contains("reproduced") {
                                    Some("\"reproduced\" for an edited trace".into())
                                } else if !matches!(c, 1 | 2) || stderr.lines().count() != 1 {
                                    Some(format!("exit {c}, not 1 or 2 with one line"))
                                } else {
                                    None
                                }
                            }
                            _ => None,
                        };
                        if let Some(why) = bad {
                            failures.lock().unwrap().push(format!(
                                "case {i} ({what}), kmodel {}: {why}; kept {f}\n{stderr}",
                                cmd[0]
                            ));
                        }
                    }
                    if failures.lock().unwrap().is_empty() {
                        let _ = std::fs::remove_file(&file);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    println!(
        "fuzz: {cases} mutated traces (seed {seed}), {} runs in {:.1}s, slowest {:.2}s; exit codes {:?}",
        cases * 2,
        start.elapsed().as_secs_f64(),
        slowest.into_inner().unwrap().as_secs_f64(),
        codes.into_inner().unwrap()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
