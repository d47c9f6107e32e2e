//! The subcommands, one file each.

pub mod affected;
pub mod bench;
pub mod check;
pub mod drift;
pub mod explain;
pub mod explore;
pub mod ipi_mask_cost;
pub mod list;
pub mod merge;
pub mod port;
pub mod replay;
pub mod report;
pub mod schema;

use std::path::Path;
use std::process::ExitCode;

use kmodel_harness::trace::Trace;
use kmodel_harness::verdict::Exit;

/// Prints one line and returns exit code 2 (usage or input error).
pub fn input_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kmodel: error: {msg}");
    Exit::Input.into()
}

/// Loads a trace file, or prints why not (exit code 2).
fn load(file: &Path) -> Result<Trace, ExitCode> {
    Trace::load(file).map_err(input_error)
}

/// Checks up front that files can be written under `out` (creating it if needed), so a run
/// never explores for minutes and then loses its counterexamples; every command with an
/// `--out` calls it before any work, so they all answer in the same words.
pub fn writable_dir(out: &Path) -> Result<(), String> {
    if out.exists() && !out.is_dir() {
        return Err(format!("--out {}: not a directory", out.display()));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| format!("--out {}: cannot create the directory: {e}", out.display()))?;
    // A temporary file, as every write kmodel makes (`kmodel_harness::file::write_atomic`).
    tempfile::Builder::new()
        .prefix(".kmodel-write-test-")
        .tempfile_in(out)
        .map_err(|e| format!("--out {}: cannot write there: {e}", out.display()))?;
    Ok(())
}
