//! `kmodel check`: explore models under the chosen engines and print the verdict table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kmodel_harness::check::{check_variant, defaults, Agreement, VariantReport};
use kmodel_harness::engine::{EngineKind, EngineSpec, Options, Settings, Shard};
use kmodel_harness::model::lookup;
use kmodel_harness::{Expect, Model, Variant};
use kmodel_models::REGISTRY;

use crate::{input_error, table};

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
    #[arg(long, default_value_t = defaults::SCHEDULES)]
    schedules: u64,
    /// PCT bug depth.
    #[arg(long, default_value_t = defaults::PCT_DEPTH)]
    depth: u32,
    /// Iterations for the stress engine.
    #[arg(long, default_value_t = defaults::STRESS_ITERATIONS)]
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

fn targets(spec: Option<&str>) -> Result<Vec<Target>, String> {
    let Some(spec) = spec else {
        return Ok(REGISTRY
            .iter()
            .flat_map(|m| m.variants.iter().map(move |v| (*m, v)))
            .collect());
    };
    let (m, v) = lookup(REGISTRY, spec)?;
    Ok(match v {
        Some(v) => vec![(m, v)],
        None => m.variants.iter().map(|v| (m, v)).collect(),
    })
}

pub fn run(args: CheckArgs) -> ExitCode {
    let specs = match engines(&args) {
        Ok(s) => s,
        Err(e) => return input_error(e),
    };
    let targets = match targets(args.spec.as_deref()) {
        Ok(t) => t,
        Err(e) => return input_error(e),
    };
    if REGISTRY.is_empty() {
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
    let jobs = default_jobs(&args);

    let started = Instant::now();
    let checks: Vec<Check> = targets
        .iter()
        .flat_map(|&t| specs.iter().map(move |s| (t, s.clone())))
        .collect();
    if args.worker {
        return serve_checks(&checks, &overrides, &args);
    }
    let reports = if args.shard.is_none() && jobs > 1 && checks.len() > 1 {
        match run_workers(jobs.min(checks.len()), &checks) {
            Ok(r) => r,
            Err(e) => return input_error(e),
        }
    } else {
        checks
            .iter()
            .map(|c| run_check(c, &overrides, &args))
            .collect()
    };
    finish(reports, &args.out, args.force, Output::of(&args), started)
}

/// `--jobs`, or the number of CPUs.
fn default_jobs(args: &CheckArgs) -> usize {
    args.jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// One (model, variant) under one engine.
type Check = (Target, EngineSpec);

/// Worker side of a parallel `kmodel check`: answers each check number read from stdin with
/// its report as one JSON line, until stdin closes.
fn serve_checks(checks: &[Check], overrides: &BTreeMap<String, u32>, args: &CheckArgs) -> ExitCode {
    use std::io::{BufRead, Write};
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let Some(check) = line
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|i| checks.get(i))
        else {
            return input_error(format!("worker: bad check number '{line}'"));
        };
        let report = run_check(check, overrides, args);
        let json = serde_json::to_string(&report).expect("reports serialize");
        if writeln!(out, "{json}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

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
        jobs: if args.worker { 1 } else { default_jobs(args) },
        shard: args.shard.unwrap_or_default(),
        progress: (!args.worker).then_some(progress),
        ..Options::default()
    };
    let report = check_variant(model, variant, spec, &params, opts);
    bar.finish_and_clear();
    report
}

/// Runs the checks in `jobs` worker processes of this same command, handing each worker the
/// next check as soon as it answers (loom checks first: they are the long ones), and returns
/// the reports in check order. Processes rather than threads: loom maps a fresh stack per
/// thread per execution, and the munmap TLB shootdowns serialize threads of one process.
fn run_workers(jobs: usize, checks: &[Check]) -> Result<Vec<VariantReport>, String> {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::Mutex;
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid"));
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut order: Vec<usize> = (0..checks.len()).collect();
    order.sort_by_key(|&i| !matches!(checks[i].1, EngineSpec::Loom { .. }));
    let queue = Mutex::new(order.into_iter());
    let done = Mutex::new(BTreeMap::new());
    let total = checks.len();
    std::thread::scope(|scope| -> Result<(), String> {
        let mut handles = vec![];
        for _ in 0..jobs {
            let mut child = crate::worker::spawn(&["--worker"])?;
            let (queue, done, bar) = (&queue, &done, &bar);
            handles.push(scope.spawn(move || -> Result<(), String> {
                let mut stdin = child.stdin.take().expect("piped");
                let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
                loop {
                    let Some(i) = queue.lock().expect("queue").next() else {
                        break;
                    };
                    writeln!(stdin, "{i}").map_err(|e| format!("worker: {e}"))?;
                    let mut line = String::new();
                    stdout
                        .read_line(&mut line)
                        .map_err(|e| format!("worker: {e}"))?;
                    let report: VariantReport = serde_json::from_str(&line)
                        .map_err(|_| format!("a worker process failed on check {i}"))?;
                    let mut done = done.lock().expect("done");
                    done.insert(i, report);
                    bar.set_message(format!(
                        "{} of {total} checks, {jobs} worker processes",
                        done.len()
                    ));
                }
                drop(stdin);
                child.wait().map_err(|e| format!("worker: {e}"))?;
                Ok(())
            }));
        }
        handles.into_iter().try_for_each(|h| {
            h.join()
                .map_err(|_| "a worker thread panicked".to_string())?
        })
    })?;
    bar.finish_and_clear();
    Ok(done.into_inner().expect("done").into_values().collect())
}

/// How `kmodel check` and `kmodel merge` print their reports.
#[derive(Clone, Copy)]
pub enum Output {
    Table,
    Json,
    Markdown,
}

impl Output {
    fn of(args: &CheckArgs) -> Output {
        if args.json {
            Output::Json
        } else if args.markdown {
            Output::Markdown
        } else {
            Output::Table
        }
    }
}

/// Writes the traces, prints the reports, and returns the exit code.
pub fn finish(
    reports: Vec<VariantReport>,
    out: &Path,
    force: bool,
    output: Output,
    started: Instant,
) -> ExitCode {
    let written = write_traces(&reports, out, force);
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&reports).expect("reports serialize")
        ),
        Output::Markdown => print!("{}", table::markdown_matrix(&reports)),
        Output::Table => {
            print!("{}", verdict_table(&reports));
            println!();
            for line in &written {
                println!("{line}");
            }
            summary(&reports, started.elapsed());
        }
    }
    if reports.iter().all(VariantReport::as_expected) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
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
            b.set_draw_target(ProgressDrawTarget::stderr());
        }
        b.set_position(n);
    };
    (Arc::new(cb), bar)
}

fn verdict_table(reports: &[VariantReport]) -> String {
    let mut rows = vec![];
    for r in reports {
        let target = format!("{}/{}", r.model, r.variant);
        if let Some(why) = &r.skipped {
            // The full reason is in `kmodel list`.
            let short = match why.char_indices().nth(60) {
                Some((i, _)) => format!("{}... (kmodel list)", &why[..i]),
                None => why.clone(),
            };
            rows.push(vec![
                target,
                "-".into(),
                "-".into(),
                "skipped".into(),
                r.engine.name().into(),
                short,
                "".into(),
            ]);
            continue;
        }
        if let Some(e) = &r.error {
            rows.push(vec![
                target.clone(),
                "-".into(),
                "-".into(),
                "ERROR".into(),
                r.engine.name().into(),
                e.clone(),
                "".into(),
            ]);
        }
        for p in &r.properties {
            let declared = p
                .expected
                .map_or("undeclared".to_string(), |e| e.to_string());
            let observed = match (p.violated, &p.agreement) {
                (true, Agreement::Unexpected) => "Violated  UNEXPECTED".to_string(),
                (false, Agreement::Unexpected) => "Holds  UNEXPECTED".to_string(),
                (false, Agreement::NotReached) => "not reached".to_string(),
                (true, _) => "Violated".to_string(),
                (false, _) if r.partial() => "not violated (partial)".to_string(),
                (false, _) => "Holds".to_string(),
            };
            let explored = match (p.found_at, p.found_in) {
                (Some((i, secs)), Some(key)) if key.subtree > 0 => format!(
                    "found at execution {i} of subtree {} ({secs:.2}s)",
                    key.subtree
                ),
                (Some((i, secs)), _) => format!("found at execution {i} ({secs:.2}s)"),
                _ => r.explored.clone(),
            };
            rows.push(vec![
                target.clone(),
                p.property.clone(),
                declared,
                observed,
                engine_label(&r.engine),
                explored,
                format!("{:.2}s", r.elapsed_secs),
            ]);
        }
    }
    table::render(
        &[
            "MODEL/VARIANT",
            "PROPERTY",
            "DECLARED",
            "OBSERVED",
            "ENGINE",
            "EXPLORED",
            "TIME",
        ],
        &rows,
    )
}

fn engine_label(spec: &EngineSpec) -> String {
    match spec {
        EngineSpec::Loom {
            preemption_bound: Some(k),
        } => format!("loom k={k}"),
        other => other.name().to_string(),
    }
}

/// Writes every counterexample under `out`, never overwriting a different file without --force.
/// Returns the lines to print: each trace when there are few, otherwise a count per outcome;
/// files it refused to overwrite are always listed.
fn write_traces(reports: &[VariantReport], out: &Path, force: bool) -> Vec<String> {
    const LIST_AT_MOST: usize = 12;
    let mut listed = vec![];
    let mut kept = vec![];
    let (mut written, mut unchanged) = (0, 0);
    for p in reports.iter().flat_map(|r| &r.properties) {
        let Some(t) = &p.trace else { continue };
        let path = out.join(t.file_name());
        let json = t.to_json();
        match std::fs::read_to_string(&path).ok() {
            Some(old) if old == json => unchanged += 1,
            Some(_) if !force => {
                kept.push(format!(
                    "trace {}: kept the existing file (it differs; --force overwrites)",
                    path.display()
                ));
                continue;
            }
            _ => {
                let saved = std::fs::create_dir_all(path.parent().expect("has parent"))
                    .and_then(|_| std::fs::write(&path, &json));
                if let Err(e) = saved {
                    kept.push(format!("trace {}: cannot write: {e}", path.display()));
                    continue;
                }
                written += 1;
            }
        }
        listed.push(format!(
            "trace [{}] kmodel explain {}",
            p.property,
            path.display()
        ));
    }
    let mut lines = if listed.len() <= LIST_AT_MOST {
        listed
    } else {
        vec![format!(
            "{} counterexample traces under {} ({written} written, {unchanged} unchanged): kmodel explain FILE",
            written + unchanged,
            out.display()
        )]
    };
    lines.extend(kept);
    lines
}

fn summary(reports: &[VariantReport], elapsed: Duration) {
    let unexpected: Vec<String> = reports
        .iter()
        .filter(|r| !r.as_expected())
        .map(|r| format!("{}/{} under {}", r.model, r.variant, r.engine.name()))
        .collect();
    let mut per_engine: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for r in reports {
        let e = per_engine.entry(r.engine.name()).or_default();
        e.0 += r.executions;
        e.1 += r.elapsed_secs;
    }
    for (engine, (n, secs)) in per_engine {
        let memory = reports
            .iter()
            .find(|r| r.engine.name() == engine)
            .map_or("", |r| r.memory_model.as_str());
        println!(
            "{engine}: {n} executions in {secs:.1}s of exploration ({:.0}/s per worker), memory model {memory}",
            if secs > 0.0 { n as f64 / secs } else { 0.0 }
        );
    }
    let declared_violations = reports
        .iter()
        .flat_map(|r| &r.properties)
        .filter(|p| p.violated && p.expected != Some(Expect::Holds))
        .count();
    println!(
        "{} checks, {declared_violations} expected violations found, total {:.1}s",
        reports.len(),
        elapsed.as_secs_f64()
    );
    if unexpected.is_empty() {
        println!("all verdicts as declared");
    } else {
        println!("UNEXPECTED verdicts in: {}", unexpected.join(", "));
    }
}
