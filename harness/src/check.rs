//! Checking a variant: explore it under one engine, compare each property with its declared
//! verdict, and turn every violation into a replayable trace. Re-exports the [`verdict`] and
//! [`replay`] API so `check::*` is the one entry point.
//!
//! [`verdict`]: crate::verdict
//! [`replay`]: crate::replay

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::engine::{self, Coverage, EngineSpec, Exploration, Options, Replayed};
use crate::model::{Model, Params, Variant};
use crate::trace::{Trace, FORMAT, VERSION};
use crate::verdict::agreement;

pub use crate::engine::defaults;
pub use crate::replay::{replay_trace, ReplayError};
pub use crate::verdict::{
    merge_shards, Agreement, FoundAt, FoundKey, PropertyResult, VariantReport,
};

/// Checks `variant` of `model` under `spec` (shuttle-pct with at least the schedules the variant
/// declares it needs).
pub fn check_variant(
    model: &'static Model,
    variant: &'static Variant,
    spec: &EngineSpec,
    params: &Params,
    opts: Options,
) -> VariantReport {
    let spec = spec.with_min_pct_schedules(variant.min_pct_schedules);
    check_scene(model, variant, &spec, params, None, opts)
}

/// Checks `variant` of `model` under `spec` on a generated `scene` (the variant's scripted
/// scene when `None`); traces carry the scene.
pub fn check_scene(
    model: &'static Model,
    variant: &'static Variant,
    spec: &EngineSpec,
    params: &Params,
    scene: Option<&serde_json::Value>,
    opts: Options,
) -> VariantReport {
    let mut report = VariantReport {
        model: model.name.into(),
        variant: variant.name.into(),
        engine: spec.clone(),
        params: params.0.clone(),
        memory_model: spec.memory_model().into(),
        executions: 0,
        elapsed_secs: 0.0,
        coverage: None,
        explored: String::new(),
        properties: vec![],
        skipped: None,
        error: None,
        shard: opts.shard,
    };
    if let Err(why) = spec.kind().runs(variant.engines) {
        report.skipped = Some(why);
        return report;
    }
    let scenario = match model.scenario_for(variant, params, scene) {
        Ok(s) => s,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    // A sharded loom search is split into subtrees; findings name theirs.
    let split = matches!(spec, EngineSpec::Loom { .. }) && opts.shard.count > 1;
    let opts = Options {
        properties: model.properties.len(),
        ..opts
    };
    let (x, found_by) = match explore_minimal(spec, &scenario, opts) {
        Ok(x) => x,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    report.executions = x.executions;
    report.elapsed_secs = x.elapsed.as_secs_f64();
    report.explored = spec.describe(&x.coverage, x.executions);
    report.coverage = Some(x.coverage.clone());
    let complete = spec.is_complete(&x.coverage);

    let mut ids: Vec<String> = model.properties.iter().map(|p| p.id.to_string()).collect();
    ids.extend(
        x.found
            .keys()
            .filter(|k| !ids.contains(k))
            .cloned()
            .collect::<Vec<_>>(),
    );
    // A generated scene is judged against the sweep verdicts by its caller.
    let declared = match scene {
        Some(_) => Some(variant.expect),
        None => model.declared(variant, params),
    };
    for id in ids {
        let expected = variant_expected(declared, &id);
        let found = x.found.get(&id);
        let mut result = PropertyResult {
            property: id.clone(),
            expected,
            violated: found.is_some(),
            agreement: match declared {
                Some(_) => agreement(&id, expected, found.is_some(), spec, complete, &x.coverage),
                None => Agreement::Undeclared,
            },
            found_at: found.map(|f| FoundAt {
                execution: f.execution,
                seconds: f.after.as_secs_f64(),
            }),
            found_in: found.map(|f| FoundKey {
                pass: found_by[&id].pass(),
                subtree: f.subtree,
                execution: f.execution,
            }),
            message: found.map(|f| f.violation.message.clone()),
            trace: None,
        };
        if let Some(f) = found {
            let spec = &found_by[&id];
            match engine::counterexample(spec, &scenario, f) {
                Ok((token, replayed)) => {
                    if replayed.violation_of(&id).is_none() {
                        report.error = Some(format!(
                            "{id}: replaying execution {} did not reproduce the violation",
                            f.execution
                        ));
                    }
                    result.trace = Some(make_trace(
                        model,
                        variant,
                        spec,
                        params,
                        scene,
                        &id,
                        result.found_in.expect("set for every finding"),
                        split,
                        token,
                        replayed,
                    ));
                }
                Err(e) => report.error = Some(format!("{id}: {e}")),
            }
        }
        report.properties.push(result);
    }
    report
}

/// The declared verdict of property `id` in a verdict table (Holds unless listed); `None`
/// without a table.
fn variant_expected(table: Option<&[(&str, crate::Expect)]>, id: &str) -> Option<crate::Expect> {
    let table = table?;
    Some(
        table
            .iter()
            .find(|(p, _)| *p == id)
            .map_or(crate::Expect::Holds, |&(_, e)| e),
    )
}

/// Explores under `spec`. loom with preemption bound k explores bounds 0, 1, ..., k in turn, so
/// every violation is reported (and its trace recorded) at the lowest bound that shows it (loom's
/// preemption count, which can be below the switches counted at harness operations).
/// Returns the exploration and, per violated property, the engine settings that found it.
pub fn explore_minimal(
    spec: &EngineSpec,
    scenario: &crate::model::Scenario,
    opts: Options,
) -> Result<(Exploration, BTreeMap<String, EngineSpec>), engine::EngineError> {
    let EngineSpec::Loom {
        preemption_bound: Some(k),
    } = *spec
    else {
        let x = engine::explore(spec, scenario, opts)?;
        let by = x.found.keys().map(|p| (p.clone(), spec.clone())).collect();
        return Ok((x, by));
    };
    let start = Instant::now();
    let mut total = Exploration {
        executions: 0,
        elapsed: Duration::ZERO,
        coverage: Coverage::ExhaustiveUpToBound { bound: k },
        found: BTreeMap::new(),
    };
    let mut by = BTreeMap::new();
    for bound in 0..=k {
        let pass = EngineSpec::Loom {
            preemption_bound: Some(bound),
        };
        let offset = start.elapsed();
        if let Some(on_pass) = &opts.on_pass {
            on_pass(bound);
        }
        // Progress counts executions over all passes.
        let base = total.executions;
        let progress = opts.progress.clone().map(|p| {
            let counted: std::sync::Arc<dyn Fn(u64) + Send + Sync> =
                std::sync::Arc::new(move |n| p(base + n));
            counted
        });
        let pass_opts = Options {
            budget: opts.budget.map(|b| b.saturating_sub(offset)),
            progress,
            ..opts.clone()
        };
        let x = engine::explore(&pass, scenario, pass_opts)?;
        total.executions += x.executions;
        for (p, mut f) in x.found {
            if let std::collections::btree_map::Entry::Vacant(slot) = total.found.entry(p) {
                f.after += offset;
                by.insert(slot.key().clone(), pass.clone());
                slot.insert(f);
            }
        }
        total.coverage = x.coverage;
        let all = (opts.properties > 0 && total.found.len() >= opts.properties)
            || (opts.stop_at.as_ref()).is_some_and(|p| total.found.contains_key(p));
        if matches!(
            total.coverage,
            Coverage::TimeBudget { .. } | Coverage::StoppedByDeadlock
        ) {
            break;
        }
        if all && bound < k {
            total.coverage = Coverage::AllViolated;
            break;
        }
    }
    // Each pass ran with what was left of the budget: report the budget the user gave.
    if let (Coverage::TimeBudget { budget_secs }, Some(b)) = (&mut total.coverage, opts.budget) {
        *budget_secs = b.as_secs_f64();
    }
    total.elapsed = start.elapsed();
    Ok((total, by))
}

#[allow(clippy::too_many_arguments)]
fn make_trace(
    model: &Model,
    variant: &Variant,
    spec: &EngineSpec,
    params: &Params,
    scene: Option<&serde_json::Value>,
    property: &str,
    key: FoundKey,
    split: bool,
    replay: engine::ReplayToken,
    r: Replayed,
) -> Trace {
    let (message, upto) = r
        .violation_of(property)
        .map_or(("(not reproduced on replay)".into(), r.events.len()), |v| {
            (v.message.clone(), v.events)
        });
    // The timeline ends at this property's violation; later events belong to other stories.
    let mut events = r.events;
    events.truncate(upto);
    Trace {
        format: FORMAT.into(),
        version: VERSION,
        model: model.name.into(),
        variant: variant.name.into(),
        params: params.0.clone(),
        scene: scene.cloned(),
        engine: spec.clone(),
        engine_version: spec.version(),
        memory_model: spec.memory_model().into(),
        source_hash: model.source_hash(),
        property: property.into(),
        claim: model.property(property).map_or("", |p| p.claim).into(),
        message,
        found_at_execution: key.execution,
        found_in_subtree: split.then_some(key.subtree),
        schedule: r.schedule,
        actors: r.actors,
        events,
        replay,
    }
}

/// Default budget-free options with `jobs` workers.
pub fn options(jobs: usize, budget: Option<Duration>) -> Options {
    Options {
        budget,
        jobs,
        ..Options::default()
    }
}
