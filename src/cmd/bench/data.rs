//! What `kmodel bench` takes ([`BenchArgs`]) and what it measures: the rows of `bench.json`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::cmd::whole;
use crate::overhead::Overhead;
use kmodel_harness::engine::EngineKind;
use serde::{Deserialize, Serialize};

#[derive(Args)]
pub struct BenchArgs {
    /// Seeds per violation for shuttle-pct and shuttle-random (median and spread).
    #[arg(long, default_value_t = 5, value_parser = whole::<u64>(1..=1000), allow_hyphen_values = true)]
    pub(super) seeds: u64,
    /// Schedules a shuttle run may spend looking for one violation.
    #[arg(long, default_value_t = 10_000, value_parser = whole::<u64>(1..=u64::MAX), allow_hyphen_values = true)]
    pub(super) schedules: u64,
    /// Time budget of each loom exploration in the Holds and scaling tables.
    #[arg(long, default_value = "5s", value_parser = crate::cmd::duration, allow_hyphen_values = true)]
    pub(super) budget: Duration,
    /// Time budget of each dpor proof (every variant with a Holds property, and the SPIN
    /// comparison's scene).
    #[arg(long, default_value = "60s", value_parser = crate::cmd::duration, allow_hyphen_values = true)]
    pub(super) proof_budget: Duration,
    /// Time budget of each exhaustive sweep in the throughput table (per model and engine).
    #[arg(long, default_value = "30s", value_parser = crate::cmd::duration, allow_hyphen_values = true)]
    pub(super) sweep_budget: Duration,
    /// The SPIN anchor models (mmcid_v3_livelock.pml), run with SPIN beside the dpor engine
    /// when `spin` and `cc` are on PATH.
    #[arg(long, value_name = "DIR")]
    pub(super) spin_anchors: Option<PathBuf>,
    /// Time budget of each stress run.
    #[arg(long, default_value = "1s", value_parser = crate::cmd::duration, allow_hyphen_values = true)]
    pub(super) stress_budget: Duration,
    /// Worker processes (default: the number of CPUs).
    #[arg(long, value_parser = whole::<usize>(1..=crate::cmd::MAX_JOBS), allow_hyphen_values = true)]
    pub(super) jobs: Option<usize>,
    /// Where to write bench.json, summary.md and scaling.svg.
    #[arg(long, default_value = "target/kmodel/bench")]
    pub(super) out: PathBuf,
    /// Overwrite files in --out that `kmodel bench` did not write.
    #[arg(long)]
    pub(super) force: bool,
    /// Measure only these tables (comma-separated; default: all).
    #[arg(long, value_delimiter = ',', value_name = "TABLES")]
    pub(super) only: Vec<Table>,
    /// Only these engines in the time-to-first-counterexample table (comma-separated; default:
    /// all five).
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::ValueParser::new(str::parse::<EngineKind>))]
    pub(super) engine: Vec<EngineKind>,
    /// Only these models (comma-separated names; default: all).
    #[arg(long, value_delimiter = ',', value_name = "MODELS")]
    pub(super) model: Vec<String>,
    /// Internal: run as a worker of `kmodel bench`: read case numbers from stdin, answer each
    /// with its JSON rows on one stdout line.
    #[arg(long, hide = true)]
    pub(super) worker: bool,
}

/// The tables `kmodel bench` can measure (`--only`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Table {
    /// Time to the first counterexample.
    First,
    /// dpor and loom on the designs that hold.
    Holds,
    /// dpor beside SPIN on one scene.
    Anchor,
    /// Exhaustive sweep throughput.
    Sweep,
    /// loom as one parameter grows.
    Scaling,
    /// Harness overhead against raw loom and shuttle.
    Overhead,
}

impl BenchArgs {
    /// Whether `--only` leaves `table` in.
    pub(super) fn measures(&self, table: Table) -> bool {
        self.only.is_empty() || self.only.contains(&table)
    }

    /// Whether `--model` leaves `model` in.
    pub(super) fn includes(&self, model: &str) -> bool {
        self.model.is_empty() || self.model.iter().any(|m| m == model)
    }
}

/// One run's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Run {
    pub found: bool,
    pub executions: u64,
    pub secs: f64,
}

/// One measured case, as written to bench.json.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "table", rename_all = "kebab-case")]
pub enum Row {
    First {
        target: String,
        property: String,
        engine: String,
        runs: Vec<Run>,
    },
    Holds {
        target: String,
        engine: String,
        executions: u64,
        secs: f64,
        explored: String,
        complete: bool,
    },
    Scaling {
        param: String,
        value: u32,
        executions: u64,
        secs: f64,
        complete: bool,
    },
    /// One scene proved by dpor or by SPIN (on a Promela abstraction of it), side by side.
    Anchor {
        target: String,
        tool: String,
        what: String,
        /// "Holds", "Violated", "not complete", or why the tool did not run.
        verdict: String,
        /// Executions (dpor) or stored states (SPIN).
        count: Option<u64>,
        secs: Option<f64>,
        complete: bool,
    },
    /// One model's exhaustive sweep over the same scenes under one engine.
    Sweep {
        target: String,
        engine: String,
        bounds: String,
        /// Scenes within the bounds in all.
        scenes_total: u64,
        /// Scenes explored completely by the engine.
        scenes: u64,
        executions: u64,
        secs: f64,
        /// Every scene of the bounds explored completely.
        complete: bool,
    },
}

/// Everything `kmodel bench` measured, as written to bench.json.
#[derive(Serialize, Deserialize)]
pub struct Results {
    pub(super) generator: String,
    pub(super) machine: String,
    pub(super) settings: String,
    pub(super) total_secs: f64,
    pub(super) rows: Vec<Row>,
    pub(super) overhead: Vec<Overhead>,
}

/// Who wrote a bench.json (bench never overwrites one it did not write).
pub(super) const GENERATOR: &str = "kmodel bench";
