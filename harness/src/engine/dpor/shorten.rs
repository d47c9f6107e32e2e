//! Counterexamples with the fewest context switches. Every order of a violating step's
//! happens-before predecessors that respects happens-before is the same execution up to
//! equivalence, so it reaches the same violation; this picks one that switches actors least
//! (0-1 breadth-first search over how far each actor has got, greedy past a state cap).

use std::collections::{HashMap, VecDeque};

use super::clock::Order;
use crate::native::Run;

/// Searches at most this many states before settling for the greedy order.
const STATE_CAP: usize = 200_000;

/// The steps to keep: those that happen before `target` (or all up to it, with `all`), as a
/// count per actor (each actor's kept steps are a prefix of its steps).
fn kept(run: &Run, order: &Order, target: usize, all: bool) -> Vec<u32> {
    let mut counts = vec![0u32; order.by_actor.len()];
    for i in 0..=target {
        if all || order.before(run, i, target) {
            counts[run.steps[i].actor as usize] += 1;
        }
    }
    counts
}

/// Whether actor `p`'s next step (after `done[p]` of them) may go once `done` steps ran.
fn ready(order: &Order, done: &[u32], keep: &[u32], p: usize) -> bool {
    if done[p] >= keep[p] {
        return false;
    }
    let x = order.position(p, done[p] + 1);
    (0..done.len()).all(|q| q == p || order.clocks[x][q] <= done[q])
}

/// An order of the kept steps with the fewest switches between actors, as the actor of each step.
pub(super) fn fewest_switches(run: &Run, order: &Order, target: usize, all: bool) -> Vec<u8> {
    let keep = kept(run, order, target, all);
    let total: u32 = keep.iter().sum();
    let n = keep.len();
    // State: steps done per actor, and the actor that ran last (n: none yet).
    type State = (Vec<u32>, usize);
    let start: State = (vec![0; n], n);
    let mut cost: HashMap<State, u32> = HashMap::new();
    let mut from: HashMap<State, State> = HashMap::new();
    let mut queue: VecDeque<State> = VecDeque::new();
    cost.insert(start.clone(), 0);
    queue.push_back(start);
    while let Some(s) = queue.pop_front() {
        if cost.len() > STATE_CAP {
            return greedy(order, &keep);
        }
        let c = cost[&s];
        let (done, last) = &s;
        if done.iter().sum::<u32>() == total {
            let mut path = vec![];
            let mut cur = s.clone();
            while let Some(prev) = from.get(&cur) {
                path.push(cur.1 as u8);
                cur = prev.clone();
            }
            path.reverse();
            return path;
        }
        for p in (0..n).filter(|&p| ready(order, done, &keep, p)) {
            let step = u32::from(*last != n && *last != p);
            let mut next = done.clone();
            next[p] += 1;
            let t = (next, p);
            if cost.get(&t).is_none_or(|&old| c + step < old) {
                cost.insert(t.clone(), c + step);
                from.insert(t.clone(), s.clone());
                if step == 0 {
                    queue.push_front(t);
                } else {
                    queue.push_back(t);
                }
            }
        }
    }
    greedy(order, &keep)
}

/// Runs the last actor on while it can, else the lowest actor that can.
fn greedy(order: &Order, keep: &[u32]) -> Vec<u8> {
    let n = keep.len();
    let mut done = vec![0u32; n];
    let mut out = vec![];
    let mut last = 0;
    loop {
        let p = if ready(order, &done, keep, last) {
            last
        } else {
            match (0..n).find(|&p| ready(order, &done, keep, p)) {
                Some(p) => p,
                None => return out,
            }
        };
        done[p] += 1;
        out.push(p as u8);
        last = p;
    }
}
