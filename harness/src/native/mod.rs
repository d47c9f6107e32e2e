//! kmodel's own runtime, for the `dpor` engine: the actors of an execution are coroutines on one
//! OS thread, memory is sequentially consistent, and every operation records what it touches,
//! so a search knows which steps commute. The `sync` facade's `Native` arms hold its objects.
//!
//! - `access.rs`: objects, accesses, every operation's footprint: the dependency relation.
//! - `exec.rs`: one execution: actors, the scheduling loop and its [`Chooser`] seam, the record.
//! - `spin.rs`: spin loops as waits; `track.rs`: what one spin iteration touched.
//! - `atomic.rs`, `mutex.rs`, `condvar.rs`, `thread.rs`: the runtime objects.

mod access;
mod atomic;
mod condvar;
mod exec;
mod mutex;
pub(crate) mod spin;
mod thread;
mod track;

pub use access::drop_load_store_conflict;
pub(crate) use access::{dependent, Access, Kind, Obj, Op};
pub(crate) use atomic::Atomic;
pub(crate) use condvar::Condvar;
pub(crate) use exec::{
    new_obj, origins, record, record_origins, run, schedule, Chooser, Enabler, Ended, Failure, Run,
    MAX_ACTORS, MAX_STEPS,
};
pub(crate) use mutex::{Mutex, MutexGuard};
pub(crate) use thread::{spawn, JoinHandle};
