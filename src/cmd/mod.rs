//! The subcommands, one file each.

pub mod bench;
pub mod check;
pub mod explain;
pub mod explore;
pub mod ipi_mask_cost;
pub mod list;
pub mod merge;
pub mod replay;
pub mod report;

use std::path::Path;
use std::process::ExitCode;

use kmodel_harness::trace::Trace;

/// Prints one line and returns exit code 2 (usage or input error).
pub fn input_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kmodel: error: {msg}");
    ExitCode::from(2)
}

/// Loads a trace file, or prints why not (exit code 2).
fn load(file: &Path) -> Result<Trace, ExitCode> {
    Trace::load(file).map_err(input_error)
}
