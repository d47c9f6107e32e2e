//! Engine-neutral synchronisation primitives: the one place that decides which primitives are real.
//!
//! Every primitive is an enum over the four backends (std for the stress engine, loom, shuttle,
//! and kmodel's native runtime for the `dpor` engine),
//! chosen when the primitive is constructed from the backend the runner installed on this OS
//! thread. Models therefore never name loom or shuttle, and one compiled binary runs every engine.
//! The `match` per operation is a perfectly predicted branch next to the engines' own bookkeeping.
//!
//! Barrier mapping used by every model:
//! `READ_ONCE`/`WRITE_ONCE` → `Relaxed`; `smp_load_acquire`/`smp_store_release` → `Acquire`/`Release`;
//! `smp_mb()` → [`fence`]`(SeqCst)`; fully ordered value-returning RMW (`atomic_inc_return`,
//! `test_and_set_bit`, `xchg`, `cmpxchg`) → [`smp_mb`] around a `Relaxed` RMW, see [`full_rmw`].
//!
//! One file per primitive: `atomic.rs`, `barrier.rs`, `mutex.rs`, `condvar.rs`, `rwsem.rs`,
//! `spinner.rs`, `plain.rs` (plainly accessed variables and the data-race check), and `ghost.rs`
//! (a model's own bookkeeping, recorded for the `dpor` engine).

pub use std::sync::atomic::Ordering;
/// Models keep refcounts they care about (`mm_users`, `mm_count`) as explicit atomics, so the
/// shared-ownership handle itself needs no model checking and is plain `std::sync::Arc`.
pub use std::sync::Arc;

/// Constructs `$path::$Inner` of the backend installed on this OS thread (the native runtime's
/// objects are constructed by each primitive itself).
macro_rules! construct {
    ($Ty:ident, $path:ident :: $Inner:ident ($($arg:expr),*)) => {
        match backend() {
            Backend::Std => $Ty::Std(std::$path::$Inner::new($($arg),*)),
            Backend::Native => unreachable!("native objects are built by their primitive"),
            Backend::Loom => $Ty::Loom(loom::$path::$Inner::new($($arg),*)),
            Backend::Shuttle => $Ty::Shuttle(shuttle::$path::$Inner::new($($arg),*)),
        }
    };
}

mod atomic;
mod barrier;
mod condvar;
mod ghost;
mod mutex;
mod plain;
mod rwsem;
mod spinner;

pub use atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize};
pub use barrier::{fence, full_rmw, smp_mb};
pub use condvar::Condvar;
pub use ghost::{Ghost, GhostBool, GhostGuard, GhostU32, GhostU64, GhostUsize};
pub use mutex::{Mutex, MutexGuard};
pub use plain::{IntValue, Plain, Value};
pub use rwsem::RwSem;
pub use spinner::Spinner;
