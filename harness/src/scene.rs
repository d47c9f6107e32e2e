//! Scenes as data: a model's space of scenes (system size, a sequential set-up, a program per
//! actor), generated and shrunk with proptest, enumerated up to a size, stored in traces.
//!
//! A model implements [`Scenes`] with its own typed scene (and runs it under its own typed
//! design); the harness sees it through the object-safe [`SceneSpace`], with scenes as JSON
//! values at the boundary (traces, shards).

use std::fmt;

use proptest::strategy::{BoxedStrategy, Strategy};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::setup::state::StateSink;
use crate::variant::Scenario;

/// The largest scenes a sweep considers. Every bound is inclusive; sizes start at one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SceneBounds {
    /// `num_possible_cpus()` (or the model's CPU count) of the system.
    pub cpus: u32,
    /// Concurrent actors (loom runs at most 4).
    pub actors: u32,
    /// Operations over all actors' programs.
    pub ops: u32,
    /// Sequential set-up steps before the race.
    pub setup: u32,
}

impl SceneBounds {
    /// The largest scene kmodel accepts from anyone (a file, a trace, a command line): beyond
    /// it a scene is refused as input, whatever the model's own preconditions say.
    pub const LIMIT: SceneBounds = SceneBounds {
        cpus: 64,
        actors: 16,
        ops: 64,
        setup: 64,
    };
}

/// Most scenes one scene file may hold (`explore --scene`).
pub const MAX_SCENES_PER_FILE: usize = 10_000;
/// Most bytes one scene or trace file may hold.
pub const MAX_SCENE_FILE_BYTES: u64 = 8 << 20;

impl fmt::Display for SceneBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<= {} CPUs, <= {} actors, <= {} operations, <= {} set-up steps",
            self.cpus, self.actors, self.ops, self.setup
        )
    }
}

/// How big one scene is; shrinking and reports order scenes by it (smaller is simpler).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct SceneSize {
    pub cpus: u32,
    pub actors: u32,
    pub ops: u32,
    pub setup: u32,
}

impl SceneSize {
    /// Whether the scene fits `b`.
    pub fn within(&self, b: &SceneBounds) -> bool {
        self.cpus <= b.cpus && self.actors <= b.actors && self.ops <= b.ops && self.setup <= b.setup
    }
}

impl fmt::Display for SceneSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} CPUs, {} actors, {} operations, {} set-up steps",
            self.cpus, self.actors, self.ops, self.setup
        )
    }
}

/// A model's scene language, typed. Implement this; the harness uses it as a [`SceneSpace`].
pub trait Scenes: Send + Sync + 'static {
    type Scene: Clone + fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The model's design type: what a scene runs under (the model's `type Design`).
    type Design;

    /// The default bounds of an exhaustive sweep (every scene, loom): small enough for CI.
    const EXHAUSTIVE: SceneBounds;
    /// The default bounds of a random sweep (shuttle): larger scenes, sampled.
    const RANDOM: SceneBounds;

    /// Random scenes within `b`; proptest shrinks them toward fewer CPUs, actors, operations
    /// and set-up steps.
    fn strategy(&self, b: &SceneBounds) -> BoxedStrategy<Self::Scene>;

    /// Every scene within `b`, in a fixed order (the exhaustive sweep).
    fn enumerate(&self, b: &SceneBounds) -> Vec<Self::Scene>;

    /// Refuses a malformed scene (e.g. edited in a trace file) with a one-line reason.
    fn validate(&self, scene: &Self::Scene) -> Result<(), String>;

    /// The scene's size.
    fn size(&self, scene: &Self::Scene) -> SceneSize;

    /// The execution body under `design`: fresh state, the set-up, the actors, the "once
    /// quiet" checks.
    fn scenario(&self, design: &Self::Design, scene: &Self::Scene) -> Scenario;

    /// The scene as a short script a reviewer reads before the timeline, one line per step.
    fn script(&self, scene: &Self::Scene) -> String;

    /// [`scenario`](Scenes::scenario) that also reports the states the scene reaches to `sink`
    /// (set-up exploration, the `setup` module); by default the plain body, reporting nothing.
    fn observe(&self, design: &Self::Design, scene: &Self::Scene, sink: StateSink) -> Scenario {
        let _ = sink;
        self.scenario(design, scene)
    }

    /// The scripted scenes the language holds as named members: a state sweep explores them
    /// first, and [`strategy`](Scenes::strategy) may seed random scenes from them.
    fn scripted(&self) -> Vec<(&'static str, Self::Scene)> {
        vec![]
    }

    /// [`strategy`](Scenes::strategy) without the scripted scenes (`explore --no-scripted`,
    /// which measures the generator alone); the default draws none.
    fn generated(&self, b: &SceneBounds) -> BoxedStrategy<Self::Scene> {
        self.strategy(b)
    }
}

/// Object-safe view of [`Scenes`], with scenes as JSON values.
pub trait SceneSpace: Send + Sync {
    fn exhaustive_bounds(&self) -> SceneBounds;
    fn random_bounds(&self) -> SceneBounds;
    fn strategy(&self, b: &SceneBounds) -> BoxedStrategy<serde_json::Value>;
    /// Random scenes without the scripted ones ([`Scenes::generated`]).
    fn generated(&self, b: &SceneBounds) -> BoxedStrategy<serde_json::Value>;
    /// The scripted members, by name ([`Scenes::scripted`]).
    fn scripted(&self) -> Vec<(&'static str, serde_json::Value)>;
    fn enumerate(&self, b: &SceneBounds) -> Vec<serde_json::Value>;
    /// Parses and validates a stored scene.
    fn check(&self, scene: &serde_json::Value) -> Result<SceneSize, String>;
    fn script(&self, scene: &serde_json::Value) -> Result<String, String>;
}

/// Parses and validates a stored scene of `space`'s language: well-formed, within
/// [`SceneBounds::LIMIT`], and accepted by the model.
pub fn parse<S: Scenes>(space: &S, v: &serde_json::Value) -> Result<S::Scene, String> {
    let scene: S::Scene =
        serde_json::from_value(v.clone()).map_err(|e| format!("malformed scene: {e}"))?;
    let size = space.size(&scene);
    if !size.within(&SceneBounds::LIMIT) {
        return Err(format!(
            "scene too large: {size}; kmodel accepts {}",
            SceneBounds::LIMIT
        ));
    }
    space
        .validate(&scene)
        .map_err(|e| format!("invalid scene: {e}"))?;
    Ok(scene)
}

fn to_json<T: Serialize>(scene: &T) -> serde_json::Value {
    serde_json::to_value(scene).expect("scenes serialize")
}

impl<S: Scenes> SceneSpace for S {
    fn exhaustive_bounds(&self) -> SceneBounds {
        S::EXHAUSTIVE
    }

    fn random_bounds(&self) -> SceneBounds {
        S::RANDOM
    }

    fn strategy(&self, b: &SceneBounds) -> BoxedStrategy<serde_json::Value> {
        Scenes::strategy(self, b).prop_map(|s| to_json(&s)).boxed()
    }

    fn generated(&self, b: &SceneBounds) -> BoxedStrategy<serde_json::Value> {
        Scenes::generated(self, b).prop_map(|s| to_json(&s)).boxed()
    }

    fn scripted(&self) -> Vec<(&'static str, serde_json::Value)> {
        (Scenes::scripted(self).iter())
            .map(|(name, s)| (*name, to_json(s)))
            .collect()
    }

    fn enumerate(&self, b: &SceneBounds) -> Vec<serde_json::Value> {
        Scenes::enumerate(self, b).iter().map(to_json).collect()
    }

    fn check(&self, scene: &serde_json::Value) -> Result<SceneSize, String> {
        parse(self, scene).map(|s| self.size(&s))
    }

    fn script(&self, scene: &serde_json::Value) -> Result<String, String> {
        parse(self, scene).map(|s| Scenes::script(self, &s))
    }
}

/// The scene language of a model without one (`type Scenes = NoScenes<Design>`): it has no
/// scenes, and `kmodel explore` refuses the model.
pub struct NoScenes<D>(std::marker::PhantomData<fn() -> D>);

impl<D: 'static> Scenes for NoScenes<D> {
    type Scene = ();
    type Design = D;

    const EXHAUSTIVE: SceneBounds = SceneBounds {
        cpus: 0,
        actors: 0,
        ops: 0,
        setup: 0,
    };
    const RANDOM: SceneBounds = Self::EXHAUSTIVE;

    fn strategy(&self, _: &SceneBounds) -> BoxedStrategy<()> {
        proptest::strategy::Just(()).boxed()
    }

    fn enumerate(&self, _: &SceneBounds) -> Vec<()> {
        vec![]
    }

    fn validate(&self, _: &()) -> Result<(), String> {
        Err("this model has no scene language".into())
    }

    fn size(&self, _: &()) -> SceneSize {
        SceneSize::default()
    }

    fn scenario(&self, _: &D, _: &()) -> Scenario {
        std::sync::Arc::new(|| {})
    }

    fn script(&self, _: &()) -> String {
        String::new()
    }
}

/// All sequences of length `0..=max_len` over `alphabet`, shortest first.
pub fn sequences<T: Clone>(alphabet: &[T], max_len: usize) -> Vec<Vec<T>> {
    let mut out = vec![vec![]];
    let mut layer: Vec<Vec<T>> = vec![vec![]];
    for _ in 0..max_len {
        let mut next = Vec::with_capacity(layer.len() * alphabet.len());
        for s in &layer {
            for a in alphabet {
                let mut t = s.clone();
                t.push(a.clone());
                next.push(t);
            }
        }
        out.extend(next.iter().cloned());
        layer = next;
    }
    out
}

/// Every way to deal `total` operations from `alphabet` into programs for `actors` actors
/// (each actor's program non-empty), up to `total` operations in all.
pub fn programs<T: Clone>(alphabet: &[T], actors: usize, total: usize) -> Vec<Vec<Vec<T>>> {
    let seqs = sequences(alphabet, total);
    let nonempty: Vec<&Vec<T>> = seqs.iter().filter(|s| !s.is_empty()).collect();
    let mut out = vec![];
    fn go<T: Clone>(
        nonempty: &[&Vec<T>],
        actors: usize,
        left: usize,
        acc: &mut Vec<Vec<T>>,
        out: &mut Vec<Vec<Vec<T>>>,
    ) {
        if acc.len() == actors {
            out.push(acc.clone());
            return;
        }
        for s in nonempty {
            if s.len() <= left {
                acc.push((*s).clone());
                go(nonempty, actors, left - s.len(), acc, out);
                acc.pop();
            }
        }
    }
    go(&nonempty, actors, total, &mut vec![], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_count() {
        // 1 + 3 + 9
        assert_eq!(sequences(&['a', 'b', 'c'], 2).len(), 13);
    }

    #[test]
    fn programs_deal_at_most_total() {
        let p = programs(&['a', 'b'], 2, 3);
        assert!(p
            .iter()
            .all(|ps| ps.len() == 2 && ps.iter().all(|s| !s.is_empty())));
        assert!(p
            .iter()
            .all(|ps| ps.iter().map(Vec::len).sum::<usize>() <= 3));
        // (1,1): 4, (1,2): 2*4, (2,1): 4*2
        assert_eq!(p.len(), 4 + 8 + 8);
    }
}
