//! Per-execution state shared by every actor of one execution: actor names, the event log,
//! each property's first violation, and the progress counter the livelock detector reads.
//!
//! Loom and shuttle run all actors of an execution on the runner's OS thread, so a std
//! thread-local holds the current execution; the stress engine copies it into each OS thread.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::thread::current_actor;

/// Property id of the built-in deadlock check (engine-detected: every actor blocked).
pub const NO_DEADLOCK: &str = "no-deadlock";
/// Property id of the built-in livelock check (see [`Spinner`]).
pub const NO_LIVELOCK: &str = "no-livelock";

/// One labelled step of one actor, e.g. `exit_mm: task->mm = NULL`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub actor: usize,
    /// The kernel function the step belongs to.
    pub func: String,
    pub text: String,
    /// Set on the event that records a property violation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub violation: bool,
}

/// A property's first violation in an execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub property: String,
    pub message: String,
    pub actor: usize,
    /// Number of events recorded up to and including this violation's (recorded runs only).
    #[serde(skip)]
    pub events: usize,
}

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
    /// Schedule statistics of a recorded execution.
    pub(crate) fn schedule(&self) -> crate::engine::Schedule {
        crate::engine::Schedule {
            steps: self.schedule.0,
            preemptions: Some(self.schedule.1),
        }
    }
}

pub(crate) struct ExecCtx {
    recording: bool,
    spin_limit: SpinLimit,
    /// Bumped by every event and lock acquisition of an actor that is not spinning.
    progress: AtomicU64,
    /// Bit per actor currently inside [`Spinner::relax`] loops.
    spinning: AtomicU64,
    /// Bit per actor that has not finished (main is actor 0).
    live: AtomicU64,
    /// Bit per actor that certainly cannot run until another actor acts: waiting for a held
    /// lock, on a condvar, for a join, or parked as a spinner. Cleared conservatively (on
    /// unlock, notify, finish), so a set bit never means "blocked" wrongly.
    blocked: AtomicU64,
    /// Bit per spinner parked until another actor makes progress.
    parked: AtomicU64,
    /// Per actor, the actors waiting in `join()` for it.
    joiners: Mutex<Vec<u64>>,
    /// Set when every live actor is certainly blocked while a spinner is parked: the parked
    /// spinners are woken to report the livelock and bail out.
    livelocked: AtomicBool,
    /// Engine-level lock and condvar parked spinners sleep on (created at first park).
    park: std::sync::OnceLock<(crate::sync::Mutex<()>, crate::sync::Condvar)>,
    /// Set by a fatal violation (livelock, deadlock, out-of-bounds access): the model can no
    /// longer continue faithfully, so later checks are ignored and spinners bail out.
    spent: AtomicBool,
    state: Mutex<State>,
}

/// What an operation means for the schedule statistics of a recorded execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// The actor could continue after it: a switch away is a preemption.
    Run,
    /// The actor may block (lock held by another, condvar wait, join), yields, or is done: a
    /// switch away is not a preemption.
    Wait,
}

/// Scheduling statistics of a recorded execution, counted at harness operations.
#[derive(Default)]
struct OpLog {
    last: Option<(usize, OpKind)>,
    steps: u64,
    preemptions: u32,
}

#[derive(Default)]
struct State {
    ops: OpLog,
    actors: Vec<String>,
    finished: Vec<bool>,
    events: Vec<Event>,
    violations: Vec<Violation>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<ExecCtx>>> = const { RefCell::new(None) };
    /// Fast flag: the current execution records (a replay); operations are then logged.
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    /// Set while an actor wakes parked spinners, so the wake-up's own lock does not recurse.
    static IN_WAKE: Cell<bool> = const { Cell::new(false) };
    /// The execution last started on this OS thread, kept after an engine panic unwinds it.
    static LAST: RefCell<Option<Arc<ExecCtx>>> = const { RefCell::new(None) };
}

impl ExecCtx {
    pub(crate) fn new(recording: bool, spin_limit: SpinLimit) -> Arc<Self> {
        let state = State {
            actors: vec!["main".into()],
            finished: vec![false],
            ..State::default()
        };
        Arc::new(ExecCtx {
            recording,
            spin_limit,
            progress: AtomicU64::new(0),
            spinning: AtomicU64::new(0),
            live: AtomicU64::new(1),
            blocked: AtomicU64::new(0),
            parked: AtomicU64::new(0),
            joiners: Mutex::new(vec![0]),
            livelocked: AtomicBool::new(false),
            park: std::sync::OnceLock::new(),
            spent: AtomicBool::new(false),
            state: Mutex::new(state),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn register_actor(&self, name: String) -> usize {
        let mut s = self.state();
        s.actors.push(name);
        s.finished.push(false);
        let id = s.actors.len() - 1;
        self.live.fetch_or(1 << id, Relaxed);
        self.joiners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(0);
        id
    }

    pub(crate) fn actor_finished(&self, actor: usize) {
        note_op(OpKind::Wait);
        self.state().finished[actor] = true;
        self.live.fetch_and(!(1 << actor), Relaxed);
        let joiners = self.joiners.lock().unwrap_or_else(PoisonError::into_inner)[actor];
        self.unblock(joiners);
        self.note_progress_of(|| actor);
    }

    /// Marks `mask` as certainly blocked (see `blocked`).
    pub(crate) fn block(&self, mask: u64) {
        self.blocked.fetch_or(mask, Relaxed);
    }

    /// `mask` may be able to run again.
    pub(crate) fn unblock(&self, mask: u64) {
        if mask != 0 {
            self.blocked.fetch_and(!mask, Relaxed);
        }
    }

    /// True if a spinner was parked: an engine-detected "deadlock" is then a livelock.
    pub(crate) fn has_parked_spinner(&self) -> bool {
        self.parked.load(Relaxed) != 0
    }

    fn park_objects(&self) -> &(crate::sync::Mutex<()>, crate::sync::Condvar) {
        self.park
            .get_or_init(|| (crate::sync::Mutex::new(()), crate::sync::Condvar::new()))
    }

    /// Called just before an actor blocks: if every live actor is then certainly blocked and a
    /// spinner is parked, nobody can ever make the progress it waits for. Wake it to report the
    /// livelock and bail out (rather than let the engine see a deadlock and stop exploring).
    fn before_blocking(&self) {
        let parked = self.parked.load(Relaxed);
        if parked == 0 || self.live.load(Relaxed) & !self.blocked.load(Relaxed) != 0 {
            return;
        }
        // A parker checks for itself before it sleeps (and holds the park lock here).
        if parked & (1 << current_actor()) != 0 {
            return;
        }
        self.livelocked.store(true, Relaxed);
        self.wake_parked();
    }

    /// Wakes parked spinners after progress (engine operations only while one is parked).
    fn wake_parked(&self) {
        if self.parked.load(Relaxed) == 0 || IN_WAKE.with(Cell::get) {
            return;
        }
        IN_WAKE.with(|w| w.set(true));
        let (m, cv) = self.park_objects();
        let g = m.lock();
        cv.notify_all();
        drop(g);
        IN_WAKE.with(|w| w.set(false));
    }

    /// Parks spinner `actor` until the progress counter moves past `seen` (or the execution
    /// has a fatal violation).
    fn park(&self, actor: usize, seen: u64) {
        let me = 1 << actor;
        self.parked.fetch_or(me, Relaxed);
        let (m, cv) = self.park_objects();
        let mut g = m.lock();
        while self.progress.load(Relaxed) == seen
            && !self.spent.load(Relaxed)
            && !self.livelocked.load(Relaxed)
        {
            // About to sleep: if every other actor is certainly blocked, nobody can wake us.
            // Waiters for the park lock are not: sleeping releases it.
            let blocked = self.blocked.load(Relaxed) & !m.waiters();
            if self.live.load(Relaxed) & !me & !blocked == 0 {
                self.livelocked.store(true, Relaxed);
                break;
            }
            g = cv.wait(g);
        }
        drop(g);
        self.parked.fetch_and(!me, Relaxed);
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

    /// Counts progress unless `actor` is a spinner. The actor is only looked up (an engine
    /// thread-local access) while someone spins.
    #[inline]
    fn note_progress_of(&self, actor: impl FnOnce() -> usize) {
        let spinning = self.spinning.load(Relaxed);
        if spinning == 0 || spinning & (1 << actor()) == 0 {
            self.progress.fetch_add(1, Relaxed);
            self.wake_parked();
        }
    }

    /// The engine found every actor blocked: that is the execution's verdict, whatever an
    /// earlier check recorded.
    pub(crate) fn deadlocked(&self, message: String) {
        self.spent.store(false, Relaxed);
        let property = if self.has_parked_spinner() {
            NO_LIVELOCK
        } else {
            NO_DEADLOCK
        };
        self.violate(0, property, message, true);
    }

    /// Records `property`'s first violation in this execution. A `fatal` one ends checking.
    fn violate(&self, actor: usize, property: &str, message: String, fatal: bool) {
        if self.spent.load(Relaxed) {
            return;
        }
        if fatal {
            self.spent.store(true, Relaxed);
        }
        let mut s = self.state();
        if s.violations.iter().any(|v| v.property == property) {
            return;
        }
        if self.recording {
            s.events.push(Event {
                actor,
                func: "VIOLATION".into(),
                text: format!("[{property}] {message}"),
                violation: true,
            });
        }
        let events = s.events.len();
        s.violations.push(Violation {
            property: property.into(),
            message,
            actor,
            events,
        });
    }
}

/// Runs `body` as one execution with a fresh context installed on this OS thread.
pub(crate) fn run_execution(ctx: Arc<ExecCtx>, body: impl FnOnce()) -> Outcome {
    let prev = CURRENT.with(|c| c.replace(Some(ctx.clone())));
    let _restore = Restore(prev);
    RECORDING.with(|r| r.set(ctx.recording));
    LAST.with(|l| *l.borrow_mut() = Some(ctx.clone()));
    body();
    let unfinished = ctx.unfinished_actors(false);
    assert!(
        unfinished.is_empty(),
        "model error: the scenario returned without joining {unfinished:?}"
    );
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

/// Whether the last execution started on this OS thread had a parked spinner: an engine-detected
/// "deadlock" of it is then a livelock (the spinner waits for progress nobody can make).
pub(crate) fn last_execution_had_parked_spinner() -> bool {
    LAST.with(|l| {
        l.borrow()
            .as_ref()
            .is_some_and(|cx| cx.has_parked_spinner())
    })
}

pub(crate) fn current_ctx() -> Option<Arc<ExecCtx>> {
    CURRENT.with(|c| c.borrow().clone())
}

pub(crate) fn install(ctx: Option<Arc<ExecCtx>>) {
    CURRENT.with(|c| *c.borrow_mut() = ctx);
}

#[inline]
fn with_ctx<R>(f: impl FnOnce(&ExecCtx) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().as_deref().map(f))
}

/// Logs one harness operation of the current actor, in recorded executions only (no engine
/// operation is added, so a replay follows exactly the explored path).
#[inline]
pub(crate) fn note_op(kind: OpKind) {
    if !RECORDING.with(Cell::get) {
        return;
    }
    with_ctx(|cx| {
        let actor = current_actor();
        let mut s = cx.state();
        let ops = &mut s.ops;
        if let Some((prev, OpKind::Run)) = ops.last {
            if prev != actor {
                ops.preemptions += 1;
            }
        }
        ops.steps += 1;
        ops.last = Some((actor, kind));
    });
}

/// The current actor's bit (0 outside an execution).
#[inline]
pub(crate) fn current_bit() -> u64 {
    with_ctx(|_| 1 << current_actor()).unwrap_or(0)
}

/// Marks `mask` as certainly blocked.
#[inline]
pub(crate) fn block(mask: u64) {
    if mask != 0 {
        with_ctx(|cx| cx.block(mask));
    }
}

/// Marks the current actor as certainly blocked; returns its bit (0 outside an execution).
#[inline]
pub(crate) fn block_current() -> u64 {
    with_ctx(|cx| {
        let bit = 1 << current_actor();
        cx.block(bit);
        bit
    })
    .unwrap_or(0)
}

/// The current actor is about to join `target`: blocked until it finishes.
pub(crate) fn begin_join(target: usize) -> u64 {
    with_ctx(|cx| {
        let me = 1 << current_actor();
        let done = cx.live.load(Relaxed) & (1 << target) == 0;
        if !done {
            cx.joiners.lock().unwrap_or_else(PoisonError::into_inner)[target] |= me;
            cx.block(me);
            cx.before_blocking();
        }
        me
    })
    .unwrap_or(0)
}

/// The current actor returned from joining `target`.
pub(crate) fn end_join(target: usize, me: u64) {
    with_ctx(|cx| {
        cx.joiners.lock().unwrap_or_else(PoisonError::into_inner)[target] &= !me;
        cx.unblock(me);
    });
}

/// The current actor is about to block for real (its bit is set and any lock it gives up is
/// released): see `ExecCtx::before_blocking`.
#[inline]
pub(crate) fn before_blocking() {
    with_ctx(|cx| cx.before_blocking());
}

/// The actors in `mask` may be able to run again.
#[inline]
pub(crate) fn unblock(mask: u64) {
    if mask != 0 {
        with_ctx(|cx| cx.unblock(mask));
    }
}

/// Records progress of the current actor (called by lock acquisitions).
#[inline]
pub(crate) fn note_progress() {
    with_ctx(|cx| cx.note_progress_of(current_actor));
}

/// Sink for one event when the execution records events; `None` on the fast path.
/// Use the [`ev!`](crate::ev) macro rather than calling this.
#[doc(hidden)]
#[inline]
pub fn event_sink() -> Option<EventSink> {
    CURRENT.with(|c| {
        let c = c.borrow();
        let cx = c.as_deref()?;
        cx.note_progress_of(current_actor);
        cx.recording
            .then(|| EventSink(c.clone().expect("checked above"), current_actor()))
    })
}

#[doc(hidden)]
pub struct EventSink(Arc<ExecCtx>, usize);

impl EventSink {
    pub fn push(self, func: &str, text: String) {
        self.0.state().events.push(Event {
            actor: self.1,
            func: func.into(),
            text,
            violation: false,
        });
    }
}

/// Records a labelled step of the current actor: `ev!("exit_mm", "task->mm = NULL")`.
/// The text is only formatted when the execution records events (replays do; explorations don't).
#[macro_export]
macro_rules! ev {
    ($func:expr, $($fmt:tt)+) => {
        if let Some(sink) = $crate::exec::event_sink() {
            sink.push($func, format!($($fmt)+));
        }
    };
}

/// Checks a named property; on failure records the property's first violation in this execution
/// and returns false. The model carries on and every other property stays checked, so a
/// violation of one claim never hides another. Outside an execution a failed check panics, like
/// `assert!`.
#[inline]
pub fn check(property: &'static str, cond: bool, message: impl FnOnce() -> String) -> bool {
    if !cond {
        violation(property, message());
    }
    cond
}

/// Records a violation of `property` by the current actor.
pub fn violation(property: &str, message: String) {
    record(property, message, false);
}

/// Records a violation after which the model cannot continue faithfully (e.g. an out-of-bounds
/// access it had to skip): later checks in this execution are ignored, spinners bail out.
pub fn fatal_violation(property: &str, message: String) {
    record(property, message, true);
}

fn record(property: &str, message: String, fatal: bool) {
    let recorded = with_ctx(|cx| cx.violate(current_actor(), property, message.clone(), fatal));
    if recorded.is_none() {
        panic!("property {property} violated: {message}");
    }
}

/// True once the execution has had a fatal violation (livelock, deadlock, out-of-bounds
/// access); later checks are ignored, so the model may stop early.
pub fn execution_spent() -> bool {
    with_ctx(|cx| cx.spent.load(Relaxed)).unwrap_or(false)
}

/// A spin-wait loop (`cpu_relax()` in a retry loop, `smp_cond_load_acquire()`).
///
/// Each [`relax`](Spinner::relax) yields to the engine. When no other actor has made progress
/// across the configured number of spins, the spinner can never be relieved: the harness records
/// a [`NO_LIVELOCK`] violation and `relax` returns false so the loop can bail out instead of
/// hanging (or hitting loom's bare branch limit).
pub struct Spinner {
    what: &'static str,
    actor: usize,
    last_progress: u64,
    idle_spins: u32,
    idle_since: Instant,
}

impl Spinner {
    /// `what` names the loop in the livelock report, e.g. `"mm_get_cid"`.
    pub fn new(what: &'static str) -> Self {
        Spinner {
            what,
            actor: current_actor(),
            last_progress: u64::MAX,
            idle_spins: 0,
            idle_since: Instant::now(),
        }
    }

    /// One `cpu_relax()`. Returns false when the loop must give up (livelock, or the execution
    /// already violated a property).
    pub fn relax(&mut self) -> bool {
        let Some(cx) = current_ctx() else {
            crate::thread::yield_now();
            return true;
        };
        if cx.spent.load(Relaxed) {
            return false;
        }
        cx.spinning.fetch_or(1 << self.actor, Relaxed);
        let now = cx.progress.load(Relaxed);
        if now != self.last_progress {
            self.last_progress = now;
            self.idle_spins = 0;
            self.idle_since = Instant::now();
        } else {
            self.idle_spins += 1;
        }
        let stuck = match cx.spin_limit {
            SpinLimit::Spins(n) => self.idle_spins >= n,
            SpinLimit::Time(d) => self.idle_since.elapsed() >= d,
        };
        if stuck && matches!(cx.spin_limit, SpinLimit::Spins(_)) {
            let others = cx.live.load(Relaxed) & !(1 << self.actor);
            if others & !cx.blocked.load(Relaxed) != 0 {
                // Someone else may still relieve this spinner: sleep until it makes progress
                // rather than spin, so no unfair schedule can starve it into a false livelock.
                cx.park(self.actor, now);
                if cx.livelocked.load(Relaxed) {
                    let msg = format!(
                        "{} spins while every other CPU is blocked: nothing can relieve it",
                        self.what
                    );
                    cx.violate(self.actor, NO_LIVELOCK, msg, true);
                    return false;
                }
                if cx.spent.load(Relaxed) {
                    return false;
                }
                self.last_progress = cx.progress.load(Relaxed);
                self.idle_spins = 0;
                return true;
            }
        }
        if stuck {
            let msg = format!(
                "{} spins while every other CPU is blocked or spinning: nothing can relieve it",
                self.what
            );
            cx.violate(self.actor, NO_LIVELOCK, msg, true);
            return false;
        }
        crate::thread::yield_now();
        true
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        with_ctx(|cx| cx.spinning.fetch_and(!(1 << self.actor), Relaxed));
    }
}
