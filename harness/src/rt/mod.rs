//! The per-execution runtime, the bottom layer of the harness: which backend and actor are
//! current, the execution context, events, violations, liveness bookkeeping and schedule stats.
//!
//! Nothing here imports the layers built on top of it: the primitives (`sync`), actors
//! (`thread`) or engines (`engine`). Loom and shuttle run all actors of an execution on the
//! runner's OS thread, so a std thread-local holds the current execution; the stress engine
//! copies it into each OS thread.
//!
//! - `backend.rs`: the backend (std, loom, shuttle) primitives constructed on this thread use.
//! - `actor.rs`: the index of the running actor.
//! - `record.rs`: what an execution records ([`Event`], [`Violation`]).
//! - `schedule.rs`: schedule statistics of recorded executions ([`Schedule`]).
//! - `exec.rs`: [`ExecCtx`], one execution's shared state, and [`run_execution`].
//! - `liveness.rs`: blocked / joined / parked actors and the progress counter.
//! - `event.rs`: the [`ev!`](crate::ev) macro and its sink.
//! - `mark.rs`: schedule and memory facts of recorded executions ([`Mark`]).
//! - `observe.rs`: records them at the primitives' operations (replays only).
//! - `id.rs`: [`PropertyId`], the typed name of a property.
//! - `property.rs`: the property API ([`check`], [`violation`], ...).
//! - `blocker.rs`: what a blocked actor waits for, and how a stuck execution wakes it.
//! - `stuck.rs`: a stuck execution (every actor blocked): its verdict and how it ends.
//! - `local.rs`: actor-local values (a task's `task_struct`, a CPU's interrupt state).
//! - `race.rs`: the built-in [`DATA_RACE`] property and [`data_race`], the call race detectors
//!   report through.

mod actor;
mod backend;
mod blocker;
mod event;
mod exec;
mod id;
mod liveness;
mod local;
mod mark;
pub(crate) mod observe;
mod property;
mod race;
mod record;
mod schedule;
mod stuck;

pub(crate) use self::observe as marks;
pub use actor::current_actor;
pub(crate) use actor::set_current_actor;
pub(crate) use backend::{backend, use_backend, Backend};
pub(crate) use blocker::Wake;
pub use blocker::{Bail, Blocker};
#[doc(hidden)]
pub use event::{event_sink, EventSink};
pub use exec::current_actor_name;
pub(crate) use exec::{
    current_ctx, install, last_outcome, run_execution, ExecCtx, Outcome, Park, SpinLimit,
};
pub(crate) use exec::{note_op, recording};
pub use id::PropertyId;
pub(crate) use liveness::{
    before_blocking, begin_join, block, block_current, current_bit, end_join,
    last_execution_bailed, last_execution_had_parked_spinner, last_execution_stuck_verdict,
    note_progress, unblock,
};
pub use local::{actor_local, set_actor_local};
pub use mark::{Mark, Ref, Store, Wait};
pub(crate) use property::{actor_names, violate_as};
pub use property::{
    check, execution_spent, fatal_violation, violation, HUNG_TASK, NO_DEADLOCK, NO_LIVELOCK,
};
pub(crate) use race::{actor_name, probe_for_race};
pub use race::{current_task_cpu, data_race, probing_races, task_on_cpu, DATA_RACE};
pub use record::{Event, Violation};
pub(crate) use schedule::OpKind;
pub use schedule::Schedule;
pub(crate) use stuck::{
    bail, bail_last, bailing, done_waiting, must_bail, others_wait, stuck_verdict, unwound, waiting,
};
