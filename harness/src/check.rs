//! Checking a variant: explore it under one engine, compare each property with its declared
//! verdict, and turn every violation into a replayable trace. Also replays stored traces.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::engine::{self, Coverage, EngineSpec, Exploration, Options, Replayed};
use crate::model::{lookup, Engines, Expect, Model, Params, Variant};
use crate::trace::{Trace, FORMAT, VERSION};

/// Defaults shared by `kmodel check` and the test suite, so both reach the same verdicts.
pub mod defaults {
    use crate::engine::EngineSpec;

    /// loom's preemption bound: every race the models show needs at most this many
    /// preemptions, and the whole suite fits CI with it.
    pub const PREEMPTIONS: u32 = 2;
    pub const SEED: u64 = 0;
    pub const SCHEDULES: u64 = 2000;
    pub const PCT_DEPTH: u32 = 3;
    pub const STRESS_ITERATIONS: u64 = 1000;

    /// The engines the main job and the tests run: loom (C11, bounded) and shuttle-pct (SC).
    pub fn engines() -> Vec<EngineSpec> {
        vec![
            EngineSpec::Loom {
                preemption_bound: Some(PREEMPTIONS),
            },
            EngineSpec::ShuttlePct {
                seed: SEED,
                schedules: SCHEDULES,
                depth: PCT_DEPTH,
            },
        ]
    }
}

/// How an observed verdict relates to the declared one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    AsExpected,
    /// The verdict changed: a test failure, exit code 1.
    Unexpected,
    /// An expected violation was not reached by a partial exploration (time budget, deadlock,
    /// or the stress engine's luck); not a verdict change.
    NotReached,
}

/// Where a first violation was found, in the order explorations meet them: loom's
/// preemption-bound pass (0 for other engines), loom subtree (see [`engine::Found::subtree`]),
/// execution index. Shards merge by keeping the smallest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FoundKey {
    pub pass: u32,
    pub subtree: u32,
    pub execution: u64,
}

/// One property's outcome in one exploration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PropertyResult {
    pub property: String,
    pub expected: Option<Expect>,
    pub violated: bool,
    pub agreement: Agreement,
    /// Execution index and time of the first violation.
    pub found_at: Option<(u64, f64)>,
    pub found_in: Option<FoundKey>,
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
}

/// The outcome of checking one variant under one engine.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VariantReport {
    pub model: String,
    pub variant: String,
    pub engine: EngineSpec,
    pub memory_model: String,
    pub executions: u64,
    pub elapsed_secs: f64,
    pub coverage: Option<Coverage>,
    /// What was explored, in words ("exhaustive up to 2 preemptions, 1234 executions").
    pub explored: String,
    pub properties: Vec<PropertyResult>,
    /// Not run under this engine, and why.
    pub skipped: Option<String>,
    /// The model panicked or a counterexample could not be replayed.
    pub error: Option<String>,
    /// The part of the search explored (see [`engine::Shard`]); merging needs every part.
    #[serde(default)]
    pub shard: engine::Shard,
}

impl VariantReport {
    /// True when every verdict is as declared and nothing failed.
    pub fn as_expected(&self) -> bool {
        self.error.is_none()
            && self
                .properties
                .iter()
                .all(|p| p.agreement != Agreement::Unexpected)
    }

    /// True when the exploration stopped before covering its space (time budget, deadlock), so
    /// "no violation found" is not a Holds verdict.
    pub fn partial(&self) -> bool {
        matches!(
            self.coverage,
            Some(Coverage::TimeBudget { .. } | Coverage::StoppedByDeadlock)
        ) || (matches!(self.engine, EngineSpec::ShuttleDfs { .. })
            && self.coverage == Some(Coverage::Sampled))
    }

    pub fn executions_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.executions as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }
}

/// Checks `variant` of `model` under `spec`.
pub fn check_variant(
    model: &'static Model,
    variant: &'static Variant,
    spec: &EngineSpec,
    params: &Params,
    opts: Options,
) -> VariantReport {
    let mut report = VariantReport {
        model: model.name.into(),
        variant: variant.name.into(),
        engine: spec.clone(),
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
    if let (Engines::ShuttleOnly(why), EngineSpec::Loom { .. }) = (variant.engines, spec) {
        report.skipped = Some(format!("shuttle only: {why}"));
        return report;
    }
    let scenario = (model.scenario)(variant, params);
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
    report.explored = describe(spec, &x.coverage, x.executions);
    report.coverage = Some(x.coverage.clone());
    let complete = is_complete(spec, &x.coverage);

    let mut ids: Vec<String> = model.properties.iter().map(|p| p.id.to_string()).collect();
    ids.extend(
        x.found
            .keys()
            .filter(|k| !ids.contains(k))
            .cloned()
            .collect::<Vec<_>>(),
    );
    for id in ids {
        let expected = variant.expected(&id);
        let found = x.found.get(&id);
        let mut result = PropertyResult {
            property: id.clone(),
            expected,
            violated: found.is_some(),
            agreement: agreement(expected, found.is_some(), spec, complete, &x.coverage),
            found_at: found.map(|f| (f.execution, f.after.as_secs_f64())),
            found_in: found.map(|f| FoundKey {
                pass: match found_by[&id] {
                    EngineSpec::Loom {
                        preemption_bound: Some(k),
                    } => k,
                    _ => 0,
                },
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

/// Explores under `spec`. loom with preemption bound k explores bounds 0, 1, ..., k in turn, so
/// every violation is reported (and its trace recorded) at the fewest preemptions that show it.
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
        let pass_opts = Options {
            budget: opts.budget.map(|b| b.saturating_sub(offset)),
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
    total.elapsed = start.elapsed();
    Ok((total, by))
}

fn agreement(
    expected: Option<Expect>,
    violated: bool,
    spec: &EngineSpec,
    complete: bool,
    coverage: &Coverage,
) -> Agreement {
    let should_violate = match expected {
        None => {
            return if violated {
                Agreement::Unexpected
            } else {
                Agreement::AsExpected
            }
        }
        Some(Expect::Holds) => false,
        Some(Expect::Violated) => true,
        // Real hardware may or may not show a weak outcome: stress cannot contradict either way.
        Some(Expect::ViolatedWeakMemory) if matches!(spec, EngineSpec::Stress { .. }) => {
            return if violated {
                Agreement::AsExpected
            } else {
                Agreement::NotReached
            };
        }
        Some(Expect::ViolatedWeakMemory) => spec.weak_memory(),
        // Real hardware may show it; loom and shuttle must not (else the declaration is stale).
        Some(Expect::BeyondEngine) if matches!(spec, EngineSpec::Stress { .. }) => {
            return Agreement::AsExpected;
        }
        Some(Expect::BeyondEngine) => false,
    };
    match (should_violate, violated) {
        (a, b) if a == b => Agreement::AsExpected,
        (true, false) if !complete || *coverage == Coverage::AllViolated => Agreement::NotReached,
        _ => Agreement::Unexpected,
    }
}

/// Whether an exploration covered its whole space, so that a missed expected violation is a
/// verdict change. Partial searches cannot contradict one: a time budget, a deadlock, the
/// stress engine's luck, or a DFS stopped at its schedule bound (a corner of DFS order).
fn is_complete(spec: &EngineSpec, coverage: &Coverage) -> bool {
    let dfs_cut = matches!(spec, EngineSpec::ShuttleDfs { .. }) && *coverage == Coverage::Sampled;
    !matches!(
        coverage,
        Coverage::TimeBudget { .. } | Coverage::StoppedByDeadlock
    ) && !matches!(spec, EngineSpec::Stress { .. })
        && !dfs_cut
}

/// Merges the reports of one (model, variant, engine) explored in shards (see
/// [`engine::Shard`]): executions add up, each property keeps its earliest finding (and
/// trace), and verdicts are compared again over the merged coverage.
pub fn merge_shards(shards: Vec<VariantReport>) -> Result<VariantReport, String> {
    let Some(first) = shards.first() else {
        return Err("no reports to merge".into());
    };
    let what = format!("{}/{} under {}", first.model, first.variant, first.engine);
    let n = first.shard.count;
    let mut seen: Vec<u32> = shards.iter().map(|r| r.shard.index).collect();
    seen.sort_unstable();
    if shards.iter().any(|r| r.shard.count != n) || seen != (0..n).collect::<Vec<_>>() {
        let got: Vec<String> = shards.iter().map(|r| r.shard.to_string()).collect();
        return Err(format!(
            "{what}: shards {} do not make up one search (need each of 0/{n} .. {}/{n} once)",
            got.join(", "),
            n.saturating_sub(1)
        ));
    }
    let mut shards = shards.into_iter();
    let mut merged = shards.next().expect("not empty");
    merged.shard = engine::Shard::ALL;
    for s in shards {
        merged.executions += s.executions;
        merged.elapsed_secs = merged.elapsed_secs.max(s.elapsed_secs);
        merged.error = merged.error.or(s.error);
        merged.coverage = match (merged.coverage, s.coverage) {
            (Some(a), Some(b)) => Some(weaker(a, b)),
            (a, b) => a.or(b),
        };
        for p in s.properties {
            match merged
                .properties
                .iter_mut()
                .find(|m| m.property == p.property)
            {
                Some(m) if p.violated && (!m.violated || p.found_in < m.found_in) => *m = p,
                Some(_) => {}
                None => merged.properties.push(p),
            }
        }
    }
    if let Some(coverage) = &merged.coverage {
        let complete = is_complete(&merged.engine, coverage);
        merged.explored = describe(&merged.engine, coverage, merged.executions);
        for p in &mut merged.properties {
            p.agreement = agreement(p.expected, p.violated, &merged.engine, complete, coverage);
        }
    }
    Ok(merged)
}

/// The coverage of two shards together: the less complete one decides.
fn weaker(a: Coverage, b: Coverage) -> Coverage {
    let rank = |c: &Coverage| match c {
        Coverage::TimeBudget { .. } => 0,
        Coverage::StoppedByDeadlock => 1,
        Coverage::AllViolated => 2,
        _ => 3,
    };
    if rank(&b) < rank(&a) {
        b
    } else {
        a
    }
}

/// What the exploration covered, in words.
fn describe(spec: &EngineSpec, coverage: &Coverage, n: u64) -> String {
    match (coverage, spec) {
        (Coverage::Exhaustive, EngineSpec::Loom { .. }) => format!("exhaustive, {n} executions"),
        (Coverage::Exhaustive, _) => format!("exhaustive under SC, {n} schedules"),
        (Coverage::ExhaustiveUpToBound { bound }, _) => {
            format!("exhaustive up to {bound} preemptions, {n} executions")
        }
        (Coverage::Sampled, EngineSpec::ShuttlePct { depth, seed, .. }) => {
            format!("{n} PCT schedules (depth {depth}, seed {seed})")
        }
        (Coverage::Sampled, EngineSpec::ShuttleRandom { seed, .. }) => {
            format!("{n} random schedules (seed {seed})")
        }
        (Coverage::Sampled, EngineSpec::ShuttleDfs { .. }) => {
            format!("{n} DFS schedules (bound reached)")
        }
        (Coverage::Sampled, _) => format!("{n} stress iterations"),
        (Coverage::TimeBudget { budget_secs }, _) => {
            format!("stopped by the {budget_secs:.0}s time budget after {n} executions")
        }
        (Coverage::AllViolated, _) => {
            format!("stopped after {n} executions: every property already violated")
        }
        (Coverage::StoppedByDeadlock, _) => format!("stopped by a deadlock after {n} executions"),
    }
}

#[allow(clippy::too_many_arguments)]
fn make_trace(
    model: &Model,
    variant: &Variant,
    spec: &EngineSpec,
    params: &Params,
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

/// Why a stored trace does not replay.
#[derive(Debug)]
pub enum ReplayError {
    /// The file names a model, variant or parameter this kmodel does not have.
    Unknown(String),
    /// The model's source changed since the trace was recorded.
    Stale { recorded: String, current: String },
    /// Engine failure (e.g. the schedule no longer fits, or the model panicked).
    Engine(String),
    /// The replay ran but ended differently.
    Diverged(String),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Unknown(s) | ReplayError::Engine(s) => f.write_str(s),
            ReplayError::Stale { recorded, current } => write!(
                f,
                "stale trace: recorded against model source {recorded}, the model is now {current}; re-record it with `kmodel check --out traces`"
            ),
            ReplayError::Diverged(s) => write!(f, "replay diverged: {s}"),
        }
    }
}

impl ReplayError {
    /// Input errors (exit 2) versus a replay that ran and disagreed (exit 1).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, ReplayError::Diverged(_))
    }
}

/// Re-runs a stored trace and checks it ends in the same violation with the same events.
pub fn replay_trace(registry: &[&'static Model], trace: &Trace) -> Result<Replayed, ReplayError> {
    let (model, variant) = lookup(registry, &format!("{}/{}", trace.model, trace.variant))
        .map_err(ReplayError::Unknown)?;
    let variant = variant.expect("lookup with a variant returns it");
    let current = model.source_hash();
    if current != trace.source_hash {
        return Err(ReplayError::Stale {
            recorded: trace.source_hash.clone(),
            current,
        });
    }
    let params = model.params(&trace.params).map_err(ReplayError::Unknown)?;
    let scenario = (model.scenario)(variant, &params);
    let r = engine::replay(&trace.engine, &scenario, &trace.replay)
        .map_err(|e| ReplayError::Engine(e.to_string()))?;
    let Some(v) = r.violation_of(&trace.property) else {
        let got: Vec<&str> = r.violations.iter().map(|v| v.property.as_str()).collect();
        return Err(ReplayError::Diverged(format!(
            "expected [{}] {}, got {}",
            trace.property,
            trace.message,
            if got.is_empty() {
                "no violation".into()
            } else {
                got.join(", ")
            }
        )));
    };
    if v.message != trace.message {
        return Err(ReplayError::Diverged(format!(
            "expected [{}] {}, got [{}] {}",
            trace.property, trace.message, v.property, v.message
        )));
    }
    let events = &r.events[..v.events];
    if events != trace.events.as_slice() {
        let at = events.iter().zip(&trace.events).position(|(a, b)| a != b);
        return Err(ReplayError::Diverged(format!(
            "same violation but different events (first difference at event {})",
            at.unwrap_or(events.len().min(trace.events.len()))
        )));
    }
    Ok(r)
}

/// Default budget-free options with `jobs` workers.
pub fn options(jobs: usize, budget: Option<Duration>) -> Options {
    Options {
        budget,
        jobs,
        ..Options::default()
    }
}
