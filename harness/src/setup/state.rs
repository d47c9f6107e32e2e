//! What an execution reports of the kernel-visible state it reached: [`StateKey`] (a model's
//! canonical description of one state) and [`StateSink`] (where the execution body hands it).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

/// A canonical description of a state: two keys are equal exactly when the states are equal up
/// to the renamings the model treats symmetrically (e.g. which task record is `T1`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateKey(Box<[u8]>);

impl StateKey {
    /// The key of a model's canonical state value (its serialized form: exact, no collisions).
    pub fn of<T: Serialize>(canonical: &T) -> StateKey {
        StateKey(
            serde_json::to_vec(canonical)
                .expect("canonical states serialize")
                .into_boxed_slice(),
        )
    }

    /// A short fingerprint for reports (FNV-1a of the key).
    pub fn fingerprint(&self) -> u64 {
        self.0.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

impl fmt::Debug for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateKey({:016x})", self.fingerprint())
    }
}

/// The states one exploration of a scene reported.
#[derive(Debug, Default)]
pub struct Observed {
    /// The state after the sequential set-up (the same in every execution).
    pub setup: Option<StateKey>,
    /// The states once the race's actors joined, over all executions.
    pub finals: BTreeSet<StateKey>,
}

/// Where an execution body reports the states it reaches; shared by every execution of one
/// exploration (engines may run them on several threads).
#[derive(Clone, Debug)]
pub struct StateSink {
    observed: Arc<Mutex<Observed>>,
    setup_only: bool,
}

impl StateSink {
    /// A sink for set-up exploration: the body stops after the set-up.
    pub fn setup_only() -> StateSink {
        StateSink {
            observed: Arc::default(),
            setup_only: true,
        }
    }

    /// A sink for a whole scene: set-up, race, the checks once quiet.
    pub fn whole_scene() -> StateSink {
        StateSink {
            observed: Arc::default(),
            setup_only: false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Observed> {
        self.observed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The body reached the end of the set-up in state `key`; returns whether it goes on with
    /// the race.
    pub fn after_setup(&self, key: impl FnOnce() -> StateKey) -> bool {
        let key = key();
        self.lock().setup = Some(key);
        !self.setup_only
    }

    /// The race's actors joined in state `key` (before the checks once quiet).
    pub fn after_race(&self, key: StateKey) {
        self.lock().finals.insert(key);
    }

    /// What the executions reported.
    pub fn take(&self) -> Observed {
        std::mem::take(&mut *self.lock())
    }
}
