//! The reports of one check ([`VariantReport`]) and their per-property rows ([`Verdicts`] of
//! [`PropertyResult`]), and [`CheckLabel`], the one way a check is named in messages.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::declared::Expect;
use super::judge::{self, Agreement};
use super::Error;
use crate::engine::{self, Coverage, EngineSpec};
use crate::rt::PropertyId;
use crate::trace::Trace;

/// Names one check in messages: `model/variant under engine` (`model/variant` for a sweep;
/// the engine with its settings, `loom k=2`, in the verdict table).
#[derive(Clone, Copy, Debug)]
pub struct CheckLabel<'a> {
    model: &'a str,
    variant: &'a str,
    engine: Option<&'a EngineSpec>,
    settings: bool,
}

impl<'a> CheckLabel<'a> {
    pub fn new(model: &'a str, variant: &'a str) -> Self {
        CheckLabel {
            model,
            variant,
            engine: None,
            settings: false,
        }
    }

    /// The check under `engine` (named by its name).
    pub fn under(self, engine: &'a EngineSpec) -> Self {
        CheckLabel {
            engine: Some(engine),
            ..self
        }
    }

    /// The engine named with its settings (`loom k=2`).
    pub fn with_settings(self) -> Self {
        CheckLabel {
            settings: true,
            ..self
        }
    }
}

impl fmt::Display for CheckLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.model, self.variant)?;
        match self.engine {
            Some(e) if self.settings => write!(f, " under {}", e.label()),
            Some(e) => write!(f, " under {}", e.name()),
            None => Ok(()),
        }
    }
}

/// One property's judged outcome, as both report types hold it.
pub trait Judged {
    fn property(&self) -> PropertyId;
    /// The declared verdict (`None`: nothing declared for the parameters explored).
    fn declared(&self) -> Option<Expect>;
    fn violated(&self) -> bool;
    fn agreement(&self) -> &Agreement;
}

/// Every property's outcome in one check or sweep, in the model's order (then properties the
/// model does not list, e.g. a deadlock it does not declare). A JSON array.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Verdicts<P>(Vec<P>);

impl<P: JsonSchema> JsonSchema for Verdicts<P> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        Vec::<P>::schema_name()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Vec::<P>::json_schema(g)
    }
}

impl<P> Default for Verdicts<P> {
    fn default() -> Self {
        Verdicts(vec![])
    }
}

impl<P> Deref for Verdicts<P> {
    type Target = [P];

    fn deref(&self) -> &[P] {
        &self.0
    }
}

impl<P> std::ops::DerefMut for Verdicts<P> {
    fn deref_mut(&mut self) -> &mut [P] {
        &mut self.0
    }
}

impl<P> IntoIterator for Verdicts<P> {
    type Item = P;
    type IntoIter = std::vec::IntoIter<P>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, P> IntoIterator for &'a Verdicts<P> {
    type Item = &'a P;
    type IntoIter = std::slice::Iter<'a, P>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<P> FromIterator<P> for Verdicts<P> {
    fn from_iter<I: IntoIterator<Item = P>>(iter: I) -> Self {
        Verdicts(iter.into_iter().collect())
    }
}

impl<P: Judged> Verdicts<P> {
    pub fn push(&mut self, p: P) {
        self.0.push(p)
    }

    /// The row of `property`.
    pub fn get(&self, property: PropertyId) -> Option<&P> {
        self.0.iter().find(|p| p.property() == property)
    }

    pub fn get_mut(&mut self, property: PropertyId) -> Option<&mut P> {
        self.0.iter_mut().find(|p| p.property() == property)
    }

    /// No verdict differs from the declared one.
    pub fn as_expected(&self) -> bool {
        self.0
            .iter()
            .all(|p| *p.agreement() != Agreement::Unexpected)
    }

    /// Declared violations the exploration did not reach.
    pub fn not_reached(&self) -> impl Iterator<Item = PropertyId> + '_ {
        self.with(|p| *p.agreement() == Agreement::NotReached)
    }

    /// Violations where nothing is declared (non-default parameters).
    pub fn findings(&self) -> impl Iterator<Item = PropertyId> + '_ {
        self.with(|p| *p.agreement() == Agreement::Undeclared && p.violated())
    }

    /// Declared Holds that no violation contradicted (established only by a complete run).
    pub fn unviolated_holds(&self) -> impl Iterator<Item = PropertyId> + '_ {
        self.with(|p| p.declared() == Some(Expect::Holds) && !p.violated())
    }

    /// Whether some declared verdict saw no violation (a cut run leaves it unestablished).
    pub fn declared_unviolated(&self) -> bool {
        self.0
            .iter()
            .any(|p| p.declared().is_some() && !p.violated())
    }

    fn with<'a>(&'a self, keep: impl Fn(&P) -> bool + 'a) -> impl Iterator<Item = PropertyId> + 'a {
        self.0.iter().filter(move |p| keep(p)).map(Judged::property)
    }
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
    pub property: PropertyId,
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

impl Judged for PropertyResult {
    fn property(&self) -> PropertyId {
        self.property
    }

    fn declared(&self) -> Option<Expect> {
        self.expected
    }

    fn violated(&self) -> bool {
        self.violated
    }

    fn agreement(&self) -> &Agreement {
        &self.agreement
    }
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
    pub properties: Verdicts<PropertyResult>,
    /// Not run under this engine, and why.
    pub skipped: Option<String>,
    /// Why the check reached no verdict (a model panic, a counterexample that did not replay).
    pub error: Option<Error>,
    /// The part of the search explored (see [`engine::Shard`]); merging needs every part.
    #[serde(default)]
    pub shard: engine::Shard,
}

impl VariantReport {
    /// `model/variant under engine`.
    pub fn label(&self) -> CheckLabel<'_> {
        CheckLabel::new(&self.model, &self.variant).under(&self.engine)
    }

    /// True when every verdict is as declared and nothing failed.
    pub fn as_expected(&self) -> bool {
        self.error.is_none() && self.properties.as_expected()
    }

    /// True when the exploration stopped before covering its space (time budget, deadlock,
    /// schedule cap), so "no violation found" is not a Holds verdict.
    pub fn partial(&self) -> bool {
        (self.coverage.as_ref()).is_some_and(|c| judge::partial(&self.engine, c))
    }

    /// Why the run could not establish some declared verdict (`None`: it did): an expected
    /// violation was not reached, or a time budget, shuttle-dfs's schedule cap or a run of 0
    /// executions left a declared Holds unexplored. `kmodel check` exits 3 for it (unless
    /// `--allow-partial`). A loom run stopped by a deadlock it reports is not inconclusive by
    /// itself: the deadlock is the verdict (its other properties read "not violated
    /// (partial)").
    pub fn inconclusive_why(&self) -> Option<String> {
        if self.skipped.is_some() {
            return None;
        }
        let unreached: Vec<&str> = self.properties.not_reached().map(|p| p.as_str()).collect();
        let cut = (self.coverage.as_ref()).is_some_and(|c| judge::cut(&self.engine, c))
            // A shard may own no part of a search: the merge decides.
            || (self.executions == 0 && self.shard.count <= 1);
        if unreached.is_empty() && !(cut && self.properties.declared_unviolated()) {
            return None;
        }
        let mut why = format!("{}: {}", self.label(), self.explored);
        if !unreached.is_empty() {
            why += &format!("; expected violation not reached: {}", unreached.join(", "));
        } else {
            let unexplored: Vec<&str> = self
                .properties
                .unviolated_holds()
                .map(|p| p.as_str())
                .collect();
            if !unexplored.is_empty() {
                why += &format!("; Holds not established: {}", unexplored.join(", "));
            }
        }
        Some(why)
    }

    /// Whether the run left some declared verdict unestablished (see
    /// [`Self::inconclusive_why`]).
    pub fn inconclusive(&self) -> bool {
        self.inconclusive_why().is_some()
    }

    pub fn executions_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.executions as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }
}
