//! Happens-before of one recorded execution: a vector clock per step, built from program order
//! and the dependency relation (two steps that conflict are ordered as they ran).

use crate::native::{Access, Obj, Run, MAX_ACTORS};

/// Per actor, how many of its steps happen before (or are) a step.
pub(super) type Clock = [u32; MAX_ACTORS];

/// The execution's steps with their clocks and positions.
pub(super) struct Order {
    pub clocks: Vec<Clock>,
    /// Per step, its 1-based index among its actor's steps.
    pub nth: Vec<u32>,
    /// Per actor, the positions of its steps in the execution.
    pub by_actor: Vec<Vec<u32>>,
    /// Per step, the earlier steps it conflicts with that are not ordered before it by
    /// another conflict (the candidates for a race).
    pub candidates: Vec<Vec<u32>>,
}

/// Last writer and readers since, per object.
#[derive(Default, Clone)]
struct Touch {
    write: Option<u32>,
    reads: Vec<u32>,
}

fn join(a: &mut Clock, b: &Clock) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x).max(*y);
    }
}

impl Order {
    /// Computes happens-before for every step of `run`.
    pub(super) fn of(run: &Run) -> Order {
        let n = run.steps.len();
        let mut clocks: Vec<Clock> = Vec::with_capacity(n);
        let mut nth = Vec::with_capacity(n);
        let mut by_actor: Vec<Vec<u32>> = vec![];
        let mut candidates = Vec::with_capacity(n);
        let mut touched: std::collections::HashMap<Obj, Touch> = Default::default();
        for j in 0..n {
            let p = run.steps[j].actor as usize;
            if by_actor.len() <= p {
                by_actor.resize(p + 1, vec![]);
            }
            let mut c: Clock = match by_actor[p].last() {
                Some(&prev) => clocks[prev as usize],
                None => [0; MAX_ACTORS],
            };
            let fp = run.footprint(j);
            let mut cands: Vec<u32> = vec![];
            for a in merged(fp) {
                let t = touched.entry(a.obj).or_default();
                let mut conflict = |i: u32| {
                    if !cands.contains(&i) {
                        cands.push(i);
                    }
                };
                if let Some(w) = t.write {
                    conflict(w);
                }
                if a.is_write() {
                    t.reads.iter().for_each(|&r| conflict(r));
                }
            }
            for &i in &cands {
                join(&mut c, &clocks[i as usize]);
            }
            by_actor[p].push(j as u32);
            c[p] = by_actor[p].len() as u32;
            for a in merged(fp) {
                let t = touched.entry(a.obj).or_default();
                if a.is_write() {
                    t.write = Some(j as u32);
                    t.reads.clear();
                } else {
                    // Keep one read per actor: an actor's earlier reads happen before its later.
                    let rs = &mut t.reads;
                    rs.retain(|&r| run.steps[r as usize].actor as usize != p);
                    rs.push(j as u32);
                }
            }
            cands.retain(|&i| run.steps[i as usize].actor as usize != p);
            clocks.push(c);
            nth.push(c[p]);
            candidates.push(cands);
        }
        Order {
            clocks,
            nth,
            by_actor,
            candidates,
        }
    }

    /// Whether step `i` happens before (or is) step `j`.
    pub(super) fn before(&self, run: &Run, i: usize, j: usize) -> bool {
        let q = run.steps[i].actor as usize;
        self.clocks[j][q] >= self.nth[i]
    }

    /// The position of actor `q`'s `k`-th step (1-based).
    pub(super) fn position(&self, q: usize, k: u32) -> usize {
        self.by_actor[q][k as usize - 1] as usize
    }
}

/// A footprint with one access per object (a write when any access writes it).
fn merged(fp: &[Access]) -> Vec<Access> {
    let mut out: Vec<Access> = Vec::with_capacity(fp.len());
    for a in fp {
        match out.iter_mut().find(|b| b.obj == a.obj) {
            Some(b) if a.is_write() => *b = *a,
            Some(_) => {}
            None => out.push(*a),
        }
    }
    out
}
