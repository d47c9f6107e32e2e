//! Engines: how executions of a scenario are chosen. One engine per file; [`Engine`] is the seam.
//!
//! An exploration runs executions of one (model, variant) under one engine and records, per
//! property, the first execution that violated it. Afterwards every violation is turned into a
//! replayable counterexample: the engine captures a replay token and re-runs that one execution
//! with event recording on (explorations run with recording off, which keeps them fast).

mod loom;
mod shuttle;
mod stress;

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::exec::{self, ExecCtx, Outcome, SpinLimit, Violation};
use crate::model::Scenario;
use crate::sync::{use_backend, Backend};

pub use self::loom::LOOM_VERSION;
pub use self::shuttle::SHUTTLE_VERSION;

/// An engine and its settings, as chosen on the command line and stored in traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EngineSpec {
    /// loom: exhaustive DPOR over the C11 memory model (subset), optionally preemption-bounded.
    Loom { preemption_bound: Option<u32> },
    /// shuttle, uniformly random scheduling.
    ShuttleRandom { seed: u64, schedules: u64 },
    /// shuttle, probabilistic concurrency testing with bug depth `depth`.
    ShuttlePct {
        seed: u64,
        schedules: u64,
        depth: u32,
    },
    /// shuttle, depth-first enumeration of all sequentially consistent schedules.
    ShuttleDfs { max_schedules: Option<u64> },
    /// Real OS threads and std atomics: the baseline kernel developers use today.
    Stress { iterations: u64 },
}

/// Names accepted by `--engine`.
pub const ENGINE_NAMES: &[&str] = &[
    "loom",
    "shuttle-random",
    "shuttle-pct",
    "shuttle-dfs",
    "stress",
];

impl EngineSpec {
    pub fn name(&self) -> &'static str {
        match self {
            EngineSpec::Loom { .. } => "loom",
            EngineSpec::ShuttleRandom { .. } => "shuttle-random",
            EngineSpec::ShuttlePct { .. } => "shuttle-pct",
            EngineSpec::ShuttleDfs { .. } => "shuttle-dfs",
            EngineSpec::Stress { .. } => "stress",
        }
    }

    /// The memory model executions follow.
    pub fn memory_model(&self) -> &'static str {
        match self {
            EngineSpec::Loom { .. } => "C11 (loom subset)",
            EngineSpec::Stress { .. } => "hardware (this machine)",
            _ => "SC (shuttle)",
        }
    }

    /// Whether the engine explores executions outside sequential consistency.
    pub fn weak_memory(&self) -> bool {
        matches!(self, EngineSpec::Loom { .. } | EngineSpec::Stress { .. })
    }

    /// Engine name with its version, for traces.
    pub fn version(&self) -> String {
        match self {
            EngineSpec::Loom { .. } => format!("loom {LOOM_VERSION}"),
            EngineSpec::Stress { .. } => "std".into(),
            _ => format!("shuttle {SHUTTLE_VERSION}"),
        }
    }

    fn engine(&self) -> Box<dyn Engine> {
        match *self {
            EngineSpec::Loom { preemption_bound } => Box::new(loom::Loom { preemption_bound }),
            EngineSpec::ShuttleRandom { seed, schedules } => Box::new(shuttle::Shuttle {
                strategy: shuttle::Strategy::Random,
                seed,
                schedules,
            }),
            EngineSpec::ShuttlePct {
                seed,
                schedules,
                depth,
            } => Box::new(shuttle::Shuttle {
                strategy: shuttle::Strategy::Pct { depth },
                seed,
                schedules,
            }),
            EngineSpec::ShuttleDfs { max_schedules } => Box::new(shuttle::Shuttle {
                strategy: shuttle::Strategy::Dfs,
                seed: 0,
                schedules: max_schedules.unwrap_or(u64::MAX),
            }),
            EngineSpec::Stress { iterations } => Box::new(stress::Stress { iterations }),
        }
    }
}

impl fmt::Display for EngineSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineSpec::Loom {
                preemption_bound: Some(k),
            } => write!(f, "loom (preemption bound {k})"),
            EngineSpec::Loom {
                preemption_bound: None,
            } => write!(f, "loom (unbounded)"),
            EngineSpec::ShuttleRandom { seed, .. } => write!(f, "shuttle-random (seed {seed})"),
            EngineSpec::ShuttlePct { seed, depth, .. } => {
                write!(f, "shuttle-pct (depth {depth}, seed {seed})")
            }
            EngineSpec::ShuttleDfs { .. } => write!(f, "shuttle-dfs"),
            EngineSpec::Stress { .. } => write!(f, "stress (OS threads)"),
        }
    }
}

/// What an engine needs to re-run one execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ReplayToken {
    /// loom's serialized execution path (its checkpoint format) for the failing execution.
    Loom { path: serde_json::Value },
    /// The shuttle task chosen at each scheduling step.
    Shuttle { schedule: Vec<u32> },
    /// Not replayable (the OS chose the schedule); the events were recorded live.
    None { why: String },
    /// Internal: loom iteration number within a subtree (the path prefix loom starts from, or
    /// the whole search), before capture turns it into a path.
    #[serde(skip)]
    LoomIteration {
        prefix: Option<Arc<serde_json::Value>>,
        index: u64,
    },
}

/// How much of the execution space an exploration covered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Coverage {
    /// Every execution the engine's memory model allows.
    Exhaustive,
    /// Every execution with at most `bound` preemptions.
    ExhaustiveUpToBound { bound: u32 },
    /// A fixed number of sampled schedules (random, PCT, stress).
    Sampled,
    /// The time budget ran out first.
    TimeBudget { budget_secs: f64 },
    /// Every property was already violated, so exploring further could not change a verdict.
    AllViolated,
    /// A deadlock ended the exploration (loom cannot continue past one).
    StoppedByDeadlock,
}

/// Why an exploration stopped early, decided by [`Control`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopReason {
    Budget,
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
    pub(crate) live: Option<(Vec<String>, Vec<exec::Event>)>,
}

impl Replayed {
    /// The violation of `property`, if the execution violated it.
    pub fn violation_of(&self, property: &str) -> Option<&Violation> {
        self.violations.iter().find(|v| v.property == property)
    }
}

/// Counterexample statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Scheduling decisions in the execution.
    pub steps: u64,
    /// Context switches away from an actor that could have continued.
    pub preemptions: Option<u32>,
}

/// One execution re-run with event recording.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// Each violated property's first violation, in order.
    pub violations: Vec<Violation>,
    pub actors: Vec<String>,
    pub events: Vec<exec::Event>,
    pub schedule: Schedule,
}

/// Errors that are not verdicts: the model panicked, or a trace no longer replays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError(pub String);

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EngineError {}

/// The seam every engine implements (cf. shuttle's `Scheduler`).
trait Engine {
    /// Runs executions until the space is exhausted, the engine's quota is used, or `ctl`
    /// says stop. Each execution goes through [`Control::run`].
    fn explore(&self, scenario: &Scenario, ctl: &Arc<Control>) -> Result<Coverage, EngineError>;

    /// Turns a provisional token into a replayable one (loom re-explores to the execution).
    fn capture(
        &self,
        _scenario: &Scenario,
        token: ReplayToken,
    ) -> Result<ReplayToken, EngineError> {
        Ok(token)
    }

    /// Re-runs the execution `token` names, recording events.
    fn replay(&self, scenario: &Scenario, token: &ReplayToken) -> Result<Replayed, EngineError>;
}

/// Options for one exploration.
#[derive(Clone, Default)]
pub struct Options {
    /// Stop after this long (the verdict then says so).
    pub budget: Option<Duration>,
    /// Worker threads for shuttle random / PCT lanes.
    pub jobs: usize,
    /// The part of the search this exploration runs; see [`Shard`].
    pub shard: Shard,
    /// Number of properties the model declares; the exploration stops once all are violated.
    pub properties: usize,
    /// Stop as soon as this property is violated (benchmarks: time to first counterexample).
    pub stop_at: Option<String>,
    /// Called with the running execution count, for progress bars.
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

/// One of `count` disjoint parts of a search, for spreading one exploration over processes or
/// machines: loom subtrees, shuttle lanes and stress iterations are dealt round-robin. The
/// parts' execution counts add up exactly; merging keeps each property's earliest finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    pub found: BTreeMap<String, Found>,
}

/// Shared state of one exploration, across executions and worker threads.
pub(crate) struct Control {
    start: Instant,
    opts: Options,
    executions: AtomicU64,
    stop: AtomicBool,
    stop_reason: Mutex<Option<StopReason>>,
    found: Mutex<BTreeMap<String, Found>>,
}

impl Control {
    fn new(opts: Options) -> Arc<Self> {
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
    fn keep_going(&self) -> bool {
        if self.stop.load(Relaxed) {
            return false;
        }
        if let Some(b) = self.opts.budget {
            if self.start.elapsed() >= b {
                self.stop_with(StopReason::Budget);
                return false;
            }
        }
        true
    }

    /// Runs one execution of `scenario` (recording off) and records its violation, if any.
    fn run(
        &self,
        scenario: &Scenario,
        index: u64,
        spin: SpinLimit,
        token: impl FnOnce() -> ReplayToken,
    ) {
        self.run_in(0, scenario, index, spin, token)
    }

    /// [`Control::run`] for execution `index` of `subtree` (see [`Found::subtree`]).
    fn run_in(
        &self,
        subtree: u32,
        scenario: &Scenario,
        index: u64,
        spin: SpinLimit,
        token: impl FnOnce() -> ReplayToken,
    ) {
        let ctx = ExecCtx::new(false, spin);
        let out = exec::run_execution(ctx, || scenario());
        self.count();
        if !out.violations.is_empty() {
            let token = token();
            for v in out.violations {
                self.record_in(subtree, index, v, token.clone(), None);
            }
        }
    }

    /// Counts one finished execution.
    fn count(&self) {
        let n = self.executions.fetch_add(1, Relaxed) + 1;
        if let Some(p) = &self.opts.progress {
            p(n);
        }
    }

    fn record(
        &self,
        index: u64,
        violation: Violation,
        token: ReplayToken,
        live: Option<(Vec<String>, Vec<exec::Event>)>,
    ) {
        self.record_in(0, index, violation, token, live)
    }

    /// Records a violation found at execution `index` of `subtree` (see [`Found::subtree`]).
    fn record_in(
        &self,
        subtree: u32,
        index: u64,
        violation: Violation,
        token: ReplayToken,
        live: Option<(Vec<String>, Vec<exec::Event>)>,
    ) {
        let mut found = self.found.lock().unwrap_or_else(PoisonError::into_inner);
        let earlier = found
            .get(&violation.property)
            .is_some_and(|f| (f.subtree, f.execution) <= (subtree, index));
        if !earlier {
            found.insert(
                violation.property.clone(),
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

    fn into_exploration(self: Arc<Self>, coverage: Coverage) -> Exploration {
        let coverage = match *self
            .stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(StopReason::Budget) => Coverage::TimeBudget {
                budget_secs: self.opts.budget.unwrap_or_default().as_secs_f64(),
            },
            Some(StopReason::AllViolated) => Coverage::AllViolated,
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

/// A panic payload that only ends an exploration early; never reported.
pub(crate) struct StopExploration;

/// Explores `scenario` under `spec`.
pub fn explore(
    spec: &EngineSpec,
    scenario: &Scenario,
    opts: Options,
) -> Result<Exploration, EngineError> {
    install_quiet_panic_hook();
    let ctl = Control::new(opts);
    let coverage = spec.engine().explore(scenario, &ctl)?;
    Ok(ctl.into_exploration(coverage))
}

/// Turns a finding into a recorded counterexample.
pub fn counterexample(
    spec: &EngineSpec,
    scenario: &Scenario,
    found: &Found,
) -> Result<(ReplayToken, Replayed), EngineError> {
    install_quiet_panic_hook();
    if let Some((actors, events)) = &found.live {
        let replayed = Replayed {
            violations: vec![found.violation.clone()],
            actors: actors.clone(),
            events: events.clone(),
            schedule: Schedule {
                steps: events.len() as u64,
                preemptions: None,
            },
        };
        return Ok((found.token.clone(), replayed));
    }
    let engine = spec.engine();
    let token = engine.capture(scenario, found.token.clone())?;
    let replayed = engine.replay(scenario, &token)?;
    Ok((token, replayed))
}

/// Re-runs one execution from a stored token.
pub fn replay(
    spec: &EngineSpec,
    scenario: &Scenario,
    token: &ReplayToken,
) -> Result<Replayed, EngineError> {
    install_quiet_panic_hook();
    if let ReplayToken::None { why } = token {
        return Err(EngineError(format!("this trace cannot be replayed: {why}")));
    }
    spec.engine().replay(scenario, token)
}

/// Runs one recorded execution under `backend`, catching engine panics. The closure is the
/// engine's own driver; it calls the provided body exactly once. A deadlock the engine reports
/// becomes the execution's violation, naming the actors blocked forever.
fn recorded_execution(
    backend: Backend,
    scenario: &Scenario,
    drive: impl FnOnce(Box<dyn Fn() + Send + Sync>),
) -> Result<Outcome, EngineError> {
    let _b = use_backend(backend);
    let ctx = ExecCtx::new(true, spin_limit(backend));
    let slot = Arc::new(Mutex::new(None::<Outcome>));
    let (sc, cx, sl) = (scenario.clone(), ctx.clone(), slot.clone());
    let body: Box<dyn Fn() + Send + Sync> = Box::new(move || {
        let out = exec::run_execution(cx.clone(), || sc());
        *sl.lock().unwrap_or_else(PoisonError::into_inner) = Some(out);
    });
    let panicked = panic::catch_unwind(AssertUnwindSafe(|| drive(body))).err();
    let stored = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    match (stored, panicked) {
        (Some(out), None) => Ok(out),
        (_, Some(p)) => {
            let msg = panic_message(&*p);
            exec::install(None);
            deadlock_or_error(&msg)?;
            // The execution did not finish: keep what it recorded so far.
            let blocked = ctx.unfinished_actors(true).join(", ");
            let what = if ctx.has_parked_spinner() {
                "livelock"
            } else {
                "deadlock"
            };
            ctx.deadlocked(format!("{what}: blocked forever: {blocked}"));
            Ok(ctx.take_outcome())
        }
        (None, None) => Err(EngineError("the engine ran no execution".into())),
    }
}

/// The spin limit the harness uses for each backend (see [`SpinLimit`]).
fn spin_limit(backend: Backend) -> SpinLimit {
    match backend {
        Backend::Std => SpinLimit::Time(Duration::from_secs(1)),
        // Loom: a yielding thread only runs again after another thread took a step.
        Backend::Loom => SpinLimit::Spins(4),
        Backend::Shuttle => SpinLimit::Spins(16),
    }
}

/// Classifies an engine panic: a deadlock report becomes a violation, anything else is a model
/// error.
fn deadlock_or_error(msg: &str) -> Result<Violation, EngineError> {
    if !is_deadlock(msg) {
        return Err(EngineError(format!("model panicked: {msg}")));
    }
    // A spinner parked for progress that never comes: the engine sees every actor blocked.
    let (property, message) = if exec::last_execution_had_parked_spinner() {
        (
            exec::NO_LIVELOCK,
            "a spinner waits for progress no other CPU can make: livelock",
        )
    } else {
        (exec::NO_DEADLOCK, "every CPU is blocked: deadlock")
    };
    Ok(Violation {
        property: property.into(),
        message: message.into(),
        actor: 0,
        events: 0,
    })
}

fn is_deadlock(msg: &str) -> bool {
    msg.starts_with("deadlock")
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if p.is::<StopExploration>() {
        return "stop".into();
    }
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// Silences the panics the harness expects (deadlock reports it turns into verdicts, early stops)
/// while still printing real model panics. Shuttle's own hook (which also filters its teardown
/// panics) only sees panics raised inside a shuttle run; others go to the default hook.
fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        // Let shuttle install its hook now, so it never wraps ours.
        self::shuttle::init_shuttle_hook();
        let shuttle = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let expected = |s: &str| is_deadlock(s) || self::shuttle::is_single_schedule(s);
            let quiet = p.is::<StopExploration>()
                || p.downcast_ref::<String>().is_some_and(|s| expected(s))
                || p.downcast_ref::<&str>().is_some_and(|s| expected(s));
            if quiet {
                return;
            }
            if self::shuttle::in_shuttle_run() {
                shuttle(info)
            } else {
                default(info)
            }
        }));
    });
}
