//! Schedule and memory facts a recorded execution notes at harness operations ([`Mark`]):
//! preemptions, blocking (and on what, held by whom), spinning, lock hand-overs, wake-ups, and
//! which store a load read from; and the recorder's memory of primitives ([`Shadow`]).
//! `observe.rs` records them.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// A point in one actor's history: its first event at or after event index `at` (events are
/// recorded right after the operation they describe, so that is the event describing it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ref {
    pub actor: usize,
    /// Number of entries in the event log when the operation ran.
    pub at: usize,
}

/// A store to an atomic: who stored, what (as a 64-bit pattern), and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Store {
    #[serde(flatten)]
    pub by: Ref,
    pub value: u64,
}

/// What a blocked actor waits for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "what", rename_all = "kebab-case")]
pub enum Wait {
    /// A lock (spinlock, mutex) held by `holder` when known, who took it at `taken`; `name` is
    /// the kernel's name of the lock when the model gave one (`rq->lock`).
    Lock {
        holder: Option<usize>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        taken: Option<Ref>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A wait queue (condvar), named when the harness knows it (`rw_semaphore`).
    Queue { name: Option<String> },
    /// An `rw_semaphore`, held by `holders` (for write when `writer`).
    RwSem { write: bool, holders: Vec<usize> },
}

/// One schedule or memory fact of an actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Mark {
    /// The schedule switched away from the actor although it could have continued.
    Preempted,
    /// The actor blocks until another acts.
    Blocked { on: Wait },
    /// The actor starts spinning in the named loop (`cpu_relax()`).
    Spins { what: String },
    /// The actor takes a lock it waited for, released by `from`.
    HandOver { from: Ref },
    /// The actor returns from a wait queue; `by` is the last wake-up (notify) issued on it.
    Woken { by: Option<Ref> },
    /// A load read `from` (None: the initial value) while `missed` was newer in the location's
    /// modification order (a weak-memory read).
    ReadsFrom {
        from: Option<Store>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missed: Option<Store>,
    },
}

/// The recorder's memory of primitives, keyed by address (recorded executions only).
#[derive(Default)]
pub(crate) struct Shadow {
    /// Per atomic, its stores in modification order (loom and shuttle append in execution order).
    pub(super) stores: HashMap<usize, Vec<Store>>,
    /// Reads already marked: (reader, location, from, missed) by index into `stores`.
    pub(super) marked: HashSet<(usize, usize, Option<usize>, Option<usize>)>,
    /// Per lock, where its holder took it and its last release.
    pub(super) locks: HashMap<usize, (Option<Ref>, Option<Ref>)>,
    /// Per wait queue, the last notify.
    pub(super) notifies: HashMap<usize, Ref>,
}
