//! The kernel designs kmodel checks. One folder per model; one line per model in `REGISTRY`.
use kmodel_harness::Model;

pub mod mm_cpumask;
pub mod mmcid;
pub mod mrelease;

/// Every model kmodel knows.
pub const REGISTRY: &[&Model] = &[&mm_cpumask::MODEL, &mmcid::MODEL, &mrelease::MODEL];
