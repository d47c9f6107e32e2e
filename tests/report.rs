//! The committed design-review dossier (`report/`) must be what `kmodel report` generates now:
//! a model, verdict or trace change without regenerating it fails here.

use std::path::Path;
use std::process::Command;

#[test]
fn committed_dossier_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("kmodel-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(env!("CARGO_BIN_EXE_kmodel"))
        .args(["report", "--out", out.to_str().unwrap(), "--traces"])
        .arg(root.join("traces"))
        .output()
        .expect("kmodel report runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let mut stale = vec![];
    for entry in std::fs::read_dir(&out).unwrap().flatten() {
        let name = entry.file_name();
        let fresh = std::fs::read_to_string(entry.path()).unwrap();
        let committed =
            std::fs::read_to_string(root.join("report").join(&name)).unwrap_or_default();
        if fresh != committed {
            stale.push(name.to_string_lossy().into_owned());
        }
    }
    assert!(
        stale.is_empty(),
        "report/ is out of date for {stale:?}: run `cargo run --release -- report`"
    );
}

/// Without results (or with results of another model source) `report` says so and exits 2,
/// instead of exploring for minutes.
#[test]
fn missing_or_stale_results_are_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("kmodel-report-results-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let traces = dir.join("traces");
    std::fs::create_dir_all(traces.join("mrelease")).unwrap();
    let report = || {
        Command::new(env!("CARGO_BIN_EXE_kmodel"))
            .args(["report", "-q", "--out"])
            .arg(dir.join("report"))
            .arg("--traces")
            .arg(&traces)
            .output()
            .expect("kmodel report runs")
    };
    let out = report();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no check results"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let committed = root.join("traces/mrelease/results.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(committed).unwrap()).unwrap();
    v["source_hash"] = "0000000000000000".into();
    std::fs::write(traces.join("mrelease/results.json"), v.to_string()).unwrap();
    let out = report();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("mrelease/results.json: results are stale"),
        "{stderr}"
    );
    // `--out` is checked (and created) before any work; no file is written into it.
    let written = std::fs::read_dir(dir.join("report")).map_or(0, |d| d.count());
    assert_eq!(written, 0, "nothing is written");
}
