//! Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014) over the native
//! runtime: the stack of nodes of the execution being explored, which actor each new execution
//! runs where, and the races that add alternatives.
//!
//! A node is the state after a prefix of steps. Its backtrack set holds the actors to explore
//! from it, its sleep set the actors whose next step is already covered by an explored sibling
//! (and commutes with everything taken since). After each execution every reversible race
//! `i ⋖ j` (conflicting steps of two actors, `i` ordered before `j` by no other step) makes sure
//! some actor that can start `notdep(i).j` is in node `i`'s backtrack set. Nodes before `fixed`
//! belong to a subtree's fixed prefix: every alternative there is its own subtree
//! (see `split.rs`), so races aimed at them are already covered.

use super::clock::{Clock, Order};
use crate::native::{dependent, Access, Chooser, Enabler, Kind, Obj, Run, MAX_ACTORS};

/// An actor whose next step from a node is known and need not be explored again.
#[derive(Clone, Debug)]
pub(super) struct Sleeper {
    pub actor: u8,
    pub footprint: Vec<Access>,
}

fn mask(s: &[Sleeper]) -> u64 {
    s.iter().fold(0, |m, s| m | 1 << s.actor)
}

struct Node {
    enabled: u64,
    backtrack: u64,
    done: u64,
    sleep: Vec<Sleeper>,
    /// Siblings explored before the one taken, with their steps.
    explored: Vec<Sleeper>,
    taken: u8,
}

impl Node {
    fn asleep(&self) -> u64 {
        mask(&self.sleep) | mask(&self.explored)
    }
}

/// Where a subtree starts: the path to its root node, the root's sleep set and explored
/// siblings, and the actor it takes there (the last entry of `path`).
#[derive(Clone, Debug, Default)]
pub(super) struct Root {
    pub path: Vec<u8>,
    pub sleep: Vec<Sleeper>,
    pub explored: Vec<Sleeper>,
}

impl Root {
    /// The root node's depth (`path` ends with the step taken there).
    fn at(&self) -> Option<usize> {
        self.path.len().checked_sub(1)
    }
}

/// The first node past a subtree's root where two or more actors may go (see `split.rs`).
#[derive(Clone, Debug)]
pub(super) struct Branch {
    /// The path to the node.
    pub path: Vec<u8>,
    /// The actors that may go: enabled and not asleep.
    pub free: u64,
    pub sleep: Vec<Sleeper>,
}

/// Counts of one subtree's search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Stats {
    /// Executions explored to their end.
    pub executions: u64,
    /// Executions abandoned because every enabled actor slept: equivalent to one explored.
    pub sleep_blocked: u64,
    /// Races found, and alternatives they added.
    pub races: u64,
    pub backtracks: u64,
}

/// The search of one subtree.
pub(super) struct Search {
    root: Root,
    nodes: Vec<Node>,
    /// Nodes below this depth are fixed.
    fixed: usize,
    /// The first node of the current execution that differs from the previous one.
    diverge: usize,
    /// The model chose differently on a replayed prefix: it is not deterministic.
    pub nondeterministic: Option<String>,
    /// Set to `Some(None)` to probe: the execution stops at the first branching node, which
    /// is recorded here.
    pub probe: Option<Option<Branch>>,
    pub stats: Stats,
    /// Diagnostics (`KMODEL_DPOR_STATS`): alternatives added, per object the race was on.
    pub by_object: Option<std::collections::HashMap<Obj, u64>>,
    /// Happens-before of the current execution, kept across executions (see `clock.rs`).
    order: Order,
}

impl Search {
    pub(super) fn new(root: Root) -> Search {
        let fixed = root.at().map_or(0, |a| a + 1);
        Search {
            root,
            nodes: vec![],
            fixed,
            diverge: 0,
            nondeterministic: None,
            probe: None,
            stats: Stats::default(),
            by_object: None,
            order: Order::default(),
        }
    }

    /// The actors taken in the current execution so far (its replay token).
    pub(super) fn path(&self) -> Vec<u8> {
        self.nodes.iter().map(|n| n.taken).collect()
    }

    fn sleep_at(&self, k: usize, run: &Run) -> Vec<Sleeper> {
        if Some(k) == self.root.at() {
            return self.root.sleep.clone();
        }
        if k < self.fixed || k == 0 {
            return vec![];
        }
        let parent = &self.nodes[k - 1];
        let fp = run.footprint(k - 1);
        parent
            .sleep
            .iter()
            .chain(&parent.explored)
            .filter(|s| s.actor != parent.taken && !dependent(&s.footprint, fp))
            .cloned()
            .collect()
    }

    /// After an execution: analyses its races, then moves to the next execution's branch
    /// point. False when the subtree is exhausted.
    pub(super) fn next(&mut self, run: &Run) -> bool {
        self.races(run);
        for k in (self.fixed..self.nodes.len()).rev() {
            let n = &self.nodes[k];
            let todo = n.backtrack & !n.done & n.enabled & !n.asleep();
            if todo != 0 {
                let p = todo.trailing_zeros() as u8;
                let footprint = run.footprint(k).to_vec();
                let n = &mut self.nodes[k];
                n.explored.push(Sleeper {
                    actor: n.taken,
                    footprint,
                });
                n.done |= 1 << p;
                n.taken = p;
                self.nodes.truncate(k + 1);
                self.diverge = k;
                self.order.truncate(run, k);
                return true;
            }
        }
        false
    }

    /// Every reversible race whose later step is new in this execution.
    fn races(&mut self, run: &Run) {
        let mut order = std::mem::take(&mut self.order);
        order.extend(run);
        self.races_in(run, &order);
        self.order = order;
    }

    fn races_in(&mut self, run: &Run, order: &Order) {
        let n = run.steps.len().min(self.nodes.len());
        for j in self.diverge.max(1)..n {
            for &i in order.candidates(j) {
                let i = i as usize;
                let Some(e) = reversal(run, order, i, j) else {
                    continue;
                };
                self.stats.races += 1;
                if e < self.fixed {
                    continue;
                }
                let initials = initials(run, order, e, i, j);
                let node = &mut self.nodes[e];
                if initials & (node.backtrack | node.asleep()) != 0 {
                    continue;
                }
                let add = initials & node.enabled;
                if add != 0 {
                    node.backtrack |= 1 << add.trailing_zeros();
                    self.stats.backtracks += 1;
                    if let Some(m) = self.by_object.as_mut() {
                        for a in run.footprint(j) {
                            if run.footprint(i).iter().any(|b| b.conflicts(*a)) {
                                *m.entry(a.obj).or_default() += 1;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// When conflicting steps `i` and `j` race, the step `j` must be placed before: `i` itself, or,
/// when `i` released a lock `j` takes, the step that took it before `i` (between the two, `j`
/// could never take it). `None` when they do not race: another predecessor of `j` comes after
/// that step, or what enabled `j` does not exist without it.
fn reversal(run: &Run, order: &Order, i: usize, j: usize) -> Option<usize> {
    let e = relock(run, i, j).unwrap_or(i);
    // `e` must not happen before `j` through any predecessor of `j` but `i`.
    let after_e = |d: usize| d >= e && order.before(run, e, d);
    let p = run.steps[j].actor as usize;
    let prev = order.by_actor[p]
        .iter()
        .rev()
        .find(|&&s| (s as usize) < j)
        .map(|&s| s as usize);
    if prev.is_some_and(after_e) {
        return None;
    }
    if order
        .candidates(j)
        .iter()
        .any(|&d| d as usize != i && d as usize != e && after_e(d as usize))
    {
        return None;
    }
    let ok = match run.steps[j].enabler {
        Enabler::Program => true,
        Enabler::Stuck => false,
        Enabler::Step(s) => !after_e(s as usize),
        Enabler::AwaitSince(since) => {
            // Another write of what it waited on, after it began waiting and not after `e`.
            let waited: Vec<_> = run
                .footprint(j)
                .iter()
                .filter(|a| a.kind == Kind::WakeRead)
                .map(|a| a.obj)
                .collect();
            (since as usize + 1..j).any(|w| {
                w != i
                    && !after_e(w)
                    && run
                        .footprint(w)
                        .iter()
                        .any(|a| a.is_write() && waited.contains(&a.obj))
            })
        }
    };
    ok.then_some(e)
}

/// When `i` releases a lock that `j` acquires: the step of `i`'s actor that took it.
fn relock(run: &Run, i: usize, j: usize) -> Option<usize> {
    let lock = run.footprint(j).iter().find_map(|a| {
        (a.kind == Kind::Acquire
            && run
                .footprint(i)
                .iter()
                .any(|b| b.obj == a.obj && b.kind == Kind::Release))
        .then_some(a.obj)
    })?;
    let q = run.steps[i].actor;
    (0..i).rev().find(|&k| {
        run.steps[k].actor == q
            && run
                .footprint(k)
                .iter()
                .any(|a| a.obj == lock && a.kind == Kind::Acquire)
    })
}

/// The actors that can take the first step of `v = notdep(e).j`: the steps after `e` (up to
/// `j`) that `e` does not happen before, then `j` (without its edge from `i`, the step it races
/// with); an actor starts `v` when its first step there has no predecessor in `v`.
fn initials(run: &Run, order: &Order, e: usize, i: usize, j: usize) -> u64 {
    // Whether every step a clock covers (per actor, its latest) lies before `e`.
    let clear =
        |c: &Clock| (0..order.by_actor.len()).all(|q| c[q] == 0 || order.position(q, c[q]) < e);
    let mut out = 0u64;
    for x in e + 1..j {
        if order.before(run, e, x) {
            continue;
        }
        let p = run.steps[x].actor as usize;
        let mut c = order.clocks[x];
        c[p] -= 1;
        if clear(&c) {
            out |= 1 << p;
        }
    }
    // `j` without the race's own edge: its actor's previous step and its other conflicts.
    let p = run.steps[j].actor as usize;
    let mut c: Clock = [0; MAX_ACTORS];
    let mut join = |d: &Clock| c.iter_mut().zip(d).for_each(|(x, y)| *x = (*x).max(*y));
    if let Some(&prev) = order.by_actor[p].iter().rev().find(|&&s| (s as usize) < j) {
        join(&order.clocks[prev as usize]);
    }
    for &d in order
        .candidates(j)
        .iter()
        .filter(|&&d| d as usize != i && d as usize != e)
    {
        join(&order.clocks[d as usize]);
    }
    if clear(&c) {
        out |= 1 << p;
    }
    out
}

impl Chooser for Search {
    fn choose(&mut self, enabled: u64, run: &Run) -> Option<usize> {
        let k = run.steps.len();
        if k < self.nodes.len() {
            let n = &self.nodes[k];
            if n.enabled != enabled && self.nondeterministic.is_none() {
                self.nondeterministic = Some(format!(
                    "replaying step {k}, actors {enabled:#b} can run where {:#b} could before",
                    n.enabled
                ));
            }
            return (enabled & 1 << n.taken != 0).then_some(n.taken as usize);
        }
        if k < self.fixed {
            let p = self.root.path[k];
            if enabled & 1 << p == 0 {
                self.nondeterministic = Some(format!(
                    "replaying a subtree's path, actor {p} cannot take step {k}"
                ));
                return None;
            }
            self.nodes.push(Node {
                enabled,
                backtrack: 1 << p,
                done: 1 << p,
                sleep: vec![],
                explored: if Some(k) == self.root.at() {
                    self.root.explored.clone()
                } else {
                    vec![]
                },
                taken: p,
            });
            if Some(k) == self.root.at() {
                self.nodes[k].sleep = self.root.sleep.clone();
            }
            return Some(p as usize);
        }
        let sleep = self.sleep_at(k, run);
        let free = enabled & !mask(&sleep);
        if free == 0 {
            self.stats.sleep_blocked += 1;
            return None;
        }
        if self.probe.is_some() && free.count_ones() >= 2 {
            self.probe = Some(Some(Branch {
                path: self.path(),
                free,
                sleep,
            }));
            return None;
        }
        let p = free.trailing_zeros() as u8;
        self.nodes.push(Node {
            enabled,
            backtrack: 1 << p,
            done: 1 << p,
            sleep,
            explored: vec![],
            taken: p,
        });
        Some(p as usize)
    }
}
