//! `kmodel check`: explore models under the chosen engines and print the verdict table
//! (`output.rs`), spreading the checks over worker processes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kmodel_harness::check::{check_variant, defaults, VariantReport};
use kmodel_harness::engine::{default_jobs, EngineKind, EngineSpec, Options, Settings, Shard};
use kmodel_harness::model::lookup;
use kmodel_harness::{Model, Variant};

use super::input_error;
use crate::worker;

mod output;

pub(crate) use output::write_traces;
pub use output::{finish, Output};

#[derive(Args)]
pub struct CheckArgs {
    /// MODEL or MODEL/VARIANT; all models when omitted.
    spec: Option<String>,
    /// Engines to run (comma-separated): loom, shuttle-random, shuttle-pct, shuttle-dfs, stress,
    /// or all.
    #[arg(long, value_delimiter = ',', default_value = "loom,shuttle-pct")]
    engine: Vec<String>,
    /// Stop each exploration after this long (e.g. 30s, 5m); the verdict then says so.
    #[arg(long, value_parser = humantime::parse_duration)]
    budget: Option<Duration>,
    /// Seed for shuttle-random and shuttle-pct.
    #[arg(long, default_value_t = defaults::SEED)]
    seed: u64,
    /// loom preemption bound.
    #[arg(long, default_value_t = defaults::PREEMPTIONS, conflicts_with = "unbounded")]
    preemptions: u32,
    /// Run loom without a preemption bound (fully exhaustive; can take very long).
    #[arg(long)]
    unbounded: bool,
    /// Schedules for shuttle-random / shuttle-pct (upper bound for shuttle-dfs).
    #[arg(long, default_value_t = defaults::SCHEDULES,
          value_parser = clap::value_parser!(u64).range(1..))]
    schedules: u64,
    /// PCT bug depth.
    #[arg(long, default_value_t = defaults::PCT_DEPTH,
          value_parser = clap::value_parser!(u32).range(1..))]
    depth: u32,
    /// Iterations for the stress engine.
    #[arg(long, default_value_t = defaults::STRESS_ITERATIONS,
          value_parser = clap::value_parser!(u64).range(1..))]
    iterations: u64,
    /// Worker processes, each taking the next check when done (default: the number of CPUs).
    #[arg(long)]
    jobs: Option<usize>,
    /// Explore only shard K of N (loom subtrees, shuttle lanes, stress iterations dealt
    /// round-robin), e.g. one per CI machine; `kmodel merge` combines the --json outputs.
    #[arg(long)]
    shard: Option<Shard>,
    /// Internal: run as a worker of a parallel `kmodel check`: read check numbers from stdin,
    /// answer each with its JSON report on one stdout line.
    #[arg(long, hide = true, conflicts_with = "shard")]
    worker: bool,
    /// Override a model parameter (NAME=VALUE, repeatable; needs a single MODEL).
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(String, u32)>,
    /// Print the reports as JSON instead of a table.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print a Markdown variant × property matrix per model (for READMEs and patch threads).
    #[arg(long)]
    markdown: bool,
    /// Directory for counterexample traces.
    #[arg(long, default_value = "target/kmodel/traces")]
    out: PathBuf,
    /// Overwrite trace files that exist with different contents.
    #[arg(long)]
    force: bool,
    /// Accept a partial run: exit 0 instead of 3 when a time budget, shuttle-dfs's schedule cap
    /// or a run of 0 executions leaves a declared verdict unestablished.
    #[arg(long)]
    allow_partial: bool,
}

fn parse_param(s: &str) -> Result<(String, u32), String> {
    let (k, v) = s.split_once('=').ok_or("expected NAME=VALUE")?;
    let v = v
        .parse()
        .map_err(|_| format!("{v}: not a non-negative integer"))?;
    Ok((k.to_string(), v))
}

fn engines(args: &CheckArgs) -> Result<Vec<EngineSpec>, String> {
    let mut kinds: Vec<EngineKind> = vec![];
    for e in &args.engine {
        if e == "all" {
            kinds.extend(EngineKind::ALL);
        } else {
            kinds.push(e.parse().map_err(|_| {
                let names: Vec<&str> = EngineKind::names().collect();
                format!("unknown engine '{e}' (engines: {}, all)", names.join(", "))
            })?);
        }
    }
    kinds.dedup();
    let settings = Settings {
        preemption_bound: (!args.unbounded).then_some(args.preemptions),
        seed: args.seed,
        schedules: args.schedules,
        depth: args.depth,
        iterations: args.iterations,
    };
    Ok(kinds.into_iter().map(|k| k.spec(&settings)).collect())
}

type Target = (&'static Model, &'static Variant);

fn targets(registry: &'static [&'static Model], spec: Option<&str>) -> Result<Vec<Target>, String> {
    let Some(spec) = spec else {
        return Ok(registry
            .iter()
            .flat_map(|m| m.variants.iter().map(move |v| (*m, v)))
            .collect());
    };
    let (m, v) = lookup(registry, spec)?;
    Ok(match v {
        Some(v) => vec![(m, v)],
        None => m.variants.iter().map(|v| (m, v)).collect(),
    })
}

pub fn run(registry: &'static [&'static Model], args: CheckArgs) -> ExitCode {
    let specs = match engines(&args) {
        Ok(s) => s,
        Err(e) => return input_error(e),
    };
    let targets = match targets(registry, args.spec.as_deref()) {
        Ok(t) => t,
        Err(e) => return input_error(e),
    };
    if registry.is_empty() {
        return input_error("no models are registered");
    }
    let overrides: BTreeMap<String, u32> = args.params.iter().cloned().collect();
    if !overrides.is_empty() && targets.iter().any(|(m, _)| m.name != targets[0].0.name) {
        return input_error("--param needs a single MODEL");
    }
    for (model, _) in &targets {
        if let Err(e) = model.params(&overrides) {
            return input_error(e);
        }
    }
    let jobs = jobs(&args);
    if !args.worker {
        if let Err(e) = super::writable_dir(&args.out) {
            return input_error(e);
        }
    }

    let started = Instant::now();
    let checks: Vec<Check> = targets
        .iter()
        .flat_map(|&t| specs.iter().map(move |s| (t, s.clone())))
        .collect();
    if args.worker {
        return worker::serve(|i| {
            let check = checks
                .get(i)
                .ok_or(format!("worker: bad check number '{i}'"))?;
            Ok(run_check(check, &overrides, &args))
        });
    }
    let reports = if args.shard.is_none() && jobs > 1 && checks.len() > 1 {
        match run_workers(jobs.min(checks.len()), &checks) {
            Ok(r) => r,
            // Input was validated before the workers started: a worker that fails is a bug.
            Err(e) => {
                eprintln!("kmodel: internal error: {e}");
                return ExitCode::from(super::exit::VERDICT);
            }
        }
    } else {
        checks
            .iter()
            .map(|c| run_check(c, &overrides, &args))
            .collect()
    };
    let output = if args.json {
        Output::Json
    } else if args.markdown {
        Output::Markdown
    } else {
        Output::Table
    };
    finish(
        reports,
        &args.out,
        args.force,
        output,
        started,
        args.allow_partial,
    )
}

/// `--jobs`, or the number of CPUs.
fn jobs(args: &CheckArgs) -> usize {
    args.jobs.unwrap_or_else(default_jobs).max(1)
}

/// One (model, variant) under one engine.
type Check = (Target, EngineSpec);

/// Explores one check in this process.
fn run_check(
    ((model, variant), spec): &Check,
    overrides: &BTreeMap<String, u32>,
    args: &CheckArgs,
) -> VariantReport {
    let params = model.params(overrides).expect("checked in run");
    let label = format!("{}/{} under {}", model.name, variant.name, spec.name());
    let (progress, bar) = progress_bar(label);
    let opts = Options {
        budget: args.budget,
        // A worker shares the machine with the other workers.
        jobs: if args.worker { 1 } else { jobs(args) },
        shard: args.shard.unwrap_or_default(),
        progress: (!args.worker).then_some(progress),
        ..Options::default()
    };
    let report = check_variant(model, variant, spec, &params, opts);
    bar.finish_and_clear();
    report
}

/// Runs the checks in `jobs` worker processes of this same command (loom checks first: they
/// are the long ones), and returns the reports in check order.
fn run_workers(jobs: usize, checks: &[Check]) -> Result<Vec<VariantReport>, String> {
    let bar = ProgressBar::with_draw_target(None, crate::quiet::progress_target());
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid"));
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut order: Vec<usize> = (0..checks.len()).collect();
    order.sort_by_key(|&i| checks[i].1.kind() != EngineKind::Loom);
    let total = checks.len();
    let done = worker::run(jobs, order, "check", |n| {
        bar.set_message(format!("{n} of {total} checks, {jobs} worker processes"));
    })?;
    bar.finish_and_clear();
    Ok(done.into_values().collect())
}

/// A progress callback and its bar; the bar appears only once a run has lasted a second.
fn progress_bar(label: String) -> (Arc<dyn Fn(u64) + Send + Sync>, ProgressBar) {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}: {pos} executions ({per_sec}, {elapsed})")
            .expect("valid template"),
    );
    bar.set_message(label);
    let (b, start) = (bar.clone(), Instant::now());
    let shown = std::sync::atomic::AtomicBool::new(false);
    let cb = move |n: u64| {
        if !n.is_multiple_of(64) {
            return;
        }
        if !shown.load(std::sync::atomic::Ordering::Relaxed)
            && start.elapsed() > Duration::from_secs(1)
        {
            shown.store(true, std::sync::atomic::Ordering::Relaxed);
            b.set_draw_target(crate::quiet::progress_target());
        }
        b.set_position(n);
    };
    (Arc::new(cb), bar)
}
