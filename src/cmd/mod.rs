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
pub mod new;
pub mod port;
pub mod replay;
pub mod report;
pub mod schema;

use std::path::Path;
use std::process::ExitCode;

use kmodel_harness::trace::Trace;

/// Exit codes (see the crate documentation and the README's "Exit codes").
pub mod exit {
    /// A verdict differs from the declared one, a replay diverged, or the model panicked.
    pub const VERDICT: u8 = 1;
    /// Bad input or an I/O error.
    pub const INPUT: u8 = 2;
    /// A budget, cap or empty run left a declared verdict unestablished.
    pub const INCONCLUSIVE: u8 = 3;
}

/// The command follow-up commands are printed with: the running binary's name (`kmodel`, or a
/// model crate's own binary).
pub fn program() -> &'static str {
    kmodel_harness::render::program()
}

/// Names the running binary for printed commands (see [`program`]).
pub fn set_program_from_args() {
    if let Some(name) = std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_stem())
        .and_then(|n| n.to_str())
    {
        kmodel_harness::render::set_program(name);
    }
}

/// The default trace folder: scratch output, overwritten without `--force`.
pub const SCRATCH_TRACES: &str = "target/kmodel/traces";

/// Whether trace files under `out` may be overwritten: `--force`, or the scratch folder (only
/// an explicit `--out` elsewhere is protected).
pub fn overwrite(out: &Path, force: bool) -> bool {
    force || out == Path::new(SCRATCH_TRACES)
}

/// Prints one line and returns exit code 2 (usage or input error).
pub fn input_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kmodel: error: {msg}");
    ExitCode::from(exit::INPUT)
}

/// Loads a trace file, or prints why not (exit code 2).
fn load(file: &Path) -> Result<Trace, ExitCode> {
    Trace::load(file).map_err(input_error)
}

/// Checks up front that traces can be written under `out` (creating it if needed), so a run
/// never explores for minutes and then loses its counterexamples.
pub fn writable_dir(out: &Path) -> Result<(), String> {
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "--out {}: not a directory (traces are written under it)",
            out.display()
        ));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| format!("--out {}: cannot create the directory: {e}", out.display()))?;
    let probe = out.join(format!(".kmodel-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .map_err(|e| format!("--out {}: cannot write there: {e}", out.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
