//! The kernel designs kmodel checks. One folder per model; one line per model in `REGISTRY`.
use kmodel_harness::Model;

pub mod ipi_mask;

/// Every model kmodel knows.
pub const REGISTRY: &[&Model] = &[&ipi_mask::MODEL];
