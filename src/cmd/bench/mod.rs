//! `kmodel bench`: how fast each engine finds every expected violation, what dpor proves and how
//! far loom gets on the designs that hold, dpor beside SPIN on one scene, exhaustive sweep
//! throughput under dpor and loom, what the harness costs over raw loom / shuttle, and how
//! exploration grows with the scenario. Prints tables, writes JSON, a Markdown summary and an
//! SVG plot.
//!
//! Cases are dealt to worker processes (one per CPU); the stress engine, the SPIN comparison and
//! the overhead measurement then run alone in this process, since they time real threads or
//! compare with another tool.

//!
//! `cases.rs` says what is measured and how, `tables.rs` how the results read.

mod cases;
mod data;
mod spin;
mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::overhead::{self};
use kmodel_harness::engine::default_jobs;
use kmodel_harness::engine::defaults;
use kmodel_harness::Model;

use self::cases::{cases, measure};
pub use self::data::BenchArgs;
use self::data::{Results, Row, Table, GENERATOR};
use super::input_error;
use crate::progress::Progress;
use crate::worker::{self, Tick};

pub fn run(registry: &'static [&'static dyn Model], args: BenchArgs) -> ExitCode {
    let cases = cases(registry, &args);
    if args.worker {
        return worker::serve(|i| {
            let case = cases
                .get(i)
                .ok_or(format!("worker: bad case number '{i}'"))?;
            measure(registry, case, &args)
        });
    }
    let checked = check_out_dir(&args.out, args.force)
        .and_then(|()| super::temp_dir_usable())
        .and_then(|()| args.spin_anchors.as_deref().map_or(Ok(()), spin::check_dir));
    if let Err(e) = checked {
        return input_error(e);
    }
    let started = Instant::now();
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    let bar = Progress::start(format!("bench: {} cases", cases.len()));
    let parallel = cases.iter().filter(|c| !c.quiet()).count();
    bar.set(format!("0 of {parallel} cases, {jobs} worker processes"));
    // Cases are handed to the workers in order, each to the next worker free.
    let items = (0..cases.len()).filter(|&i| !cases[i].quiet()).collect();
    let tick = |t: Tick| {
        if let Tick::Done { answered, .. } = t {
            bar.set(format!(
                "{answered} of {parallel} cases, {jobs} worker processes"
            ));
        }
    };
    let mut rows: BTreeMap<usize, Vec<Row>> = match worker::run(jobs, items, "case", tick) {
        Ok(r) => r,
        Err(e) => return input_error(e),
    };
    for (i, case) in cases.iter().enumerate().filter(|(_, c)| c.quiet()) {
        bar.set(format!(
            "stress runs and the SPIN comparison, alone ({i}/{})",
            cases.len()
        ));
        match measure(registry, case, &args) {
            Ok(r) => {
                rows.insert(i, r);
            }
            Err(e) => return input_error(e),
        }
    }
    bar.set("harness overhead against raw loom and shuttle");
    let overhead = if args.measures(Table::Overhead) {
        overhead::measure(5, 20_000)
    } else {
        vec![]
    };
    bar.finish("done");
    let results = Results {
        generator: GENERATOR.into(),
        machine: machine(),
        settings: format!(
            "loom k<={} by iterative deepening; dpor budget {:?} per proof; shuttle {} seeds x <= {} schedules (PCT depth {}); stress {} iterations or {:?}; loom budget {:?} per bound; sweeps {:?} per model and engine",
            defaults::PREEMPTIONS,
            args.proof_budget,
            args.seeds,
            args.schedules,
            defaults::PCT_DEPTH,
            defaults::STRESS_ITERATIONS,
            args.stress_budget,
            args.budget,
            args.sweep_budget
        ),
        total_secs: started.elapsed().as_secs_f64(),
        rows: rows.into_values().flatten().collect(),
        overhead,
    };
    let text = tables::render(&results);
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

/// The CPU model and count, for the tables' caption.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |m| m.trim_start_matches([' ', '\t', ':']));
    let cpus = default_jobs();
    format!("{cpus} CPUs, {model}, {}", std::env::consts::OS)
}

/// Refuses to write into a directory holding files `kmodel bench` did not write.
fn check_out_dir(out: &Path, force: bool) -> Result<(), String> {
    crate::cmd::writable_dir(out)?;
    let json = out.join("bench.json");
    if force || !json.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Err(e) => Err(format!(
            "{}: the existing file is corrupt ({e}); --force overwrites it",
            json.display()
        )),
        Ok(v) if v.get("generator").and_then(|g| g.as_str()) == Some(GENERATOR) => Ok(()),
        Ok(_) => Err(format!(
            "{}: not written by kmodel bench; kept (--force overwrites, or pick another --out)",
            json.display()
        )),
    }
}

fn write_outputs(out: &Path, r: &Results) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let files = [
        (
            "bench.json",
            serde_json::to_string_pretty(r).expect("serializes"),
        ),
        ("summary.md", tables::summary_markdown(r)),
        ("scaling.svg", tables::scaling_svg(r)),
    ];
    let mut written = vec![];
    for (name, text) in files {
        let path = out.join(name);
        kmodel_harness::file::write_atomic(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
