//! Everything that describes an engine: [`EngineKind`] (the table of engines and what each can
//! do), [`EngineSpec`] (an engine with its settings, as chosen on the command line and stored in
//! traces), the [`defaults`], and how a coverage reads in words.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::dpor;
use super::loom::{self, LOOM_VERSION};
use super::shuttle::{self, SHUTTLE_VERSION};
use super::stress;
use super::{Coverage, Engine};
use crate::model::Engines;

/// Defaults shared by `kmodel check` and the test suite, so both reach the same verdicts.
pub mod defaults {
    use super::EngineSpec;

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
    pub fn engines() -> Vec<EngineSpec> {
        vec![
            EngineSpec::Loom {
                preemption_bound: Some(PREEMPTIONS),
            },
            EngineSpec::ShuttlePct {
                seed: SEED,
                schedules: SCHEDULES,
                depth: PCT_DEPTH,
            },
        ]
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
        matches!(self, EngineKind::Loom | EngineKind::Stress)
    }

    /// Whether the engine sees happens-before, so it can check [`crate::rt::DATA_RACE`]
    /// (loom: its causality; the SC engines have none, real threads are not instrumented).
    pub fn sees_races(self) -> bool {
        self == EngineKind::Loom
    }

    /// Runs real OS threads: the OS picks the schedule (nothing replays, nothing is exhaustive,
    /// and timings are real, so measurements run alone).
    pub fn real_threads(self) -> bool {
        self == EngineKind::Stress
    }

    /// Whether the engine's search depends on a seed (so benchmarks try several).
    pub fn seeded(self) -> bool {
        matches!(self, EngineKind::ShuttleRandom | EngineKind::ShuttlePct)
    }

    /// Whether the engine can run a variant declared for `engines`, and if not, why.
    pub fn runs(self, engines: Engines) -> Result<(), String> {
        match (engines, self) {
            (Engines::ShuttleOnly(why), EngineKind::Loom) => Err(format!("shuttle only: {why}")),
            _ => Ok(()),
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
    /// that it needs more ([`Variant::min_pct_schedules`](crate::variant::Variant)); other
    /// engines and larger budgets are unchanged.
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
            (spec, _) => spec,
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
            other => other.name().into(),
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

    /// The loom preemption-bound pass that found a violation (0 for other engines).
    pub fn pass(&self) -> u32 {
        match self {
            EngineSpec::Loom {
                preemption_bound: Some(k),
            } => *k,
            _ => 0,
        }
    }

    /// The exploration stopped before covering what it set out to: a time budget, a deadlock,
    /// or a DFS stopped at its schedule bound (a corner of DFS order).
    pub fn stopped_early(&self, coverage: &Coverage) -> bool {
        let dfs_cut = self.kind() == EngineKind::ShuttleDfs && *coverage == Coverage::Sampled;
        dfs_cut
            || matches!(
                coverage,
                Coverage::TimeBudget { .. } | Coverage::StoppedByDeadlock
            )
    }

    /// Whether an exploration covered its whole space, so that a missed expected violation is a
    /// verdict change. Partial searches cannot contradict one: see [`Self::stopped_early`]; nor
    /// can the stress engine's luck.
    pub fn is_complete(&self, coverage: &Coverage) -> bool {
        !self.stopped_early(coverage) && !self.kind().real_threads()
    }

    /// What an exploration of `n` executions with `coverage` covered, in words.
    pub fn describe(&self, coverage: &Coverage, n: u64) -> String {
        match (coverage, self) {
            (Coverage::Exhaustive, EngineSpec::Loom { .. }) => {
                format!("exhaustive, {n} executions")
            }
            (Coverage::Exhaustive, _) => format!("exhaustive under SC, {n} schedules"),
            (Coverage::UpToEquivalence { sleep_blocked }, _) => format!(
                "every interleaving up to equivalence (SC, no preemption bound), {n} executions \
                 ({sleep_blocked} equivalent prefixes cut by sleep sets)"
            ),
            (Coverage::ExhaustiveUpToBound { bound }, _) => {
                format!("exhaustive up to {bound} preemptions, {n} executions")
            }
            (Coverage::Sampled, EngineSpec::ShuttlePct { depth, seed, .. }) => {
                format!("{n} PCT schedules (depth {depth}, seed {seed})")
            }
            (Coverage::Sampled, EngineSpec::ShuttleRandom { seed, .. }) => {
                format!("{n} random schedules (seed {seed})")
            }
            (Coverage::Sampled, EngineSpec::ShuttleDfs { .. }) => {
                format!("{n} DFS schedules (bound reached)")
            }
            (Coverage::Sampled, _) => format!("{n} stress iterations"),
            (Coverage::TimeBudget { budget_secs }, _) => {
                let b = if budget_secs.fract() == 0.0 {
                    format!("{budget_secs:.0}s")
                } else {
                    format!("{budget_secs:.3}s")
                };
                format!("stopped by the {b} time budget after {n} executions")
            }
            (Coverage::AllViolated, _) => {
                format!("stopped after {n} executions: every property already violated")
            }
            (Coverage::StoppedByDeadlock, _) => {
                format!("stopped by a deadlock after {n} executions")
            }
        }
    }

    pub(super) fn engine(&self) -> Box<dyn Engine> {
        match *self {
            EngineSpec::Loom { preemption_bound } => Box::new(loom::Loom { preemption_bound }),
            EngineSpec::ShuttleRandom { seed, schedules } => Box::new(shuttle::Shuttle {
                strategy: shuttle::Strategy::Random,
                seed,
                schedules,
            }),
            EngineSpec::ShuttlePct {
                seed,
                schedules,
                depth,
            } => Box::new(shuttle::Shuttle {
                strategy: shuttle::Strategy::Pct { depth },
                seed,
                schedules,
            }),
            EngineSpec::ShuttleDfs { max_schedules } => Box::new(shuttle::Shuttle {
                strategy: shuttle::Strategy::Dfs,
                seed: 0,
                schedules: max_schedules.unwrap_or(u64::MAX),
            }),
            EngineSpec::Stress { iterations } => Box::new(stress::Stress { iterations }),
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
