//! One exploration's bookkeeping: its [`Options`], the [`Shard`] it runs, the [`Control`] every
//! execution reports to, and the result ([`Exploration`], [`Found`], [`Coverage`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::ReplayToken;
use crate::model::Scenario;
use crate::rt::{self, Event, ExecCtx, PropertyId, SpinLimit, Violation};

/// How much of the execution space an exploration covered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Coverage {
    /// Every execution the engine's memory model allows.
    Exhaustive,
    /// Every execution with at most `bound` preemptions.
    ExhaustiveUpToBound { bound: u32 },
    /// Every interleaving up to equivalence (sequential consistency, no bound): one execution
    /// per Mazurkiewicz class, besides `sleep_blocked` prefixes that sleep sets cut short as
    /// equivalent to an explored execution.
    UpToEquivalence { sleep_blocked: u64 },
    /// A fixed number of sampled schedules (random, PCT, stress).
    Sampled,
    /// The time budget ran out first.
    TimeBudget { budget_secs: f64 },
    /// The execution cap ([`Options::max_executions`]) was reached first: which executions
    /// ran before it is deterministic with one worker only, so callers use it as a "too big"
    /// test and discard what the capped run found.
    ExecutionCap { executions: u64 },
    /// Every property was already violated, so exploring further could not change a verdict.
    AllViolated,
    /// A deadlock ended the exploration (loom cannot continue past one).
    StoppedByDeadlock,
    /// No execution ran (a shard that drew no part of the search): nothing is established.
    NoExecutions,
}

/// Why an exploration stopped early, decided by [`Control`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopReason {
    Budget,
    ExecutionCap,
    AllViolated,
}

/// The first violation of one property found by an exploration.
#[derive(Clone, Debug)]
pub struct Found {
    /// The subtree of loom's split search that found it (0 for other engines). Findings are
    /// ordered by (subtree, execution), in one process or merged across shards.
    pub subtree: u32,
    /// Execution index (0-based, in the engine's deterministic order within its subtree).
    pub execution: u64,
    pub after: Duration,
    pub violation: Violation,
    pub(crate) token: ReplayToken,
    /// Only for engines that cannot replay (stress): the outcome recorded live.
    pub(crate) live: Option<(Vec<String>, Vec<Event>)>,
}

/// Options for one exploration.
#[derive(Clone, Default)]
pub struct Options {
    /// Stop after this long (the verdict then says so).
    pub budget: Option<Duration>,
    /// Stop after this many executions (`kmodel explore`'s per-scene cap for dpor).
    pub max_executions: Option<u64>,
    /// Worker threads for shuttle random / PCT lanes.
    pub jobs: usize,
    /// The part of the search this exploration runs; see [`Shard`].
    pub shard: Shard,
    /// Number of properties the model declares; the exploration stops once all are violated.
    pub properties: usize,
    /// Stop as soon as this property is violated (benchmarks: time to first counterexample).
    pub stop_at: Option<PropertyId>,
    /// Called with the running execution count, for progress bars.
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    /// Called with loom's preemption bound as each pass of an iteratively deepened search
    /// starts (see `check::explore_minimal`), for progress bars.
    pub on_pass: Option<Arc<dyn Fn(u32) + Send + Sync>>,
    /// When set, every execution records its events and adds what it left visible (see
    /// `Outcome::fingerprint`): the final states the engine reached (slow; soundness tests).
    pub states: Option<Arc<Mutex<std::collections::BTreeSet<String>>>>,
}

/// The default number of worker threads or processes: the number of CPUs (1 if unknown).
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One of `count` disjoint parts of a search, for spreading one exploration over processes or
/// machines: loom subtrees, shuttle lanes and stress iterations are dealt round-robin. The
/// parts' execution counts add up exactly; merging keeps each property's earliest finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole search.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether work item `i` (a subtree, lane or iteration) belongs to this shard.
    pub fn owns(&self, i: u64) -> bool {
        i % u64::from(self.count.max(1)) == u64::from(self.index)
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::ALL
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s}: expected K/N with 0 <= K < N (e.g. 0/2)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Result of one exploration.
#[derive(Clone, Debug)]
pub struct Exploration {
    pub executions: u64,
    pub elapsed: Duration,
    pub coverage: Coverage,
    /// First violation per property id.
    pub found: BTreeMap<PropertyId, Found>,
}

/// Shared state of one exploration, across executions and worker threads.
pub(crate) struct Control {
    start: Instant,
    pub(super) opts: Options,
    pub(super) executions: AtomicU64,
    stop: AtomicBool,
    stop_reason: Mutex<Option<StopReason>>,
    found: Mutex<BTreeMap<PropertyId, Found>>,
}

impl Control {
    pub(super) fn new(opts: Options) -> Arc<Self> {
        Arc::new(Control {
            start: Instant::now(),
            opts,
            executions: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            stop_reason: Mutex::new(None),
            found: Mutex::new(BTreeMap::new()),
        })
    }

    fn stop_with(&self, reason: StopReason) {
        self.stop.store(true, Relaxed);
        self.stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(reason);
    }

    /// False once the exploration must stop (budget used, or nothing left to learn).
    pub(super) fn keep_going(&self) -> bool {
        if self.stop.load(Relaxed) {
            return false;
        }
        if let Some(b) = self.opts.budget {
            if self.start.elapsed() >= b {
                self.stop_with(StopReason::Budget);
                return false;
            }
        }
        if let Some(cap) = self.opts.max_executions {
            if self.executions.load(Relaxed) >= cap {
                self.stop_with(StopReason::ExecutionCap);
                return false;
            }
        }
        true
    }

    /// [`Control::keep_going`] for a worker about to start execution `next` of an index sequence
    /// that only grows (a shuttle lane) while other workers run theirs in parallel. Once every
    /// property (or the `stop_at` one) is violated, the worker carries on until none of its
    /// executions could be an earlier finding, so the first counterexample of each property is
    /// the smallest index over all workers, whatever their relative speed.
    pub(super) fn keep_going_from(&self, next: u64) -> bool {
        if !self.stop.load(Relaxed) {
            return self.keep_going();
        }
        let reason = *self
            .stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if reason != Some(StopReason::AllViolated) {
            return false;
        }
        if let Some(b) = self.opts.budget {
            if self.start.elapsed() >= b {
                return false;
            }
        }
        let found = self.found.lock().unwrap_or_else(PoisonError::into_inner);
        let before = |p: &PropertyId| found.get(p).is_some_and(|f| f.execution < next);
        let target = self.opts.stop_at.as_ref().is_some_and(before);
        let all = self.opts.properties > 0
            && found.len() >= self.opts.properties
            && found.keys().all(before);
        !(target || all)
    }

    /// Runs one execution of `scenario` (recording off) and records its violation, if any.
    pub(super) fn run(
        &self,
        scenario: &Scenario,
        index: u64,
        spin: SpinLimit,
        ends_stuck: bool,
        token: impl FnOnce() -> ReplayToken,
    ) {
        self.run_in(0, scenario, index, spin, ends_stuck, token)
    }

    /// [`Control::run`] for execution `index` of `subtree` (see [`Found::subtree`]).
    pub(super) fn run_in(
        &self,
        subtree: u32,
        scenario: &Scenario,
        index: u64,
        spin: SpinLimit,
        ends_stuck: bool,
        token: impl FnOnce() -> ReplayToken,
    ) {
        let ctx = ExecCtx::new(self.opts.states.is_some(), spin, ends_stuck);
        let out = rt::run_execution(ctx, || scenario());
        self.note_state(&out);
        self.count();
        if !out.violations.is_empty() {
            let token = token();
            for v in out.violations {
                self.record_in(subtree, index, v, token.clone(), None);
            }
        }
    }

    /// Adds the final state of `out` when the options ask for them.
    pub(super) fn note_state(&self, out: &rt::Outcome) {
        if let Some(s) = &self.opts.states {
            let f = out.fingerprint();
            s.lock().unwrap_or_else(PoisonError::into_inner).insert(f);
        }
    }

    /// Counts one finished execution.
    pub(super) fn count(&self) {
        let n = self.executions.fetch_add(1, Relaxed) + 1;
        if let Some(p) = &self.opts.progress {
            p(n);
        }
    }

    pub(super) fn record(
        &self,
        index: u64,
        violation: Violation,
        token: ReplayToken,
        live: Option<(Vec<String>, Vec<Event>)>,
    ) {
        self.record_in(0, index, violation, token, live)
    }

    /// Records a violation found at execution `index` of `subtree` (see [`Found::subtree`]).
    pub(super) fn record_in(
        &self,
        subtree: u32,
        index: u64,
        violation: Violation,
        token: ReplayToken,
        live: Option<(Vec<String>, Vec<Event>)>,
    ) {
        let mut found = self.found.lock().unwrap_or_else(PoisonError::into_inner);
        let earlier = found
            .get(&violation.property)
            .is_some_and(|f| (f.subtree, f.execution) <= (subtree, index));
        if !earlier {
            found.insert(
                violation.property,
                Found {
                    subtree,
                    execution: index,
                    after: self.start.elapsed(),
                    violation,
                    token,
                    live,
                },
            );
        }
        let target = self
            .opts
            .stop_at
            .as_ref()
            .is_some_and(|p| found.contains_key(p));
        if target || (self.opts.properties > 0 && found.len() >= self.opts.properties) {
            self.stop_with(StopReason::AllViolated);
        }
    }

    pub(super) fn into_exploration(self: Arc<Self>, coverage: Coverage) -> Exploration {
        let coverage = match *self
            .stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(StopReason::Budget) => Coverage::TimeBudget {
                budget_secs: self.opts.budget.unwrap_or_default().as_secs_f64(),
            },
            Some(StopReason::ExecutionCap) => Coverage::ExecutionCap {
                executions: self.opts.max_executions.unwrap_or_default(),
            },
            Some(StopReason::AllViolated) => Coverage::AllViolated,
            None if self.executions.load(Relaxed) == 0 => Coverage::NoExecutions,
            None => coverage,
        };
        let found = std::mem::take(&mut *self.found.lock().unwrap_or_else(PoisonError::into_inner));
        Exploration {
            executions: self.executions.load(Relaxed),
            elapsed: self.start.elapsed(),
            coverage,
            found,
        }
    }
}
