//! The kernel designs kmodel checks. One folder (and one crate, `kmodel-<model>`) per model; one
//! line per model in `REGISTRY`.
use kmodel_harness::Model;

pub use kmodel_ipi_mask as ipi_mask;
pub use kmodel_litmus as litmus;
pub use kmodel_mm_cpumask as mm_cpumask;
pub use kmodel_mmcid as mmcid;
pub use kmodel_mrelease as mrelease;

/// Every model kmodel knows.
pub const REGISTRY: &[&dyn Model] = &[
    &mm_cpumask::MODEL,
    &mrelease::MODEL,
    &ipi_mask::MODEL,
    &mmcid::MODEL,
    &litmus::MODEL,
];
