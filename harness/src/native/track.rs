//! What one iteration of a spin loop touched ([`SpinTrack`]), noted at every access of the
//! spinning actor; `spin.rs` judges from it whether the iteration was idle.

use super::access::{Access, Kind, Obj, Op};

/// What one iteration of the running actor's spin loop touched.
pub(crate) struct SpinTrack {
    /// The step the iteration began in.
    pub(super) from: u32,
    pub(super) reads: Vec<Obj>,
    /// Per lock, acquisitions minus releases.
    pub(super) locks: Vec<(Obj, i32)>,
    /// Any other write (a store, a changing RMW, a wait, a notify, ghost state, a lock's data).
    pub(super) wrote: bool,
}

impl SpinTrack {
    pub(super) fn new(from: u32) -> Self {
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
}
