//! One execution of the native runtime: the actors (coroutines on this OS thread), the loop that
//! asks a [`Chooser`] which actor takes each step, and the [`Run`] it records: every step with
//! its footprint and what enabled it.
//!
//! A step is an actor's run from one schedule point to the next. Every harness operation is a
//! schedule point ([`op`]), except that an operation opening a step joins it: the code between
//! two operations touches nothing shared, so running it with the next operation changes nothing.
//! An actor waiting to take a lock or to join a child is not enabled until the lock is free or
//! the child has exited ([`block`]); one queued on a wait queue waits for a notify ([`queue`]);
//! a spin loop's idle iteration waits for a write of what it read ([`await_write`]).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};

use super::access::{Access, Obj, Op};
use super::track::SpinTrack;
use crate::rt::{self, NO_DEADLOCK, NO_LIVELOCK};

/// Actors of one execution (the bit sets are `u64`; vector clocks are arrays of this size).
pub(crate) const MAX_ACTORS: usize = 24;
/// At most this many steps in one execution: a spin loop that writes on every iteration never
/// goes idle, and would otherwise run forever.
pub(crate) const MAX_STEPS: usize = 200_000;
/// Stack of one actor's coroutine.
const STACK_SIZE: usize = 256 * 1024;

/// What made a step's actor able to take it (the race analysis asks whether a reordered
/// execution would still enable it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Enabler {
    /// Its actor was able to run since its previous step.
    Program,
    /// Only that step enabled it: the actor's spawn, or the notify that woke it.
    Step(u32),
    /// Woken after waiting since its actor's step at that index: any later write to an object
    /// the step wake-reads enables it.
    AwaitSince(u32),
    /// A live-locked spinner let go after every actor was stuck.
    Stuck,
}

/// One step: which actor took it, its accesses (`Run::accesses[first..first + len]`) and what
/// enabled it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    pub actor: u8,
    pub first: u32,
    pub len: u32,
    pub enabler: Enabler,
}

/// The record of an execution so far.
#[derive(Default)]
pub(crate) struct Run {
    pub steps: Vec<Step>,
    pub accesses: Vec<Access>,
    /// Objects created (their slots are `0..objects`).
    pub objects: u32,
}

impl Run {
    /// The footprint of step `i`.
    pub(crate) fn footprint(&self, i: usize) -> &[Access] {
        let s = self.steps[i];
        &self.accesses[s.first as usize..(s.first + s.len) as usize]
    }
}

/// The seam between the runtime and a search (cf. shuttle's `Scheduler`).
pub(crate) trait Chooser {
    /// The actor that takes the next step, among `enabled` (a bit per actor), given the steps
    /// taken so far. `None` abandons the execution here.
    fn choose(&mut self, enabled: u64, run: &Run) -> Option<usize>;
}

/// How an execution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Every actor finished.
    Completed,
    /// Every unfinished actor waits for something nobody can do (recorded as `no-deadlock`).
    Deadlocked,
    /// The chooser abandoned it.
    Abandoned,
}

/// An execution that could not go on: the model panicked, or ran past [`MAX_STEPS`].
pub(crate) enum Failure {
    Panic(Box<dyn Any + Send>),
    TooLong,
}

#[derive(Clone, Debug)]
enum Status {
    Runnable,
    /// Waits for a write of any of `objs` (since its step `since`); `spin` names the spin loop.
    Awaiting {
        objs: Vec<Obj>,
        since: u32,
        spin: Option<&'static str>,
    },
    /// Queued on a wait queue until a notify picks it.
    Queued,
    /// Its next step takes this lock: enabled while nobody holds it.
    Lock(Held),
    /// Its next step joins this actor: enabled once it has exited.
    Join(usize),
    Finished,
}

/// A lock's holder word, as the runtime reads it to tell whether a waiter may go.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held(pub(crate) *const std::sync::atomic::AtomicUsize);

// SAFETY: every actor of a native execution runs on one OS thread; the pointer is only read
// there, while the actor that blocked on the lock borrows it.
unsafe impl Send for Held {}
unsafe impl Sync for Held {}

impl Held {
    /// No actor holds it.
    pub(crate) const FREE: usize = usize::MAX;

    fn free(self) -> bool {
        // SAFETY: a blocked actor borrows the lock for as long as it waits for it.
        unsafe { (*self.0).load(std::sync::atomic::Ordering::Relaxed) == Self::FREE }
    }
}

/// What a blocked actor waits for ([`block`]).
pub(crate) enum Block {
    Lock(Held),
    Join(usize),
}

struct Actor {
    status: Status,
    /// What enables its next step, and what that step reads first.
    enabler: Enabler,
    opening: Vec<Op>,
    /// A live-locked spinner: its `relax()` returns false.
    bail: bool,
    /// Objects it created (their names, see [`Obj`]).
    created: u32,
    spin: Option<SpinTrack>,
    /// The step it exited in.
    exit: Option<u32>,
    yielder: *const Yielder<(), ()>,
}

impl Actor {
    fn new(enabler: Enabler, opening: Vec<Op>) -> Actor {
        Actor {
            status: Status::Runnable,
            enabler,
            opening,
            bail: false,
            created: 0,
            spin: None,
            exit: None,
            yielder: std::ptr::null(),
        }
    }
}

/// The state actors and the scheduling loop share (only one of them runs at a time).
pub(crate) struct State {
    actors: Vec<Actor>,
    current: usize,
    pub(crate) run: Run,
    /// The current step has not made an operation yet: the next one joins it.
    fresh: bool,
    /// The execution is being torn down: operations neither schedule nor record.
    tearing_down: bool,
    spawned: Vec<(usize, Co)>,
    origins: Option<std::collections::HashMap<Obj, &'static std::panic::Location<'static>>>,
}

type Co = Coroutine<(), (), (), DefaultStack>;

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    static IN_RUN: Cell<bool> = const { Cell::new(false) };
    static STACKS: RefCell<Vec<DefaultStack>> = const { RefCell::new(Vec::new()) };
    static WANT_ORIGINS: Cell<bool> = const { Cell::new(false) };
    static ORIGINS: RefCell<Vec<(Obj, &'static std::panic::Location<'static>)>> =
        const { RefCell::new(Vec::new()) };
}

/// Calls `f` with the running execution's state, if this thread runs one.
fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f))
}

/// Whether this OS thread is inside a native execution (and not tearing it down).
pub(crate) fn active() -> bool {
    IN_RUN.with(Cell::get) && with_state(|s| !s.tearing_down).unwrap_or(false)
}

fn stack() -> DefaultStack {
    STACKS
        .with(|p| p.borrow_mut().pop())
        .unwrap_or_else(|| DefaultStack::new(STACK_SIZE).expect("allocate a coroutine stack"))
}

fn recycle(co: Co) {
    if co.done() {
        let s = co.into_stack();
        STACKS.with(|p| p.borrow_mut().push(s));
    }
}

impl State {
    fn record(&mut self, op: Op) {
        let me = self.current;
        let actor = &mut self.actors[me];
        let first = self.run.steps.last().expect("a step is open").first as usize;
        for a in op.accesses() {
            if let Some(t) = actor.spin.as_mut() {
                t.note(op, a);
            }
            // One access per object and step: the strongest.
            match self.run.accesses[first..]
                .iter_mut()
                .find(|b| b.obj == a.obj)
            {
                Some(b) => {
                    if a.kind.strength() > b.kind.strength() {
                        b.kind = a.kind;
                    }
                }
                None => self.run.accesses.push(a),
            }
        }
        let step = self.run.steps.last_mut().expect("a step is open");
        step.len = self.run.accesses.len() as u32 - step.first;
    }

    fn enabled(&self) -> u64 {
        self.actors
            .iter()
            .enumerate()
            .filter(|(_, a)| match a.status {
                Status::Runnable => true,
                Status::Lock(h) => h.free(),
                Status::Join(c) => self.actors[c].exit.is_some(),
                _ => false,
            })
            .fold(0, |m, (i, _)| m | 1 << i)
    }

    fn begin_step(&mut self, a: usize) {
        self.current = a;
        if let Status::Join(c) = self.actors[a].status {
            let exit = self.actors[c].exit.expect("joins an exited actor");
            self.actors[a].enabler = Enabler::Step(exit);
        }
        let actor = &mut self.actors[a];
        actor.status = Status::Runnable;
        let enabler = std::mem::replace(&mut actor.enabler, Enabler::Program);
        let opening = std::mem::take(&mut actor.opening);
        self.run.steps.push(Step {
            actor: a as u8,
            first: self.run.accesses.len() as u32,
            len: 0,
            enabler,
        });
        for op in opening {
            self.record(op);
        }
        self.fresh = true;
    }

    /// After a step: every actor waiting for a write the step made may run again.
    fn wake_writers(&mut self) {
        let idx = self.run.steps.len() - 1;
        let me = self.current;
        let written: Vec<Obj> = self
            .run
            .footprint(idx)
            .iter()
            .filter(|a| a.is_write())
            .map(|a| a.obj)
            .collect();
        if written.is_empty() {
            return;
        }
        for (i, actor) in self.actors.iter_mut().enumerate() {
            if i == me {
                continue;
            }
            if let Status::Awaiting { objs, since, .. } = &actor.status {
                if objs.iter().any(|o| written.contains(o)) {
                    actor.enabler = Enabler::AwaitSince(*since);
                    actor.opening = objs.iter().map(|&o| Op::Awaited(o)).collect();
                    actor.status = Status::Runnable;
                }
            }
        }
    }

    fn unfinished(&self) -> impl Iterator<Item = (usize, &Actor)> {
        self.actors
            .iter()
            .enumerate()
            .filter(|(_, a)| !matches!(a.status, Status::Finished))
    }
}

/// Suspends the running actor: its step ends here.
fn suspend() {
    let y = with_state(|s| s.actors[s.current].yielder).expect("inside an execution");
    // SAFETY: the yielder belongs to the running coroutine, which is suspended only here and
    // outlives this call (it is resumed or unwound by the loop that owns it).
    unsafe { (*y).suspend(()) }
}

/// A schedule point: the running step ends here unless it has made no operation yet (then the
/// operation that follows opens it). Outside an execution (or while one is torn down) nothing
/// happens.
pub(crate) fn schedule() {
    if active() && !with_state(|s| s.fresh).unwrap_or(true) {
        suspend();
    }
}

/// A schedule point, then `op`.
pub(crate) fn op(op: Op) {
    schedule();
    record(op);
}

/// Records `op` in the running step, with no schedule point (ghost state, the parts of an
/// operation after its schedule point).
pub(crate) fn record(op: Op) {
    if !active() {
        return;
    }
    with_state(|s| {
        s.record(op);
        s.fresh = false;
    });
}

/// Disables the running actor until another actor writes one of `objs` (recording the waiting
/// step's reads is the caller's); it resumes in a new step that reads them again. `spin` names
/// a spin loop. Returns false when a live-locked spinner is let go instead.
pub(crate) fn await_write(objs: Vec<Obj>, spin: Option<&'static str>) -> bool {
    if !active() {
        return true;
    }
    with_state(|s| {
        let since = s.run.steps.len() as u32 - 1;
        s.actors[s.current].status = Status::Awaiting { objs, since, spin };
    });
    suspend();
    !with_state(|s| s.actors[s.current].bail).unwrap_or(false)
}

/// Ends the running step; the actor's next step waits for `on` (a free lock, an exited child).
pub(crate) fn block(on: Block) {
    if !active() {
        return;
    }
    with_state(|s| {
        s.actors[s.current].status = match on {
            Block::Lock(h) => Status::Lock(h),
            Block::Join(c) => Status::Join(c),
        }
    });
    suspend();
}

/// Disables the running actor until [`wake_queued`] picks it (a wait queue's notify).
pub(crate) fn queue() {
    if !active() {
        return;
    }
    with_state(|s| s.actors[s.current].status = Status::Queued);
    suspend();
}

/// Lets queued `actor` go on: its next step, enabled by the running step alone, opens with
/// `Woken(queue)` and takes the lock it waited with (once free).
pub(crate) fn wake_queued(actor: usize, queue: Obj, lock: Held) {
    with_state(|s| {
        let idx = s.run.steps.len() as u32 - 1;
        let a = &mut s.actors[actor];
        debug_assert!(matches!(a.status, Status::Queued));
        a.status = Status::Lock(lock);
        a.enabler = Enabler::Step(idx);
        a.opening = vec![Op::Woken(queue)];
    });
}

/// The running actor's index.
pub(crate) fn current() -> usize {
    with_state(|s| s.current).unwrap_or(0)
}

/// A name for an object the running actor creates ([`Obj::UNTRACKED`] outside an execution).
#[track_caller]
pub(crate) fn new_obj() -> Obj {
    if !active() {
        return Obj::UNTRACKED;
    }
    let at = std::panic::Location::caller();
    with_state(|s| {
        let me = s.current;
        let a = &mut s.actors[me];
        a.created += 1;
        let o = Obj::new(me, a.created - 1, s.run.objects);
        s.run.objects += 1;
        if s.origins.is_some() {
            s.origins.as_mut().map(|m| m.insert(o, at));
        }
        o
    })
    .unwrap_or(Obj::UNTRACKED)
}

/// Where each object of the last execution was created, when [`record_origins`] asked.
pub(crate) fn origins() -> Vec<(Obj, &'static std::panic::Location<'static>)> {
    ORIGINS.with(|o| o.borrow().clone())
}

/// Whether executions on this thread note where objects are created (diagnostics).
pub(crate) fn record_origins(on: bool) {
    WANT_ORIGINS.with(|w| w.set(on));
}

/// Spawns actor `id` (the execution context's index for it) running `body`; the spawning step
/// writes `obj`, which the child's first step reads.
pub(crate) fn spawn(id: usize, obj: Obj, body: Box<dyn FnOnce()>) {
    op(Op::Spawn(obj));
    let co = coroutine(id, body, obj);
    with_state(|s| {
        assert!(
            id == s.actors.len() && id < MAX_ACTORS,
            "model error: the native runtime runs at most {MAX_ACTORS} actors"
        );
        let idx = s.run.steps.len() as u32 - 1;
        s.actors
            .push(Actor::new(Enabler::Step(idx), vec![Op::Start(obj)]));
        s.spawned.push((id, co));
    });
}

/// The running actor's spin tracker (see `spin.rs`).
pub(crate) fn with_spin<R>(f: impl FnOnce(&mut Option<SpinTrack>, &Run) -> R) -> Option<R> {
    if !active() {
        return None;
    }
    with_state(|s| {
        let me = s.current;
        f(&mut s.actors[me].spin, &s.run)
    })
}

fn coroutine(id: usize, body: Box<dyn FnOnce()>, exit: Obj) -> Co {
    Coroutine::with_stack(stack(), move |y: &Yielder<(), ()>, ()| {
        with_state(|s| s.actors[id].yielder = y as *const _);
        body();
        record(Op::Exit(exit));
    })
}

/// Runs one execution: `main` as actor 0, then every actor it spawns, one step at a time as
/// `chooser` picks. Returns how it ended and what it recorded.
pub(crate) fn run(
    chooser: &mut dyn Chooser,
    main: Box<dyn FnOnce()>,
) -> (Result<Ended, Failure>, Run) {
    let prev = IN_RUN.with(|r| r.replace(true));
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            actors: vec![Actor::new(Enabler::Program, vec![])],
            current: 0,
            run: Run {
                objects: 1,
                ..Run::default()
            },
            fresh: true,
            tearing_down: false,
            spawned: vec![],
            origins: WANT_ORIGINS.with(Cell::get).then(Default::default),
        })
    });
    let main_obj = Obj::new(0, Obj::MAIN, 0);
    let mut cos: Vec<Option<Co>> = vec![Some(coroutine(0, main, main_obj))];
    let ended = drive(chooser, &mut cos);
    // Tear down whatever did not finish (a deadlock, an abandoned or failed execution).
    with_state(|s| s.tearing_down = true);
    for co in cos.iter_mut().filter_map(Option::take) {
        let mut co = co;
        let _ = panic::catch_unwind(AssertUnwindSafe(|| co.force_unwind()));
        recycle(co);
    }
    let state = STATE
        .with(|s| s.borrow_mut().take())
        .expect("state installed");
    if let Some(o) = state.origins {
        ORIGINS.with(|g| *g.borrow_mut() = o.into_iter().collect());
    }
    IN_RUN.with(|r| r.set(prev));
    (ended, state.run)
}

fn drive(chooser: &mut dyn Chooser, cos: &mut Vec<Option<Co>>) -> Result<Ended, Failure> {
    loop {
        let (enabled, steps) = with_state(|s| {
            for (id, co) in s.spawned.drain(..) {
                if cos.len() <= id {
                    cos.resize_with(id + 1, || None);
                }
                cos[id] = Some(co);
            }
            (s.enabled(), s.run.steps.len())
        })
        .expect("state installed");
        if enabled == 0 {
            match stuck() {
                Some(ended) => return Ok(ended),
                None => continue,
            }
        }
        if steps >= MAX_STEPS {
            return Err(Failure::TooLong);
        }
        let chosen = STATE.with(|s| {
            let s = s.borrow();
            chooser.choose(enabled, &s.as_ref().expect("state installed").run)
        });
        let Some(a) = chosen else {
            return Ok(Ended::Abandoned);
        };
        assert!(enabled & 1 << a != 0, "the chooser picked a disabled actor");
        with_state(|s| s.begin_step(a));
        rt::set_current_actor(a);
        let co = cos[a].as_mut().expect("a live coroutine");
        match panic::catch_unwind(AssertUnwindSafe(|| co.resume(()))) {
            Ok(CoroutineResult::Yield(())) => {}
            Ok(CoroutineResult::Return(())) => {
                with_state(|s| {
                    s.actors[a].status = Status::Finished;
                    s.actors[a].exit = Some(s.run.steps.len() as u32 - 1);
                });
                recycle(cos[a].take().expect("a live coroutine"));
            }
            Err(p) => return Err(Failure::Panic(p)),
        }
        with_state(State::wake_writers);
    }
}

/// No actor can run. Every actor finished: completed. Some spin loop waits: a live lock,
/// recorded, after which the spinners are let go (their `relax()` returns false, so the model
/// can wind down) and the execution goes on (`None`). Otherwise a deadlock, recorded.
fn stuck() -> Option<Ended> {
    let (spinners, blocked) = with_state(|s| {
        let spinners: Vec<(usize, &'static str)> = s
            .unfinished()
            .filter_map(|(i, a)| match a.status {
                Status::Awaiting { spin: Some(w), .. } => Some((i, w)),
                _ => None,
            })
            .collect();
        let blocked: Vec<usize> = s.unfinished().map(|(i, _)| i).collect();
        (spinners, blocked)
    })
    .expect("state installed");
    if blocked.is_empty() {
        return Some(Ended::Completed);
    }
    if let Some(&(who, what)) = spinners.first() {
        let msg = format!(
            "{what} spins while every other CPU is blocked or spinning: nothing can relieve it"
        );
        rt::violate_as(who, NO_LIVELOCK, msg, true);
        with_state(|s| {
            for (i, _) in &spinners {
                let a = &mut s.actors[*i];
                a.status = Status::Runnable;
                a.bail = true;
                a.enabler = Enabler::Stuck;
            }
        });
        return None;
    }
    // Words the verdict as the other engines do (hung task, or who waits for which lock) when
    // the blocked actors said what they wait for; else names them.
    let (property, who, msg) = rt::stuck_verdict()
        .filter(|(_, _, msg)| msg != "deadlock: every CPU is blocked")
        .unwrap_or_else(|| {
            let names = rt::actor_names(&blocked).join(", ");
            (
                NO_DEADLOCK,
                0,
                format!("deadlock: blocked forever: {names}"),
            )
        });
    rt::violate_as(who, property, msg, true);
    Some(Ended::Deadlocked)
}
