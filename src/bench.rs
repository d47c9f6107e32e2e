//! `kmodel bench`: how fast each engine finds every expected violation, how far loom gets on
//! the designs that hold, what the harness costs over raw loom / shuttle, and how exploration
//! grows with the scenario. Prints tables, writes JSON, a Markdown summary and an SVG plot.
//!
//! Cases are dealt to worker processes (one per CPU); the stress engine and the overhead
//! measurement then run alone in this process, since they time real threads.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kmodel_harness::check::{defaults, explore_minimal};
use kmodel_harness::engine::{self, Coverage, EngineSpec, Exploration, Options, Shard};
use kmodel_harness::overhead::{self, Overhead};
use kmodel_harness::{Engines, Expect, Model, Variant};
use kmodel_models::REGISTRY;
use serde::{Deserialize, Serialize};

use crate::{input_error, svg, table};

#[derive(Args)]
pub struct BenchArgs {
    /// Seeds per violation for shuttle-pct and shuttle-random (median and spread).
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Schedules a shuttle run may spend looking for one violation.
    #[arg(long, default_value_t = 10_000)]
    schedules: u64,
    /// Time budget of each loom exploration in the Holds and scaling tables.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    budget: Duration,
    /// Time budget of each stress run.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    stress_budget: Duration,
    /// Worker processes (default: the number of CPUs).
    #[arg(long)]
    jobs: Option<usize>,
    /// Where to write bench.json, summary.md and scaling.svg.
    #[arg(long, default_value = "target/kmodel/bench")]
    out: PathBuf,
    /// Overwrite files in --out that `kmodel bench` did not write.
    #[arg(long)]
    force: bool,
    /// Internal: run as worker K of N (JSON rows on stdout).
    #[arg(long, hide = true)]
    worker: Option<Shard>,
}

/// One unit of benchmark work.
#[derive(Clone)]
enum Case {
    /// Time to the first violation of `property` under `engine`.
    First {
        model: &'static Model,
        variant: &'static Variant,
        property: &'static str,
        engine: &'static str,
    },
    /// loom at preemption bounds 1, 2, 3 and unbounded, each while the previous one finished
    /// within the budget; then shuttle-pct throughput.
    Holds {
        model: &'static Model,
        variant: &'static Variant,
    },
    /// loom k=2 on the mrelease model with one parameter changed.
    Scaling { param: &'static str, value: u32 },
}

impl Case {
    /// Cases that time real threads run alone, after the workers.
    fn quiet(&self) -> bool {
        matches!(
            self,
            Case::First {
                engine: "stress",
                ..
            }
        )
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
}

const FIRST_ENGINES: [&str; 4] = ["loom", "shuttle-pct", "shuttle-random", "stress"];
const HOLDS_BOUNDS: [Option<u32>; 4] = [Some(1), Some(2), Some(3), None];
/// The model and parameter ranges of the scaling table.
const SCALING_MODEL: &str = "mrelease";
const SCALING_VARIANT: &str = "today";
const SCALING: [(&str, &[u32]); 3] = [
    ("nr_vmas", &[1, 2, 3, 4]),
    ("reader_stall", &[1, 2, 3, 4]),
    ("victim_threads", &[1, 2]),
];

fn cases() -> Vec<Case> {
    let mut cases = vec![];
    for model in REGISTRY {
        for variant in model.variants {
            for &(property, expect) in variant.expect {
                if !expect.observable() {
                    continue;
                }
                for engine in FIRST_ENGINES {
                    let weak_only = expect == Expect::ViolatedWeakMemory;
                    let shuttle = engine.starts_with("shuttle");
                    let no_loom = matches!(variant.engines, Engines::ShuttleOnly(_));
                    if (weak_only && shuttle) || (no_loom && engine == "loom") {
                        continue;
                    }
                    cases.push(Case::First {
                        model,
                        variant,
                        property,
                        engine,
                    });
                }
            }
        }
    }
    for model in REGISTRY {
        for variant in model.variants {
            if !variant.expect.iter().any(|&(_, e)| e == Expect::Holds) {
                continue;
            }
            cases.push(Case::Holds { model, variant });
        }
    }
    for (param, values) in SCALING {
        for &value in values {
            cases.push(Case::Scaling { param, value });
        }
    }
    cases
}

fn target(model: &Model, variant: &Variant) -> String {
    format!("{}/{}", model.name, variant.name)
}

fn one_worker(properties: usize) -> Options {
    Options {
        jobs: 1,
        properties,
        ..Options::default()
    }
}

fn run_of(x: &Exploration, property: &str) -> Run {
    let found = x.found.get(property);
    Run {
        found: found.is_some(),
        executions: x.executions,
        secs: found.map_or(x.elapsed, |f| f.after).as_secs_f64(),
    }
}

fn measure(case: &Case, args: &BenchArgs) -> Result<Vec<Row>, String> {
    let err = |e: engine::EngineError| e.to_string();
    match case {
        Case::First {
            model,
            variant,
            property,
            engine,
        } => {
            let params = model.params(&BTreeMap::new())?;
            let scenario = (model.scenario)(variant, &params);
            let opts = Options {
                stop_at: Some(property.to_string()),
                ..one_worker(model.properties.len())
            };
            let seeds = match *engine {
                "shuttle-pct" | "shuttle-random" => args.seeds.max(1),
                _ => 1,
            };
            let mut runs = vec![];
            for seed in 0..seeds {
                let run = match *engine {
                    "loom" => {
                        let spec = EngineSpec::Loom {
                            preemption_bound: Some(defaults::PREEMPTIONS),
                        };
                        explore_minimal(&spec, &scenario, opts.clone())
                            .map(|(x, _)| run_of(&x, property))
                    }
                    "stress" => {
                        let spec = EngineSpec::Stress {
                            iterations: defaults::STRESS_ITERATIONS,
                        };
                        let opts = Options {
                            budget: Some(args.stress_budget),
                            ..opts.clone()
                        };
                        engine::explore(&spec, &scenario, opts).map(|x| run_of(&x, property))
                    }
                    name => {
                        let spec = if name == "shuttle-pct" {
                            EngineSpec::ShuttlePct {
                                seed,
                                schedules: args.schedules,
                                depth: defaults::PCT_DEPTH,
                            }
                        } else {
                            EngineSpec::ShuttleRandom {
                                seed,
                                schedules: args.schedules,
                            }
                        };
                        engine::explore(&spec, &scenario, opts.clone())
                            .map(|x| run_of(&x, property))
                    }
                };
                runs.push(run.map_err(err)?);
            }
            Ok(vec![Row::First {
                target: target(model, variant),
                property: property.to_string(),
                engine: engine.to_string(),
                runs,
            }])
        }
        Case::Holds { model, variant } => {
            let params = model.params(&BTreeMap::new())?;
            let scenario = (model.scenario)(variant, &params);
            let opts = Options {
                budget: Some(args.budget),
                ..one_worker(model.properties.len())
            };
            let mut specs: Vec<EngineSpec> = match variant.engines {
                Engines::ShuttleOnly(_) => vec![],
                Engines::All => HOLDS_BOUNDS
                    .iter()
                    .map(|&preemption_bound| EngineSpec::Loom { preemption_bound })
                    .collect(),
            };
            specs.push(EngineSpec::ShuttlePct {
                seed: defaults::SEED,
                schedules: defaults::SCHEDULES,
                depth: defaults::PCT_DEPTH,
            });
            let mut rows = vec![];
            let mut finished = true;
            for spec in &specs {
                let loom = matches!(spec, EngineSpec::Loom { .. });
                if loom && !finished {
                    // A larger bound cannot finish where a smaller one did not.
                    continue;
                }
                let x = engine::explore(spec, &scenario, opts.clone()).map_err(err)?;
                finished = complete(&x.coverage);
                rows.push(Row::Holds {
                    target: target(model, variant),
                    engine: engine_label(spec),
                    executions: x.executions,
                    secs: x.elapsed.as_secs_f64(),
                    explored: coverage_words(&x.coverage),
                    complete: finished,
                });
            }
            Ok(rows)
        }
        Case::Scaling { param, value } => {
            let (model, variant) = kmodel_harness::model::lookup(
                REGISTRY,
                &format!("{SCALING_MODEL}/{SCALING_VARIANT}"),
            )?;
            let variant = variant.expect("names a variant");
            let params = model.params(&BTreeMap::from([(param.to_string(), *value)]))?;
            let scenario = (model.scenario)(variant, &params);
            let spec = EngineSpec::Loom {
                preemption_bound: Some(defaults::PREEMPTIONS),
            };
            let opts = Options {
                budget: Some(args.budget * 3),
                ..one_worker(0)
            };
            let x = engine::explore(&spec, &scenario, opts).map_err(err)?;
            Ok(vec![Row::Scaling {
                param: param.to_string(),
                value: *value,
                executions: x.executions,
                secs: x.elapsed.as_secs_f64(),
                complete: complete(&x.coverage),
            }])
        }
    }
}

fn engine_label(spec: &EngineSpec) -> String {
    match spec {
        EngineSpec::Loom {
            preemption_bound: Some(k),
        } => format!("loom k={k}"),
        EngineSpec::Loom { .. } => "loom unbounded".into(),
        other => other.name().into(),
    }
}

fn complete(c: &Coverage) -> bool {
    matches!(
        c,
        Coverage::Exhaustive | Coverage::ExhaustiveUpToBound { .. }
    )
}

fn coverage_words(c: &Coverage) -> String {
    match c {
        Coverage::Exhaustive => "exhaustive".into(),
        Coverage::ExhaustiveUpToBound { bound } => format!("exhaustive up to {bound}"),
        Coverage::Sampled => "sampled".into(),
        Coverage::TimeBudget { budget_secs } => format!("{budget_secs:.0}s budget"),
        Coverage::AllViolated => "all violated".into(),
        Coverage::StoppedByDeadlock => "deadlock".into(),
    }
}

/// Everything `kmodel bench` measured, as written to bench.json.
#[derive(Serialize, Deserialize)]
struct Results {
    generator: String,
    machine: String,
    settings: String,
    total_secs: f64,
    rows: Vec<Row>,
    overhead: Vec<Overhead>,
}

const GENERATOR: &str = "kmodel bench";

pub fn run(args: BenchArgs) -> ExitCode {
    let cases = cases();
    if let Some(w) = args.worker {
        let mut rows = vec![];
        for (i, case) in cases.iter().enumerate() {
            if w.owns(i as u64) && !case.quiet() {
                match measure(case, &args) {
                    Ok(r) => rows.push((i, r)),
                    Err(e) => return input_error(e),
                }
            }
        }
        println!("{}", serde_json::to_string(&rows).expect("rows serialize"));
        return ExitCode::SUCCESS;
    }
    if let Err(e) = check_out_dir(&args.out, args.force) {
        return input_error(e);
    }
    let started = Instant::now();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar.set_message(format!(
        "{} cases in {jobs} worker processes",
        cases.iter().filter(|c| !c.quiet()).count()
    ));
    let mut rows: BTreeMap<usize, Vec<Row>> = match run_workers(jobs) {
        Ok(r) => r.into_iter().collect(),
        Err(e) => return input_error(e),
    };
    for (i, case) in cases.iter().enumerate().filter(|(_, c)| c.quiet()) {
        bar.set_message(format!("stress runs, alone ({i}/{})", cases.len()));
        match measure(case, &args) {
            Ok(r) => {
                rows.insert(i, r);
            }
            Err(e) => return input_error(e),
        }
    }
    bar.set_message("harness overhead against raw loom and shuttle");
    let overhead = overhead::measure(5, 20_000);
    bar.finish_and_clear();
    let results = Results {
        generator: GENERATOR.into(),
        machine: machine(),
        settings: format!(
            "loom k<={} by iterative deepening; shuttle {} seeds x <= {} schedules (PCT depth {}); stress {} iterations or {:?}; loom budget {:?} per bound",
            defaults::PREEMPTIONS,
            args.seeds,
            args.schedules,
            defaults::PCT_DEPTH,
            defaults::STRESS_ITERATIONS,
            args.stress_budget,
            args.budget
        ),
        total_secs: started.elapsed().as_secs_f64(),
        rows: rows.into_values().flatten().collect(),
        overhead,
    };
    let text = render(&results);
    print!("{text}");
    match write_outputs(&args.out, &results) {
        Ok(files) => {
            for f in files {
                println!("wrote {}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => input_error(e),
    }
}

/// Runs this same command as `jobs` workers, each measuring every `jobs`th case.
fn run_workers(jobs: usize) -> Result<Vec<(usize, Vec<Row>)>, String> {
    let children: Vec<_> = (0..jobs)
        .map(|k| crate::worker::spawn(&["--worker", &format!("{k}/{jobs}")]))
        .collect::<Result<_, _>>()?;
    let mut rows = vec![];
    for child in children {
        let out = child
            .wait_with_output()
            .map_err(|e| format!("worker: {e}"))?;
        if !out.status.success() {
            return Err(format!("a bench worker failed ({})", out.status));
        }
        let part: Vec<(usize, Vec<Row>)> =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("worker output: {e}"))?;
        rows.extend(part);
    }
    Ok(rows)
}

/// The CPU model and count, for the tables' caption.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |m| m.trim_start_matches([' ', '\t', ':']));
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpus} CPUs, {model}, {}", std::env::consts::OS)
}

/// Refuses to write into a directory holding files `kmodel bench` did not write.
fn check_out_dir(out: &Path, force: bool) -> Result<(), String> {
    let json = out.join("bench.json");
    if force || !json.exists() {
        return Ok(());
    }
    let ours = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str::<Results>(&t).ok())
        .is_some_and(|r| r.generator == GENERATOR);
    if ours {
        Ok(())
    } else {
        Err(format!(
            "{}: not written by kmodel bench; kept (--force overwrites, or pick another --out)",
            json.display()
        ))
    }
}

fn write_outputs(out: &Path, r: &Results) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let files = [
        (
            "bench.json",
            serde_json::to_string_pretty(r).expect("serializes"),
        ),
        ("summary.md", summary_markdown(r)),
        ("scaling.svg", scaling_svg(r)),
    ];
    let mut written = vec![];
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// "med 23 (4-97), 0.01s" over the runs that found it, and how many did.
fn first_cell(runs: &[Run]) -> String {
    let hits: Vec<&Run> = runs.iter().filter(|r| r.found).collect();
    if hits.is_empty() {
        let n = runs.iter().map(|r| r.executions).max().unwrap_or(0);
        return format!("not found ({n} ex)");
    }
    let mut ex: Vec<f64> = hits.iter().map(|r| r.executions as f64).collect();
    let mut secs: Vec<f64> = hits.iter().map(|r| r.secs).collect();
    let (lo, hi) = (
        ex.iter().cloned().fold(f64::MAX, f64::min),
        ex.iter().cloned().fold(0.0, f64::max),
    );
    let (m, t) = (median(&mut ex), median(&mut secs));
    if runs.len() == 1 {
        return format!("{m:.0} ex, {t:.2}s");
    }
    format!(
        "{m:.0} ({lo:.0}-{hi:.0}) {}/{}, {t:.2}s",
        hits.len(),
        runs.len()
    )
}

fn render(r: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "kmodel bench on {}; {}", r.machine, r.settings);
    let _ = writeln!(
        s,
        "\nTime to the first counterexample (executions: median (min-max) found/runs, median time)"
    );
    let mut firsts: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    let mut order = vec![];
    for row in &r.rows {
        if let Row::First {
            target,
            property,
            engine,
            runs,
        } = row
        {
            let key = (target.clone(), property.clone());
            if !firsts.contains_key(&key) {
                order.push(key.clone());
            }
            firsts
                .entry(key)
                .or_default()
                .insert(engine.clone(), first_cell(runs));
        }
    }
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|k| {
            let cells = &firsts[k];
            let mut row = vec![k.0.clone(), k.1.clone()];
            row.extend(
                FIRST_ENGINES
                    .iter()
                    .map(|e| cells.get(*e).cloned().unwrap_or("-".into())),
            );
            row
        })
        .collect();
    let mut head = vec!["MODEL/VARIANT", "PROPERTY"];
    head.extend(FIRST_ENGINES);
    s += &table::render(&head, &rows);

    let _ = writeln!(s, "\nDesigns that hold: loom executions and time per preemption bound (a bound runs only if the smaller one finished); shuttle-pct throughput");
    let mut holds: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut order = vec![];
    for row in &r.rows {
        if let Row::Holds {
            target,
            engine,
            executions,
            secs,
            complete,
            explored,
        } = row
        {
            if !holds.contains_key(target) {
                order.push(target.clone());
            }
            let cell = if engine == "shuttle-pct" {
                format!("{:.0}/s", *executions as f64 / secs.max(1e-9))
            } else if *complete {
                format!("{executions} ex, {secs:.1}s")
            } else {
                format!("{explored} after {executions} ex")
            };
            holds
                .entry(target.clone())
                .or_default()
                .insert(engine.clone(), cell);
        }
    }
    let cols = [
        "loom k=1",
        "loom k=2",
        "loom k=3",
        "loom unbounded",
        "shuttle-pct",
    ];
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|t| {
            let mut row = vec![t.clone()];
            row.extend(
                cols.iter()
                    .map(|c| holds[t].get(*c).cloned().unwrap_or("-".into())),
            );
            row
        })
        .collect();
    let mut head = vec!["MODEL/VARIANT"];
    head.extend(cols);
    s += &table::render(&head, &rows);

    let _ = writeln!(s, "\nHarness overhead: the same model raw against the engine and through kmodel (median of 5)");
    let rows: Vec<Vec<String>> = r
        .overhead
        .iter()
        .map(|o| {
            vec![
                o.engine.clone(),
                o.executions.to_string(),
                format!("{:.3}s", o.raw_secs),
                format!("{:.3}s", o.kmodel_secs),
                format!("{:.2}x", o.ratio()),
            ]
        })
        .collect();
    s += &table::render(&["ENGINE", "EXECUTIONS", "RAW", "KMODEL", "RATIO"], &rows);

    let _ = writeln!(
        s,
        "\nScaling: {SCALING_MODEL}/{SCALING_VARIANT} under loom k={} as one parameter grows",
        defaults::PREEMPTIONS
    );
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .filter_map(|row| match row {
            Row::Scaling {
                param,
                value,
                executions,
                secs,
                complete,
            } => Some(vec![
                format!("{param}={value}"),
                format!("{}{executions}", if *complete { "" } else { ">" }),
                format!("{secs:.2}s"),
            ]),
            _ => None,
        })
        .collect();
    s += &table::render(&["PARAMETER", "EXECUTIONS", "TIME"], &rows);
    let _ = writeln!(s, "\n{}", summary_text(r));
    s
}

/// Per engine: how many expected violations it found, and the median time to the first one.
fn engine_summary(r: &Results) -> Vec<(String, usize, usize, f64, f64)> {
    FIRST_ENGINES
        .iter()
        .map(|e| {
            let (mut found, mut total, mut secs, mut ex) = (0, 0, vec![], vec![]);
            for row in &r.rows {
                if let Row::First { engine, runs, .. } = row {
                    if engine == e {
                        total += 1;
                        let hits: Vec<&Run> = runs.iter().filter(|r| r.found).collect();
                        if hits.len() * 2 > runs.len() {
                            found += 1;
                        }
                        let mut s: Vec<f64> = hits.iter().map(|r| r.secs).collect();
                        let mut x: Vec<f64> = hits.iter().map(|r| r.executions as f64).collect();
                        if !s.is_empty() {
                            secs.push(median(&mut s));
                            ex.push(median(&mut x));
                        }
                    }
                }
            }
            (
                e.to_string(),
                found,
                total,
                median(&mut ex),
                median(&mut secs),
            )
        })
        .collect()
}

fn summary_text(r: &Results) -> String {
    let mut s = String::new();
    for (e, found, total, ex, secs) in engine_summary(r) {
        let _ = writeln!(
            s,
            "{e}: found {found} of {total} expected violations (in most runs); median {ex:.0} executions, {secs:.3}s to the first"
        );
    }
    let _ = write!(s, "bench total {:.0}s", r.total_secs);
    s
}

fn summary_markdown(r: &Results) -> String {
    let mut s = format!(
        "Measured by `kmodel bench` on {}; {}.\n\n",
        r.machine, r.settings
    );
    s += "| engine | expected violations found | median executions to first | median time to first |\n|---|---|---|---|\n";
    for (e, found, total, ex, secs) in engine_summary(r) {
        let _ = writeln!(
            s,
            "| {e} | {found} / {total} | {ex:.0} | {:.1} ms |",
            secs * 1000.0
        );
    }
    s += "\n| harness overhead | executions | raw | through kmodel | ratio |\n|---|---|---|---|---|\n";
    for o in &r.overhead {
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} s | {:.3} s | {:.2}x |",
            o.engine,
            o.executions,
            o.raw_secs,
            o.kmodel_secs,
            o.ratio()
        );
    }
    s
}

fn scaling_svg(r: &Results) -> String {
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for row in &r.rows {
        if let Row::Scaling {
            param,
            value,
            executions,
            ..
        } = row
        {
            series
                .entry(param.clone())
                .or_default()
                .push((f64::from(*value), *executions as f64));
        }
    }
    svg::log_plot(
        &format!(
            "{SCALING_MODEL}/{SCALING_VARIANT}: loom executions (k={}) as one parameter grows",
            defaults::PREEMPTIONS
        ),
        "parameter value",
        "executions (log scale)",
        &series,
    )
}
