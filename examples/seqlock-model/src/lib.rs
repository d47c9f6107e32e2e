//! Two classic small designs as kmodel models: a seqlock (`include/linux/seqlock.h`) and store
//! buffering, each with the barriers the kernel uses and with one of them left out.

use kmodel_harness::Model;

pub mod sb;
pub mod seqlock;

/// Every model of this crate: what `kmodel::run` and `kmodel::test_main!` are given.
pub const REGISTRY: &[&dyn Model] = &[&seqlock::MODEL, &sb::MODEL];
