//! Every committed trace replays to the same violation and events, and every expected violation
//! of every variant has a committed trace.

use std::path::{Path, PathBuf};

use kmodel_harness::check::replay_trace;
use kmodel_harness::engine::EngineKind;
use kmodel_harness::trace::{self, Trace};
use kmodel_harness::Expect;
use kmodel_models::REGISTRY;
use libtest_mimic::{Arguments, Failed, Trial};

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("traces")
}

/// All `*.json` files under `traces/`, sorted.
pub fn trace_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let mut files = vec![];
    walk(&traces_dir(), &mut files);
    files.sort();
    files
}

fn main() {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = trace_files()
        .into_iter()
        .map(|path| {
            let name = format!(
                "replay {}",
                path.strip_prefix(traces_dir()).unwrap_or(&path).display()
            );
            Trial::test(name, move || {
                let t = Trace::load(&path).map_err(|e| e.to_string())?;
                replay_trace(REGISTRY, &t).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(())
            })
        })
        .collect();
    trials.push(Trial::test(
        "every expected violation has a committed trace",
        || {
            let files = trace_files();
            let mut missing = vec![];
            for m in REGISTRY {
                for v in m.variants {
                    for p in m.properties {
                        if v.expected(p.id).is_some_and(Expect::observable) {
                            let recorded = EngineKind::ALL.into_iter().any(|engine| {
                                let path = trace::path(&traces_dir(), m.name, v.name, p.id, engine);
                                files.contains(&path)
                            });
                            if !recorded {
                                missing.push(format!("{}/{}--{}.*.json", m.name, v.name, p.id));
                            }
                        }
                    }
                }
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(Failed::from(format!(
                    "missing traces (record with `kmodel check --out traces`): {}",
                    missing.join(", ")
                )))
            }
        },
    ));
    libtest_mimic::run(&args, trials).exit();
}
