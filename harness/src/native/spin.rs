//! Spin loops as waits: an iteration of a [`Spinner`](crate::Spinner) loop that wrote nothing
//! (but locks it took and released again) and read nothing another actor wrote meanwhile would
//! only repeat itself, so instead of spinning the actor waits for a write of something it read
//! (the await reduction of GenMC and Nidhugg). A spinner that nothing can wake is a live lock.

use super::access::{Access, Kind, Obj, Op};
use super::exec::{self, Run};

/// What one iteration of the running actor's spin loop touched.
pub(crate) struct SpinTrack {
    /// The step the iteration began in.
    from: u32,
    reads: Vec<Obj>,
    /// Per lock, acquisitions minus releases.
    locks: Vec<(Obj, i32)>,
    /// Any other write (a store, a changing RMW, a wait, a notify, ghost state, a lock's data).
    wrote: bool,
}

impl SpinTrack {
    fn new(from: u32) -> Self {
        SpinTrack {
            from,
            reads: vec![],
            locks: vec![],
            wrote: false,
        }
    }

    fn read(&mut self, o: Obj) {
        if !self.reads.contains(&o) {
            self.reads.push(o);
        }
    }

    fn lock(&mut self, o: Obj, d: i32) {
        self.read(o);
        match self.locks.iter_mut().find(|(l, _)| *l == o) {
            Some((_, n)) => *n += d,
            None => self.locks.push((o, d)),
        }
    }

    /// Notes one access of `op`, made by the spinning actor.
    pub(crate) fn note(&mut self, op: Op, a: Access) {
        match (op, a.kind) {
            (Op::Lock(o), _) => self.lock(o, 1),
            (Op::Unlock(o), _) => self.lock(o, -1),
            (_, Kind::Write | Kind::Acquire | Kind::Release) => self.wrote = true,
            (_, Kind::Read | Kind::WakeRead) => self.read(a.obj),
        }
    }

    /// The actor wrote through a lock guard (the data a lock protects is no object of its own).
    pub(crate) fn dirty(&mut self) {
        self.wrote = true;
    }

    /// Whether the iteration can only repeat itself: it changed nothing, and no other actor
    /// wrote what it read since it began.
    fn idle(&self, run: &Run, me: usize) -> bool {
        if self.wrote || self.locks.iter().any(|&(_, n)| n != 0) {
            return false;
        }
        (self.from as usize..run.steps.len())
            .filter(|&i| run.steps[i].actor as usize != me)
            .all(|i| {
                !run.footprint(i)
                    .iter()
                    .any(|a| a.is_write() && self.reads.contains(&a.obj))
            })
    }
}

/// One `cpu_relax()` of spin loop `what`: returns at once unless the iteration just finished
/// was idle; then waits until something it read is written. False when the actor is let go
/// from a live lock.
pub(crate) fn relax(what: &'static str) -> bool {
    let me = exec::current();
    let idle = exec::with_spin(|t, run| {
        let prev = t.replace(SpinTrack::new(run.steps.len() as u32 - 1));
        prev.filter(|p| p.idle(run, me)).map(|p| p.reads)
    });
    let Some(Some(reads)) = idle else {
        // Not idle: a schedule point, as every engine's `cpu_relax()` is.
        exec::schedule();
        return true;
    };
    let go_on = exec::await_write(reads, Some(what));
    exec::with_spin(|t, run| *t = Some(SpinTrack::new(run.steps.len() as u32 - 1)));
    go_on
}

/// The spin loop is left: stop tracking.
pub(crate) fn end() {
    exec::with_spin(|t, _| *t = None);
}

/// The running actor wrote data behind a lock (see [`SpinTrack::dirty`]).
pub(crate) fn dirty() {
    exec::with_spin(|t, _| {
        if let Some(t) = t {
            t.dirty();
        }
    });
}
