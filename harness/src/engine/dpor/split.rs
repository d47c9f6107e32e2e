//! Splitting the search into subtrees that worker threads, processes or machines explore
//! independently, with counts that do not depend on how many there are.
//!
//! A probe runs the search's first execution of a subtree until the first node where two or more
//! actors may go (enabled and not asleep). That node is expanded fully: every such actor starts
//! a subtree of its own, with the node's sleep set and the earlier siblings as explored, exactly
//! as the one search would continue there. Races aimed at a fully expanded node (or at the
//! single-choice nodes before it) could only add an actor that is already explored or asleep, so
//! each subtree's search drops them. The subtrees together cover what one search covers, in the
//! same order; they may explore a little more (the fixed nodes forgo source-set pruning).

use super::search::{Root, Search, Sleeper};
use crate::native::{Chooser, Run};

/// Split until there are at least this many subtrees (or no node branches any more).
const TARGET: usize = 32;
/// At most this many rounds of splitting.
const ROUNDS: usize = 8;

/// Follows `path`, then stops.
struct Path<'a>(&'a [u8]);

impl Chooser for Path<'_> {
    fn choose(&mut self, enabled: u64, run: &Run) -> Option<usize> {
        let p = *self.0.get(run.steps.len())?;
        (enabled & 1 << p != 0).then_some(p as usize)
    }
}

/// The subtrees of the whole search, in the order one search would explore them.
/// `execute` runs one execution under a chooser and returns its record.
pub(super) fn subtrees(mut execute: impl FnMut(&mut dyn Chooser) -> Run) -> Vec<Root> {
    let mut frontier = vec![Root::default()];
    for _ in 0..ROUNDS {
        if frontier.len() >= TARGET {
            break;
        }
        let mut next = Vec::with_capacity(frontier.len() * 2);
        let mut split = false;
        for root in frontier {
            let mut probe = Search::new(root.clone());
            probe.probe = Some(None);
            execute(&mut probe);
            let Some(Some(branch)) = probe.probe.take() else {
                next.push(root);
                continue;
            };
            split = true;
            let mut explored: Vec<Sleeper> = vec![];
            for actor in (0..64u8).filter(|&a| branch.free & 1 << a != 0) {
                let mut path = branch.path.clone();
                path.push(actor);
                let run = execute(&mut Path(&path));
                let footprint = run.footprint(branch.path.len()).to_vec();
                next.push(Root {
                    path,
                    sleep: branch.sleep.clone(),
                    explored: explored.clone(),
                });
                explored.push(Sleeper { actor, footprint });
            }
        }
        frontier = next;
        if !split {
            break;
        }
    }
    frontier
}
