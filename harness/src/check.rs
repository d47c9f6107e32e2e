//! Checking a variant: explore it under one engine, judge each property against its declared
//! verdict (`verdict::judge`), and turn every violation into a replayable trace.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::engine::{self, Coverage, EngineSpec, Exploration, Options, Replayed};
use crate::model::{Model, Params, VariantCard};
use crate::rt::PropertyId;
use crate::trace::{Trace, FORMAT, VERSION};
use crate::verdict::{
    judge, partial, Agreement, Error, Exit, FoundAt, FoundKey, PropertyResult, RunOutcome, Scope,
    VariantReport, Verdicts,
};

/// Checks `variant` of `model` with its default parameters under `spec` and judges it as the
/// test suites do (the CLI's exit 0, strict, nothing partial): `Err` lists every property whose
/// verdict differs from its declaration, or why the run established nothing.
pub fn as_declared(
    model: &'static dyn Model,
    variant: &'static VariantCard,
    spec: &EngineSpec,
    jobs: usize,
) -> Result<VariantReport, String> {
    let params = model
        .resolve(&Default::default())
        .map_err(|e| e.to_string())?;
    let opts = Options {
        jobs,
        ..Options::default()
    };
    let r = check_variant(model, variant, spec, &params, opts);
    if let Some(e) = &r.error {
        return Err(e.to_string());
    }
    let outcome = RunOutcome::of_checks(std::slice::from_ref(&r));
    let wrong: Vec<String> = r
        .properties
        .iter()
        .filter(|p| p.agreement != Agreement::AsExpected && r.skipped.is_none())
        .map(|p| {
            format!(
                "{}: declared {}, observed {} ({:?}; {})",
                p.property,
                p.expected.map_or("nothing".into(), |e| e.to_string()),
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
        return Err(wrong.join("\n"));
    }
    if outcome.exit_code(false, true) != Exit::Ok {
        return Err(outcome.inconclusive.join("\n"));
    }
    Ok(r)
}

/// Every variant of `model` under each of `engines`, [`as_declared`], stopping at the first
/// that is not: a model crate's own test of its declarations (`cargo test -p kmodel-<model>`),
/// what a mutant of the port must fail.
pub fn all_as_declared(model: &'static dyn Model, engines: &[EngineSpec]) -> Result<(), String> {
    for variant in model.variants() {
        for spec in engines {
            as_declared(model, variant, spec, engine::default_jobs()).map_err(|e| {
                format!(
                    "{}/{} under {}: {e}",
                    model.name(),
                    variant.name,
                    spec.name()
                )
            })?;
        }
    }
    Ok(())
}

/// The `declared_verdicts` unit test of a model crate (one line in its `tests.rs`): every variant
/// as declared under the suite's engines (loom k=2, shuttle-pct), from that crate alone, which is
/// what a mutant of the port must fail (README "Mutation testing"). The root `tests/verdicts.rs`
/// runs the same cases in CI, so the test is ignored and runs on request.
#[macro_export]
macro_rules! declared_verdicts_test {
    ($model:expr) => {
        /// Every variant as declared under the suite's engines (see
        /// `kmodel_harness::declared_verdicts_test!`).
        #[test]
        #[ignore = "mutation testing: cargo test -p <this crate> --lib -- --ignored declared_verdicts"]
        fn declared_verdicts() {
            let engines = $crate::engine::defaults::engines();
            if let Err(e) = $crate::check::all_as_declared(&$model, &engines) {
                panic!("{e}");
            }
        }
    };
}

/// Checks `variant` of `model` under `spec` (shuttle-pct with at least the schedules the variant
/// declares it needs).
pub fn check_variant(
    model: &'static dyn Model,
    variant: &'static VariantCard,
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
    model: &'static dyn Model,
    variant: &'static VariantCard,
    spec: &EngineSpec,
    params: &Params,
    scene: Option<&serde_json::Value>,
    opts: Options,
) -> VariantReport {
    let mut report = VariantReport {
        model: model.name().into(),
        variant: variant.name.into(),
        engine: spec.clone(),
        params: params.0.clone(),
        memory_model: spec.memory_model().into(),
        executions: 0,
        elapsed_secs: 0.0,
        coverage: None,
        explored: String::new(),
        properties: Verdicts::default(),
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
            report.error = Some(Error::BadInput(e));
            return report;
        }
    };
    // A sharded search split into subtrees: findings name theirs.
    let split = spec.kind().subtrees() && opts.shard.count > 1;
    let opts = Options {
        properties: model.properties().len(),
        ..opts
    };
    let (x, found_by) = match explore_minimal(spec, &scenario, opts) {
        Ok(x) => x,
        Err(e) => {
            report.error = Some(e.into());
            return report;
        }
    };
    report.executions = x.executions;
    report.elapsed_secs = x.elapsed.as_secs_f64();
    report.explored = spec.describe(&x.coverage, x.executions);
    report.coverage = Some(x.coverage.clone());

    let mut ids: Vec<PropertyId> = model.properties().iter().map(|p| p.id).collect();
    ids.extend(
        x.found
            .keys()
            .filter(|k| !ids.contains(k))
            .copied()
            .collect::<Vec<_>>(),
    );
    // A generated scene is judged against the sweep verdicts by its caller.
    let declared = match scene {
        Some(_) => Some(variant.expect),
        None => model.declared(variant, params),
    };
    for id in ids {
        let expected = declared.map(|d| d.of(id));
        let found = x.found.get(&id);
        let mut result = PropertyResult {
            property: id,
            expected,
            violated: found.is_some(),
            agreement: judge(
                id,
                expected,
                found.is_some(),
                spec,
                Scope::Check(&x.coverage),
            ),
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
                    if replayed.violation_of(id).is_none() {
                        report.error = Some(
                            Error::ReplayDiverged(format!(
                                "replaying execution {} did not reproduce the violation",
                                f.execution
                            ))
                            .of_property(id),
                        );
                    }
                    result.trace = Some(make_trace(
                        model,
                        variant,
                        spec,
                        params,
                        scene,
                        id,
                        result.found_in.expect("set for every finding"),
                        split,
                        token,
                        replayed,
                    ));
                }
                Err(e) => report.error = Some(Error::from(e).of_property(id)),
            }
        }
        report.properties.push(result);
    }
    report
}

/// Explores under `spec`, pass by pass ([`EngineSpec::passes`]: loom deepens its preemption
/// bound 0, 1, ..., k), so every violation is reported (and its trace recorded) at the first
/// pass that shows it (for loom its preemption count, which can be below the switches counted
/// at harness operations). Returns the exploration and, per violated property, the pass that
/// found it.
pub fn explore_minimal(
    spec: &EngineSpec,
    scenario: &crate::model::Scenario,
    opts: Options,
) -> Result<(Exploration, BTreeMap<PropertyId, EngineSpec>), engine::EngineError> {
    let passes = spec.passes();
    if let [only] = passes.as_slice() {
        let x = engine::explore(only, scenario, opts)?;
        let by = x.found.keys().map(|&p| (p, only.clone())).collect();
        return Ok((x, by));
    }
    let start = Instant::now();
    let mut total: Option<Exploration> = None;
    let mut by = BTreeMap::new();
    for (i, pass) in passes.iter().enumerate() {
        let offset = start.elapsed();
        if let Some(on_pass) = &opts.on_pass {
            on_pass(pass.pass());
        }
        // Progress counts executions over all passes.
        let base = total.as_ref().map_or(0, |t| t.executions);
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
        let x = engine::explore(pass, scenario, pass_opts)?;
        let t = total.get_or_insert_with(|| Exploration {
            executions: 0,
            elapsed: Duration::ZERO,
            coverage: x.coverage.clone(),
            found: BTreeMap::new(),
        });
        t.executions += x.executions;
        for (p, mut f) in x.found {
            if let std::collections::btree_map::Entry::Vacant(slot) = t.found.entry(p) {
                f.after += offset;
                by.insert(p, pass.clone());
                slot.insert(f);
            }
        }
        // A shard may draw no subtree of one pass and some of the next: an empty pass neither
        // decides the coverage nor ends the deepening.
        let empty = x.coverage == Coverage::NoExecutions;
        if !empty || t.executions == 0 {
            t.coverage = x.coverage;
        }
        let all = (opts.properties > 0 && t.found.len() >= opts.properties)
            || (opts.stop_at.as_ref()).is_some_and(|p| t.found.contains_key(p));
        if !empty && partial(pass, &t.coverage) {
            break;
        }
        if all && i + 1 < passes.len() {
            t.coverage = Coverage::AllViolated;
            break;
        }
    }
    let mut total = total.expect("an engine has at least one pass");
    // Each pass ran with what was left of the budget: report the budget the user gave.
    if let (Coverage::TimeBudget { budget_secs }, Some(b)) = (&mut total.coverage, opts.budget) {
        *budget_secs = b.as_secs_f64();
    }
    total.elapsed = start.elapsed();
    Ok((total, by))
}

#[allow(clippy::too_many_arguments)]
fn make_trace(
    model: &dyn Model,
    variant: &VariantCard,
    spec: &EngineSpec,
    params: &Params,
    scene: Option<&serde_json::Value>,
    property: PropertyId,
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
        model: model.name().into(),
        variant: variant.name.into(),
        params: params.0.clone(),
        scene: scene.cloned(),
        engine: spec.clone(),
        engine_version: spec.version(),
        memory_model: spec.memory_model().into(),
        source_hash: model.source_hash(),
        property,
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
