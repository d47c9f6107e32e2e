//! `cargo test` over a registry: every variant's declared verdicts under loom and shuttle-pct,
//! every committed trace replayed, as libtest cases (libtest-mimic) for any crate's models.
//!
//! A crate with its own models gets the whole suite with one test target
//! (`[[test]] name = "verdicts"`, `harness = false`) whose source is
//!
//! ```ignore
//! kmodel::test_main!(my_models::REGISTRY);
//! ```
//!
//! Cases are named `model/declarations`, `model/variant/engine`, `model/variant/sweep` (a small
//! random sweep of the scene language, for variants that declare sweep verdicts), `replay
//! <trace path>` and `every expected violation has a committed trace`, so `cargo test -- mrelease/` or nextest's
//! `--partition` select among them. `KMODEL_PREEMPTIONS=K` and `KMODEL_SCHEDULES=N` deepen the
//! search. [`proof_trials`] adds `model/variant/dpor` cases: proofs under SC (`tests/proofs.rs`).

use std::path::{Path, PathBuf};

use kmodel_harness::check::as_declared;
use kmodel_harness::engine::{self, defaults, EngineKind, EngineSpec, Reach, Settings};
use kmodel_harness::replay::replay_trace;
use kmodel_harness::results::{self, Results};
use kmodel_harness::trace::{self, Trace};
use kmodel_harness::verdict::{Agreement, PropertyResult, VariantReport};
use kmodel_harness::Model;
pub use libtest_mimic::{Arguments, Failed, Trial};

/// The engines the suite runs: the CLI's defaults (loom bound 2, shuttle-pct 2000 schedules of
/// depth 3, seed 0), deepened by `KMODEL_PREEMPTIONS` and `KMODEL_SCHEDULES`.
pub fn engines() -> Vec<EngineSpec> {
    fn env_u64(name: &str) -> Option<u64> {
        std::env::var(name).ok().and_then(|v| v.parse().ok())
    }
    let d = Settings::default();
    let settings = Settings {
        preemption_bound: env_u64("KMODEL_PREEMPTIONS")
            .map(|k| u32::try_from(k).unwrap_or(u32::MAX))
            .or(d.preemption_bound),
        schedules: env_u64("KMODEL_SCHEDULES").unwrap_or(d.schedules),
        ..d
    };
    defaults::ENGINES.map(|k| k.spec(&settings)).to_vec()
}

/// One case per model (`model/declarations`: [`Model::validate`]) and one per (model, variant,
/// engine): the variant must reach exactly its declared verdicts, and each counterexample must
/// equal its committed trace under `traces` when there is one.
pub fn verdict_trials(registry: &'static [&'static dyn Model], traces: &Path) -> Vec<Trial> {
    let mut trials = vec![];
    for &model in registry {
        trials.push(Trial::test(
            format!("{}/declarations", model.name()),
            move || model.validate().map_err(Failed::from),
        ));
        for variant in model.variants() {
            for spec in engines() {
                let name = format!("{}/{}/{}", model.name(), variant.name, spec.name());
                let traces = traces.to_path_buf();
                trials.push(Trial::test(name, move || {
                    let r = as_declared(model, variant, &spec, engine::default_jobs())?;
                    if verdicts_only() {
                        return Ok(());
                    }
                    committed_traces_match(&traces, model, &r.properties)?;
                    committed_results_match(&traces, model, &r)
                }));
            }
        }
    }
    trials
}

/// One case per variant (`model/variant/dpor`): the `dpor` engine, with no preemption bound and
/// no budget, must reach exactly the declared verdicts (every declared SC violation found), and
/// a variant with a Holds property must have explored every interleaving of its scripted scene
/// up to equivalence: that Holds is then proved under sequential consistency. Variants whose
/// `model/variant` starts with an entry of `long` are ignored unless asked for (`cargo test --
/// --include-ignored`, the nightly job): proofs too long for the default suite.
pub fn proof_trials(registry: &'static [&'static dyn Model], long: &'static [&str]) -> Vec<Trial> {
    let mut trials = vec![];
    for &model in registry {
        for variant in model.variants() {
            let id = format!("{}/{}", model.name(), variant.name);
            let ignored = long.iter().any(|l| id.starts_with(l));
            // The one judge: every verdict as declared, and a Holds established (dpor's
            // complete coverage) rather than merely not contradicted.
            let trial = Trial::test(format!("{id}/dpor"), move || {
                as_declared(model, variant, &EngineSpec::Dpor, engine::default_jobs())?;
                Ok(())
            });
            trials.push(trial.with_ignored_flag(ignored));
        }
    }
    trials
}

/// `KMODEL_VERDICTS_ONLY=1`: verdict cases compare verdicts only, not the committed
/// counterexamples and results (mutation testing sets it: a mutant is caught when a declared
/// verdict changes, not when it merely explores a different number of executions).
fn verdicts_only() -> bool {
    std::env::var("KMODEL_VERDICTS_ONLY").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// A fresh counterexample must equal its committed trace (deterministic engines, same model) in
/// everything but the source hash: a stale hash is the trace test's business (`tests/traces.rs`),
/// and ignoring it here lets mutation testing tell a mutant the verdicts and counterexamples
/// notice from one they do not.
fn committed_traces_match(
    dir: &Path,
    model: &dyn Model,
    props: &[PropertyResult],
) -> Result<(), Failed> {
    for t in props.iter().filter_map(|p| p.trace.as_ref()) {
        let path = t.path_in(dir, model.params());
        if let Ok(mut committed) = Trace::load(&path) {
            committed.source_hash.clone_from(&t.source_hash);
            if &committed != t {
                return Err(format!(
                    "{} is out of date: re-record with `cargo run --release -- check {}/{} --out {} --force`",
                    path.display(),
                    t.model,
                    t.variant,
                    dir.file_name().map_or("traces".into(), |d| d.to_string_lossy()),
                )
                .into());
            }
        }
    }
    Ok(())
}

/// A fresh check must reach what the committed results (which `kmodel report` renders) say:
/// the same verdicts and the same coverage (executions included: the engines are
/// deterministic). Results recorded from another model source are `kmodel report`'s to refuse.
fn committed_results_match(dir: &Path, model: &dyn Model, r: &VariantReport) -> Result<(), Failed> {
    let Ok(recorded) = Results::load(dir, model) else {
        return Ok(());
    };
    let Some(old) = recorded.find(&r.variant, &r.engine, &r.params) else {
        return Ok(());
    };
    let verdicts = |r: &VariantReport| -> Vec<(kmodel_harness::PropertyId, bool, Option<u64>)> {
        r.properties
            .iter()
            .map(|p| (p.property, p.violated, p.found_at.map(|f| f.execution)))
            .collect()
    };
    // An exploration that stopped because every property was already violated stops wherever
    // its workers noticed (with two workers, at a count that varies): only its verdicts and
    // first-violation executions are deterministic.
    let stopped_early = |r: &VariantReport| {
        (r.coverage.as_ref()).is_some_and(|c| r.engine.reach(c) == Reach::AllViolated)
    };
    let same_coverage = old.explored == r.explored || (stopped_early(old) && stopped_early(r));
    if !same_coverage || verdicts(old) != verdicts(r) {
        return Err(format!(
            "{} is out of date for {} (recorded: {}; now: {}): re-record with `cargo run --release -- check {} --out {}`",
            results::path(dir, model.name()).display(),
            r.label(),
            old.explored,
            r.explored,
            model.name(),
            dir.file_name().map_or("traces".into(), |d| d.to_string_lossy()),
        )
        .into());
    }
    Ok(())
}

/// The verdict table of `models` as `check --markdown` prints it, from the committed results
/// under `dir` (default parameters, default engines): what the README's table must equal.
pub fn verdict_table(models: &[&dyn Model], dir: &Path) -> Result<String, String> {
    let engines = defaults::engines();
    let mut reports = vec![];
    for &model in models {
        let recorded = Results::load(dir, model).map_err(|e| e.to_string())?;
        let params = model
            .resolve(&Default::default())
            .map_err(|e| e.to_string())?;
        for variant in model.variants() {
            // A variant runs under the default engines it declares (some are loom-only).
            let of_variant: Vec<_> = engines
                .iter()
                .filter_map(|spec| recorded.find(variant.name, spec, &params.0))
                .cloned()
                .collect();
            if of_variant.is_empty() {
                return Err(format!(
                    "{}: no results for {}/{}",
                    results::path(dir, model.name()).display(),
                    model.name(),
                    variant.name
                ));
            }
            reports.extend(of_variant);
        }
    }
    Ok(crate::table::markdown_matrix(&reports))
}

/// All trace files (`*.json` but the results files) under `dir`, sorted.
pub fn trace_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") && !results::is_results_file(&p) {
                out.push(p);
            }
        }
    }
    let mut files = vec![];
    walk(dir, &mut files);
    files.sort();
    files
}

/// One case per committed trace under `traces` (`replay <path>`: it replays to the same
/// violation and events), and one that every expected violation of every variant has a trace.
pub fn trace_trials(registry: &'static [&'static dyn Model], traces: &Path) -> Vec<Trial> {
    let mut trials: Vec<Trial> = trace_files(traces)
        .into_iter()
        .map(|path| {
            let name = format!(
                "replay {}",
                path.strip_prefix(traces).unwrap_or(&path).display()
            );
            Trial::test(name, move || {
                let t = Trace::load(&path).map_err(|e| e.to_string())?;
                replay_trace(registry, &t).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(())
            })
        })
        .collect();
    let dir = traces.to_path_buf();
    trials.push(Trial::test(
        "every expected violation has a committed trace",
        move || {
            let files = trace_files(&dir);
            let mut missing = vec![];
            for &m in registry {
                for v in m.variants() {
                    for p in m.properties() {
                        if v.expected(p.id).observable() {
                            let recorded = EngineKind::ALL.into_iter().any(|engine| {
                                files.contains(&trace::path(
                                    &dir,
                                    m.name(),
                                    v.name,
                                    "",
                                    p.id,
                                    engine,
                                ))
                            });
                            if !recorded {
                                missing.push(format!("{}/{}--{}.*.json", m.name(), v.name, p.id));
                            }
                        }
                    }
                }
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(Failed::from(format!(
                    "missing traces (record with `cargo run --release -- check --out {}`): {}",
                    dir.file_name()
                        .map_or("traces".into(), |d| d.to_string_lossy()),
                    missing.join(", ")
                )))
            }
        },
    ));
    trials
}

/// Runs `trials` with the command line's libtest arguments (`--list`, filters, `--exact`,
/// `--test-threads`), then exits with libtest's status.
pub fn run(trials: Vec<Trial>) -> ! {
    crate::quiet::install_engine_filter();
    let conclusion = libtest_mimic::run(&Arguments::from_args(), trials);
    crate::quiet::finish();
    conclusion.exit()
}

/// Scenes and shuttle-pct schedules per scene of the small sweeps `cargo test` runs
/// (`kmodel explore` runs the long ones).
pub const SMALL_SWEEP: (u64, u64) = (100, 100);

/// One case per variant that declares sweep verdicts (`model/variant/sweep`): a small random
/// sweep of its model's scene language ([`SMALL_SWEEP`], seed 0, the language's random bounds)
/// must reach exactly the declared sweep verdicts.
pub fn sweep_trials(registry: &'static [&'static dyn Model]) -> Vec<Trial> {
    use kmodel_harness::sweep::{sweep, SweepMode, SweepOptions};
    let mut trials = vec![];
    for &model in registry {
        let Some(space) = model.scenes() else {
            continue;
        };
        for variant in model.variants().into_iter().filter(|v| v.sweep.is_some()) {
            let name = format!("{}/{}/sweep", model.name(), variant.name);
            trials.push(Trial::test(name, move || {
                let (scenes, schedules) = SMALL_SWEEP;
                let engine = EngineSpec::ShuttlePct {
                    seed: 0,
                    schedules,
                    depth: defaults::PCT_DEPTH,
                };
                let mode = SweepMode::Random { seed: 0, scenes };
                let opts = SweepOptions {
                    shrink_runs: 0,
                    record: false,
                    ..SweepOptions::new(engine, space.random_bounds(), mode)
                };
                let r = sweep(model, variant, &opts);
                if let Some(e) = &r.error {
                    return Err(e.to_string().into());
                }
                let wrong: Vec<String> = r
                    .properties
                    .iter()
                    .filter(|p| p.agreement != Agreement::AsExpected)
                    .map(|p| {
                        format!(
                            "{}: declared {} over generated scenes, {} ({:?}; {})",
                            p.property,
                            p.expected,
                            if p.violated {
                                "violated"
                            } else {
                                "not violated"
                            },
                            p.agreement,
                            r.covered
                        )
                    })
                    .collect();
                if wrong.is_empty() {
                    Ok(())
                } else {
                    Err(wrong.join("\n").into())
                }
            }));
        }
    }
    trials
}

/// Runs [`verdict_trials`], [`sweep_trials`] and [`trace_trials`] over `registry`, then exits.
/// What [`test_main!`](crate::test_main) expands to.
pub fn main(registry: &'static [&'static dyn Model], traces: &Path) -> ! {
    let mut trials = verdict_trials(registry, traces);
    trials.extend(sweep_trials(registry));
    trials.extend(trace_trials(registry, traces));
    run(trials)
}

/// The `main` of a `harness = false` test target: every declared verdict of `$registry` and every
/// trace committed under the crate's `traces/` folder (see [`testing`](crate::testing)).
///
/// ```ignore
/// // tests/verdicts.rs
/// kmodel::test_main!(my_models::REGISTRY);
/// ```
#[macro_export]
macro_rules! test_main {
    ($registry:expr) => {
        fn main() {
            $crate::testing::main(
                $registry,
                &::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces"),
            )
        }
    };
}
