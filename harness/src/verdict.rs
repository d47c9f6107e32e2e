//! Verdicts: how each property's observed outcome relates to its declared one, the reports of
//! one check, and merging the reports of a search explored in shards.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::{self, Coverage, EngineKind, EngineSpec};
use crate::model::Expect;
use crate::trace::Trace;

/// How an observed verdict relates to the declared one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    AsExpected,
    /// The verdict changed: a test failure, exit code 1.
    Unexpected,
    /// An expected violation was not reached by a partial exploration (time budget, deadlock,
    /// or the stress engine's luck); not a verdict change.
    NotReached,
    /// The model declares no verdicts for the parameters explored (see
    /// [`Model::declared`](crate::Model::declared)): what was observed is a finding, not a
    /// verdict change (`kmodel check --strict` fails on violations).
    Undeclared,
}

/// Where a first violation was found, in the order explorations meet them: loom's
/// preemption-bound pass (0 for other engines), loom subtree (see [`engine::Found::subtree`]),
/// execution index. Shards merge by keeping the smallest.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct FoundKey {
    pub pass: u32,
    pub subtree: u32,
    pub execution: u64,
}

/// Where an exploration first met a violation: its execution index and the time it took.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FoundAt {
    pub execution: u64,
    /// Seconds from the start of the exploration (0 in committed results).
    pub seconds: f64,
}

/// One property's outcome in one exploration.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PropertyResult {
    pub property: String,
    pub expected: Option<Expect>,
    pub violated: bool,
    pub agreement: Agreement,
    /// Execution index and time of the first violation.
    pub found_at: Option<FoundAt>,
    pub found_in: Option<FoundKey>,
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
}

/// The outcome of checking one variant under one engine.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct VariantReport {
    pub model: String,
    pub variant: String,
    pub engine: EngineSpec,
    /// Every parameter's value in this check.
    #[serde(default)]
    pub params: BTreeMap<String, u32>,
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
    /// Properties violated where no verdict is declared for the parameters explored.
    pub fn findings(&self) -> impl Iterator<Item = &PropertyResult> {
        self.properties
            .iter()
            .filter(|p| p.agreement == Agreement::Undeclared && p.violated)
    }

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
        ) || (self.engine.kind() == EngineKind::ShuttleDfs
            && self.coverage == Some(Coverage::Sampled))
    }

    /// True when the run could not establish some declared verdict: an expected violation was
    /// not reached, or a time budget, shuttle-dfs's schedule cap or a run of 0 executions left
    /// a declared Holds unexplored. `kmodel check` exits 3 for it (unless `--allow-partial`).
    /// A loom run stopped by a deadlock it reports is not inconclusive by itself: the deadlock
    /// is the verdict (its other properties read "not violated (partial)").
    pub fn inconclusive(&self) -> bool {
        if self.skipped.is_some() {
            return false;
        }
        if self
            .properties
            .iter()
            .any(|p| p.agreement == Agreement::NotReached)
        {
            return true;
        }
        let cut = matches!(self.coverage, Some(Coverage::TimeBudget { .. }))
            || (self.engine.kind() == EngineKind::ShuttleDfs
                && self.coverage == Some(Coverage::Sampled))
            // A shard may own no part of a search: the merge decides.
            || (self.executions == 0 && self.shard.count <= 1);
        cut && self
            .properties
            .iter()
            .any(|p| p.expected.is_some() && !p.violated)
    }

    /// Why [`Self::inconclusive`], in words ("" when it is not).
    pub fn inconclusive_why(&self) -> String {
        if !self.inconclusive() {
            return String::new();
        }
        let unreached: Vec<&str> = self
            .properties
            .iter()
            .filter(|p| p.agreement == Agreement::NotReached)
            .map(|p| p.property.as_str())
            .collect();
        let unexplored: Vec<&str> = self
            .properties
            .iter()
            .filter(|p| p.expected == Some(Expect::Holds) && !p.violated)
            .map(|p| p.property.as_str())
            .collect();
        let mut why = format!(
            "{}/{} under {}: {}",
            self.model,
            self.variant,
            self.engine.name(),
            self.explored
        );
        if !unreached.is_empty() {
            why += &format!("; expected violation not reached: {}", unreached.join(", "));
        } else if !unexplored.is_empty() {
            why += &format!("; Holds not established: {}", unexplored.join(", "));
        }
        why
    }

    pub fn executions_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.executions as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }
}

pub(crate) fn agreement(
    property: &str,
    expected: Option<Expect>,
    violated: bool,
    spec: &EngineSpec,
    complete: bool,
    coverage: &Coverage,
) -> Agreement {
    // An engine without happens-before cannot see a data race: nothing to compare.
    if property == crate::rt::DATA_RACE && !spec.kind().sees_races() && !violated {
        return Agreement::AsExpected;
    }
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
        Some(Expect::ViolatedWeakMemory) if spec.kind().real_threads() => {
            return if violated {
                Agreement::AsExpected
            } else {
                Agreement::NotReached
            };
        }
        Some(Expect::ViolatedWeakMemory) => spec.weak_memory(),
        // Real hardware may show it; loom and shuttle must not (else the declaration is stale).
        Some(Expect::BeyondEngine) if spec.kind().real_threads() => {
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
        let complete = merged.engine.is_complete(coverage);
        merged.explored = merged.engine.describe(coverage, merged.executions);
        for p in &mut merged.properties {
            if p.agreement != Agreement::Undeclared {
                p.agreement = agreement(
                    &p.property,
                    p.expected,
                    p.violated,
                    &merged.engine,
                    complete,
                    coverage,
                );
            }
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
