//! `kmodel explore`: sweep a design over generated scenes (by default the states set-ups reach,
//! explored breadth first, raced from with small programs; or every scene up to a size under
//! dpor, or loom where weak memory is needed; or seeded random scenes under shuttle), shrink
//! each violation, and compare with the variant's declared sweep verdicts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use kmodel_harness::engine::{defaults, EngineKind, Settings, Shard};
use kmodel_harness::model::{lookup, Model, VariantCard};
use kmodel_harness::scene::{SceneBounds, MAX_SCENES_PER_FILE, MAX_SCENE_FILE_BYTES};
use kmodel_harness::setup::RaceChoice;
use kmodel_harness::sweep::{sweep, SweepMode, SweepOptions, SweepReport};
use kmodel_harness::verdict::{Agreement, CheckLabel, RunOutcome};
use kmodel_harness::Expect;

use super::{input_error, whole};
use crate::json::ExploreOutput;
use crate::outcome::report_outcome;
use crate::progress::{Progress, Status};
use crate::traces::write_traces;

#[derive(Args, Debug)]
pub struct ExploreArgs {
    /// `MODEL` or `MODEL/VARIANT` (every model with a scene language when omitted); a model
    /// sweeps each variant that declares sweep verdicts.
    pub target: Option<String>,
    /// Every scene within the bounds, smallest first, instead of the state sweep: each scene
    /// under dpor (every interleaving up to equivalence, SC), or under loom (preemption bound
    /// --preemptions, C11) for a variant that declares a violation only weak memory shows.
    #[arg(long, conflicts_with = "random")]
    pub exhaustive: bool,
    /// The engine of an exhaustive sweep, instead of the variant's default (dpor, or loom where
    /// a declared violation needs weak memory): `loom` also checks data races.
    #[arg(long, value_parser = sweep_engine, requires = "exhaustive")]
    pub engine: Option<EngineKind>,
    /// Random scenes (random set-up histories and races) under shuttle-pct instead of the state
    /// sweep (the default of a model without a set-up language).
    #[arg(long)]
    pub random: bool,
    /// Leave the model's scripted scenes out: the state sweep does not explore them first, a
    /// random sweep draws none (measures the generator alone).
    #[arg(long)]
    pub no_scripted: bool,
    /// State sweep: N coverage-guided races from the set-up states (states never raced first,
    /// then states whose races reached new final states) instead of every race.
    #[arg(long, value_name = "N", value_parser = whole::<u64>(1..=10_000_000), allow_hyphen_values = true)]
    pub races: Option<u64>,
    /// Random scenes to generate (random sweep).
    #[arg(long, default_value_t = 200, value_parser = whole::<u64>(1..=10_000_000), allow_hyphen_values = true)]
    pub scenes: u64,
    /// Seed of the random sweep (same seed, same scenes, same verdicts).
    #[arg(long, default_value_t = 0, value_parser = whole::<u64>(0..=u64::MAX), allow_hyphen_values = true)]
    pub seed: u64,
    /// Largest num_possible_cpus (default: the model's bound for the mode).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=SceneBounds::LIMIT.cpus as i64), allow_hyphen_values = true)]
    pub cpus: Option<u32>,
    /// Most concurrent actors (loom runs scenes with at most 4; dpor has no such limit).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=SceneBounds::LIMIT.actors as i64), allow_hyphen_values = true)]
    pub actors: Option<u32>,
    /// Most operations over all actors.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=SceneBounds::LIMIT.ops as i64), allow_hyphen_values = true)]
    pub ops: Option<u32>,
    /// Most set-up steps before the race (state sweep: the depth limit of set-up exploration).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=SceneBounds::LIMIT.setup as i64), allow_hyphen_values = true)]
    pub setup: Option<u32>,
    /// loom's preemption bound per scene (exhaustive sweep under loom; dpor has none).
    #[arg(long, default_value_t = defaults::PREEMPTIONS, value_parser = clap::value_parser!(u32).range(0..=8), allow_hyphen_values = true)]
    pub preemptions: u32,
    /// shuttle-pct schedules per scene (random sweep).
    #[arg(long, default_value_t = 200, value_parser = whole::<u64>(1..=1_000_000), allow_hyphen_values = true)]
    pub schedules: u64,
    /// Explorations spent shrinking one violation's scene, at most.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(0..=100_000), allow_hyphen_values = true)]
    pub shrink_runs: u32,
    /// How many executions dpor may spend on one scene of an exhaustive sweep; a scene with
    /// more equivalence classes is explored under loom (preemption bound 2) instead, and the
    /// report counts those scenes (0: no limit).
    #[arg(long, default_value_t = defaults::SCENE_EXECUTIONS, value_parser = whole::<u64>(0..=u64::MAX), allow_hyphen_values = true)]
    pub scene_executions: u64,
    /// Stop each sweep after this long (the verdicts then say "not reached"; exit 3).
    #[arg(long, value_parser = crate::cmd::duration, allow_hyphen_values = true)]
    pub budget: Option<Duration>,
    /// Explore only part K of N of each sweep's scenes (0-based), for spreading over machines.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Explore exactly the scene(s) in FILE (a scene, a JSON array of scenes, or a trace file
    /// that carries one) instead of generating scenes.
    #[arg(long, value_name = "FILE")]
    pub scene: Option<PathBuf>,
    /// Print the reports as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where to write the shrunk counterexample traces.
    #[arg(long, default_value = "target/kmodel/traces")]
    pub out: PathBuf,
    /// Overwrite trace files that differ.
    #[arg(long)]
    pub force: bool,
    /// Accept an inconclusive sweep (exit 0 instead of 3): a declared violation this bounded
    /// sweep did not reach, or a sweep that explored no scene.
    #[arg(long)]
    pub allow_partial: bool,
}

/// The sweeps a target names.
fn targets(
    registry: &[&'static dyn Model],
    target: Option<&str>,
) -> Result<Vec<(&'static dyn Model, &'static VariantCard)>, String> {
    let models: Vec<(&'static dyn Model, Option<&'static VariantCard>)> = match target {
        Some(t) => vec![lookup(registry, t)?],
        None => registry
            .iter()
            .filter(|m| m.scenes().is_some())
            .map(|&m| (m, None))
            .collect(),
    };
    let mut out = vec![];
    for (m, v) in models {
        if m.scenes().is_none() {
            return Err(format!("model {} has no scene language yet", m.name()));
        }
        match v {
            Some(v) if v.sweep.is_none() => {
                let sweeps: Vec<&str> = swept(m).map(|v| v.name).collect();
                return Err(format!(
                    "{} declares no sweep verdicts (swept variants: {})",
                    CheckLabel::new(m.name(), v.name),
                    sweeps.join(", ")
                ));
            }
            Some(v) => out.push((m, v)),
            None if swept(m).next().is_none() => {
                return Err(format!(
                    "nothing to sweep: model {} declares no sweep verdicts (Variant::sweep)",
                    m.name()
                ))
            }
            None => out.extend(swept(m).map(|v| (m, v))),
        }
    }
    if out.is_empty() {
        return Err(
            "nothing to sweep: no model has a scene language (KernelModel::SCENES) with sweep \
                    verdicts (Variant::sweep)"
                .into(),
        );
    }
    Ok(out)
}

fn swept(m: &'static dyn Model) -> impl Iterator<Item = &'static VariantCard> {
    m.variants().into_iter().filter(|v| v.sweep.is_some())
}

pub fn run(registry: &[&'static dyn Model], args: ExploreArgs) -> ExitCode {
    let sweeps = match targets(registry, args.target.as_deref()) {
        Ok(s) => s,
        Err(e) => return input_error(e),
    };
    let given = match args.scene.as_deref().map(load_scenes).transpose() {
        Ok(g) => g,
        Err(e) => return input_error(e),
    };
    // A given scene is input: refuse it before exploring, as a trace file is.
    for (model, _) in &sweeps {
        let space = model.scenes().expect("targets keep models with scenes");
        for scene in given.iter().flatten() {
            if let Err(e) = space.check(scene) {
                return input_error(format!("{}: {e}", model.name()));
            }
        }
    }
    if let Err(e) = super::writable_dir(&args.out).and_then(|()| super::temp_dir_usable()) {
        return input_error(e);
    }
    let start = Instant::now();
    let mut reports = vec![];
    let total = sweeps.len();
    let progress = Progress::start(format!(
        "explore: {total} {}",
        if total == 1 { "sweep" } else { "sweeps" }
    ));
    for (i, (model, variant)) in sweeps.into_iter().enumerate() {
        let space = model.scenes().expect("targets keep models with scenes");
        let base = match model.setups() {
            _ if args.exhaustive => space.exhaustive_bounds(),
            Some(setups) if !args.random => setups.setup_bounds(),
            _ => space.random_bounds(),
        };
        let bounds = SceneBounds {
            cpus: args.cpus.unwrap_or(base.cpus),
            actors: args.actors.unwrap_or(base.actors),
            ops: args.ops.unwrap_or(base.ops),
            setup: args.setup.unwrap_or(base.setup),
        };
        let settings = Settings {
            preemption_bound: Some(args.preemptions),
            seed: args.seed,
            schedules: args.schedules,
            ..Settings::default()
        };
        let (engine, mode) = if args.exhaustive {
            let kind = args.engine.unwrap_or_else(|| {
                defaults::exhaustive_sweep(variant.sweep_needs_weak_memory(), variant.engines)
            });
            if let Err(why) = kind.runs(variant.engines) {
                let label = CheckLabel::new(model.name(), variant.name);
                return input_error(format!("{label}: {kind} cannot sweep it ({why})"));
            }
            (kind.spec(&settings), SweepMode::Exhaustive)
        } else if args.random || model.setups().is_none() {
            (
                defaults::RANDOM_SWEEP.spec(&settings),
                SweepMode::Random {
                    seed: args.seed,
                    scenes: args.scenes,
                },
            )
        } else {
            let races = match args.races {
                None => RaceChoice::Every,
                Some(races) => RaceChoice::Guided {
                    seed: args.seed,
                    races,
                },
            };
            (
                defaults::STATE_SWEEP.spec(&settings),
                SweepMode::States { races },
            )
        };
        let prefix = if total > 1 {
            format!("{} of {total}: ", i + 1)
        } else {
            String::new()
        };
        let label = format!(
            "{prefix}{} ({mode})",
            CheckLabel::new(model.name(), variant.name)
        );
        let scenes = match mode {
            SweepMode::Random { scenes, .. } => Some(scenes),
            SweepMode::Exhaustive | SweepMode::States { .. } => None,
        };
        let opts = SweepOptions {
            engine,
            bounds,
            mode,
            budget: args.budget,
            scene_cap: Some(args.scene_executions).filter(|&n| n > 0),
            shrink_runs: args.shrink_runs,
            shard: args.shard.unwrap_or_default(),
            jobs: 1,
            record: true,
            progress: Some(scene_progress(progress.status(), label, scenes)),
            given: given.clone(),
            scripted: !args.no_scripted,
        };
        let r = sweep(model, variant, &opts);
        if !args.json {
            print_report(&r);
        }
        reports.push(r);
    }
    progress.finish(format!(
        "done: {} scenes",
        crate::progress::count(reports.iter().map(|r| r.scenes).sum())
    ));
    let traces = write_traces(
        registry,
        reports
            .iter()
            .flat_map(|r| &r.properties)
            .filter_map(|p| p.finding.as_ref()?.trace.as_ref()),
        &args.out,
        super::overwrite(&args.out, args.force),
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&ExploreOutput::new(reports.clone()))
                .expect("reports serialize")
        );
    } else {
        for line in &traces.listed {
            println!("{line}");
        }
    }
    for line in &traces.kept {
        eprintln!("kmodel: warning: {line}");
    }
    let mut outcome = RunOutcome::of_sweeps(&reports);
    outcome.io.clone_from(&traces.failed);
    let scenes: u64 = reports.iter().map(|r| r.scenes).sum();
    let secs = start.elapsed().as_secs_f64();
    if !args.json && outcome.io.is_empty() {
        println!(
            "{} sweeps, {scenes} scenes in {secs:.1}s ({:.1} scenes/s)",
            reports.len(),
            scenes as f64 / secs.max(1e-9)
        );
    }
    report_outcome(&outcome, args.allow_partial, false);
    let code = outcome.exit_code(args.allow_partial, false);
    if !args.json && !outcome.unexpected(false) && outcome.io.is_empty() {
        if outcome.inconclusive.is_empty() {
            println!("all sweep verdicts as declared");
        } else {
            println!("inconclusive: some declared sweep verdicts were not reached (see stderr)");
        }
    }
    code.into()
}

/// Updates the status with the scenes explored (and the ETA of a random sweep).
fn scene_progress(
    status: Status,
    label: String,
    total: Option<u64>,
) -> Arc<dyn Fn(u64) + Send + Sync> {
    let since = Instant::now();
    status.set(format!("{label}: starting"));
    Arc::new(move |n| {
        let secs = since.elapsed().as_secs_f64().max(1e-9);
        let eta = match total {
            Some(t) if t > n && n > 0 => format!(
                " of {t}, ETA {}",
                crate::progress::elapsed(Duration::from_secs_f64((t - n) as f64 * secs / n as f64))
            ),
            _ => String::new(),
        };
        status.set(format!(
            "{label}: {n} scenes{eta} ({:.1}/s)",
            n as f64 / secs
        ));
    })
}

fn print_report(r: &SweepReport) {
    println!("\n{}: {}", r.label(), r.covered);
    println!(
        "  memory model {}, {:.1} scenes/s",
        r.memory_model,
        r.scenes_per_sec()
    );
    for p in r.properties.iter() {
        let observed = match (&p.finding, &p.agreement) {
            (Some(f), _) => format!("Violated (smallest scene: {})", f.size),
            (None, Agreement::NotReached) => "not reached".into(),
            (None, _) => "not violated".into(),
        };
        let mark = match p.agreement {
            Agreement::AsExpected => "",
            Agreement::Unexpected if p.expected == Expect::Holds => "  FINDING",
            Agreement::Unexpected => "  UNEXPECTED",
            Agreement::NotReached => "  (inconclusive)",
            Agreement::Undeclared => "  (finding)",
        };
        println!(
            "  {:<30} declared {:<28} {observed}{mark}",
            p.property,
            p.expected.to_string()
        );
        if let Some(f) = &p.finding {
            if p.agreement != Agreement::AsExpected || p.expected != Expect::Holds {
                for line in f.script.lines() {
                    println!("      {line}");
                }
                println!("      -> {}", f.message);
            }
        }
    }
}

/// `--engine`: an engine that explores every scene exhaustively.
fn sweep_engine(s: &str) -> Result<EngineKind, String> {
    let kind: EngineKind = s.parse()?;
    if defaults::EXHAUSTIVE_SWEEPS.contains(&kind) {
        Ok(kind)
    } else {
        let names: Vec<&str> = defaults::EXHAUSTIVE_SWEEPS.map(EngineKind::name).to_vec();
        Err(format!(
            "engine '{s}' does not sweep exhaustively (engines: {})",
            names.join(", ")
        ))
    }
}

/// Scenes from a file: one scene, an array of scenes, or a trace carrying a scene.
/// A file is size-checked before it is read, and the scenes counted before any is run.
fn load_scenes(file: &Path) -> Result<Vec<serde_json::Value>, String> {
    let cannot = |e: std::io::Error| format!("cannot read scene file {}: {e}", file.display());
    let bytes = std::fs::metadata(file).map_err(cannot)?.len();
    if bytes > MAX_SCENE_FILE_BYTES {
        return Err(format!(
            "{}: {bytes} bytes; a scene file holds at most {MAX_SCENE_FILE_BYTES}",
            file.display()
        ));
    }
    let text = std::fs::read_to_string(file).map_err(cannot)?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
    let scenes = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(ref o) if o.get("format").is_some() => {
            vec![o.get("scene").cloned().ok_or_else(|| {
                format!("{}: this trace carries no generated scene", file.display())
            })?]
        }
        v => vec![v],
    };
    match scenes.len() {
        n if n > MAX_SCENES_PER_FILE => Err(format!(
            "{}: {n} scenes; a scene file holds at most {MAX_SCENES_PER_FILE}",
            file.display()
        )),
        _ => Ok(scenes),
    }
}
