//! [`ExecCtx`]: the state shared by every actor of one execution (actor names, the event log,
//! each property's first violation, liveness bits), and [`run_execution`], which installs it.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use super::actor::current_actor;
use super::blocker::{Bail, Blocker, Wake};
use super::record::{Event, Violation};
use super::schedule::{OpKind, OpLog, Schedule};

/// When a spinning actor is declared livelocked.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SpinLimit {
    /// This many consecutive spins during which no other actor made progress. Sound for the
    /// model-checking engines because a yielding spinner is only rescheduled after another
    /// runnable actor has run (loom natively; shuttle through kmodel's scheduler wrapper).
    Spins(u32),
    /// Real threads: no progress by anyone else for this long.
    Time(Duration),
}

/// What an execution leaves behind for the runner.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Each violated property's first violation, in the order they happened.
    pub violations: Vec<Violation>,
    /// (steps, preemptions) counted at harness operations; only for recorded executions.
    pub schedule: (u64, u32),
    pub actors: Vec<String>,
    pub events: Vec<Event>,
}

impl Outcome {
    /// What an execution left visible to the harness, as one string: per actor, the steps it
    /// recorded (consecutive repeats, such as a spin loop's, once), then the properties it
    /// violated. Two engines that explore the same executions of a scenario leave the same set
    /// of these (the `dpor` engine's soundness tests compare it with shuttle-dfs's).
    pub(crate) fn fingerprint(&self) -> String {
        let mut out = String::new();
        for (a, name) in self.actors.iter().enumerate() {
            out.push_str(name);
            out.push_str(":\n");
            let mut last: Option<(&str, &str)> = None;
            for e in self
                .events
                .iter()
                .filter(|e| e.actor == a && e.mark.is_none())
            {
                if e.violation || last == Some((&e.func, &e.text)) {
                    continue;
                }
                last = Some((&e.func, &e.text));
                out.push_str(&format!("  {}: {}\n", e.func, e.text));
            }
        }
        let mut v: Vec<&str> = self
            .violations
            .iter()
            .map(|v| v.property.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        out.push_str(&format!("violated: {}\n", v.join(", ")));
        out
    }

    /// Schedule statistics of a recorded execution.
    pub(crate) fn schedule(&self) -> Schedule {
        Schedule {
            steps: self.schedule.0,
            preemptions: Some(self.schedule.1),
        }
    }
}

/// Where parked spinners sleep: an engine-level lock and condvar, created by the spinner (in
/// `sync`) at its first park. The runtime only wakes them after progress.
pub(crate) trait Park: Any + Send + Sync {
    /// Wakes every parked spinner.
    fn wake_all(&self);
    fn as_any(&self) -> &dyn Any;
}

pub(crate) struct ExecCtx {
    pub(crate) recording: bool,
    pub(crate) spin_limit: SpinLimit,
    /// Whether the harness ends a stuck execution itself and the engine explores on (the
    /// engine's answer, `EngineKind::ends_stuck_executions`).
    pub(crate) ends_stuck: bool,
    /// Bumped by every event and lock acquisition of an actor that is not spinning.
    pub(crate) progress: AtomicU64,
    /// Bit per actor currently inside `Spinner::relax` loops.
    pub(crate) spinning: AtomicU64,
    /// Bit per actor that has not finished (main is actor 0).
    pub(crate) live: AtomicU64,
    /// Bit per actor that certainly cannot run until another actor acts: waiting for a held
    /// lock, on a condvar, for a join, or parked as a spinner. Cleared conservatively (on
    /// unlock, notify, finish), so a set bit never means "blocked" wrongly.
    pub(crate) blocked: AtomicU64,
    /// Bit per spinner parked until another actor makes progress.
    pub(crate) parked: AtomicU64,
    /// Per actor, the actors waiting in `join()` for it.
    pub(crate) joiners: Mutex<Vec<u64>>,
    /// Set when every live actor is certainly blocked while a spinner is parked: the parked
    /// spinners are woken to report the livelock and bail out.
    pub(crate) livelocked: AtomicBool,
    /// Where parked spinners sleep (installed at the first park).
    park: OnceLock<Box<dyn Park>>,
    /// Set by a fatal violation (livelock, deadlock, out-of-bounds access): the model can no
    /// longer continue faithfully, so later checks are ignored and spinners bail out.
    pub(crate) spent: AtomicBool,
    /// Set when every live actor got stuck: each one unwinds at its next harness operation
    /// (see `stuck.rs`).
    pub(crate) bail: AtomicBool,
    /// Bit per actor unwinding after `bail` (one at a time, see `stuck.rs`).
    pub(crate) unwinding: AtomicU64,
    /// Per actor, what it is blocked on and how to wake it (see `stuck.rs`).
    #[allow(clippy::type_complexity)]
    pub(crate) waits: Mutex<Vec<Option<(Blocker, Option<Arc<dyn Wake>>)>>>,
    /// Per actor, its actor-local values (see `local.rs`).
    pub(crate) locals: Mutex<Vec<Vec<Arc<dyn Any + Send + Sync>>>>,
    state: Mutex<State>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) ops: OpLog,
    pub(crate) actors: Vec<String>,
    pub(crate) finished: Vec<bool>,
    pub(crate) events: Vec<Event>,
    pub(crate) violations: Vec<Violation>,
    pub(crate) shadow: super::mark::Shadow,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<ExecCtx>>> = const { RefCell::new(None) };
    /// Fast flag: the current execution records (a replay); operations are then logged.
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    /// The execution last started on this OS thread, kept after an engine panic unwinds it.
    static LAST: RefCell<Option<Arc<ExecCtx>>> = const { RefCell::new(None) };
}

impl ExecCtx {
    pub(crate) fn new(recording: bool, spin_limit: SpinLimit, ends_stuck: bool) -> Arc<Self> {
        let state = State {
            actors: vec!["main".into()],
            finished: vec![false],
            ..State::default()
        };
        Arc::new(ExecCtx {
            recording,
            spin_limit,
            ends_stuck,
            progress: AtomicU64::new(0),
            spinning: AtomicU64::new(0),
            live: AtomicU64::new(1),
            blocked: AtomicU64::new(0),
            parked: AtomicU64::new(0),
            joiners: Mutex::new(vec![0]),
            livelocked: AtomicBool::new(false),
            park: OnceLock::new(),
            spent: AtomicBool::new(false),
            bail: AtomicBool::new(false),
            unwinding: AtomicU64::new(0),
            waits: Mutex::new(vec![]),
            locals: Mutex::new(vec![]),
            state: Mutex::new(state),
        })
    }

    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn register_actor(&self, name: String) -> usize {
        let mut s = self.state();
        s.actors.push(name);
        s.finished.push(false);
        let id = s.actors.len() - 1;
        self.live
            .fetch_or(1 << id, std::sync::atomic::Ordering::Relaxed);
        self.joiners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(0);
        id
    }

    /// The park installed for this execution, installing `init()` first if there is none.
    pub(crate) fn park_with<P: Park>(&self, init: impl FnOnce() -> P) -> &P {
        self.park
            .get_or_init(|| Box::new(init()))
            .as_any()
            .downcast_ref()
            .expect("one kind of park per execution")
    }

    /// The park, if a spinner installed one.
    pub(crate) fn installed_park(&self) -> Option<&dyn Park> {
        self.park.get().map(|p| &**p)
    }

    /// Names of actors that had not finished; `main` (index 0) included if `with_main`.
    pub(crate) fn unfinished_actors(&self, with_main: bool) -> Vec<String> {
        let s = self.state();
        (usize::from(!with_main)..s.actors.len())
            .filter(|&i| !s.finished[i])
            .map(|i| s.actors[i].clone())
            .collect()
    }

    pub(crate) fn take_outcome(&self) -> Outcome {
        let mut s = self.state();
        Outcome {
            schedule: (s.ops.steps, s.ops.preemptions),
            violations: std::mem::take(&mut s.violations),
            actors: s.actors.clone(),
            events: std::mem::take(&mut s.events),
        }
    }
}

/// Runs `body` as one execution with a fresh context installed on this OS thread.
pub(crate) fn run_execution(ctx: Arc<ExecCtx>, body: impl FnOnce()) -> Outcome {
    let prev = CURRENT.with(|c| c.replace(Some(ctx.clone())));
    let _restore = Restore(prev);
    RECORDING.with(|r| r.set(ctx.recording));
    LAST.with(|l| *l.borrow_mut() = Some(ctx.clone()));
    // A stuck execution unwinds every actor (`stuck.rs`); the scenario's own thread too.
    if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        if !p.is::<Bail>() && !ctx.bail.load(std::sync::atomic::Ordering::Relaxed) {
            std::panic::resume_unwind(p);
        }
    }
    if !ctx.bail.load(std::sync::atomic::Ordering::Relaxed) {
        let unfinished = ctx.unfinished_actors(false);
        assert!(
            unfinished.is_empty(),
            "model error: the scenario returned without joining {unfinished:?}"
        );
    }
    ctx.take_outcome()
}

struct Restore(Option<Arc<ExecCtx>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let prev = self.0.take();
        RECORDING.with(|r| r.set(false));
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

/// The outcome so far of the execution last started on this OS thread (one an engine panic cut
/// short).
pub(crate) fn last_outcome() -> Option<Outcome> {
    with_last(|cx| cx.map(ExecCtx::take_outcome))
}

/// Calls `f` with the execution last started on this OS thread (if any).
pub(crate) fn with_last<R>(f: impl FnOnce(Option<&ExecCtx>) -> R) -> R {
    LAST.with(|l| f(l.borrow().as_deref()))
}

pub(crate) fn current_ctx() -> Option<Arc<ExecCtx>> {
    CURRENT.with(|c| c.borrow().clone())
}

pub(crate) fn install(ctx: Option<Arc<ExecCtx>>) {
    CURRENT.with(|c| *c.borrow_mut() = ctx);
}

#[inline]
pub(crate) fn with_ctx<R>(f: impl FnOnce(&ExecCtx) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().as_deref().map(f))
}

/// Calls `f` with the current execution's shared handle (for sinks that outlive the borrow).
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Arc<ExecCtx>>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_ref()))
}

/// Whether the current execution records (a replay): only then are operations logged and
/// marks noted.
#[inline]
pub(crate) fn recording() -> bool {
    RECORDING.with(Cell::get)
}

/// Logs one harness operation of the current actor, in recorded executions only (no engine
/// operation is added, so a replay follows exactly the explored path); a switch away from an
/// actor that could have continued is marked as its preemption. Returns [`recording`].
#[inline]
pub(crate) fn note_op(kind: OpKind) -> bool {
    if !recording() {
        return false;
    }
    with_ctx(|cx| {
        let actor = current_actor();
        let mut s = cx.state();
        if let Some(prev) = s.ops.note(actor, kind) {
            s.events
                .push(Event::mark(prev, super::mark::Mark::Preempted));
        }
    });
    true
}

/// The running actor's name (`"CPU0 waiter"`; `"current"` outside an execution).
pub fn current_actor_name() -> String {
    with_ctx(|cx| cx.state().actors.get(current_actor()).cloned())
        .flatten()
        .unwrap_or_else(|| "current".into())
}
