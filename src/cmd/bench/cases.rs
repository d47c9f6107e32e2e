//! What `kmodel bench` measures: the cases (time to each expected violation, dpor's proofs and
//! loom's reach on the designs that hold, the SPIN comparison, exhaustive sweep throughput,
//! scaling with a parameter) and how one is measured.

use std::collections::BTreeMap;

use kmodel_harness::check::explore_minimal;
use kmodel_harness::engine::{
    self, defaults, EngineKind, EngineSpec, Exploration, Options, Settings,
};
use kmodel_harness::scene::SceneBounds;
use kmodel_harness::sweep::{sweep, SweepMode, SweepOptions, SweepReport};
use kmodel_harness::verdict::complete;
use kmodel_harness::{Engines, Expect, Model, PropertyId, VariantCard};

use super::data::{BenchArgs, Row, Run, Table};
use super::spin;

/// The engines of the time-to-first-counterexample table, in its column order.
pub const FIRST_ENGINES: [EngineKind; 5] = [
    EngineKind::Loom,
    EngineKind::Dpor,
    EngineKind::ShuttlePct,
    EngineKind::ShuttleRandom,
    EngineKind::Stress,
];
/// loom's preemption bounds in the Holds table, each run while the previous one finished.
pub const HOLDS_BOUNDS: [Option<u32>; 4] = [Some(1), Some(2), Some(3), None];
/// The model and parameter ranges of the scaling table.
pub const SCALING_MODEL: &str = "mrelease";
pub const SCALING_VARIANT: &str = "today";
const SCALING: [(&str, &[u32]); 3] = [
    ("nr_vmas", &[1, 2, 3, 4]),
    ("reader_stall", &[1, 2, 3, 4]),
    ("victim_threads", &[1, 2]),
];

/// One unit of benchmark work.
#[derive(Clone)]
pub enum Case {
    /// Time to the first violation of `property` under `engine`.
    First {
        model: &'static dyn Model,
        variant: &'static VariantCard,
        property: PropertyId,
        engine: EngineKind,
    },
    /// loom at preemption bounds 1, 2, 3 and unbounded, each while the previous one finished
    /// within the budget; then shuttle-pct throughput.
    Holds {
        model: &'static dyn Model,
        variant: &'static VariantCard,
    },
    /// loom k=2 on the mrelease model with one parameter changed.
    Scaling { param: &'static str, value: u32 },
    /// dpor on a scripted scene, then SPIN on its Promela abstraction (alone, so the two
    /// times compare).
    Anchor { target: &'static str },
    /// One model's default exhaustive sweep (its first variant loom runs) under dpor, and under
    /// loom k<=2 over the scenes dpor completed.
    Sweep {
        model: &'static dyn Model,
        variant: &'static VariantCard,
    },
}

impl Case {
    /// Cases that time real threads or compare times with another tool run alone, after the
    /// workers.
    pub fn quiet(&self) -> bool {
        match self {
            Case::First { engine, .. } => engine.real_threads(),
            Case::Anchor { .. } => true,
            Case::Holds { .. } | Case::Scaling { .. } | Case::Sweep { .. } => false,
        }
    }
}

/// The cases of the tables `args` asks for (`--only`, `--engine`, `--model`), in table order.
pub fn cases(registry: &'static [&'static dyn Model], args: &BenchArgs) -> Vec<Case> {
    let models: Vec<&'static dyn Model> = (registry.iter().copied())
        .filter(|m| args.includes(m.name()))
        .collect();
    let mut cases = vec![];
    let engines = FIRST_ENGINES
        .into_iter()
        .filter(|e| args.engine.is_empty() || args.engine.contains(e));
    for &model in models.iter().filter(|_| args.measures(Table::First)) {
        for variant in model.variants() {
            for &(property, expect) in variant.expect.entries() {
                if expect == Expect::Holds {
                    continue;
                }
                for engine in engines.clone() {
                    let weak_only = expect == Expect::ViolatedWeakMemory;
                    if (weak_only && !engine.weak_memory()) || engine.runs(variant.engines).is_err()
                    {
                        continue;
                    }
                    cases.push(Case::First {
                        model,
                        variant,
                        property,
                        engine,
                    });
                }
            }
        }
    }
    for &model in models.iter().filter(|_| args.measures(Table::Holds)) {
        for variant in model.variants() {
            // loom's reach matters where something is declared to hold.
            if !(model.properties().iter()).any(|p| variant.expected(p.id) == Expect::Holds) {
                continue;
            }
            cases.push(Case::Holds { model, variant });
        }
    }
    for &model in models.iter().filter(|_| args.measures(Table::Sweep)) {
        let loom_runs =
            |v: &&VariantCard| v.sweep.is_some() && EngineKind::Loom.runs(v.engines).is_ok();
        if let Some(variant) = model.variants().into_iter().find(loom_runs) {
            cases.push(Case::Sweep { model, variant });
        }
    }
    if args.measures(Table::Anchor) {
        let mut anchors: Vec<&str> = (spin::ANCHORS.iter())
            .map(|a| a.target)
            .filter(|t| args.includes(t.split('/').next().unwrap_or(t)))
            .collect();
        anchors.dedup();
        cases.extend(anchors.into_iter().map(|target| Case::Anchor { target }));
    }
    if args.measures(Table::Scaling) && args.includes(SCALING_MODEL) {
        for (param, values) in SCALING {
            for &value in values {
                cases.push(Case::Scaling { param, value });
            }
        }
    }
    cases
}

fn target(model: &dyn Model, variant: &VariantCard) -> String {
    format!("{}/{}", model.name(), variant.name)
}

fn one_worker(properties: usize) -> Options {
    Options {
        jobs: 1,
        properties,
        ..Options::default()
    }
}

fn run_of(x: &Exploration, property: PropertyId) -> Run {
    let found = x.found.get(&property);
    Run {
        found: found.is_some(),
        executions: x.executions,
        secs: found.map_or(x.elapsed, |f| f.after).as_secs_f64(),
    }
}

pub fn measure(
    registry: &'static [&'static dyn Model],
    case: &Case,
    args: &BenchArgs,
) -> Result<Vec<Row>, String> {
    let err = |e: engine::EngineError| e.to_string();
    match case {
        Case::First {
            model,
            variant,
            property,
            engine,
        } => {
            let params = model.resolve(&BTreeMap::new())?;
            let scenario = model.scenario_for(variant, &params, None)?;
            let opts = Options {
                stop_at: Some(*property),
                // Real threads get a time budget rather than their full iteration count; dpor
                // the proof budget.
                budget: match engine {
                    EngineKind::Dpor => Some(args.proof_budget),
                    e if e.real_threads() => Some(args.stress_budget),
                    _ => None,
                },
                ..one_worker(model.properties().len())
            };
            let seeds = if engine.seeded() { args.seeds } else { 1 };
            let mut runs = vec![];
            for seed in 0..seeds {
                let settings = Settings {
                    seed,
                    schedules: args.schedules,
                    ..Settings::default()
                };
                // loom deepens its preemption bound; other engines explore once.
                let (x, _) = explore_minimal(&engine.spec(&settings), &scenario, opts.clone())
                    .map_err(err)?;
                runs.push(run_of(&x, *property));
            }
            Ok(vec![Row::First {
                target: target(*model, variant),
                property: property.to_string(),
                engine: engine.name().to_string(),
                runs,
            }])
        }
        Case::Holds { model, variant } => {
            let params = model.resolve(&BTreeMap::new())?;
            let scenario = model.scenario_for(variant, &params, None)?;
            let opts = Options {
                budget: Some(args.budget),
                ..one_worker(model.properties().len())
            };
            let mut specs = vec![EngineSpec::Dpor];
            if let Engines::All = variant.engines {
                specs.extend(
                    (HOLDS_BOUNDS.iter())
                        .map(|&preemption_bound| EngineSpec::Loom { preemption_bound }),
                );
            }
            specs.push(EngineKind::ShuttlePct.spec(&Settings::default()));
            let mut rows = vec![];
            let mut finished = true;
            for spec in &specs {
                let loom = spec.kind() == EngineKind::Loom;
                if loom && !finished {
                    // A larger bound cannot finish where a smaller one did not.
                    continue;
                }
                let budget = match spec.kind() {
                    EngineKind::Dpor => args.proof_budget,
                    _ => args.budget,
                };
                let opts = Options {
                    budget: Some(budget),
                    ..opts.clone()
                };
                let x = engine::explore(spec, &scenario, opts).map_err(err)?;
                let done = complete(spec, &x.coverage);
                // Only loom's deepening stops at a bound that did not finish.
                finished = done || !loom;
                rows.push(Row::Holds {
                    target: target(*model, variant),
                    engine: spec.label(),
                    executions: x.executions,
                    secs: x.elapsed.as_secs_f64(),
                    explored: spec.describe(&x.coverage, x.executions),
                    complete: done,
                });
            }
            Ok(rows)
        }
        Case::Anchor { target } => anchor(registry, target, args),
        Case::Sweep { model, variant } => sweep_throughput(*model, variant, args),
        Case::Scaling { param, value } => {
            let (model, variant) = kmodel_harness::model::lookup(
                registry,
                &format!("{SCALING_MODEL}/{SCALING_VARIANT}"),
            )?;
            let variant = variant.expect("names a variant");
            let params = model.resolve(&BTreeMap::from([(param.to_string(), *value)]))?;
            let scenario = model.scenario_for(variant, &params, None)?;
            let spec = EngineSpec::Loom {
                preemption_bound: Some(defaults::PREEMPTIONS),
            };
            let opts = Options {
                budget: Some(args.budget * 3),
                ..one_worker(0)
            };
            let x = engine::explore(&spec, &scenario, opts).map_err(err)?;
            Ok(vec![Row::Scaling {
                param: param.to_string(),
                value: *value,
                executions: x.executions,
                secs: x.elapsed.as_secs_f64(),
                complete: complete(&spec, &x.coverage),
            }])
        }
    }
}

/// dpor on `target`'s scripted scene, then each SPIN configuration that abstracts it.
fn anchor(
    registry: &'static [&'static dyn Model],
    target: &str,
    args: &BenchArgs,
) -> Result<Vec<Row>, String> {
    let (model, variant) = kmodel_harness::model::lookup(registry, target)?;
    let variant = variant.ok_or(format!("{target}: names no variant"))?;
    let params = model.resolve(&BTreeMap::new())?;
    let scenario = model.scenario_for(variant, &params, None)?;
    let opts = Options {
        budget: Some(args.proof_budget),
        ..one_worker(model.properties().len())
    };
    let spec = EngineSpec::Dpor;
    let x = engine::explore(&spec, &scenario, opts).map_err(|e| e.to_string())?;
    let done = complete(&spec, &x.coverage);
    let verdict = if !x.found.is_empty() {
        let mut v: Vec<String> = x.found.keys().map(|p| p.to_string()).collect();
        v.sort();
        format!("Violated: {}", v.join(", "))
    } else if done {
        "Holds".into()
    } else {
        format!("not complete in {:.0}s", args.proof_budget.as_secs_f64())
    };
    let mut rows = vec![Row::Anchor {
        target: target.into(),
        tool: "dpor".into(),
        what: "every property of the scripted scene (the live lock as a stuck state)".into(),
        verdict,
        count: Some(x.executions),
        secs: Some(x.elapsed.as_secs_f64()),
        complete: done,
    }];
    let installed = spin::installed();
    for a in spin::ANCHORS.iter().filter(|a| a.target == target) {
        let not_run = |why: &str| Row::Anchor {
            target: target.into(),
            tool: "SPIN".into(),
            what: a.what.into(),
            verdict: why.into(),
            count: None,
            secs: None,
            complete: false,
        };
        let (Some(dir), Some(version)) = (&args.spin_anchors, &installed) else {
            rows.push(not_run(if args.spin_anchors.is_none() {
                "not run (no --spin-anchors DIR)"
            } else {
                "SPIN not installed (needs spin and cc on PATH)"
            }));
            continue;
        };
        rows.push(match spin::run(dir, a, version) {
            Ok(r) => Row::Anchor {
                target: target.into(),
                tool: r.version,
                what: a.what.into(),
                verdict: if r.passed { "Holds" } else { "error found" }.into(),
                count: r.states,
                secs: Some(r.secs),
                complete: r.passed,
            },
            Err(e) => not_run(&format!("SPIN failed: {}", e.lines().next().unwrap_or(""))),
        });
    }
    Ok(rows)
}

/// The first `n` scenes of `bounds` in sweep order (smallest first).
fn first_scenes(model: &dyn Model, bounds: &SceneBounds, n: u64) -> Vec<serde_json::Value> {
    let space = model.scenes().expect("swept models have scenes");
    let mut scenes: Vec<_> = (space.enumerate(bounds).into_iter())
        .map(|s| (space.check(&s).unwrap_or_default(), s))
        .collect();
    scenes.sort_by_key(|(size, _)| *size);
    scenes
        .into_iter()
        .take(n as usize)
        .map(|(_, s)| s)
        .collect()
}

/// Scenes an exhaustive sweep explored completely.
fn completed(r: &SweepReport) -> u64 {
    r.scenes - r.partial_scenes
}

/// dpor over the model's default exhaustive bounds (budgeted), then dpor again and loom k<=2 on
/// the scenes dpor completed, so both rates are over the same scenes.
fn sweep_throughput(
    model: &'static dyn Model,
    variant: &'static VariantCard,
    args: &BenchArgs,
) -> Result<Vec<Row>, String> {
    let space = model.scenes().ok_or("no scenes")?;
    let bounds = space.exhaustive_bounds();
    let total = space.enumerate(&bounds).len() as u64;
    let run = |engine: EngineSpec,
               given: Option<Vec<serde_json::Value>>|
     -> Result<SweepReport, String> {
        let opts = SweepOptions {
            budget: Some(args.sweep_budget),
            shrink_runs: 0,
            record: false,
            given,
            ..SweepOptions::new(engine, bounds, SweepMode::Exhaustive)
        };
        let r = sweep(model, variant, &opts);
        match &r.error {
            Some(e) => Err(format!("{}/{}: {e}", model.name(), variant.name)),
            None => Ok(r),
        }
    };
    let whole = run(EngineSpec::Dpor, None)?;
    let n = completed(&whole);
    let dpor = if whole.complete {
        whole
    } else {
        run(EngineSpec::Dpor, Some(first_scenes(model, &bounds, n)))?
    };
    let loom = EngineKind::Loom.spec(&Settings::default());
    let loom = run(loom, Some(first_scenes(model, &bounds, n)))?;
    let row = |r: &SweepReport, complete: bool| Row::Sweep {
        target: format!("{}/{}", model.name(), variant.name),
        engine: r.engine.label(),
        bounds: format!(
            "{}/{}/{}/{}",
            bounds.cpus, bounds.actors, bounds.ops, bounds.setup
        ),
        scenes_total: total,
        scenes: completed(r),
        executions: r.executions,
        secs: r.elapsed_secs,
        complete,
    };
    Ok(vec![
        row(&dpor, n == total),
        row(&loom, completed(&loom) == total),
    ])
}
