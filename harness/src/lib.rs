//! kmodel's harness: engine-neutral primitives, the model API, engines, traces and rendering.
//!
//! Models import [`prelude`] and never name an engine. The runner picks loom, shuttle or real
//! threads at run time; see [`engine`].
//!
//! Layers, bottom up (no module imports one above it): [`rt`] (the per-execution runtime);
//! [`thread`] and [`sync`] (actors and primitives); [`lkmm`] and [`kernel`] (the kernel's
//! barrier, sleep and wake-up vocabulary on them); [`model`] and [`bitmap`]; [`engine`];
//! [`trace`], [`verdict`], [`results`], [`replay`], [`check`], [`render`]. Beside them,
//! [`port`] (the port tables models embed) and [`file`] (atomic file writes, for every file
//! kmodel writes). Tools only the command line uses (C definitions and fingerprints, patches,
//! the overhead benchmark) live in the `kmodel` crate.

pub mod bitmap;
pub mod check;
pub mod engine;
pub mod file;
pub mod kernel;
pub mod lkmm;
pub mod model;
#[doc(hidden)]
pub mod native;
pub mod param;
pub mod port;
pub mod render;
pub mod replay;
pub mod results;
pub mod rt;
pub mod scene;
pub mod setup;
pub mod sweep;
pub mod sync;
pub mod thread;
pub mod trace;
pub mod variant;
pub mod verdict;

pub use model::{
    Engines, KernelModel, Model, ModelCard, ModelTable, Param, ParamSet, ParamVerdicts, Params,
    Scenario, Variant, VariantCard,
};
pub use rt::{
    check, execution_spent, fatal_violation, violation, DATA_RACE, HUNG_TASK, NO_DEADLOCK,
    NO_LIVELOCK,
};
pub use sync::{RwSem, Spinner};
pub use verdict::{Declared, Expect, Property, PropertyId};

/// Everything a model needs.
pub mod prelude {
    pub use crate::bitmap::{bits_to_longs, Bitmap, BITS_PER_LONG};
    pub use crate::ev;
    pub use crate::kernel::*;
    pub use crate::lkmm::*;
    pub use crate::model::{
        Engines, KernelModel, Model, ModelCard, ModelTable, Param, ParamSet, ParamVerdicts, Params,
        Scenario, Variant, VariantCard,
    };
    pub use crate::rt::{
        check, execution_spent, fatal_violation, violation, HUNG_TASK, NO_DEADLOCK, NO_LIVELOCK,
    };
    pub use crate::scene::{programs, sequences, NoScenes, SceneBounds, SceneSize, Scenes};
    pub use crate::setup::{SetupStates, StateKey, StateSink};
    pub use crate::sync::{
        fence, full_rmw, smp_mb, Arc, AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize,
        Condvar, Ghost, GhostBool, GhostU32, GhostU64, GhostUsize, Mutex, MutexGuard, Ordering,
        Plain, RwSem, Spinner,
    };
    pub use crate::thread::{current_actor, spawn, yield_now, JoinHandle};
    pub use crate::verdict::{Declared, Expect, Property, PropertyId};
    pub use crate::{expect, params, properties, sources};
    /// What a scene language needs: `proptest` strategies and `serde` derives.
    pub use proptest;
    pub use serde::{self, Deserialize, Serialize};
    pub use Expect::{BeyondEngine, Holds, Violated, ViolatedWeakMemory};
}
