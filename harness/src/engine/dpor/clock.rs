//! Happens-before of one recorded execution: a vector clock per step, built from program order
//! and the dependency relation (two steps that conflict are ordered as they ran).

use crate::native::{Run, MAX_ACTORS};

/// Per actor, how many of its steps happen before (or are) a step.
pub(super) type Clock = [u32; MAX_ACTORS];

/// The execution's steps with their clocks and positions.
#[derive(Default)]
pub(super) struct Order {
    pub clocks: Vec<Clock>,
    /// Per step, its 1-based index among its actor's steps.
    pub nth: Vec<u32>,
    /// Per actor, the positions of its steps in the execution.
    pub by_actor: Vec<Vec<u32>>,
    /// Per step, the earlier steps of other actors it conflicts with that no other conflict
    /// orders before it (the candidates for a race): `cands[cand_at[j]..cand_at[j + 1]]`.
    cands: Vec<u32>,
    cand_at: Vec<u32>,
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
        let mut o = Order {
            clocks: Vec::with_capacity(n),
            nth: Vec::with_capacity(n),
            by_actor: vec![],
            cands: Vec::with_capacity(2 * n),
            cand_at: Vec::with_capacity(n + 1),
        };
        let mut touched: Vec<Touch> = vec![Touch::default(); run.objects as usize];
        let mut conflicts: Vec<u32> = Vec::with_capacity(8);
        o.cand_at.push(0);
        for j in 0..n {
            let p = run.steps[j].actor as usize;
            if o.by_actor.len() <= p {
                o.by_actor.resize(p + 1, vec![]);
            }
            let mut c: Clock = match o.by_actor[p].last() {
                Some(&prev) => o.clocks[prev as usize],
                None => [0; MAX_ACTORS],
            };
            let fp = run.footprint(j);
            conflicts.clear();
            for a in fp {
                let t = &touched[a.obj.slot()];
                let mut add = |i: u32| {
                    if !conflicts.contains(&i) {
                        conflicts.push(i);
                    }
                };
                if let Some(w) = t.write {
                    add(w);
                }
                if a.is_write() {
                    t.reads.iter().for_each(|&r| add(r));
                }
            }
            for &i in &conflicts {
                join(&mut c, &o.clocks[i as usize]);
            }
            o.by_actor[p].push(j as u32);
            c[p] = o.by_actor[p].len() as u32;
            for a in fp {
                let t = &mut touched[a.obj.slot()];
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
            o.cands.extend(
                conflicts
                    .iter()
                    .filter(|&&i| run.steps[i as usize].actor as usize != p),
            );
            o.cand_at.push(o.cands.len() as u32);
            o.clocks.push(c);
            o.nth.push(c[p]);
        }
        o
    }

    /// The race candidates of step `j` (see [`Order::cands`]).
    pub(super) fn candidates(&self, j: usize) -> &[u32] {
        &self.cands[self.cand_at[j] as usize..self.cand_at[j + 1] as usize]
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
