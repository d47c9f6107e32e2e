//! kmodel's harness: engine-neutral primitives, the model API, engines, traces and rendering.
//!
//! Models import [`prelude`] and never name an engine. The runner picks loom, shuttle or real
//! threads at run time; see [`engine`].

pub mod bitmap;
pub mod check;
pub mod engine;
pub mod exec;
pub mod lkmm;
pub mod model;
pub mod overhead;
pub mod render;
pub mod rwsem;
pub mod sync;
pub mod thread;
pub mod trace;

pub use exec::{
    check, execution_spent, fatal_violation, violation, Spinner, NO_DEADLOCK, NO_LIVELOCK,
};
pub use model::{Engines, Expect, Model, Param, Params, Property, Scenario, Variant};
pub use rwsem::RwSem;

/// Everything a model needs.
pub mod prelude {
    pub use crate::bitmap::{bits_to_longs, Bitmap, BITS_PER_LONG};
    pub use crate::ev;
    pub use crate::exec::{
        check, execution_spent, fatal_violation, violation, Spinner, NO_DEADLOCK, NO_LIVELOCK,
    };
    pub use crate::lkmm::*;
    pub use crate::model::{Engines, Expect, Model, Param, Params, Property, Scenario, Variant};
    pub use crate::rwsem::RwSem;
    pub use crate::sync::{
        fence, full_rmw, smp_mb, Arc, AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize,
        Condvar, Mutex, MutexGuard, Ordering,
    };
    pub use crate::thread::{current_actor, spawn, yield_now, JoinHandle};
    pub use Expect::{BeyondEngine, Holds, Violated, ViolatedWeakMemory};
}
