//! The subcommands, one file each.

pub mod affected;
pub mod bench;
pub mod check;
pub mod drift;
pub mod explain;
pub mod explore;
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
use kmodel_harness::verdict::Exit;

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

/// The most worker processes `--jobs` takes.
pub const MAX_JOBS: u64 = 1024;

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

/// Checks up front that the temporary directory the engines use (loom's checkpoint hand-over
/// files; `TMPDIR`, else the system's) is a writable directory: a missing one is an I/O error
/// naming its cause (exit 2), never a verdict or a trace's fault.
pub fn temp_dir_usable() -> Result<(), String> {
    let dir = std::env::temp_dir();
    let what = if std::env::var_os("TMPDIR").is_some() {
        "TMPDIR"
    } else {
        "temporary directory"
    };
    let shown = dir.display();
    match std::fs::metadata(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("{what} {shown}: No such directory"))
        }
        Err(e) => return Err(format!("{what} {shown}: {e}")),
        Ok(m) if !m.is_dir() => return Err(format!("{what} {shown}: not a directory")),
        Ok(_) => {}
    }
    tempfile::Builder::new()
        .prefix(".kmodel-write-test-")
        .tempfile_in(&dir)
        .map_err(|e| format!("{what} {shown}: cannot write there: {e}"))?;
    Ok(())
}

/// clap's parser of a duration option (`--budget`, `--timeout`): a negative one is refused
/// with the option's range, not clap's "use '-- -5s'" tip (the options allow hyphen values).
pub fn duration(s: &str) -> Result<std::time::Duration, String> {
    if s.starts_with('-') {
        return Err("a duration is 0s or more (e.g. 30s, 5m)".into());
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (a duration such as 30s or 5m)"))
}

/// clap's parser of a whole-number option in `range`: anything else (negative, zero where 1 is
/// the least, too large, not a number) is refused naming the range (clap names the option).
pub fn whole<T: TryFrom<u64>>(
    range: std::ops::RangeInclusive<u64>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let shown = match *range.end() {
            u64::MAX => format!("of at least {}", range.start()),
            end => format!("in {}..={end}", range.start()),
        };
        s.parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| format!("expected a whole number {shown}"))
    }
}
