//! `kmodel`: check kernel concurrency models, replay and explain their counterexamples.
//!
//! The whole command line is a library over a registry of models, so a crate with its own
//! models gets it with `fn main() -> ExitCode { kmodel::run(MY_REGISTRY) }`. Worker processes
//! re-execute the running binary, so they see the same registry. [`testing`] (and
//! [`test_main!`]) turns the same registry into `cargo test` cases with the declared verdicts.
//!
//! Exit codes (the contract CI relies on; README "Exit codes"):
//! - 0: every declared verdict was reached as declared by a complete exploration of what was
//!   asked (replay: the trace reproduced; explain/merge/report: done);
//! - 1: a verdict differs from the declared one, a replay diverged, or the model panics
//!   ("model error in MODEL/VARIANT under ENGINE: ...");
//! - 2: bad input or an I/O error (one line on stderr, `kmodel: error: ...`);
//! - 3: inconclusive: a time budget, shuttle-dfs's schedule cap or a run of 0 executions left a
//!   declared verdict unestablished (`--allow-partial` accepts such runs: exit 0).

mod cmd;
mod csource;
pub mod json;
mod outcome;
mod overhead;
mod patch;
pub mod port_readme;
mod progress;
mod quiet;
mod svg;
mod table;
pub mod testing;
mod traces;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kmodel_harness::Model;

use crate::cmd::{
    affected, bench, check, drift, explain, explore, list, merge, new, port, replay, report, schema,
};

#[derive(Parser)]
#[command(
    name = "kmodel",
    version,
    about = "Executable models of Linux kernel concurrency designs, checked under loom and shuttle"
)]
struct Cli {
    /// Show what the engines print themselves (shuttle's per-schedule lines) and full panic
    /// reports with backtraces (also: KMODEL_VERBOSE=1).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// No progress on stderr (by default: a spinner on a terminal, a status line every 5 s
    /// otherwise).
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List models, their variants, properties and parameters.
    List,
    /// Check models (all by default) and compare each verdict with the declared one.
    Check(check::CheckArgs),
    /// Sweep designs over generated scenes (every scene up to a size under loom, or seeded
    /// random scenes under shuttle-pct), shrink each violation to its smallest scene.
    Explore(explore::ExploreArgs),
    /// Measure the engines: time to every expected counterexample, loom's reach on the designs
    /// that hold, harness overhead, and scaling (tables, bench.json, summary.md, scaling.svg).
    Bench(bench::BenchArgs),
    /// Merge the --json reports of `kmodel check --shard K/N` runs into one verdict table.
    Merge(merge::MergeArgs),
    /// Re-run a trace file and confirm it reproduces the same violation and events.
    Replay {
        /// A trace file written by `kmodel check`.
        file: PathBuf,
        /// Give up (exit 2) when the replay has not finished after this long.
        #[arg(long, value_parser = crate::cmd::duration, default_value = "60s", allow_hyphen_values = true)]
        timeout: std::time::Duration,
    },
    /// Write the Markdown design-review dossier (one file per model) under DIR, from the
    /// results and traces `kmodel check --out TRACES` recorded (TRACES/MODEL/results.json).
    Report(report::ReportArgs),
    /// Print the JSON Schema of a document kmodel writes (trace, check, explore, results).
    Schema {
        /// trace, check, explore or results.
        name: String,
    },
    /// Print the port tables: the kernel version each model ports, every ported function and its
    /// deviations (`--markdown`: each model README's generated section).
    Port(port::PortArgs),
    /// Compare the ported functions with a kernel tree: which changed since the pin (exit 1),
    /// with `--diff OLD_TREE` the diff, with `--record` re-pin the fingerprints.
    Drift(drift::DriftArgs),
    /// Read a patch (unified diff, `-` for stdin): the ported functions it touches, the models,
    /// variants and properties that exercise them, and the command that checks them.
    Affected(affected::AffectedArgs),
    /// Print a trace as a per-CPU timeline (or Mermaid / JSON).
    Explain(explain::ExplainArgs),
    /// Create a model crate of your own in DIR (the sleep/wake example, its traces, kmodel's
    /// pinned dependency versions), green with `cargo test --release`.
    New(new::NewArgs),
}

/// Parses the command line and runs the subcommand over `registry`.
pub fn run(registry: &'static [&'static dyn Model]) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => return cmd::input_error(one_line(&e.to_string())),
    };
    cmd::set_program_from_args();
    quiet::install(cli.verbose || quiet::verbose_from_env());
    progress::set_quiet(cli.quiet);
    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(registry, cli.command)
    }))
    .unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "non-string panic payload".into());
        eprintln!(
            "kmodel: internal error: {msg} (a bug in kmodel; -v or KMODEL_VERBOSE=1 shows where)"
        );
        ExitCode::from(1)
    });
    quiet::finish();
    code
}

/// A clap error as one line: its message and details, without usage and hints.
fn one_line(clap_error: &str) -> String {
    clap_error
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ")
}

fn dispatch(registry: &'static [&'static dyn Model], command: Command) -> ExitCode {
    match command {
        Command::List => list::run(registry),
        Command::New(args) => new::run(args),
        Command::Check(args) => check::run(registry, args),
        Command::Explore(args) => explore::run(registry, args),
        Command::Merge(args) => merge::run(registry, args),
        Command::Bench(args) => bench::run(registry, args),
        Command::Replay { file, timeout } => replay::run(registry, &file, timeout),
        Command::Report(args) => report::run(registry, args),
        Command::Schema { name } => schema::run(&name),
        Command::Port(args) => port::run(registry, args),
        Command::Drift(args) => drift::run(registry, args),
        Command::Affected(args) => affected::run(registry, args),
        Command::Explain(args) => explain::run(registry, args),
    }
}
