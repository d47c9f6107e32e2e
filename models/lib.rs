//! The kernel designs kmodel checks. One folder per model; one line per model in `REGISTRY`.
use kmodel_harness::Model;

pub mod mmcid;

/// Every model kmodel knows.
pub const REGISTRY: &[&Model] = &[&mmcid::MODEL];
