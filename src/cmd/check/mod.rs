//! `kmodel check`: explore models under the chosen engines and print the verdict table
//! (`output.rs`), spreading the checks over worker processes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use kmodel_harness::check::check_variant;
use kmodel_harness::engine::{
    default_jobs, defaults, EngineKind, EngineSpec, Options, Settings, Shard,
};
use kmodel_harness::model::lookup;
use kmodel_harness::verdict::{CheckLabel, Exit, VariantReport};
use kmodel_harness::{Model, VariantCard};

use super::{input_error, whole, MAX_JOBS};
use crate::progress::{self, Progress};
use crate::worker::{self, Tick};

mod output;
mod results;

pub use output::{finish, Finish, Output};

#[derive(Args)]
pub struct CheckArgs {
    /// MODEL or MODEL/VARIANT; all models when omitted.
    spec: Option<String>,
    /// Engines to run (comma-separated): loom, shuttle-random, shuttle-pct, shuttle-dfs, stress, dpor,
    /// or all.
    #[arg(long, value_delimiter = ',', default_value = "loom,shuttle-pct")]
    engine: Vec<String>,
    /// Stop each exploration after this long (e.g. 30s, 5m); the verdict then says so.
    #[arg(long, value_parser = crate::cmd::duration, allow_hyphen_values = true)]
    budget: Option<Duration>,
    /// Seed for shuttle-random and shuttle-pct.
    #[arg(long, default_value_t = defaults::SEED, value_parser = whole::<u64>(0..=u64::MAX), allow_hyphen_values = true)]
    seed: u64,
    /// loom preemption bound.
    #[arg(long, default_value_t = defaults::PREEMPTIONS, conflicts_with = "unbounded", allow_hyphen_values = true)]
    preemptions: u32,
    /// Run loom without a preemption bound (fully exhaustive; can take very long).
    #[arg(long)]
    unbounded: bool,
    /// Schedules for shuttle-random / shuttle-pct (upper bound for shuttle-dfs).
    #[arg(long, default_value_t = defaults::SCHEDULES,
          value_parser = whole::<u64>(1..=u64::MAX), allow_hyphen_values = true)]
    schedules: u64,
    /// PCT bug depth.
    #[arg(long, default_value_t = defaults::PCT_DEPTH,
          value_parser = clap::value_parser!(u32).range(1..), allow_hyphen_values = true)]
    depth: u32,
    /// Iterations for the stress engine.
    #[arg(long, default_value_t = defaults::STRESS_ITERATIONS,
          value_parser = whole::<u64>(1..=u64::MAX), allow_hyphen_values = true)]
    iterations: u64,
    /// Worker processes, each taking the next check when done (default: the number of CPUs).
    #[arg(long, value_parser = whole::<usize>(1..=MAX_JOBS), allow_hyphen_values = true)]
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
    /// With --param values the model declares no verdicts for, fail (exit 1) on any violation
    /// instead of reporting it as a finding (exit 0).
    #[arg(long)]
    strict: bool,
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

type Target = (&'static dyn Model, &'static VariantCard);

fn targets(
    registry: &'static [&'static dyn Model],
    spec: Option<&str>,
) -> Result<Vec<Target>, String> {
    let Some(spec) = spec else {
        return Ok(registry
            .iter()
            .flat_map(|m| m.variants().into_iter().map(move |v| (*m, v)))
            .collect());
    };
    let (m, v) = lookup(registry, spec)?;
    Ok(match v {
        Some(v) => vec![(m, v)],
        None => m.variants().into_iter().map(|v| (m, v)).collect(),
    })
}

pub fn run(registry: &'static [&'static dyn Model], args: CheckArgs) -> ExitCode {
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
    let mut overrides: BTreeMap<String, u32> = BTreeMap::new();
    for (name, value) in &args.params {
        if let Some(first) = overrides.insert(name.clone(), *value) {
            return input_error(format!(
                "--param {name} given twice ({name}={first}, {name}={value}): give each parameter once"
            ));
        }
    }
    if !overrides.is_empty() && targets.iter().any(|(m, _)| m.name() != targets[0].0.name()) {
        return input_error("--param needs a single MODEL");
    }
    for (model, _) in &targets {
        if let Err(e) = model.resolve(&overrides) {
            return input_error(e);
        }
    }
    let jobs = jobs(&args);
    if !args.worker {
        if let Err(e) = super::writable_dir(&args.out).and_then(|()| super::temp_dir_usable()) {
            return input_error(e);
        }
        if args.shard.is_none() && args.budget.is_none() {
            let models = targets.iter().map(|(m, _)| *m);
            if let Err(e) = results::refuse_damaged(models, &args.out, args.force) {
                return input_error(e);
            }
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
            Ok(run_check(check, &overrides, &args, None))
        });
    }
    let progress = Progress::start(format!(
        "check: {} {}",
        checks.len(),
        if checks.len() == 1 { "check" } else { "checks" }
    ));
    let reports = if args.shard.is_none() && jobs > 1 && checks.len() > 1 {
        match run_workers(jobs.min(checks.len()), &checks, &progress) {
            Ok(r) => r,
            // Input was validated before the workers started: a worker that fails is a bug.
            Err(e) => {
                eprintln!("kmodel: internal error: {e}");
                return Exit::Verdict.into();
            }
        }
    } else {
        let total = checks.len();
        let mut done = vec![];
        for (i, c) in checks.iter().enumerate() {
            let report = run_check(c, &overrides, &args, Some((&progress, i, total)));
            done.push(report);
        }
        done
    };
    progress.finish(format!(
        "done: {} checks, {} executions",
        reports.len(),
        progress::count(reports.iter().map(|r| r.executions).sum())
    ));
    // A sharded or time-boxed run explores part of each search: only whole checks are results.
    if args.shard.is_none() && args.budget.is_none() {
        if let Err(e) = results::record(registry, &reports, &args.out, args.force) {
            return input_error(e);
        }
    }
    let output = if args.json {
        Output::Json
    } else if args.markdown {
        Output::Markdown
    } else {
        Output::Table
    };
    finish(
        reports,
        Finish {
            registry,
            out: &args.out,
            force: super::overwrite(&args.out, args.force),
            output,
            started,
            allow_partial: args.allow_partial,
            strict: args.strict,
        },
    )
}

/// `--jobs`, or the number of CPUs.
fn jobs(args: &CheckArgs) -> usize {
    args.jobs.unwrap_or_else(default_jobs)
}

/// One (model, variant) under one engine.
type Check = (Target, EngineSpec);

/// An engine progress callback.
type Callback<T> = Arc<dyn Fn(T) + Send + Sync>;

/// What a check's status line says: "mmcid/v3 under loom, bound 1: 12,345 executions (3,100/s)".
struct Running {
    label: String,
    /// Executions in all, when the engine's settings say (shuttle schedules, stress iterations).
    total: Option<u64>,
    bound: Option<u32>,
    executions: u64,
    since: Instant,
}

impl Running {
    fn new((model, variant): &Target, spec: &EngineSpec) -> Self {
        let total = spec.planned_executions();
        Running {
            label: CheckLabel::new(model.name(), variant.name)
                .under(spec)
                .to_string(),
            total,
            bound: None,
            executions: 0,
            since: Instant::now(),
        }
    }

    fn status(&self) -> String {
        let bound = self.bound.map_or(String::new(), |k| format!(", bound {k}"));
        format!(
            "{}{bound}: {}",
            self.label,
            progress::rate(self.executions, self.total, self.since)
        )
    }
}

/// Explores one check in this process; `shown` is the run's progress, this check's number and
/// the number of checks (a worker reports to its parent instead).
fn run_check(
    (target, spec): &Check,
    overrides: &BTreeMap<String, u32>,
    args: &CheckArgs,
    shown: Option<(&Progress, usize, usize)>,
) -> VariantReport {
    let (model, variant) = *target;
    let params = model.resolve(overrides).expect("checked in run");
    let running = Arc::new(Mutex::new(Running::new(target, spec)));
    let (progress, on_pass): (Callback<u64>, Callback<u32>) = match shown {
        None => (
            Arc::new(|n| {
                if n.is_multiple_of(256) {
                    worker::send_executions(n)
                }
            }),
            Arc::new(worker::send_pass),
        ),
        Some((p, i, total)) => {
            let prefix = if total > 1 {
                format!("{} of {total}: ", i + 1)
            } else {
                String::new()
            };
            let show = move |r: &Running| format!("{prefix}{}", r.status());
            p.set(show(&running.lock().expect("running")));
            let p = p.status();
            let (r1, r2) = (running.clone(), running.clone());
            let (s1, s2) = (show.clone(), show);
            (
                Arc::new({
                    let p = p.clone();
                    move |n| {
                        if n.is_multiple_of(64) {
                            let mut r = r1.lock().expect("running");
                            r.executions = n;
                            p.set(s1(&r));
                        }
                    }
                }),
                Arc::new(move |k| {
                    let mut r = r2.lock().expect("running");
                    r.bound = Some(k);
                    p.set(s2(&r));
                }),
            )
        }
    };
    let opts = Options {
        budget: args.budget,
        // A worker shares the machine with the other workers.
        jobs: if args.worker { 1 } else { jobs(args) },
        shard: args.shard.unwrap_or_default(),
        progress: Some(progress),
        on_pass: Some(on_pass),
        ..Options::default()
    };
    check_variant(model, variant, spec, &params, opts)
}

/// Runs the checks in `jobs` worker processes of this same command (exhaustive searches first:
/// they are the long ones), and returns the reports in check order.
fn run_workers(
    jobs: usize,
    checks: &[Check],
    progress: &Progress,
) -> Result<Vec<VariantReport>, String> {
    let mut order: Vec<usize> = (0..checks.len()).collect();
    order.sort_by_key(|&i| checks[i].1.planned_executions().is_some());
    let total = checks.len();
    let running: Mutex<(usize, Vec<Option<Running>>)> =
        Mutex::new((0, (0..jobs).map(|_| None).collect()));
    let done = worker::run(jobs, order, "check", |tick| {
        let mut state = running.lock().expect("running");
        let (answered, workers) = &mut *state;
        match tick {
            Tick::Started { worker, item } => {
                let (target, spec) = &checks[item];
                workers[worker] = Some(Running::new(target, spec));
            }
            Tick::Executions { worker, n } => {
                if let Some(r) = &mut workers[worker] {
                    r.executions = n;
                }
            }
            Tick::Pass { worker, bound } => {
                if let Some(r) = &mut workers[worker] {
                    r.bound = Some(bound);
                }
            }
            Tick::Done {
                worker,
                answered: n,
            } => {
                workers[worker] = None;
                *answered = n;
            }
        }
        let now: Vec<String> = workers.iter().flatten().map(Running::status).collect();
        progress.set(format!(
            "{answered} of {total} done, {jobs} worker processes; {}",
            now.join("; ")
        ));
    })?;
    Ok(done.into_values().collect())
}
