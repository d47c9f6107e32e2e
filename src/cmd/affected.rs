//! `kmodel affected PATCH`: the ported kernel functions a patch changes, and per model the
//! variants and properties that exercise them, with the command that checks them.
//!
//! How "exercise" is derived (and said so in the output): a model's port table lists the
//! function, so every variant of the model runs its port (all scenes go through the model's
//! code): the command checks the whole model. Two observations narrow it down for the reader,
//! never the command: each variant's scripted scene run once under a fixed schedule (shuttle,
//! always the first runnable actor) with its `ev!` events recorded, and the committed
//! counterexamples' events, both giving the kernel functions entered.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::patch::{parse, Touched};
use clap::Args;
use kmodel_harness::engine::{replay, EngineSpec, ReplayToken};
use kmodel_harness::port::Ported;
use kmodel_harness::trace::Trace;
use kmodel_harness::Model;

use super::input_error;
use super::port::{Select, Table};
use crate::csource::Kind;

#[derive(Args)]
pub struct AffectedArgs {
    /// A unified diff: a patch mail, `git format-patch` or `git diff` output; `-` for stdin.
    patch: String,
    #[command(flatten)]
    select: Select,
    /// Where the committed counterexample traces are (their events show which functions each
    /// counterexample runs through).
    #[arg(long, default_value = "traces")]
    traces: PathBuf,
}

pub fn run(registry: &[&'static dyn Model], args: AffectedArgs) -> ExitCode {
    let text = if args.patch == "-" {
        let mut s = String::new();
        match std::io::stdin().read_to_string(&mut s) {
            Ok(_) => s,
            Err(e) => return input_error(format!("stdin: {e}")),
        }
    } else {
        match std::fs::read(&args.patch) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => return input_error(format!("{}: {e}", args.patch)),
        }
    };
    let summary = match parse(&text) {
        Ok(s) => s,
        Err(e) => return input_error(format!("{}: {e}", args.patch)),
    };
    let tables = match args.select.tables(registry) {
        Ok(t) => t,
        Err(e) => return input_error(e),
    };
    let mut any = false;
    let mut ported_files = BTreeSet::new();
    let mut ported_names = BTreeSet::new();
    for t in &tables {
        for f in &t.port.functions {
            ported_files.insert(f.file.as_str());
            ported_names.insert((f.file.as_str(), f.symbol()));
        }
        let hits = hits_of(t, &summary.touched);
        if hits.is_empty() {
            continue;
        }
        any = true;
        print_model(t, &hits, &args.traces);
    }
    let others: Vec<String> = summary
        .touched
        .iter()
        .filter(|x| ported_files.contains(x.file.as_str()))
        .filter(|x| !ported_names.contains(&(x.file.as_str(), x.name.as_str())))
        .map(|x| format!("{} {}", x.file, x.name))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !any {
        println!(
            "no ported function touched (definitions changed: {}, files: {})",
            summary.touched.len(),
            summary.files.len()
        );
    }
    if !others.is_empty() {
        println!(
            "changed in files the ports follow, but not ported: {}",
            others.join(", ")
        );
    }
    ExitCode::SUCCESS
}

fn hits_of<'a>(t: &'a Table, touched: &'a BTreeSet<Touched>) -> Vec<(&'a Ported, &'a Touched)> {
    t.port
        .functions
        .iter()
        .flat_map(|f| {
            touched
                .iter()
                .filter(move |x| hits(f, x))
                .map(move |x| (f, x))
        })
        .collect()
}

/// Whether the patch's changed definition is this ported one (same file and name; a
/// `struct NAME` entry only matches a struct).
fn hits(f: &Ported, t: &Touched) -> bool {
    let struct_entry = f.symbol() != f.kernel;
    f.file == t.file && f.symbol() == t.name && (!struct_entry || t.kind == Kind::Struct)
}

fn print_model(t: &Table, hits: &[(&Ported, &Touched)], traces: &Path) {
    println!("{} — pinned to {}", t.name, t.port.pin());
    for (f, x) in hits {
        let how = if x.header_changed {
            "  (its definition line changed: new, renamed or removed)"
        } else {
            ""
        };
        let dev = match f.deviations.len() {
            0 => String::new(),
            n => format!(", {n} deviation{}", if n == 1 { "" } else { "s" }),
        };
        println!(
            "  touched  {} {}  -> {}{dev}{how}",
            f.file, f.kernel, f.port
        );
    }
    let Some(model) = t.model else {
        println!("  (a --port table of no model: no variants to name)\n");
        return;
    };
    let names: BTreeSet<&str> = hits.iter().map(|(f, _)| f.symbol()).collect();
    let all: Vec<&str> = model.variants().into_iter().map(|v| v.name).collect();
    println!(
        "  variants: all {} ({}) — the port table lists these functions, and every variant runs the model's ports",
        all.len(),
        all.join(", ")
    );
    let (entered, failed) = entered_in_fixed_run(model, &names);
    let not: Vec<&str> = all
        .iter()
        .copied()
        .filter(|v| !entered.contains(v))
        .collect();
    let shown = if !entered.is_empty() && entered.len() == all.len() {
        "all of them".to_string()
    } else {
        list(&entered)
    };
    println!(
        "    entered in one fixed-schedule run of the scripted scene (first runnable actor, events): {shown}"
    );
    let through = counterexamples_through(model, traces, &names);
    if !not.is_empty() && !entered.is_empty() {
        println!(
            "    not entered in that run (other schedules or scenes may): {}",
            not.join(", ")
        );
    } else if entered.is_empty() && through.is_empty() {
        println!(
            "    no recorded event names them (their ports emit none, or no run reached them): \
             nothing narrows the variants down"
        );
    }
    for (v, e) in failed {
        println!("    {v}: the fixed-schedule run failed: {e}");
    }
    let props: Vec<&str> = model.properties().iter().map(|p| p.id.as_str()).collect();
    println!(
        "  properties: all {} checked by every variant: {}",
        props.len(),
        props.join(", ")
    );
    println!(
        "    committed counterexamples whose events enter them ({}): {}",
        traces.join(model.name()).display(),
        list(&through)
    );
    println!("  check: cargo run --release -- check {}\n", model.name());
}

fn list<S: AsRef<str>>(v: &[S]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
    }
}

/// The variants whose scripted scene, run once under a fixed schedule, recorded an event in
/// one of `names`; and the variants whose run failed (with why).
fn entered_in_fixed_run(
    model: &dyn Model,
    names: &BTreeSet<&str>,
) -> (Vec<&'static str>, Vec<(&'static str, String)>) {
    let (mut entered, mut failed) = (Vec::new(), Vec::new());
    let params = match model.resolve(&BTreeMap::new()) {
        Ok(p) => p,
        Err(e) => {
            failed.push(("(all)", e.to_string()));
            return (entered, failed);
        }
    };
    let spec = EngineSpec::ShuttlePct {
        seed: 0,
        schedules: 1,
        depth: 1,
    };
    let fixed = ReplayToken::Shuttle { schedule: vec![] };
    for v in model.variants() {
        let run = model
            .scenario_for(v, &params, None)
            .and_then(|sc| replay(&spec, &sc, &fixed).map_err(|e| e.to_string()));
        match run {
            Ok(r) if r.events.iter().any(|e| names.contains(e.func.as_str())) => {
                entered.push(v.name)
            }
            Ok(_) => {}
            Err(e) => failed.push((v.name, e)),
        }
    }
    (entered, failed)
}

/// `variant property (engine)` for each committed trace of `model` whose events enter one of
/// `names`; traces that do not load are skipped (`tests/traces.rs` checks them).
fn counterexamples_through(
    model: &dyn Model,
    traces: &Path,
    names: &BTreeSet<&str>,
) -> Vec<String> {
    let dir = traces.join(model.name());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut by_case: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for t in files.iter().filter_map(|p| Trace::load(p).ok()) {
        if t.events.iter().any(|e| names.contains(e.func.as_str())) {
            by_case
                .entry((t.variant, t.property.to_string()))
                .or_default()
                .push(t.engine.name().to_string());
        }
    }
    by_case
        .into_iter()
        .map(|((v, p), engines)| format!("{v} {p} ({})", engines.join(", ")))
        .collect()
}
