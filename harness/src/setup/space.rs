//! A model's set-up language for state exploration: [`SetupStates`] (typed, beside the model's
//! [`Scenes`]) and [`SetupSpace`], its object-safe view with scenes as JSON values.

use serde::de::DeserializeOwned;

use crate::scene::{SceneBounds, Scenes};

/// How a model's set-ups grow one step at a time and how steps race. Implement it beside the
/// model's [`Scenes`]; its `observe` reports the state a set-up reaches (see
/// [`StateSink`](super::StateSink)).
pub trait SetupStates: Scenes {
    /// Default bounds of set-up exploration: systems up to `cpus` CPUs (the roots), races of at
    /// most `actors` actors and `ops` operations, set-ups of at most `setup` steps (the depth
    /// limit).
    const SETUP: SceneBounds;

    /// The scenes with an empty set-up and no race that exploration starts from: one per
    /// system the language has within `b` (number of CPUs, sizes).
    fn roots(&self, b: &SceneBounds) -> Vec<Self::Scene>;

    /// `prefix` (a set-up, no race) with one more set-up step, for every step the language has.
    fn successors(&self, prefix: &Self::Scene) -> Vec<Self::Scene>;

    /// The scene that races the last set-up step of each of `moves` (successors of `prefix`)
    /// from `prefix`'s state, the steps of one CPU (or process) in the given order; `None` when
    /// they make no valid race.
    fn race(&self, prefix: &Self::Scene, moves: &[&Self::Scene]) -> Option<Self::Scene>;
}

/// Object-safe view of [`SetupStates`], with scenes as JSON values.
pub trait SetupSpace: Send + Sync {
    /// The default bounds of set-up exploration ([`SetupStates::SETUP`]).
    fn setup_bounds(&self) -> SceneBounds;
    fn roots(&self, b: &SceneBounds) -> Vec<serde_json::Value>;
    fn successors(&self, prefix: &serde_json::Value) -> Result<Vec<serde_json::Value>, String>;
    fn race(
        &self,
        prefix: &serde_json::Value,
        moves: &[&serde_json::Value],
    ) -> Result<Option<serde_json::Value>, String>;
}

/// A set-up prefix need not be a valid scene on its own (a race may have to finish what it
/// started), so it is parsed without the language's validation.
fn prefix<T: DeserializeOwned>(v: &serde_json::Value) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("malformed set-up prefix: {e}"))
}

fn to_json<T: serde::Serialize>(scene: &T) -> serde_json::Value {
    serde_json::to_value(scene).expect("scenes serialize")
}

impl<S: SetupStates> SetupSpace for S {
    fn setup_bounds(&self) -> SceneBounds {
        S::SETUP
    }

    fn roots(&self, b: &SceneBounds) -> Vec<serde_json::Value> {
        SetupStates::roots(self, b).iter().map(to_json).collect()
    }

    fn successors(&self, p: &serde_json::Value) -> Result<Vec<serde_json::Value>, String> {
        let p: S::Scene = prefix(p)?;
        Ok(SetupStates::successors(self, &p)
            .iter()
            .map(to_json)
            .collect())
    }

    fn race(
        &self,
        p: &serde_json::Value,
        moves: &[&serde_json::Value],
    ) -> Result<Option<serde_json::Value>, String> {
        let p: S::Scene = prefix(p)?;
        let moves: Vec<S::Scene> = moves.iter().map(|m| prefix(m)).collect::<Result<_, _>>()?;
        let refs: Vec<&S::Scene> = moves.iter().collect();
        Ok(SetupStates::race(self, &p, &refs).map(|s| to_json(&s)))
    }
}
