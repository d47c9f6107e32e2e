//! Verdicts, the only place that judges: what models declare ([`Property`], [`Declared`],
//! [`Expect`]), how an observed outcome relates to it ([`judge`], [`Agreement`], the coverage
//! rules), the reports of a check ([`VariantReport`], [`Verdicts`]), merging shards, the typed
//! [`Error`], and a run's [`RunOutcome`] with its exit code.
//!
//! - `declared.rs`: [`Expect`], [`Property`], [`Declared`] (`expect!`, `properties!`).
//! - `judge.rs`: [`judge`], [`Agreement`], [`Scope`], [`complete`], [`partial`], [`cut`].
//! - `report.rs`: [`VariantReport`], [`PropertyResult`], [`Verdicts`], [`CheckLabel`].
//! - `merge.rs`: [`merge_shards`].
//! - `error.rs`: [`Error`].
//! - `exit.rs`: [`Exit`], the exit-code contract.
//! - `outcome.rs`: [`RunOutcome`] (a run's outcome and its exit code).

mod declared;
mod error;
mod exit;
mod judge;
mod merge;
mod outcome;
mod report;

pub use self::declared::{Declared, Expect, Property, PropertyId};
pub use self::error::Error;
pub use self::exit::Exit;
pub use self::judge::{complete, cut, judge, partial, weaker, Agreement, Scope};
pub use self::merge::merge_shards;
pub use self::outcome::{failure_line, RunOutcome};
pub use self::report::{
    CheckLabel, FoundAt, FoundKey, Judged, PropertyResult, VariantReport, Verdicts,
};
