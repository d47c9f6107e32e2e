//! The published JSON Schemas (`schema/*.schema.json`) are what `kmodel schema` generates now,
//! and what kmodel writes validates against them: every committed trace and results file, and
//! a `check --json` output.

use std::path::Path;
use std::process::Command;

use kmodel::json::{schema, SCHEMAS};
use kmodel_harness::results::is_results_file;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator(name: &str) -> jsonschema::Validator {
    let s: serde_json::Value = serde_json::from_str(&schema(name).unwrap()).unwrap();
    jsonschema::validator_for(&s).expect("a valid JSON Schema")
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(3)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {}", errors.join("; "));
}

#[test]
fn published_schemas_are_current() {
    let mut stale = vec![];
    for (name, _) in SCHEMAS {
        let file = root().join("schema").join(format!("{name}.schema.json"));
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        if committed != schema(name).unwrap() {
            stale.push(file.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}: regenerate with `for s in trace check explore results; do cargo run --release -- schema $s > schema/$s.schema.json; done`"
    );
}

#[test]
fn committed_traces_and_results_validate() {
    let (traces, results) = (validator("trace"), validator("results"));
    let mut files = vec![];
    let mut stack = vec![root().join("traces")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 100, "{}", files.len());
    for f in files {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let v = if is_results_file(&f) {
            &results
        } else {
            &traces
        };
        assert_valid(v, &doc, &f.display().to_string());
    }
}

#[test]
fn check_json_validates() {
    let out = Command::new(env!("CARGO_BIN_EXE_kmodel"))
        .args(["check", "litmus/SB+poonceonces", "--json", "-q", "--out"])
        .arg(std::env::temp_dir().join(format!("kmodel-schema-{}", std::process::id())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&validator("check"), &doc, "check --json");
}
