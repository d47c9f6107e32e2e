//! The kernel designs kmodel checks. One folder per model; one line per model in `REGISTRY`.
use kmodel_harness::Model;

pub mod ipi_mask;
pub mod litmus;
pub mod mm_cpumask;
pub mod mmcid;
pub mod mrelease;

/// Every model kmodel knows.
pub const REGISTRY: &[&dyn Model] = &[
    &mm_cpumask::MODEL,
    &mrelease::MODEL,
    &ipi_mask::MODEL,
    &mmcid::MODEL,
    &litmus::MODEL,
];
