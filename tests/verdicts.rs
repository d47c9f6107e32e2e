//! Every variant of every model, under loom and shuttle-pct with the CLI's defaults, must reach
//! exactly its declared verdict per property. A verdict change fails the test, like a litmus
//! test's `Result:` line; a counterexample that differs from the committed trace fails too.
//!
//! `KMODEL_PREEMPTIONS=K` and `KMODEL_SCHEDULES=N` deepen the search (the CI's long job does).

use std::path::Path;

use kmodel_harness::check::{check_variant, defaults, Agreement};
use kmodel_harness::engine::{self, EngineSpec, Options};
use kmodel_harness::trace::Trace;
use kmodel_models::REGISTRY;
use libtest_mimic::{Arguments, Failed, Trial};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn engines() -> Vec<EngineSpec> {
    defaults::engines()
        .into_iter()
        .map(|e| match e {
            EngineSpec::Loom { preemption_bound } => EngineSpec::Loom {
                preemption_bound: env_u64("KMODEL_PREEMPTIONS")
                    .map(|k| k as u32)
                    .or(preemption_bound),
            },
            EngineSpec::ShuttlePct {
                seed,
                schedules,
                depth,
            } => EngineSpec::ShuttlePct {
                seed,
                schedules: env_u64("KMODEL_SCHEDULES").unwrap_or(schedules),
                depth,
            },
            other => other,
        })
        .collect()
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = vec![];
    for model in REGISTRY {
        trials.push(Trial::test(
            format!("{}/declarations", model.name),
            move || model.validate().map_err(Failed::from),
        ));
        for variant in model.variants {
            for spec in engines() {
                let name = format!("{}/{}/{}", model.name, variant.name, spec.name());
                trials.push(Trial::test(name, move || {
                    let params = model.params(&Default::default())?;
                    let jobs = engine::default_jobs();
                    let opts = Options {
                        jobs,
                        ..Options::default()
                    };
                    let r = check_variant(model, variant, &spec, &params, opts);
                    if let Some(e) = &r.error {
                        return Err(e.clone().into());
                    }
                    let wrong: Vec<String> = r
                        .properties
                        .iter()
                        .filter(|p| p.agreement != Agreement::AsExpected && r.skipped.is_none())
                        .map(|p| {
                            format!(
                                "{}: declared {:?}, observed {} ({:?}; {})",
                                p.property,
                                p.expected,
                                if p.violated {
                                    "Violated"
                                } else {
                                    "no violation"
                                },
                                p.agreement,
                                p.message.as_deref().unwrap_or(&r.explored)
                            )
                        })
                        .collect();
                    if !wrong.is_empty() {
                        return Err(wrong.join("\n").into());
                    }
                    committed_traces_match(&r.properties)
                }));
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

/// A fresh counterexample must equal its committed trace (deterministic engines, same model).
fn committed_traces_match(props: &[kmodel_harness::check::PropertyResult]) -> Result<(), Failed> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    for t in props.iter().filter_map(|p| p.trace.as_ref()) {
        let path = t.path_in(&dir);
        if let Ok(committed) = Trace::load(&path) {
            if &committed != t {
                return Err(format!(
                    "{} is out of date: re-record with `cargo run --release -- check {}/{} --out traces --force`",
                    path.display(),
                    t.model,
                    t.variant
                )
                .into());
            }
        }
    }
    Ok(())
}
