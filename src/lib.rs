//! `kmodel`: check kernel concurrency models, replay and explain their counterexamples.
//!
//! The whole command line is a library over a registry of models, so a crate with its own
//! models gets it with `fn main() -> ExitCode { kmodel::run(MY_REGISTRY) }`. Worker processes
//! re-execute the running binary, so they see the same registry. [`testing`] (and
//! [`test_main!`]) turns the same registry into `cargo test` cases with the declared verdicts.
//!
//! Exit codes: 0 every verdict as declared; 1 an unexpected verdict (or a replay that diverged);
//! 2 a usage or input error.

mod cmd;
mod svg;
mod table;
pub mod testing;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kmodel_harness::Model;

use crate::cmd::{bench, check, explain, explore, ipi_mask_cost, list, merge, replay, report};

#[derive(Parser)]
#[command(
    name = "kmodel",
    version,
    about = "Executable models of Linux kernel concurrency designs, checked under loom and shuttle"
)]
struct Cli {
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
    },
    /// Write the Markdown design-review dossier (one file per model) under DIR.
    Report {
        #[arg(long, default_value = "report")]
        out: PathBuf,
        /// Where the committed counterexample traces are.
        #[arg(long, default_value = "traces")]
        traces: PathBuf,
        /// Overwrite files in DIR that `kmodel report` did not generate.
        #[arg(long)]
        force: bool,
    },
    /// Print the per-task memory cost of the task-local IPI wait mask (ipi-mask model), computed
    /// by the same sizing code the model uses for its masks.
    IpiMaskCost,
    /// Print a trace as a per-CPU timeline (or Mermaid / JSON).
    Explain {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = explain::Format::Text)]
        format: explain::Format,
    },
}

/// Parses the command line and runs the subcommand over `registry`.
pub fn run(registry: &'static [&'static Model]) -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::List => list::run(registry),
        Command::Check(args) => check::run(registry, args),
        Command::Explore(args) => explore::run(registry, args),
        Command::Merge(args) => merge::run(args),
        Command::Bench(args) => bench::run(registry, args),
        Command::Replay { file } => replay::run(registry, &file),
        Command::Report { out, traces, force } => report::run(registry, &out, &traces, force),
        Command::IpiMaskCost => ipi_mask_cost::run(),
        Command::Explain { file, format } => explain::run(&file, format),
    }
}
