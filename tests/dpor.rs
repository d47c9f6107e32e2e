//! Soundness evidence for the `dpor` engine (see `soundness/mod.rs`): the search agrees with
//! every interleaving of the same runtime, the runtime agrees with shuttle-dfs, and every final
//! state shuttle-pct samples on model scenes is one dpor reached.

mod soundness;

use kmodel_harness::scene::SceneBounds;
use kmodel_models::REGISTRY;
use soundness::*;

const SMALL: SceneBounds = SceneBounds {
    cpus: 2,
    actors: 2,
    ops: 2,
    setup: 1,
};

#[test]
fn search_agrees_on_scripted_scenes() {
    let (compared, racy) = check_all(scripted(), search_agrees);
    eprintln!("scripted: {compared} compared, {racy} with several final states");
    assert!(
        racy >= 3,
        "only {racy} racy scripted scenes fit the reference"
    );
}

#[test]
fn sampled_states_are_reached_by_dpor() {
    for &m in REGISTRY.iter().filter(|m| m.scenes().is_some()) {
        // The scenes `kmodel explore` sweeps exhaustively by default.
        let b = m.scenes().expect("scenes").exhaustive_bounds();
        let mut cases = generated(m, &b);
        cases.extend(sampled(m));
        let (compared, racy) = check_all(cases, sampled_within);
        eprintln!(
            "{}: {compared} compared with shuttle-pct, {racy} with several final states",
            m.name()
        );
        assert!(racy > 0, "{}: no racy generated scene compared", m.name());
    }
    let model_scenes: Vec<_> = scripted()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("litmus/"))
        .collect();
    let (compared, racy) = check_all(model_scenes, sampled_within);
    eprintln!("scripted: {compared} compared with shuttle-pct, {racy} with several final states");
    assert!(racy >= 10, "only {racy} racy scripted scenes compared");
}

#[test]
fn runtime_agrees_with_shuttle_dfs() {
    let mut cases = scripted();
    for &m in REGISTRY.iter().filter(|m| m.scenes().is_some()) {
        cases.extend(generated(m, &SMALL));
    }
    let (compared, racy) = check_all(cases, runtime_agrees);
    eprintln!("{compared} compared with shuttle-dfs, {racy} with several final states");
    assert!(racy >= 10, "only {racy} racy scenes fit shuttle-dfs");
}
