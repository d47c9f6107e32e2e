//! Shared by `tests/dpor.rs` and `tests/dpor_mutant.rs`: final states of scenes under each
//! engine, and the three comparisons that tie the `dpor` engine to an independent runtime:
//! 1. the search: on every scripted scene small enough (the litmus tests), dpor reaches exactly
//!    the final states (per actor, the steps it recorded; the properties violated) that every
//!    interleaving of the same native runtime reaches, with no reduction;
//! 2. the runtime: where shuttle-dfs (shuttle's own runtime, every SC schedule) finishes, the
//!    native runtime's interleavings reach exactly shuttle's final states;
//! 3. at scale: on generated scenes of every model and on scripted scenes dpor completes, every
//!    final state shuttle-pct samples is one dpor reached (a missed class would show here).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use kmodel_harness::engine::{self, Coverage, EngineSpec, Options};
use kmodel_harness::model::{Model, Scenario, VariantCard};
use kmodel_harness::scene::SceneBounds;
use kmodel_models::REGISTRY;

/// Interleavings the unreduced references may take before a scene counts as too big.
const CAP: u64 = 6_000;
/// Generated scenes compared per model (spread evenly over the enumeration).
const PER_MODEL: usize = 24;

type States = BTreeSet<String>;

/// The final states `spec` reaches on `sc`, if it explored everything.
fn states(spec: &EngineSpec, sc: &Scenario) -> Option<States> {
    states_within(spec, sc, None)
}

/// [`states`], stopping at `budget` (then `None`); a sampling engine's states are all it saw.
fn states_within(
    spec: &EngineSpec,
    sc: &Scenario,
    budget: Option<std::time::Duration>,
) -> Option<States> {
    let set = Arc::new(Mutex::new(States::new()));
    let x = engine::explore(
        spec,
        sc,
        Options {
            jobs: 1,
            budget,
            states: Some(set.clone()),
            ..Options::default()
        },
    )
    .expect("explores");
    let done = matches!(
        (spec, &x.coverage),
        (EngineSpec::Dpor, Coverage::UpToEquivalence { .. })
            | (EngineSpec::ShuttleDfs { .. }, Coverage::Exhaustive)
            | (EngineSpec::ShuttlePct { .. }, _)
    );
    done.then(|| set.lock().unwrap().clone())
}

fn differ(what: &str, want: &States, got: &States) -> String {
    let missing = want.difference(got).next().cloned().unwrap_or_default();
    let extra = got.difference(want).next().cloned().unwrap_or_default();
    format!(
        "{} final states expected, {} under {what}\nmissed:\n{missing}\nunexpected:\n{extra}",
        want.len(),
        got.len()
    )
}

/// Step 1 on `sc`: `None` when the unreduced search does not finish; else the number of final
/// states both reach, or the first difference.
pub fn search_agrees(sc: &Scenario) -> Option<Result<usize, String>> {
    let want = engine::every_interleaving(sc, CAP)?;
    let got = states(&EngineSpec::Dpor, sc).expect("dpor finishes where the reference does");
    Some(if got == want {
        Ok(want.len())
    } else {
        Err(differ("dpor", &want, &got))
    })
}

/// Step 3 on `sc`: the states shuttle-pct samples that dpor did not reach (`None` when dpor
/// does not finish within its budget).
pub fn sampled_within(sc: &Scenario) -> Option<Result<usize, String>> {
    let dpor = states_within(
        &EngineSpec::Dpor,
        sc,
        Some(std::time::Duration::from_millis(1500)),
    )?;
    let pct = EngineSpec::ShuttlePct {
        seed: 1,
        schedules: 200,
        depth: 3,
    };
    let sampled = states_within(&pct, sc, None).expect("sampled");
    let outside: Vec<&String> = sampled.difference(&dpor).collect();
    Some(match outside.first() {
        None => Ok(dpor.len()),
        Some(s) => Err(format!(
            "shuttle-pct reached {} final states dpor did not (of {} sampled, {} under dpor):\n{s}",
            outside.len(),
            sampled.len(),
            dpor.len()
        )),
    })
}

/// Step 2 on `sc`.
pub fn runtime_agrees(sc: &Scenario) -> Option<Result<usize, String>> {
    let dfs = EngineSpec::ShuttleDfs {
        max_schedules: Some(CAP),
    };
    let quick = engine::explore(&dfs, sc, Options::default()).expect("explores");
    if quick.coverage != Coverage::Exhaustive {
        return None;
    }
    let want = states(&dfs, sc)?;
    let got = states(&EngineSpec::Dpor, sc).expect("dpor finishes where shuttle-dfs does");
    Some(if got == want {
        Ok(want.len())
    } else {
        Err(differ("dpor (the native runtime)", &want, &got))
    })
}

/// Every scripted scene (every variant, default parameters; the litmus tests too).
pub fn scripted() -> Vec<(String, Scenario)> {
    REGISTRY
        .iter()
        .flat_map(|m| {
            m.variants().into_iter().map(move |v| {
                let p = m.resolve(&Default::default()).expect("defaults");
                let sc = m.scenario_for(v, &p, None).expect("scripted scene");
                (format!("{}/{}", m.name(), v.name), sc)
            })
        })
        .collect()
}

/// A generated scene of `m` as `v`'s execution body (default parameters).
fn scene_of(m: &dyn Model, v: &VariantCard, s: &serde_json::Value) -> Scenario {
    let p = m.resolve(&Default::default()).expect("defaults");
    m.scenario_for(v, &p, Some(s)).expect("valid scene")
}

/// [`PER_MODEL`] generated scenes within `b` with two or more actors, spread over the first two
/// variants with a sweep.
pub fn generated(m: &dyn Model, b: &SceneBounds) -> Vec<(String, Scenario)> {
    let Some(space) = m.scenes() else {
        return vec![];
    };
    let scenes: Vec<_> = space
        .enumerate(b)
        .into_iter()
        .filter(|s| space.check(s).is_ok_and(|z| z.actors >= 2))
        .collect();
    let stride = (scenes.len() / (PER_MODEL / 2)).max(1);
    m.variants()
        .into_iter()
        .filter(|v| v.sweep.is_some())
        .take(2)
        .flat_map(|v| {
            scenes.iter().step_by(stride).map(move |s| {
                let sc = scene_of(m, v, s);
                (format!("{}/{} on {s}", m.name(), v.name), sc)
            })
        })
        .collect()
}

/// [`PER_MODEL`] random scenes within the model's random-sweep bounds (fixed seed), with two or
/// more actors, on its first variant with a sweep.
pub fn sampled(m: &dyn Model) -> Vec<(String, Scenario)> {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let Some(space) = m.scenes() else {
        return vec![];
    };
    let Some(v) = m.variants().into_iter().find(|v| v.sweep.is_some()) else {
        return vec![];
    };
    let strategy = space.strategy(&space.random_bounds());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    (0..PER_MODEL * 4)
        .map(|_| strategy.new_tree(&mut runner).expect("a scene").current())
        .filter(|s| space.check(s).is_ok_and(|z| z.actors >= 2))
        .take(PER_MODEL)
        .map(|s| {
            let sc = scene_of(m, v, &s);
            (format!("{}/{} on {s}", m.name(), v.name), sc)
        })
        .collect()
}

/// Runs `agree` on every case: (compared, of which with two or more final states).
pub fn check_all(
    cases: Vec<(String, Scenario)>,
    agree: impl Fn(&Scenario) -> Option<Result<usize, String>>,
) -> (usize, usize) {
    let (mut compared, mut racy) = (0, 0);
    for (name, sc) in cases {
        match agree(&sc) {
            None => {}
            Some(Ok(n)) => {
                compared += 1;
                racy += usize::from(n > 1);
            }
            Some(Err(e)) => panic!("{name}: {e}"),
        }
    }
    (compared, racy)
}
