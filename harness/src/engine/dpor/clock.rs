//! Happens-before of one recorded execution: a vector clock per step, built from program order
//! and the dependency relation (two steps that conflict are ordered as they ran). Kept
//! incrementally: consecutive executions of a search share a prefix, so a search extends the
//! order by the new steps and truncates it back to the next branch point.

use crate::native::{Run, MAX_ACTORS};

/// Per actor, how many of its steps happen before (or are) a step.
pub(super) type Clock = [u32; MAX_ACTORS];

/// The steps so far with their clocks and positions.
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
    /// Per object slot, the steps that touched it, in order, and whether they wrote it.
    touches: Vec<Vec<(u32, bool)>>,
    conflicts: Vec<u32>,
}

fn join(a: &mut Clock, b: &Clock) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x).max(*y);
    }
}

impl Order {
    /// Happens-before for every step of `run`.
    pub(super) fn of(run: &Run) -> Order {
        let mut o = Order::default();
        o.extend(run);
        o
    }

    /// Steps covered.
    pub(super) fn len(&self) -> usize {
        self.clocks.len()
    }

    /// Adds the steps of `run` past those already covered (`run` extends them).
    pub(super) fn extend(&mut self, run: &Run) {
        if self.cand_at.is_empty() {
            self.cand_at.push(0);
        }
        if self.touches.len() < run.objects as usize {
            self.touches.resize(run.objects as usize, vec![]);
        }
        for j in self.len()..run.steps.len() {
            self.push(run, j);
        }
    }

    fn push(&mut self, run: &Run, j: usize) {
        let p = run.steps[j].actor as usize;
        if self.by_actor.len() <= p {
            self.by_actor.resize(p + 1, vec![]);
        }
        let mut c: Clock = match self.by_actor[p].last() {
            Some(&prev) => self.clocks[prev as usize],
            None => [0; MAX_ACTORS],
        };
        let fp = run.footprint(j);
        self.conflicts.clear();
        for a in fp {
            // Back from the latest: every read since the last write (for a write), and it.
            let mut seen = 0u64;
            for &(s, w) in self.touches[a.obj.slot()].iter().rev() {
                let q = run.steps[s as usize].actor;
                if w {
                    if !self.conflicts.contains(&s) {
                        self.conflicts.push(s);
                    }
                    break;
                }
                // An actor's earlier reads happen before its later ones.
                if a.is_write() && seen & 1 << q == 0 && !self.conflicts.contains(&s) {
                    self.conflicts.push(s);
                }
                seen |= 1 << q;
            }
        }
        for &i in &self.conflicts {
            join(&mut c, &self.clocks[i as usize]);
        }
        self.by_actor[p].push(j as u32);
        c[p] = self.by_actor[p].len() as u32;
        for a in fp {
            self.touches[a.obj.slot()].push((j as u32, a.is_write()));
        }
        let own = |i: &&u32| run.steps[**i as usize].actor as usize != p;
        self.cands.extend(self.conflicts.iter().filter(own));
        self.cand_at.push(self.cands.len() as u32);
        self.clocks.push(c);
        self.nth.push(c[p]);
    }

    /// Forgets steps `k..` (their footprints are those of `run`).
    pub(super) fn truncate(&mut self, run: &Run, k: usize) {
        for j in (k..self.len()).rev() {
            for a in run.footprint(j) {
                let t = &mut self.touches[a.obj.slot()];
                debug_assert_eq!(t.last().map(|&(s, _)| s as usize), Some(j));
                t.pop();
            }
            let p = run.steps[j].actor as usize;
            self.by_actor[p].pop();
        }
        self.clocks.truncate(k);
        self.nth.truncate(k);
        self.cand_at.truncate(k + 1);
        self.cands.truncate(self.cand_at[k] as usize);
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
