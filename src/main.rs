//! `kmodel`: check kernel concurrency models, replay and explain their counterexamples.
//!
//! Exit codes: 0 every verdict as declared; 1 an unexpected verdict (or a replay that diverged);
//! 2 a usage or input error.

mod bench;
mod check_cmd;
mod explore;
mod merge;
mod report;
mod svg;
mod table;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use kmodel_harness::check::replay_trace;
use kmodel_harness::render;
use kmodel_harness::trace::Trace;
use kmodel_models::REGISTRY;

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
    Check(check_cmd::CheckArgs),
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
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Mermaid,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::List => {
            list();
            ExitCode::SUCCESS
        }
        Command::Check(args) => check_cmd::run(args),
        Command::Explore(args) => explore::run(REGISTRY, args),
        Command::Merge(args) => merge::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Replay { file } => replay(&file),
        Command::Report { out, traces, force } => write_report(&out, &traces, force),
        Command::IpiMaskCost => {
            print!("{}", kmodel_models::ipi_mask::ipi_mask_cost_table());
            ExitCode::SUCCESS
        }
        Command::Explain { file, format } => explain(&file, format),
    }
}

/// Prints one line and returns exit code 2 (usage or input error).
pub(crate) fn input_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kmodel: error: {msg}");
    ExitCode::from(2)
}

fn list() {
    for m in REGISTRY {
        println!("{} — {}", m.name, m.question);
        for r in m.references {
            println!("    ref       {r}");
        }
        for p in m.params {
            println!("    param     {}={} — {}", p.name, p.default, p.help);
        }
        for p in m.properties {
            println!("    property  {} — {}", p.id, p.claim);
        }
        for v in m.variants {
            let only = match v.engines {
                kmodel_harness::Engines::All => String::new(),
                kmodel_harness::Engines::ShuttleOnly(why) => format!(" [shuttle only: {why}]"),
            };
            println!("    variant   {}/{} — {}{only}", m.name, v.name, v.summary);
        }
        println!();
    }
}

fn write_report(out: &std::path::Path, traces: &std::path::Path, force: bool) -> ExitCode {
    if !traces.is_dir() {
        return input_error(format!(
            "{}: no traces directory (run from the repository root, or pass --traces)",
            traces.display()
        ));
    }
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Err(e) = std::fs::create_dir_all(out) {
        return input_error(format!("{}: {e}", out.display()));
    }
    for (name, text) in report::files(traces, jobs) {
        let path = out.join(name);
        let old = std::fs::read_to_string(&path).ok();
        let status = match &old {
            Some(o) if *o == text => "unchanged",
            Some(o) if !o.starts_with(report::MARKER) && !force => {
                eprintln!(
                    "kmodel: {}: not generated by kmodel report; kept (--force overwrites)",
                    path.display()
                );
                continue;
            }
            _ => match std::fs::write(&path, &text) {
                Ok(()) => "written",
                Err(e) => return input_error(format!("{}: {e}", path.display())),
            },
        };
        println!("{} ({status})", path.display());
    }
    ExitCode::SUCCESS
}

fn load(file: &std::path::Path) -> Result<Trace, ExitCode> {
    Trace::load(file).map_err(input_error)
}

fn replay(file: &std::path::Path) -> ExitCode {
    let trace = match load(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    match replay_trace(REGISTRY, &trace) {
        Ok(r) => {
            println!(
                "reproduced {}/{}: [{}] {} ({} events identical, {} under {})",
                trace.model,
                trace.variant,
                trace.property,
                trace.message,
                r.events.len(),
                trace.memory_model,
                trace.engine
            );
            ExitCode::SUCCESS
        }
        Err(e) if e.is_input_error() => input_error(format!("{}: {e}", file.display())),
        Err(e) => {
            eprintln!("kmodel: {}: {e}", file.display());
            ExitCode::from(1)
        }
    }
}

fn explain(file: &std::path::Path, format: Format) -> ExitCode {
    let trace = match load(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let out = match format {
        Format::Text => render::timeline(&trace, Some(&file.display().to_string())),
        Format::Mermaid => render::mermaid(&trace),
        Format::Json => render::json(&trace),
    };
    print!("{out}");
    ExitCode::SUCCESS
}
