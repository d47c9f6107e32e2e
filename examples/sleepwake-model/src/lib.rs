//! The kernel's sleep/wake-up pattern as a kmodel model: a task sleeps on a wait queue until a
//! condition is set, another sets it and wakes the queue (`include/linux/wait.h`).

use kmodel_harness::prelude::Model;

pub mod model;
pub mod properties;
pub mod scene;
pub mod sleepwake;

/// Every model of this crate: what `kmodel::run` and `kmodel::test_main!` are given.
pub const REGISTRY: &[&dyn Model] = &[&model::MODEL];
