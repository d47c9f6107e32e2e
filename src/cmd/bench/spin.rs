//! The SPIN anchor of `kmodel bench`: SPIN (explicit state, partial-order reduction, state
//! hashing) on a Promela abstraction of a scripted kmodel scene, run on the same machine in the
//! same run as the dpor engine. The Promela models are read from `--spin-anchors DIR` (never
//! copied into this repository); SPIN runs only when `spin` and `cc` are on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One SPIN configuration: a Promela file, its defines, and how `pan` is built and run.
pub struct Anchor {
    /// The kmodel scene it abstracts (`model/variant`).
    pub target: &'static str,
    /// What it checks, in words.
    pub what: &'static str,
    pub file: &'static str,
    pub defines: &'static [&'static str],
    pub cc_flags: &'static [&'static str],
    pub pan_flags: &'static [&'static str],
}

/// The configurations run: mainline mmcid's fork scene (TRANSIT both ways), safety and
/// liveness, as the anchor's `run.sh` runs them (`mc_ml_safety`, `mc_ml_npc`).
pub const ANCHORS: [Anchor; 2] = [
    Anchor {
        target: "mmcid/mainline",
        what: "safety (assertions, invalid end states)",
        file: "mmcid_v3_livelock.pml",
        defines: &["-DMAINLINE=1"],
        cc_flags: &["-DSAFETY"],
        pan_flags: &["-w24", "-m100000"],
    },
    Anchor {
        target: "mmcid/mainline",
        what: "liveness (non-progress cycles)",
        file: "mmcid_v3_livelock.pml",
        defines: &["-DMAINLINE=1", "-DNPC=1"],
        cc_flags: &["-DNP"],
        pan_flags: &["-w24", "-m100000", "-l", "-f"],
    },
];

/// What one SPIN run gave.
pub struct SpinRun {
    /// `spin -V`'s first line.
    pub version: String,
    /// No error found (`errors: 0`) and the search was complete.
    pub passed: bool,
    pub states: Option<u64>,
    /// Wall time of `./pan` (not the Promela translation or the C compilation).
    pub secs: f64,
}

/// Refuses a `--spin-anchors` directory that does not hold the Promela files (before any work).
pub fn check_dir(dir: &Path) -> Result<(), String> {
    for a in &ANCHORS {
        let f = dir.join(a.file);
        if !f.is_file() {
            return Err(format!(
                "--spin-anchors {}: no {} there (the SPIN anchor models)",
                dir.display(),
                a.file
            ));
        }
    }
    Ok(())
}

/// `spin -V`'s first line, when `spin` and `cc` both run.
pub fn installed() -> Option<String> {
    let spin = Command::new("spin").arg("-V").output().ok()?;
    Command::new("cc").arg("--version").output().ok()?;
    // "Spin Version 6.5.2 -- 6 December 2019" reads "SPIN 6.5.2".
    let v = String::from_utf8_lossy(&spin.stdout);
    let version = v.split_whitespace().nth(2).unwrap_or("(version unknown)");
    Some(format!("SPIN {version}"))
}

fn run_in(dir: &Path, program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() && program != "./pan" {
        return Err(format!(
            "{program} {}: {}{}",
            args.join(" "),
            text,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(text)
}

/// The number before `suffix` on the line of `text` that has it (`1673858 states, stored`).
fn count_before(text: &str, suffix: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.contains(suffix))?;
    let head = line[..line.find(suffix)?].trim();
    let n = head.rsplit(' ').next()?;
    n.parse::<f64>().ok().map(|x| x as u64)
}

/// Translates, compiles and runs `anchor` from `dir` in a scratch directory.
pub fn run(dir: &Path, anchor: &Anchor, version: &str) -> Result<SpinRun, String> {
    let work = scratch()?;
    let result = (|| {
        std::fs::copy(dir.join(anchor.file), work.join(anchor.file))
            .map_err(|e| format!("{}: {e}", dir.join(anchor.file).display()))?;
        let mut spin: Vec<&str> = anchor.defines.to_vec();
        spin.extend(["-a", anchor.file]);
        run_in(&work, "spin", &spin)?;
        let mut cc = vec!["-O2", "-w"];
        cc.extend(anchor.cc_flags);
        cc.extend(["-o", "pan", "pan.c"]);
        run_in(&work, "cc", &cc)?;
        let start = Instant::now();
        let out = run_in(&work, "./pan", anchor.pan_flags)?;
        let secs = start.elapsed().as_secs_f64();
        let errors: u64 = (out.lines().find_map(|l| l.split("errors:").nth(1)))
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| format!("pan printed no error count:\n{out}"))?;
        Ok(SpinRun {
            version: version.to_string(),
            passed: errors == 0 && !out.contains("search not completed"),
            states: count_before(&out, "states, stored"),
            secs,
        })
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn scratch() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("kmodel-bench-spin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}
