//! Sweeps: one variant's design explored over many generated scenes (every scene up to a size,
//! or seeded random scenes), each violation shrunk to the smallest scene that still shows it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::{Deserialize, Serialize};

use crate::check;
use crate::engine::{self, defaults, EngineSpec, Options, Settings, Shard};
use crate::model::{Expect, Model, Params, VariantCard};
use crate::rt::PropertyId;
use crate::scene::{SceneBounds, SceneSize, SceneSpace};
use crate::setup::{self, RaceChoice, Raced, SetupCoverage, StateSink};
use crate::trace::Trace;
use crate::verdict::{judge, partial, Agreement, CheckLabel, Error, Judged, Scope, Verdicts};

/// Which scenes a sweep visits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SweepMode {
    /// Every scene within the bounds, smallest first.
    Exhaustive,
    /// `scenes` random scenes within the bounds, from `seed`.
    Random { seed: u64, scenes: u64 },
    /// The states set-ups of at most `bounds.setup` steps reach (breadth first, deduplicated),
    /// then races of at most `bounds.actors` actors and `bounds.ops` operations from each
    /// (see the `setup` module).
    States { races: RaceChoice },
}

impl fmt::Display for SweepMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepMode::Exhaustive => f.write_str("every scene"),
            SweepMode::Random { seed, scenes } => write!(f, "{scenes} random scenes (seed {seed})"),
            SweepMode::States { races } => write!(f, "set-up states, then {races}"),
        }
    }
}

/// How to run a sweep.
#[derive(Clone)]
pub struct SweepOptions {
    /// The engine each scene is explored with.
    pub engine: EngineSpec,
    pub bounds: SceneBounds,
    pub mode: SweepMode,
    /// Stop after this long, inside a scene's exploration too (the sweep is then partial and
    /// says so).
    pub budget: Option<Duration>,
    /// How many executions the sweep's engine may spend on one scene before the scene is
    /// explored under its fallback instead (`defaults::scene_fallback`: dpor gives way to loom
    /// k<=2, where loom runs the scene; the report counts those scenes). A count, not a time,
    /// so which scenes fall back is the same on every machine (a complete dpor run's count does
    /// not depend on workers); what the capped run found is discarded. `None`: no limit.
    pub scene_cap: Option<u64>,
    /// Explorations spent shrinking one violation's scene, at most.
    pub shrink_runs: u32,
    /// The scenes of this part of the sweep (dealt round-robin by index).
    pub shard: Shard,
    /// Worker threads for shuttle lanes inside one scene's exploration.
    pub jobs: usize,
    /// Record a replayable trace of each shrunk finding (loom with the default bound when the
    /// scene fits loom, else the sweep's engine).
    pub record: bool,
    /// Called after each scene with the number of scenes explored.
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    /// Explore exactly these scenes instead of generating them (reproducing a finding);
    /// nothing is shrunk.
    pub given: Option<Vec<serde_json::Value>>,
    /// Whether the model's scripted scenes take part: explored first by a state sweep, seeding
    /// a random one (false: `--no-scripted`, the generator alone).
    pub scripted: bool,
}

impl SweepOptions {
    /// A sweep of `mode` within `bounds` under `engine`: one worker thread, no budget, no
    /// shard, 400 shrinking runs, traces recorded, no progress callback.
    pub fn new(engine: EngineSpec, bounds: SceneBounds, mode: SweepMode) -> Self {
        SweepOptions {
            engine,
            bounds,
            mode,
            budget: None,
            scene_cap: None,
            shrink_runs: 400,
            shard: Shard::ALL,
            jobs: 1,
            record: true,
            progress: None,
            given: None,
            scripted: true,
        }
    }
}

/// A property's first violation in a sweep, shrunk.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SceneFinding {
    /// Index (in sweep order) of the first scene that violated it.
    pub first_scene: u64,
    /// The smallest scene found that still violates it.
    pub scene: serde_json::Value,
    pub size: SceneSize,
    pub script: String,
    /// Explorations spent shrinking.
    pub shrink_runs: u32,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
}

/// One property's outcome over the sweep.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepProperty {
    pub property: PropertyId,
    pub expected: Expect,
    pub violated: bool,
    pub agreement: Agreement,
    pub finding: Option<SceneFinding>,
}

/// The outcome of sweeping one variant.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepReport {
    pub model: String,
    pub variant: String,
    pub engine: EngineSpec,
    pub memory_model: String,
    pub bounds: SceneBounds,
    pub mode: SweepMode,
    /// Scenes explored.
    pub scenes: u64,
    /// Scenes the engine cannot run (loom: more than 4 actors), not explored.
    pub skipped: u64,
    /// Scenes whose own exploration was partial (a deadlock stops loom).
    pub partial_scenes: u64,
    pub executions: u64,
    pub elapsed_secs: f64,
    pub stopped_by_budget: bool,
    /// Every scene within the bounds, each explored completely by the engine.
    pub complete: bool,
    /// What was covered, in words.
    pub covered: String,
    pub properties: Verdicts<SweepProperty>,
    pub error: Option<Error>,
    #[serde(default)]
    pub shard: Shard,
    /// A state sweep's coverage: set-up states, closure, races.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<SetupCoverage>,
}

impl Judged for SweepProperty {
    fn property(&self) -> PropertyId {
        self.property
    }

    fn declared(&self) -> Option<Expect> {
        Some(self.expected)
    }

    fn violated(&self) -> bool {
        self.violated
    }

    fn agreement(&self) -> &Agreement {
        &self.agreement
    }
}

impl SweepReport {
    /// `model/variant`.
    pub fn label(&self) -> CheckLabel<'_> {
        CheckLabel::new(&self.model, &self.variant)
    }

    pub fn as_expected(&self) -> bool {
        self.error.is_none() && self.properties.as_expected()
    }

    /// Why some declared verdict was left unestablished (`None`: none was): a declared
    /// violation not reached (budget, partial scenes, a random sweep that missed it), or no
    /// scene explored at all.
    pub fn inconclusive_why(&self) -> Option<String> {
        let unreached: Vec<&str> = self.properties.not_reached().map(|p| p.as_str()).collect();
        if !unreached.is_empty() {
            Some(format!(
                "{}: {}; declared violation not reached: {}",
                self.label(),
                self.covered,
                unreached.join(", ")
            ))
        } else if self.scenes == 0 {
            Some(format!("{}: no scene explored", self.label()))
        } else {
            None
        }
    }

    /// Scenes explored per second.
    pub fn scenes_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.scenes as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }
}

/// Whether `engine` can run a scene of `size`.
fn engine_runs(engine: &EngineSpec, size: &SceneSize) -> bool {
    (engine.kind().max_actors()).is_none_or(|max| size.actors as usize <= max)
}

/// The per-scene explorer: the properties one scene violates, with messages.
struct Explorer<'a> {
    model: &'static dyn Model,
    variant: &'static VariantCard,
    space: &'static dyn SceneSpace,
    /// The model's default parameters (scenes carry their own sizes).
    params: Params,
    opts: &'a SweepOptions,
    /// When the sweep started (its budget bounds each scene's exploration too).
    start: Instant,
    executions: u64,
    partial: u64,
    /// Whether the budget cut some scene's exploration short.
    cut: bool,
    /// Scenes the sweep's engine gave up on within the scene budget, explored by the fallback.
    fallbacks: u64,
}

impl Explorer<'_> {
    /// Explores `scene`, for at most what is left of the sweep's budget when `budgeted`
    /// (shrinking a finding is not); with a `sink`, the body also reports its states there.
    fn explore(
        &mut self,
        scene: &serde_json::Value,
        budgeted: bool,
        sink: Option<&StateSink>,
    ) -> Result<BTreeMap<PropertyId, String>, Error> {
        let left =
            (self.opts.budget.filter(|_| budgeted)).map(|b| b.saturating_sub(self.start.elapsed()));
        let scenario = match sink {
            Some(sink) => (self.model).observe_for(self.variant, scene, sink.clone()),
            None => (self.model).scenario_for(self.variant, &self.params, Some(scene)),
        }
        .map_err(Error::BadInput)?;
        // A scene the sweep's engine may give up on, and the engine that explores it then.
        let fallback = (self.opts.scene_cap)
            .and_then(|cap| Some((cap, self.fallback_engine(scene)?)))
            .filter(|_| budgeted);
        let cap = fallback.as_ref().map(|(cap, _)| *cap);
        let mut x = self.run(&self.opts.engine.clone(), &scenario, scene, left, cap)?;
        let gave_up = matches!(x.coverage, engine::Coverage::ExecutionCap { .. });
        if let (true, Some((_, instead))) = (gave_up, &fallback) {
            self.fallbacks += 1;
            let left = left.map(|b| b.saturating_sub(x.elapsed));
            let spent = x.executions;
            // Only the fallback's findings count: the capped run's depend on worker timing.
            x = self.run(instead, &scenario, scene, left, None)?;
            x.executions += spent;
            self.tally(instead, &x);
        } else {
            self.tally(&self.opts.engine.clone(), &x);
        }
        Ok(x.found
            .into_iter()
            .map(|(p, f)| (p, f.violation.message))
            .collect())
    }

    /// The engine that explores `scene` when the sweep's engine gives up on it within
    /// [`SweepOptions::scene_cap`] (see `defaults::SCENE_FALLBACK`), if it runs the variant
    /// and the scene.
    fn fallback_engine(&self, scene: &serde_json::Value) -> Option<EngineSpec> {
        let kind = defaults::scene_fallback(self.opts.engine.kind())?;
        let size = self.space.check(scene).ok()?;
        let spec = kind.spec(&Settings::default());
        (kind.runs(self.variant.engines).is_ok() && engine_runs(&spec, &size)).then_some(spec)
    }

    /// One exploration of `scene` under `spec`.
    fn run(
        &self,
        spec: &EngineSpec,
        scenario: &crate::model::Scenario,
        scene: &serde_json::Value,
        budget: Option<Duration>,
        max_executions: Option<u64>,
    ) -> Result<engine::Exploration, Error> {
        let opts = Options {
            jobs: self.opts.jobs,
            properties: self.model.properties().len(),
            budget,
            max_executions,
            ..Options::default()
        };
        let (x, _) =
            check::explore_minimal(spec, scenario, opts).map_err(|e| match Error::from(e) {
                Error::ModelPanic(m) => Error::ModelPanic(format!("{m} (scene {scene})")),
                other => Error::EngineRefused(format!("{} (scene {scene})", other.detail())),
            })?;
        Ok(x)
    }

    /// Counts a scene's exploration `x` (by `spec`, the engine that had the last word).
    fn tally(&mut self, spec: &EngineSpec, x: &engine::Exploration) {
        self.executions += x.executions;
        if partial(spec, &x.coverage) {
            self.partial += 1;
        }
        self.cut |= matches!(x.coverage, engine::Coverage::TimeBudget { .. });
    }

    /// Shrinks a violation of `property` starting from the tree `runner` generates next.
    fn shrink(
        &mut self,
        strategy: &proptest::strategy::BoxedStrategy<serde_json::Value>,
        mut runner: TestRunner,
        property: PropertyId,
    ) -> (serde_json::Value, u32) {
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            unreachable!("the same generation succeeded before")
        };
        let mut best = tree.current();
        let mut runs = 0;
        let mut more = tree.simplify();
        while more && runs < self.opts.shrink_runs {
            runs += 1;
            let cur = tree.current();
            let fits = self
                .space
                .check(&cur)
                .is_ok_and(|s| engine_runs(&self.opts.engine, &s));
            let still = fits
                && self
                    .explore(&cur, false, None)
                    .is_ok_and(|found| found.contains_key(&property));
            if still {
                best = cur;
                more = tree.simplify();
            } else {
                more = tree.complicate();
            }
        }
        (best, runs)
    }
}

/// A seeded proptest runner: same seed, same scenes.
fn seeded_runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// Sweeps `variant` of `model` over generated scenes.
pub fn sweep(
    model: &'static dyn Model,
    variant: &'static VariantCard,
    opts: &SweepOptions,
) -> SweepReport {
    let start = Instant::now();
    let mut report = SweepReport {
        model: model.name().into(),
        variant: variant.name.into(),
        engine: opts.engine.clone(),
        memory_model: opts.engine.memory_model().into(),
        bounds: opts.bounds,
        mode: opts.mode,
        scenes: 0,
        skipped: 0,
        partial_scenes: 0,
        executions: 0,
        elapsed_secs: 0.0,
        stopped_by_budget: false,
        complete: false,
        covered: String::new(),
        properties: Verdicts::default(),
        error: None,
        shard: opts.shard,
        setup: None,
    };
    let Some(space) = model.scenes() else {
        report.error = Some(Error::BadInput(format!(
            "model {} has no scene language",
            model.name()
        )));
        return report;
    };
    let Some(declared) = variant.sweep else {
        report.error = Some(Error::BadInput(format!(
            "{} declares no sweep verdicts (another variant sweeps its design)",
            report.label()
        )));
        return report;
    };
    let params = match model.resolve(&BTreeMap::new()) {
        Ok(p) => p,
        Err(e) => {
            report.error = Some(Error::BadInput(e.to_string()));
            return report;
        }
    };
    let mut ex = Explorer {
        model,
        variant,
        space,
        params,
        opts,
        start,
        executions: 0,
        partial: 0,
        cut: false,
        fallbacks: 0,
    };
    // First finding per property: (scene index, scene, message, runner snapshot for shrinking).
    let mut found: BTreeMap<PropertyId, (u64, serde_json::Value, String, Option<TestRunner>)> =
        BTreeMap::new();
    let over_budget = |start: &Instant| opts.budget.is_some_and(|b| start.elapsed() >= b);
    let mut visit = |i: u64,
                     scene: serde_json::Value,
                     origin: Origin,
                     ex: &mut Explorer,
                     report: &mut SweepReport|
     -> Result<(), Error> {
        let size = space.check(&scene).map_err(Error::BadInput)?;
        if origin.generated() && opts.given.is_none() && !size.within(&opts.bounds) {
            return Err(Error::ModelPanic(format!(
                "generated scene of size {size} outside the bounds"
            )));
        }
        if !engine_runs(&opts.engine, &size) {
            report.skipped += 1;
            return Ok(());
        }
        let (snapshot, sink) = match origin {
            Origin::Random(runner) => (Some(runner), None),
            Origin::Race(sink) => (None, Some(sink)),
            Origin::Listed | Origin::Generated => (None, None),
        };
        for (p, msg) in ex.explore(&scene, true, sink)? {
            found
                .entry(p)
                .or_insert_with(|| (i, scene.clone(), msg, snapshot.cloned()));
        }
        report.scenes += 1;
        if let Some(progress) = &opts.progress {
            progress(report.scenes);
        }
        Ok(())
    };
    let strategy = if opts.scripted {
        space.strategy(&opts.bounds)
    } else {
        space.generated(&opts.bounds)
    };
    // Properties a set-up alone violated (a state sweep): its scene and message.
    let mut setup_found = BTreeMap::new();
    let result: Result<(), Error> = (|| {
        if let Some(given) = &opts.given {
            for (i, scene) in given.iter().enumerate() {
                // `--budget` bounds the given scenes like any sweep.
                if over_budget(&start) {
                    report.stopped_by_budget = true;
                    break;
                }
                visit(
                    i as u64,
                    scene.clone(),
                    Origin::Listed,
                    &mut ex,
                    &mut report,
                )?;
            }
            return Ok(());
        }
        match opts.mode {
            SweepMode::Exhaustive => {
                let mut scenes: Vec<(SceneSize, serde_json::Value)> = space
                    .enumerate(&opts.bounds)
                    .into_iter()
                    .map(|s| Ok((space.check(&s).map_err(Error::BadInput)?, s)))
                    .collect::<Result<_, Error>>()?;
                // Smallest first, so the first violating scene is a smallest one.
                scenes.sort_by_key(|(size, _)| *size);
                for (i, (_, scene)) in scenes.into_iter().enumerate() {
                    if !opts.shard.owns(i as u64) {
                        continue;
                    }
                    if over_budget(&start) {
                        report.stopped_by_budget = true;
                        break;
                    }
                    visit(i as u64, scene, Origin::Generated, &mut ex, &mut report)?;
                }
            }
            SweepMode::Random { seed, scenes } => {
                let mut runner = seeded_runner(seed);
                for i in 0..scenes {
                    let snapshot = runner.clone();
                    let tree = strategy
                        .new_tree(&mut runner)
                        .map_err(|e| Error::ModelPanic(format!("scene generation failed: {e}")))?;
                    if !opts.shard.owns(i) {
                        continue;
                    }
                    if over_budget(&start) {
                        report.stopped_by_budget = true;
                        break;
                    }
                    let origin = Origin::Random(&snapshot);
                    visit(i, tree.current(), origin, &mut ex, &mut report)?;
                }
            }
            SweepMode::States { races } => {
                let Some(setups) = model.setups() else {
                    return Err(Error::BadInput(format!(
                        "model {} has no set-up language for state exploration",
                        model.name()
                    )));
                };
                let mut cov = SetupCoverage::default();
                let mut i = 0u64;
                if opts.scripted {
                    for (_, scene) in space.scripted() {
                        visit(i, scene, Origin::Listed, &mut ex, &mut report)?;
                        i += 1;
                        cov.scripted += 1;
                    }
                }
                let deadline = opts.budget.map(|b| start + b);
                let graph = setup::explore(model, variant, setups, &opts.bounds, deadline)?;
                cov.states = graph.nodes.len() as u64;
                cov.closure = graph.closure;
                cov.per_depth.clone_from(&graph.per_depth);
                cov.setup_runs = graph.runs;
                if !graph.closure.closed() && matches!(graph.closure, setup::Closure::Budget { .. })
                {
                    report.stopped_by_budget = true;
                }
                let at = i;
                setup::race(
                    &graph,
                    setups,
                    space,
                    &opts.bounds,
                    races,
                    &mut cov,
                    |scene| {
                        if over_budget(&start) {
                            report.stopped_by_budget = true;
                            return Ok(Raced::Stop);
                        }
                        let n = i;
                        i += 1;
                        if !opts.shard.owns(n) {
                            return Ok(Raced::Finals(Default::default()));
                        }
                        let sink = StateSink::whole_scene();
                        let origin = Origin::Race(&sink);
                        visit(n, scene.clone(), origin, &mut ex, &mut report)?;
                        Ok(Raced::Finals(sink.take().finals))
                    },
                )?;
                for (p, (scene, msg)) in graph.violations {
                    if space.check(&scene).is_ok() {
                        setup_found.insert(p, (at, scene, msg));
                    }
                }
                report.setup = Some(cov);
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        report.error = Some(e);
    }
    for (p, (i, scene, msg)) in setup_found {
        found.entry(p).or_insert((i, scene, msg, None));
    }
    report.partial_scenes = ex.partial;
    report.stopped_by_budget |= ex.cut;
    report.complete = opts.given.is_none()
        && opts.mode == SweepMode::Exhaustive
        && !report.stopped_by_budget
        && report.partial_scenes == 0
        && report.skipped == 0
        && report.error.is_none();

    let mut ids: Vec<PropertyId> = model.properties().iter().map(|p| p.id).collect();
    ids.extend(
        found
            .keys()
            .filter(|k| !ids.contains(k))
            .copied()
            .collect::<Vec<_>>(),
    );
    for id in ids {
        let expected = declared.of(id);
        let finding = found.remove(&id).map(|(first, scene, message, snapshot)| {
            let (scene, shrink_runs) = match snapshot {
                Some(runner) => ex.shrink(&strategy, runner, id),
                None => (scene, 0),
            };
            let size = space.check(&scene).unwrap_or_default();
            let script = space.script(&scene).unwrap_or_default();
            let mut f = SceneFinding {
                first_scene: first,
                scene,
                size,
                script,
                shrink_runs,
                message,
                trace: None,
            };
            if opts.record {
                match record(model, variant, &f, id, opts) {
                    Ok(t) => {
                        f.message = t.message.clone();
                        f.trace = Some(t);
                    }
                    Err(e) => report.error = Some(e.of_property(id)),
                }
            }
            f
        });
        let violated = finding.is_some();
        let agreement = judge(id, Some(expected), violated, &opts.engine, Scope::Sweep);
        report.properties.push(SweepProperty {
            property: id,
            expected,
            violated,
            agreement,
            finding,
        });
    }
    report.executions = ex.executions;
    report.elapsed_secs = start.elapsed().as_secs_f64();
    report.covered = covered(&report, opts.given.is_some(), ex.fallbacks, opts);
    report
}

/// Where a visited scene comes from.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// Given on the command line, or a scripted member: explored whatever its size.
    Listed,
    /// Enumerated within the bounds.
    Generated,
    /// Drawn from the strategy: the runner before the draw, for shrinking.
    Random(&'a TestRunner),
    /// A race from a set-up state: the body reports its final states to the sink.
    Race(&'a StateSink),
}

impl Origin<'_> {
    /// Whether the scene must fit the sweep's bounds.
    fn generated(&self) -> bool {
        !matches!(self, Origin::Listed)
    }
}

/// Records a replayable trace of a finding's scene: loom with the default bound (lowest bound
/// first) when the scene fits loom, else the sweep's engine.
fn record(
    model: &'static dyn Model,
    variant: &'static VariantCard,
    f: &SceneFinding,
    property: PropertyId,
    opts: &SweepOptions,
) -> Result<Trace, Error> {
    let first = defaults::SCENE_RECORDER.spec(&Settings::default());
    // loom first (fewest preemptions, C11) when the scene fits it; the sweep's engine otherwise.
    let mut engines = vec![];
    if engine_runs(&first, &f.size) {
        engines.push(first);
    }
    if !engines.contains(&opts.engine) {
        engines.push(opts.engine.clone());
    }
    let params = (model.resolve(&BTreeMap::new())).map_err(|e| Error::BadInput(e.to_string()))?;
    for spec in engines {
        let r = check::check_scene(
            model,
            variant,
            &spec,
            &params,
            Some(&f.scene),
            engine::Options {
                jobs: opts.jobs,
                properties: model.properties().len(),
                stop_at: Some(property),
                ..Options::default()
            },
        );
        if let Some(e) = r.error {
            return Err(e);
        }
        if let Some(t) = r
            .properties
            .into_iter()
            .find(|p| p.property == property)
            .and_then(|p| p.trace)
        {
            return Ok(t);
        }
    }
    Err(Error::ReplayDiverged(
        "the shrunk scene's violation was not found again when recording its trace".into(),
    ))
}

/// The sweep's coverage statement.
fn covered(r: &SweepReport, given: bool, fallbacks: u64, opts: &SweepOptions) -> String {
    let mut s = if given {
        format!(
            "the given scenes: {} under {}, {} executions",
            r.scenes, r.engine, r.executions
        )
    } else {
        format!(
            "{} within {}: {} scenes under {}, {} executions",
            r.mode, r.bounds, r.scenes, r.engine, r.executions
        )
    };
    if r.skipped > 0 {
        s += &format!(
            ", {} scenes skipped (more actors than the engine runs)",
            r.skipped
        );
    }
    if fallbacks > 0 {
        let cap = opts.scene_cap.unwrap_or_default();
        let instead = defaults::scene_fallback(r.engine.kind())
            .map(|k| k.spec(&Settings::default()).to_string())
            .unwrap_or_default();
        s += &format!(
            ", {fallbacks} of them not finished by {} within {cap} executions each and explored \
             under {instead} instead",
            r.engine.name()
        );
    }
    if r.partial_scenes > 0 {
        s += &format!(
            ", {} scenes explored partially (a deadlock, or the time budget)",
            r.partial_scenes
        );
    }
    if let Some(c) = &r.setup {
        s += &format!("; {c}");
    }
    if r.stopped_by_budget {
        s += ", stopped by the time budget";
    }
    if r.shard.count > 1 {
        s += &format!(", shard {}", r.shard);
    }
    s
}
