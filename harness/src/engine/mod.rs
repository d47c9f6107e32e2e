//! Engines: how executions of a scenario are chosen. One engine per file; [`Engine`] is the seam.
//!
//! An exploration runs executions of one (model, variant) under one engine and records, per
//! property, the first execution that violated it. Afterwards every violation is turned into a
//! replayable counterexample: the engine captures a replay token and re-runs that one execution
//! with event recording on (explorations run with recording off, which keeps them fast).

//!
//! - `spec.rs`: [`EngineSpec`] and [`EngineKind`], everything that describes an engine.
//! - `control.rs`: one exploration's options, shard, bookkeeping and result.
//! - `panic.rs`: engine panics (early stops, deadlock reports) and the quiet panic hook.
//! - `loom/`, `shuttle.rs`, `stress.rs`, `dpor/`: the engines.
//!
//! A new engine is one file here plus one [`EngineKind`] arm (and its [`EngineSpec`] settings).

mod control;
mod dpor;
mod loom;
mod panic;
mod shuttle;
mod spec;
mod stress;

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Scenario;
use crate::rt::{
    self, use_backend, Backend, Event, ExecCtx, Outcome, PropertyId, SpinLimit, Violation,
};

pub(crate) use self::control::Control;
pub use self::control::{default_jobs, Coverage, Exploration, Found, Options, Shard};
#[doc(hidden)]
pub use self::dpor::every_interleaving;
pub use self::loom::LOOM_VERSION;
pub use self::panic::{install_panic_hook, set_panic_output};
use self::panic::{install_quiet_panic_hook, is_deadlock};
pub(crate) use self::panic::{panic_message, StopExploration};
pub use self::shuttle::SHUTTLE_VERSION;
pub use self::spec::{defaults, EngineKind, EngineSpec, Reach, Settings};
pub use crate::rt::Schedule;

/// What an engine needs to re-run one execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ReplayToken {
    /// loom's serialized execution path (its checkpoint format) for the failing execution.
    Loom { path: serde_json::Value },
    /// The shuttle task chosen at each scheduling step.
    Shuttle { schedule: Vec<u32> },
    /// The actor that took each step on kmodel's native runtime (the `dpor` engine); past the
    /// last, the lowest actor that can run.
    Native { steps: Vec<u32> },
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

impl Replayed {
    /// The violation of `property`, if the execution violated it.
    pub fn violation_of(&self, property: PropertyId) -> Option<&Violation> {
        self.violations.iter().find(|v| v.property == property)
    }
}

/// One execution re-run with event recording.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// Each violated property's first violation, in order.
    pub violations: Vec<Violation>,
    pub actors: Vec<String>,
    pub events: Vec<Event>,
    pub schedule: Schedule,
}

/// Errors that are not verdicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// A panic in the model (a bug in the model, reported as a model error).
    ModelPanic(String),
    /// The engine refused: it cannot follow a stored execution, ran none, or failed itself.
    Refused(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::ModelPanic(m) => write!(f, "panic in the model: {m}"),
            EngineError::Refused(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for EngineError {}

impl EngineError {
    /// The engine refuses, saying why in one line.
    pub fn refused(why: impl Into<String>) -> Self {
        EngineError::Refused(why.into())
    }
}

impl ReplayToken {
    /// Whether `kmodel replay` can re-run this execution (not for stress: the OS chose it).
    pub fn replayable(&self) -> bool {
        !matches!(self, ReplayToken::None { .. })
    }

    /// The preemptions the engine itself counted in this execution, where it keeps count (loom:
    /// the count its preemption bound limits).
    pub fn engine_preemptions(&self) -> Option<u32> {
        match self {
            ReplayToken::Loom { path } => loom::path_preemptions(path),
            _ => None,
        }
    }

    /// The threads (actors, `main` included) this execution's replay data names, where the
    /// engine needs them all to exist to follow it (loom aborts otherwise).
    pub fn threads(&self) -> Option<usize> {
        match self {
            ReplayToken::Loom { path } => loom::path_threads(path),
            _ => None,
        }
    }
}

/// At most this many scheduling steps in one replayed execution (and events in a trace): no
/// stored trace can make a replay run forever.
pub const MAX_REPLAY_STEPS: usize = 1_000_000;

/// Checks a trace's replay data against what its engine can use, before the engine runs (see
/// [`EngineSpec::validate_replay`]).
pub fn validate_replay_data(spec: &EngineSpec, token: &ReplayToken) -> Result<(), String> {
    spec.validate_replay(token)
}

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
        _property: PropertyId,
    ) -> Result<ReplayToken, EngineError> {
        Ok(token)
    }

    /// Re-runs the execution `token` names, recording events.
    fn replay(&self, scenario: &Scenario, token: &ReplayToken) -> Result<Replayed, EngineError>;
}

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
    let token = engine.capture(scenario, found.token.clone(), found.violation.property)?;
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
        return Err(EngineError::refused(format!(
            "this trace cannot be replayed: {why}"
        )));
    }
    spec.engine().replay(scenario, token)
}

/// The actors (`main` first) one execution of `scenario` spawns: one shuttle execution that
/// runs the first runnable actor at each step. `kmodel replay` checks a stored loom path
/// against them before loom follows it (loom aborts on a thread that was never spawned).
pub fn spawned_actors(scenario: &Scenario) -> Result<Vec<String>, EngineError> {
    install_quiet_panic_hook();
    let first_runnable = ReplayToken::Shuttle { schedule: vec![] };
    let spec = EngineSpec::ShuttleRandom {
        seed: 0,
        schedules: 1,
    };
    spec.engine()
        .replay(scenario, &first_runnable)
        .map(|r| r.actors)
}

/// Runs one recorded execution under `backend`, catching engine panics. The closure is the
/// engine's own driver; it calls the provided body exactly once. A deadlock the engine reports
/// becomes the execution's violation, naming the actors blocked forever.
fn recorded_execution(
    backend: Backend,
    ends_stuck: bool,
    scenario: &Scenario,
    drive: impl FnOnce(Box<dyn Fn() + Send + Sync>),
) -> Result<Outcome, EngineError> {
    let _b = use_backend(backend);
    let ctx = ExecCtx::new(true, spin_limit(backend), ends_stuck);
    let slot = Arc::new(Mutex::new(None::<Outcome>));
    let (sc, cx, sl) = (scenario.clone(), ctx.clone(), slot.clone());
    let body: Box<dyn Fn() + Send + Sync> = Box::new(move || {
        let out = rt::run_execution(cx.clone(), || sc());
        *sl.lock().unwrap_or_else(PoisonError::into_inner) = Some(out);
    });
    let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| drive(body))).err();
    let stored = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    match (stored, panicked) {
        (Some(out), None) => Ok(out),
        (_, Some(p)) => {
            let msg = panic_message(&*p);
            rt::install(None);
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
        (None, None) => Err(EngineError::refused("the engine ran no execution")),
    }
}

/// Whether a source file belongs to an engine crate (or what it uses to read checkpoints).
fn is_engine_source(file: &str) -> bool {
    (EngineKind::ALL.iter()).any(|k| k.source_crates().iter().any(|c| file.contains(c)))
}

/// The spin limit the harness uses for each backend (see [`SpinLimit`]).
fn spin_limit(backend: Backend) -> SpinLimit {
    match backend {
        Backend::Std => SpinLimit::Time(Duration::from_secs(1)),
        // Loom: a yielding thread only runs again after another thread took a step.
        Backend::Loom => SpinLimit::Spins(4),
        Backend::Shuttle => SpinLimit::Spins(16),
        // Unused: native spin loops wait for a write instead of counting spins.
        Backend::Native => SpinLimit::Spins(u32::MAX),
    }
}

/// Classifies an engine panic: a deadlock report becomes a violation, anything else is a model
/// error.
fn deadlock_or_error(msg: &str) -> Result<Violation, EngineError> {
    // The harness found the execution stuck, but the engine could not follow the actors'
    // unwinding (`rt::stuck`): the stuck verdict stands, the engine stops as after a deadlock.
    if let Some((property, message)) = rt::last_execution_bailed() {
        if std::env::var_os("KMODEL_DEBUG_STUCK").is_some() {
            eprintln!("kmodel: debug: the engine stopped while a stuck execution unwound: {msg}");
        }
        return Ok(Violation {
            property,
            message,
            actor: 0,
            events: 0,
        });
    }
    if !is_deadlock(msg) {
        // A panic raised inside loom or shuttle themselves (a replay path that does not fit
        // the model, a step bound) is the engine refusing its input, not a model bug.
        if self::panic::last_panic_file().is_some_and(|f| is_engine_source(&f)) {
            return Err(EngineError::refused(format!(
                "the engine cannot follow this execution: {msg}"
            )));
        }
        return Err(EngineError::ModelPanic(msg.to_string()));
    }
    // A spinner parked for progress that never comes: the engine sees every actor blocked.
    let (property, message) = if rt::last_execution_had_parked_spinner() {
        (
            rt::NO_LIVELOCK,
            "a spinner waits for progress no other CPU can make: livelock".to_string(),
        )
    } else {
        rt::last_execution_stuck_verdict()
            .unwrap_or((rt::NO_DEADLOCK, "deadlock: every CPU is blocked".into()))
    };
    Ok(Violation {
        property,
        message,
        actor: 0,
        events: 0,
    })
}
