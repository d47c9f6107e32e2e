//! Everything that describes an engine, and the only place that does: [`EngineKind`] (the table
//! of engines and what each can do), [`EngineSpec`] (an engine with its settings, as chosen on
//! the command line and stored in traces), the [`defaults`], and how a coverage reads: in words
//! ([`EngineSpec::describe`]) and for the verdicts ([`EngineSpec::reach`]).
//!
//! Every question is an exhaustive `match` on the engine (no `_ =>` arm), so a new
//! [`EngineKind`] arm makes the compiler list each one its author must answer (CONTRIBUTING
//! section 8).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::dpor;
use super::loom::{self, LOOM_VERSION};
use super::shuttle::{self, SHUTTLE_VERSION};
use super::stress;
use super::{Coverage, Engine, ReplayToken, MAX_REPLAY_STEPS};
use crate::model::Engines;
use crate::thread::LOOM_MAX_SPAWNED;

/// Defaults shared by `kmodel check` and the test suite, so both reach the same verdicts.
pub mod defaults {
    use super::{EngineKind, EngineSpec, Settings};
    use crate::model::Engines;

    /// loom's preemption bound: every race the models show needs at most this many
    /// preemptions, and the whole suite fits CI with it.
    pub const PREEMPTIONS: u32 = 2;
    pub const SEED: u64 = 0;
    pub const SCHEDULES: u64 = 2000;
    pub const PCT_DEPTH: u32 = 3;
    pub const STRESS_ITERATIONS: u64 = 1000;
    /// shuttle-dfs explores at least this many schedules (`--schedules` raises it).
    pub const DFS_MIN_SCHEDULES: u64 = 100_000;

    /// The engines the main job and the tests run: loom (C11, bounded) and shuttle-pct (SC).
    pub const ENGINES: [EngineKind; 2] = [EngineKind::Loom, EngineKind::ShuttlePct];
    /// The engines of an exhaustive sweep of generated scenes (`kmodel explore --exhaustive`),
    /// in order of preference (see [`exhaustive_sweep`]): dpor (every interleaving up to
    /// equivalence under SC, no preemption bound, no four-actor limit), then loom (C11,
    /// preemption-bounded, at most four actors) for the variants dpor cannot confirm.
    pub const EXHAUSTIVE_SWEEPS: [EngineKind; 2] = [EngineKind::Dpor, EngineKind::Loom];
    /// The first engine that records a swept scene's counterexample when the scene fits it
    /// (fewest preemptions, C11); the sweep's own engine otherwise.
    pub const SCENE_RECORDER: EngineKind = EngineKind::Loom;
    /// The engine of a random sweep of generated scenes.
    pub const RANDOM_SWEEP: EngineKind = EngineKind::ShuttlePct;
    /// The engine of the races of a state sweep (small races from many set-up states: every
    /// interleaving, cheaply).
    pub const STATE_SWEEP: EngineKind = EngineKind::Dpor;

    /// The engine that sweeps a variant's scenes exhaustively: the first of
    /// [`EXHAUSTIVE_SWEEPS`] that runs the variant (`engines`) and can show every violation it
    /// declares over its scenes: loom where one needs weak memory (`needs_weak_memory`), dpor
    /// otherwise. (Neither SC engine sees data races; `judge` treats a declared `data-race`
    /// as not checked by them.)
    pub fn exhaustive_sweep(needs_weak_memory: bool, engines: Engines) -> EngineKind {
        EXHAUSTIVE_SWEEPS
            .into_iter()
            .find(|k| (k.weak_memory() || !needs_weak_memory) && k.runs(engines).is_ok())
            .unwrap_or(EXHAUSTIVE_SWEEPS[0])
    }

    /// How many executions `kmodel explore --exhaustive` lets dpor spend on one scene before
    /// the scene is explored under its fallback instead (`--scene-executions`): a count, so the
    /// same scenes fall back on every machine.
    pub const SCENE_EXECUTIONS: u64 = 20_000;

    /// The engine that explores a swept scene `sweeping` gave up on (its scene budget ran
    /// out): loom (preemption-bounded) for dpor; `None` for engines that do not give up.
    pub fn scene_fallback(sweeping: EngineKind) -> Option<EngineKind> {
        match sweeping {
            EngineKind::Dpor => Some(EngineKind::Loom),
            EngineKind::Loom
            | EngineKind::ShuttleRandom
            | EngineKind::ShuttlePct
            | EngineKind::ShuttleDfs
            | EngineKind::Stress => None,
        }
    }

    /// [`ENGINES`] with the default settings.
    pub fn engines() -> Vec<EngineSpec> {
        ENGINES.map(|k| k.spec(&Settings::default())).to_vec()
    }
}

/// The engines kmodel has, without settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EngineKind {
    Loom,
    ShuttleRandom,
    ShuttlePct,
    ShuttleDfs,
    Stress,
    Dpor,
}

impl EngineKind {
    /// Every engine, in the order `--engine all` runs them.
    pub const ALL: [EngineKind; 6] = [
        EngineKind::Loom,
        EngineKind::Dpor,
        EngineKind::ShuttleRandom,
        EngineKind::ShuttlePct,
        EngineKind::ShuttleDfs,
        EngineKind::Stress,
    ];

    /// The name `--engine` accepts and trace file names carry.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Loom => "loom",
            EngineKind::ShuttleRandom => "shuttle-random",
            EngineKind::ShuttlePct => "shuttle-pct",
            EngineKind::ShuttleDfs => "shuttle-dfs",
            EngineKind::Stress => "stress",
            EngineKind::Dpor => "dpor",
        }
    }

    /// Every engine name, in [`EngineKind::ALL`] order.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().map(Self::name)
    }

    /// The memory model executions follow.
    pub fn memory_model(self) -> &'static str {
        match self {
            EngineKind::Loom => "C11 (loom subset)",
            EngineKind::Stress => "hardware (this machine)",
            EngineKind::ShuttleRandom | EngineKind::ShuttlePct | EngineKind::ShuttleDfs => {
                "SC (shuttle)"
            }
            EngineKind::Dpor => "SC (kmodel native runtime)",
        }
    }

    /// Whether the engine explores executions outside sequential consistency.
    pub fn weak_memory(self) -> bool {
        match self {
            EngineKind::Loom | EngineKind::Stress => true,
            EngineKind::ShuttleRandom
            | EngineKind::ShuttlePct
            | EngineKind::ShuttleDfs
            | EngineKind::Dpor => false,
        }
    }

    /// Whether the engine sees happens-before, so it can check [`crate::rt::DATA_RACE`]
    /// (loom: its causality; the SC engines have none, real threads are not instrumented).
    pub fn sees_races(self) -> bool {
        self == EngineKind::Loom
    }

    /// Runs real OS threads: the OS picks the schedule (nothing replays, nothing is exhaustive,
    /// a weak outcome may or may not show, and timings are real, so measurements run alone).
    pub fn real_threads(self) -> bool {
        match self {
            EngineKind::Stress => true,
            EngineKind::Loom
            | EngineKind::ShuttleRandom
            | EngineKind::ShuttlePct
            | EngineKind::ShuttleDfs
            | EngineKind::Dpor => false,
        }
    }

    /// Whether the engine's search depends on a seed (so benchmarks try several).
    pub fn seeded(self) -> bool {
        match self {
            EngineKind::ShuttleRandom | EngineKind::ShuttlePct => true,
            EngineKind::Loom | EngineKind::ShuttleDfs | EngineKind::Stress | EngineKind::Dpor => {
                false
            }
        }
    }

    /// At most this many spawned actors per execution (`None`: no limit).
    pub fn max_actors(self) -> Option<usize> {
        match self {
            EngineKind::Loom => Some(LOOM_MAX_SPAWNED),
            // The native runtime's actors include the scenario's own thread.
            EngineKind::Dpor => Some(crate::native::MAX_ACTORS - 1),
            EngineKind::ShuttleRandom
            | EngineKind::ShuttlePct
            | EngineKind::ShuttleDfs
            | EngineKind::Stress => None,
        }
    }

    /// Whether the engine can run a variant declared for `engines`, and if not, why.
    pub fn runs(self, engines: Engines) -> Result<(), String> {
        let Engines::ShuttleOnly(why) = engines else {
            return Ok(());
        };
        match self {
            EngineKind::Loom => Err(format!("shuttle only: {why}")),
            EngineKind::ShuttleRandom
            | EngineKind::ShuttlePct
            | EngineKind::ShuttleDfs
            | EngineKind::Stress
            | EngineKind::Dpor => Ok(()),
        }
    }

    /// Whether `kmodel check --shard` splits the engine's search into subtrees, each finding
    /// naming its own (loom); other engines deal lanes or iterations.
    pub fn subtrees(self) -> bool {
        match self {
            EngineKind::Loom => true,
            // dpor deals its subtrees to shards too, but its findings carry no subtree key.
            EngineKind::ShuttleRandom
            | EngineKind::ShuttlePct
            | EngineKind::ShuttleDfs
            | EngineKind::Stress
            | EngineKind::Dpor => false,
        }
    }

    /// Whether the engine can re-run one execution from a stored token (stress cannot: the OS
    /// chose the schedule; its events are recorded live).
    pub fn replays(self) -> bool {
        match self {
            EngineKind::Stress => false,
            EngineKind::Loom
            | EngineKind::ShuttleRandom
            | EngineKind::ShuttlePct
            | EngineKind::ShuttleDfs
            | EngineKind::Dpor => true,
        }
    }

    /// Where the engine's own code lives (source path fragments of its crates and of what it
    /// reads checkpoints with): a panic raised there is the engine refusing its input, not a
    /// model bug.
    pub fn source_crates(self) -> &'static [&'static str] {
        match self {
            EngineKind::Loom => &["/loom-", "/generator-", "/serde_json-"],
            EngineKind::ShuttleRandom | EngineKind::ShuttlePct | EngineKind::ShuttleDfs => {
                &["/shuttle-"]
            }
            EngineKind::Stress => &[],
            EngineKind::Dpor => &["/corosensei-", "/src/native/", "/engine/dpor/"],
        }
    }

    /// Whether a panic message is the engine reporting that every actor is blocked (the
    /// harness turns it into a `no-deadlock` or `no-livelock` violation).
    pub fn reports_deadlock(self, msg: &str) -> bool {
        match self {
            EngineKind::Loom
            | EngineKind::ShuttleRandom
            | EngineKind::ShuttlePct
            | EngineKind::ShuttleDfs => msg.starts_with("deadlock"),
            // The stress engine's watchdog and the native runtime record theirs directly.
            EngineKind::Stress | EngineKind::Dpor => false,
        }
    }

    /// Whether the harness ends a stuck execution itself (`rt/stuck.rs`: the verdict recorded,
    /// every blocked actor woken and unwound) so the engine explores on. Otherwise the engine
    /// stops at the first stuck execution, with the same verdict: loom cannot follow actors
    /// unwound mid-execution (its scheduler loses its active thread, or the process aborts, when
    /// an unwinding actor's drops reach loom's locks and joins); real threads have a watchdog.
    pub const fn ends_stuck_executions(self) -> bool {
        match self {
            EngineKind::ShuttleRandom | EngineKind::ShuttlePct | EngineKind::ShuttleDfs => true,
            // The native runtime (dpor) detects stuck executions itself and ends them.
            EngineKind::Loom | EngineKind::Stress | EngineKind::Dpor => false,
        }
    }

    /// Whether a panic message is one the engine raises in normal operation (kept off the
    /// terminal).
    pub fn expected_panic(self, msg: &str) -> bool {
        match self {
            EngineKind::ShuttleRandom | EngineKind::ShuttlePct | EngineKind::ShuttleDfs => {
                shuttle::is_single_schedule(msg)
            }
            EngineKind::Loom | EngineKind::Stress | EngineKind::Dpor => false,
        }
    }

    /// This engine with `settings`.
    pub fn spec(self, settings: &Settings) -> EngineSpec {
        let Settings {
            preemption_bound,
            seed,
            schedules,
            depth,
            iterations,
        } = *settings;
        match self {
            EngineKind::Loom => EngineSpec::Loom { preemption_bound },
            EngineKind::ShuttleRandom => EngineSpec::ShuttleRandom { seed, schedules },
            EngineKind::ShuttlePct => EngineSpec::ShuttlePct {
                seed,
                schedules,
                depth,
            },
            EngineKind::ShuttleDfs => EngineSpec::ShuttleDfs {
                max_schedules: Some(schedules.max(defaults::DFS_MIN_SCHEDULES)),
            },
            EngineKind::Stress => EngineSpec::Stress { iterations },
            EngineKind::Dpor => EngineSpec::Dpor,
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EngineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::names().collect();
                format!("unknown engine '{s}' (engines: {})", names.join(", "))
            })
    }
}

/// How far one exploration got, as the verdicts read it (see [`EngineSpec::reach`] and
/// `verdict::judge`'s coverage rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// It covered everything it set out to (every execution up to its bound, or the schedules
    /// it was asked to sample): a missed declared violation contradicts the declaration.
    Whole,
    /// It ran what it set out to, but the OS chose the schedules: it cannot contradict a
    /// declared violation.
    Luck,
    /// It stopped because every property was already violated.
    AllViolated,
    /// A deadlock the engine cannot continue past ended it: the deadlock is the verdict, the
    /// other properties are not established.
    Deadlock,
    /// A time budget or a schedule cap cut it short: declared verdicts are not established.
    Cut,
}

/// The settings an engine takes from the command line; each engine reads its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// loom's preemption bound (None: unbounded).
    pub preemption_bound: Option<u32>,
    /// Seed of shuttle-random and shuttle-pct.
    pub seed: u64,
    /// Schedules of shuttle-random and shuttle-pct; a lower bound on shuttle-dfs's bound.
    pub schedules: u64,
    /// PCT bug depth.
    pub depth: u32,
    /// Stress iterations.
    pub iterations: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            preemption_bound: Some(defaults::PREEMPTIONS),
            seed: defaults::SEED,
            schedules: defaults::SCHEDULES,
            depth: defaults::PCT_DEPTH,
            iterations: defaults::STRESS_ITERATIONS,
        }
    }
}

/// An engine and its settings, as chosen on the command line and stored in traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EngineSpec {
    /// loom: exhaustive DPOR over the C11 memory model (subset), optionally preemption-bounded.
    Loom { preemption_bound: Option<u32> },
    /// shuttle, uniformly random scheduling.
    ShuttleRandom { seed: u64, schedules: u64 },
    /// shuttle, probabilistic concurrency testing with bug depth `depth`.
    ShuttlePct {
        seed: u64,
        schedules: u64,
        depth: u32,
    },
    /// shuttle, depth-first enumeration of all sequentially consistent schedules.
    ShuttleDfs { max_schedules: Option<u64> },
    /// Real OS threads and std atomics: the baseline kernel developers use today.
    Stress { iterations: u64 },
    /// Every interleaving up to equivalence under sequential consistency (source-DPOR with
    /// sleep sets on kmodel's native runtime), with no preemption bound.
    Dpor,
}

impl EngineSpec {
    pub fn kind(&self) -> EngineKind {
        match self {
            EngineSpec::Loom { .. } => EngineKind::Loom,
            EngineSpec::ShuttleRandom { .. } => EngineKind::ShuttleRandom,
            EngineSpec::ShuttlePct { .. } => EngineKind::ShuttlePct,
            EngineSpec::ShuttleDfs { .. } => EngineKind::ShuttleDfs,
            EngineSpec::Stress { .. } => EngineKind::Stress,
            EngineSpec::Dpor => EngineKind::Dpor,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// This spec, with shuttle-pct's budget raised to `min` schedules when a variant declares
    /// that it needs more ([`VariantCard::min_pct_schedules`](crate::variant::VariantCard));
    /// other engines and larger budgets are unchanged.
    pub fn with_min_pct_schedules(&self, min: Option<u64>) -> EngineSpec {
        match (self.clone(), min) {
            (
                EngineSpec::ShuttlePct {
                    seed,
                    schedules,
                    depth,
                },
                Some(min),
            ) => EngineSpec::ShuttlePct {
                seed,
                schedules: schedules.max(min),
                depth,
            },
            (
                spec @ (EngineSpec::Loom { .. }
                | EngineSpec::ShuttleRandom { .. }
                | EngineSpec::ShuttlePct { .. }
                | EngineSpec::ShuttleDfs { .. }
                | EngineSpec::Stress { .. }
                | EngineSpec::Dpor),
                _,
            ) => spec,
        }
    }

    /// A short label for tables: the name, with loom's preemption bound.
    pub fn label(&self) -> String {
        match self {
            EngineSpec::Loom {
                preemption_bound: Some(k),
            } => format!("loom k={k}"),
            EngineSpec::Loom {
                preemption_bound: None,
            } => "loom unbounded".into(),
            EngineSpec::ShuttleRandom { .. }
            | EngineSpec::ShuttlePct { .. }
            | EngineSpec::ShuttleDfs { .. }
            | EngineSpec::Stress { .. }
            | EngineSpec::Dpor => self.name().into(),
        }
    }

    /// The memory model executions follow.
    pub fn memory_model(&self) -> &'static str {
        self.kind().memory_model()
    }

    /// Whether the engine explores executions outside sequential consistency.
    pub fn weak_memory(&self) -> bool {
        self.kind().weak_memory()
    }

    /// Engine name with its version, for traces.
    pub fn version(&self) -> String {
        match self.kind() {
            EngineKind::Loom => format!("loom {LOOM_VERSION}"),
            EngineKind::Stress => "std".into(),
            EngineKind::ShuttleRandom | EngineKind::ShuttlePct | EngineKind::ShuttleDfs => {
                format!("shuttle {SHUTTLE_VERSION}")
            }
            EngineKind::Dpor => format!("kmodel-native {}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// Executions a run will take, when its settings say (shuttle schedules, stress
    /// iterations); `None` for an exhaustive search (those run first: they are the long ones).
    pub fn planned_executions(&self) -> Option<u64> {
        match *self {
            EngineSpec::ShuttleRandom { schedules, .. }
            | EngineSpec::ShuttlePct { schedules, .. } => Some(schedules),
            EngineSpec::Stress { iterations } => Some(iterations),
            EngineSpec::Loom { .. } | EngineSpec::ShuttleDfs { .. } | EngineSpec::Dpor => None,
        }
    }

    /// The passes an exploration runs, in order: loom with preemption bound k explores bounds
    /// 0, 1, ..., k in turn (iterative deepening), so every violation is found at the lowest
    /// bound that shows it; other engines run once.
    pub fn passes(&self) -> Vec<EngineSpec> {
        match *self {
            EngineSpec::Loom {
                preemption_bound: Some(k),
            } => (0..=k)
                .map(|bound| EngineSpec::Loom {
                    preemption_bound: Some(bound),
                })
                .collect(),
            EngineSpec::Loom {
                preemption_bound: None,
            }
            | EngineSpec::ShuttleRandom { .. }
            | EngineSpec::ShuttlePct { .. }
            | EngineSpec::ShuttleDfs { .. }
            | EngineSpec::Stress { .. }
            | EngineSpec::Dpor => vec![self.clone()],
        }
    }

    /// The number of the pass (see [`Self::passes`]) this spec is: loom's preemption bound, 0
    /// for the others. Findings order by it.
    pub fn pass(&self) -> u32 {
        match *self {
            EngineSpec::Loom {
                preemption_bound: Some(k),
            } => k,
            EngineSpec::Loom {
                preemption_bound: None,
            }
            | EngineSpec::ShuttleRandom { .. }
            | EngineSpec::ShuttlePct { .. }
            | EngineSpec::ShuttleDfs { .. }
            | EngineSpec::Stress { .. }
            | EngineSpec::Dpor => 0,
        }
    }

    /// How far an exploration with `coverage` got (see [`Reach`]).
    pub fn reach(&self, coverage: &Coverage) -> Reach {
        // What a run that used up its quota means, and what "sampled" means, per engine.
        let (finished, sampled) = match self {
            EngineSpec::Loom { .. } => (Reach::Whole, Reach::Whole),
            EngineSpec::ShuttleRandom { .. } | EngineSpec::ShuttlePct { .. } => {
                (Reach::Whole, Reach::Whole)
            }
            // shuttle-dfs samples only when its schedule cap stopped it in a corner of DFS order.
            EngineSpec::ShuttleDfs { .. } => (Reach::Whole, Reach::Cut),
            EngineSpec::Stress { .. } => (Reach::Luck, Reach::Luck),
            EngineSpec::Dpor => (Reach::Whole, Reach::Whole),
        };
        match coverage {
            Coverage::Exhaustive
            | Coverage::ExhaustiveUpToBound { .. }
            | Coverage::UpToEquivalence { .. } => finished,
            Coverage::Sampled => sampled,
            Coverage::TimeBudget { .. } | Coverage::ExecutionCap { .. } => Reach::Cut,
            Coverage::AllViolated => Reach::AllViolated,
            Coverage::StoppedByDeadlock => Reach::Deadlock,
            Coverage::NoExecutions => Reach::Cut,
        }
    }

    /// What an exploration of `n` executions with `coverage` covered, in words.
    pub fn describe(&self, coverage: &Coverage, n: u64) -> String {
        let executions = match n {
            1 => "1 execution".to_string(),
            n => format!("{n} executions"),
        };
        match coverage {
            Coverage::TimeBudget { budget_secs } => {
                let b = if budget_secs.fract() == 0.0 {
                    format!("{budget_secs:.0}s")
                } else {
                    format!("{budget_secs:.3}s")
                };
                return format!("stopped by the {b} time budget after {executions}");
            }
            Coverage::ExecutionCap { executions } => {
                return format!("stopped at the cap of {executions} executions")
            }
            Coverage::AllViolated => {
                return format!("stopped after {executions}: every property already violated")
            }
            Coverage::NoExecutions => {
                return "no execution ran (this shard drew no part of the search)".to_string()
            }
            Coverage::StoppedByDeadlock => {
                return format!("stopped by a deadlock after {executions}")
            }
            Coverage::ExhaustiveUpToBound { bound } => {
                return format!("exhaustive up to {bound} preemptions, {executions}")
            }
            Coverage::UpToEquivalence { sleep_blocked } => {
                return format!(
                    "every interleaving up to equivalence (SC, no preemption bound), {executions} \
                     ({sleep_blocked} equivalent prefixes cut by sleep sets)"
                )
            }
            Coverage::Exhaustive | Coverage::Sampled => {}
        }
        let sampled = *coverage == Coverage::Sampled;
        match self {
            EngineSpec::Loom { .. } => format!("exhaustive, {executions}"),
            EngineSpec::ShuttlePct { depth, seed, .. } if sampled => {
                format!("{n} PCT schedules (depth {depth}, seed {seed})")
            }
            EngineSpec::ShuttleRandom { seed, .. } if sampled => {
                format!("{n} random schedules (seed {seed})")
            }
            EngineSpec::ShuttleDfs { .. } if sampled => {
                format!("{n} DFS schedules (bound reached)")
            }
            EngineSpec::ShuttleRandom { .. }
            | EngineSpec::ShuttlePct { .. }
            | EngineSpec::ShuttleDfs { .. } => format!("exhaustive under SC, {n} schedules"),
            EngineSpec::Stress { .. } => format!("{n} stress iterations"),
            EngineSpec::Dpor => format!("every interleaving up to equivalence, {executions}"),
        }
    }

    /// Checks a trace's replay data against what this engine can use, before it runs (loom
    /// would panic on a malformed checkpoint; shuttle on an impossible task number).
    pub fn validate_replay(&self, token: &ReplayToken) -> Result<(), String> {
        match (self, token) {
            (EngineSpec::Loom { preemption_bound }, ReplayToken::Loom { path }) => {
                if let Some(k) = preemption_bound.filter(|&k| k > u32::from(u8::MAX)) {
                    return Err(format!("loom preemption bound {k} is out of range 0..=255"));
                }
                loom::validate_path(path)
            }
            (EngineSpec::Loom { .. }, _) => Err("a loom trace needs a loom path".into()),
            (
                EngineSpec::ShuttleRandom { .. }
                | EngineSpec::ShuttlePct { .. }
                | EngineSpec::ShuttleDfs { .. },
                ReplayToken::Shuttle { schedule },
            ) => shuttle::validate_schedule(schedule, MAX_REPLAY_STEPS),
            (
                EngineSpec::ShuttleRandom { .. }
                | EngineSpec::ShuttlePct { .. }
                | EngineSpec::ShuttleDfs { .. },
                ReplayToken::None { .. },
            ) => Ok(()),
            (
                EngineSpec::ShuttleRandom { .. }
                | EngineSpec::ShuttlePct { .. }
                | EngineSpec::ShuttleDfs { .. },
                _,
            ) => Err(format!("a {} trace needs a shuttle schedule", self.name())),
            (EngineSpec::Stress { .. }, ReplayToken::None { .. }) => Ok(()),
            (EngineSpec::Stress { .. }, _) => Err("a stress trace has no replay data".into()),
            (EngineSpec::Dpor, ReplayToken::Native { steps }) => {
                dpor::validate_steps(steps, MAX_REPLAY_STEPS)
            }
            (EngineSpec::Dpor, _) => Err("a dpor trace needs native steps".into()),
        }
    }

    pub(super) fn engine(&self) -> Box<dyn Engine> {
        let ends_stuck = self.kind().ends_stuck_executions();
        match *self {
            EngineSpec::Loom { preemption_bound } => Box::new(loom::Loom {
                preemption_bound,
                ends_stuck,
            }),
            EngineSpec::ShuttleRandom { seed, schedules } => Box::new(shuttle::Shuttle {
                strategy: shuttle::Strategy::Random,
                seed,
                schedules,
                ends_stuck,
            }),
            EngineSpec::ShuttlePct {
                seed,
                schedules,
                depth,
            } => Box::new(shuttle::Shuttle {
                strategy: shuttle::Strategy::Pct { depth },
                seed,
                schedules,
                ends_stuck,
            }),
            EngineSpec::ShuttleDfs { max_schedules } => Box::new(shuttle::Shuttle {
                strategy: shuttle::Strategy::Dfs,
                seed: 0,
                schedules: max_schedules.unwrap_or(u64::MAX),
                ends_stuck,
            }),
            EngineSpec::Stress { iterations } => Box::new(stress::Stress {
                iterations,
                ends_stuck,
            }),
            EngineSpec::Dpor => Box::new(dpor::Dpor),
        }
    }
}

/// An engine name with the default settings ([`Settings::default`]).
impl FromStr for EngineSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(s.parse::<EngineKind>()?.spec(&Settings::default()))
    }
}

impl fmt::Display for EngineSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineSpec::Loom {
                preemption_bound: Some(k),
            } => write!(f, "loom (preemption bound {k})"),
            EngineSpec::Loom {
                preemption_bound: None,
            } => write!(f, "loom (unbounded)"),
            EngineSpec::ShuttleRandom { seed, .. } => write!(f, "shuttle-random (seed {seed})"),
            EngineSpec::ShuttlePct { seed, depth, .. } => {
                write!(f, "shuttle-pct (depth {depth}, seed {seed})")
            }
            EngineSpec::ShuttleDfs { .. } => write!(f, "shuttle-dfs"),
            EngineSpec::Stress { .. } => write!(f, "stress (OS threads)"),
            EngineSpec::Dpor => write!(f, "dpor (every interleaving up to equivalence)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::defaults::{exhaustive_sweep, scene_fallback};
    use super::EngineKind;
    use crate::model::Engines;

    /// dpor sweeps unless a declared violation needs weak memory and loom runs the variant.
    #[test]
    fn exhaustive_sweeps_pick_dpor_unless_weak_memory_is_needed() {
        assert_eq!(exhaustive_sweep(false, Engines::All), EngineKind::Dpor);
        assert_eq!(exhaustive_sweep(true, Engines::All), EngineKind::Loom);
        let shuttle_only = Engines::ShuttleOnly("unsound under loom");
        assert_eq!(exhaustive_sweep(true, shuttle_only), EngineKind::Dpor);
        assert_eq!(scene_fallback(EngineKind::Dpor), Some(EngineKind::Loom));
        assert_eq!(scene_fallback(EngineKind::Loom), None);
    }
}
