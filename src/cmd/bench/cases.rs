//! What `kmodel bench` measures: the cases (time to each expected violation, loom's reach on the
//! designs that hold, scaling with a parameter) and how one is measured.

use std::collections::BTreeMap;

use kmodel_harness::check::explore_minimal;
use kmodel_harness::engine::{
    self, defaults, EngineKind, EngineSpec, Exploration, Options, Settings,
};
use kmodel_harness::verdict::complete;
use kmodel_harness::{Engines, Expect, Model, PropertyId, VariantCard};

use super::data::{BenchArgs, Row, Run};

/// The engines of the time-to-first-counterexample table, in its column order.
pub const FIRST_ENGINES: [EngineKind; 4] = [
    EngineKind::Loom,
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
}

impl Case {
    /// Cases that time real threads run alone, after the workers.
    pub fn quiet(&self) -> bool {
        matches!(self, Case::First { engine, .. } if engine.real_threads())
    }
}

pub fn cases(registry: &'static [&'static dyn Model]) -> Vec<Case> {
    let mut cases = vec![];
    for &model in registry {
        for variant in model.variants() {
            for &(property, expect) in variant.expect.entries() {
                if expect == Expect::Holds {
                    continue;
                }
                for engine in FIRST_ENGINES {
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
    for &model in registry {
        for variant in model.variants() {
            // loom's reach matters where something is declared to hold.
            if !(model.properties().iter()).any(|p| variant.expected(p.id) == Expect::Holds) {
                continue;
            }
            cases.push(Case::Holds { model, variant });
        }
    }
    for (param, values) in SCALING {
        for &value in values {
            cases.push(Case::Scaling { param, value });
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
                // Real threads get a time budget rather than their full iteration count.
                budget: engine.real_threads().then_some(args.stress_budget),
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
            let mut specs: Vec<EngineSpec> = match variant.engines {
                Engines::ShuttleOnly(_) => vec![],
                Engines::All => HOLDS_BOUNDS
                    .iter()
                    .map(|&preemption_bound| EngineSpec::Loom { preemption_bound })
                    .collect(),
            };
            specs.push(EngineKind::ShuttlePct.spec(&Settings::default()));
            let mut rows = vec![];
            let mut finished = true;
            for spec in &specs {
                let loom = spec.kind() == EngineKind::Loom;
                if loom && !finished {
                    // A larger bound cannot finish where a smaller one did not.
                    continue;
                }
                let x = engine::explore(spec, &scenario, opts.clone()).map_err(err)?;
                finished = complete(spec, &x.coverage);
                rows.push(Row::Holds {
                    target: target(*model, variant),
                    engine: spec.label(),
                    executions: x.executions,
                    secs: x.elapsed.as_secs_f64(),
                    explored: spec.describe(&x.coverage, x.executions),
                    complete: finished,
                });
            }
            Ok(rows)
        }
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
