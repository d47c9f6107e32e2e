//! Coverage of a state sweep as numbers: distinct set-up states, how the exploration ended
//! ([`Closure`]), and the (state, race) pairs explored.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a set-up exploration ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Closure {
    /// No set-up step leads to a new state: every reachable state has a set-up of at most
    /// `depth` steps.
    Closed { depth: u32 },
    /// The depth limit was reached with `frontier` states at that depth not extended.
    DepthLimit { depth: u32, frontier: u64 },
    /// The time budget ran out at `depth`, `frontier` states not extended.
    Budget { depth: u32, frontier: u64 },
}

impl Default for Closure {
    fn default() -> Self {
        Closure::Closed { depth: 0 }
    }
}

impl Closure {
    /// Whether every reachable set-up state was found.
    pub fn closed(&self) -> bool {
        matches!(self, Closure::Closed { .. })
    }
}

impl fmt::Display for Closure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Closure::Closed { depth } => write!(f, "closure at depth {depth}"),
            Closure::DepthLimit { depth, frontier } => {
                write!(f, "depth limit {depth} reached, frontier {frontier}")
            }
            Closure::Budget { depth, frontier } => {
                write!(
                    f,
                    "stopped by the time budget at depth {depth}, frontier {frontier}"
                )
            }
        }
    }
}

/// How the races from the set-up states were chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RaceChoice {
    /// Every race within the bounds from every state, shallow states first.
    Every,
    /// `races` races, coverage-guided (states not raced yet first, then states whose races
    /// reached new final states), from `seed`.
    Guided { seed: u64, races: u64 },
}

impl fmt::Display for RaceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaceChoice::Every => f.write_str("every race"),
            RaceChoice::Guided { seed, races } => {
                write!(f, "{races} coverage-guided races (seed {seed})")
            }
        }
    }
}

/// What a state sweep covered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SetupCoverage {
    /// Distinct set-up states (canonical up to the renamings the model treats symmetrically).
    pub states: u64,
    pub closure: Closure,
    /// New states per set-up depth (index = steps).
    pub per_depth: Vec<u64>,
    /// Set-ups executed to find them.
    pub setup_runs: u64,
    /// Races available from all states within the bounds (moves that change the state,
    /// combined).
    pub race_programs: u64,
    /// (state, race) pairs explored.
    pub races: u64,
    /// Distinct states at least one race started from.
    pub states_raced: u64,
    /// Distinct states the races' actors left once joined, over all executions.
    pub final_states: u64,
    /// Scripted scenes explored first as named members (0 with `--no-scripted`).
    pub scripted: u64,
}

impl fmt::Display for SetupCoverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} distinct set-up states ({}; {} set-up runs); {} of {} (state, race) pairs from {} \
             states, {} distinct final states",
            self.states,
            self.closure,
            self.setup_runs,
            self.races,
            self.race_programs,
            self.states_raced,
            self.final_states
        )?;
        if self.scripted > 0 {
            write!(f, "; {} scripted scenes", self.scripted)?;
        }
        Ok(())
    }
}
