//! Races from the set-up states: each state's moves (the steps that change it) combined into
//! small concurrent programs, chosen every one in turn or coverage-guided.

use std::collections::{BTreeSet, HashSet};

use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};

use super::coverage::{RaceChoice, SetupCoverage};
use super::graph::{Node, SetupGraph};
use super::space::SetupSpace;
use super::state::StateKey;
use crate::scene::{SceneBounds, SceneSpace};
use crate::verdict::Error;

/// Every race from `node` within `b`: sequences of distinct moves, 1 to `b.ops` long, that the
/// model makes a valid scene of, each scene once.
fn races_of(
    node: &Node,
    setups: &dyn SetupSpace,
    scenes: &dyn SceneSpace,
    b: &SceneBounds,
) -> Result<Vec<serde_json::Value>, Error> {
    let m = node.moves.len();
    let mut out = vec![];
    let mut seen = HashSet::new();
    let mut seqs: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..b.ops {
        let mut next = vec![];
        for s in &seqs {
            for i in (0..m).filter(|i| !s.contains(i)) {
                let mut t = s.clone();
                t.push(i);
                let moves: Vec<&serde_json::Value> = t.iter().map(|&i| &node.moves[i]).collect();
                let race = setups
                    .race(&node.prefix, &moves)
                    .map_err(Error::ModelPanic)?;
                if let Some(race) = race {
                    let fits = scenes.check(&race).is_ok_and(|size| size.within(b));
                    if fits && seen.insert(race.to_string()) {
                        out.push(race);
                    }
                }
                next.push(t);
            }
        }
        seqs = next;
    }
    Ok(out)
}

/// What exploring one race gave: the final states its executions reached, or a stop (the
/// sweep's time budget).
pub enum Raced {
    Finals(BTreeSet<StateKey>),
    Stop,
}

/// Races from the states of `graph` as `choice` says, each explored by `visit`; the numbers go
/// to `cov`.
pub fn race(
    graph: &SetupGraph,
    setups: &dyn SetupSpace,
    scenes: &dyn SceneSpace,
    b: &SceneBounds,
    choice: RaceChoice,
    cov: &mut SetupCoverage,
    mut visit: impl FnMut(&serde_json::Value) -> Result<Raced, Error>,
) -> Result<(), Error> {
    let mut lists = vec![];
    for node in &graph.nodes {
        let races = races_of(node, setups, scenes, b)?;
        cov.race_programs += races.len() as u64;
        lists.push(races);
    }
    let mut finals: BTreeSet<StateKey> = BTreeSet::new();
    let mut raced = vec![false; lists.len()];
    let mut run = |i: usize, race: &serde_json::Value, cov: &mut SetupCoverage| {
        let r = visit(race)?;
        if let Raced::Finals(f) = &r {
            cov.races += 1;
            if !std::mem::replace(&mut raced[i], true) {
                cov.states_raced += 1;
            }
            let before = finals.len();
            finals.extend(f.iter().cloned());
            cov.final_states = finals.len() as u64;
            return Ok::<_, Error>(Some((finals.len() - before) as u64));
        }
        Ok(None)
    };
    match choice {
        RaceChoice::Every => {
            for (i, list) in lists.iter().enumerate() {
                for race in list {
                    if run(i, race, cov)?.is_none() {
                        return Ok(());
                    }
                }
            }
        }
        RaceChoice::Guided { seed, races } => {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
            // Each state's races in a seeded random order, drawn from the back.
            for list in &mut lists {
                for k in (1..list.len()).rev() {
                    list.swap(k, rng.next_u64() as usize % (k + 1));
                }
            }
            let mut gains = vec![0u64; lists.len()];
            let first: Vec<usize> = (0..lists.len()).filter(|&i| !lists[i].is_empty()).collect();
            let mut fresh = first.into_iter();
            for _ in 0..races {
                // States no race started from first, shallow first; then states weighted by
                // the new final states their races reached.
                let i = match fresh.next() {
                    Some(i) => i,
                    None => {
                        let weights: Vec<u64> = (lists.iter().zip(&gains))
                            .map(|(l, g)| if l.is_empty() { 0 } else { 1 + 8 * g })
                            .collect();
                        let total: u64 = weights.iter().sum();
                        if total == 0 {
                            break;
                        }
                        let mut x = rng.next_u64() % total;
                        weights
                            .iter()
                            .position(|&w| {
                                if x < w {
                                    true
                                } else {
                                    x -= w;
                                    false
                                }
                            })
                            .expect("x < total")
                    }
                };
                let race = lists[i].pop().expect("chosen states have races left");
                match run(i, &race, cov)? {
                    Some(gain) => gains[i] += gain,
                    None => return Ok(()),
                }
            }
        }
    }
    Ok(())
}
