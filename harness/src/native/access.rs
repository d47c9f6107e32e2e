//! What a step touches, and when two steps do not commute: the dependency relation of the
//! `dpor` engine, defined once for every harness operation ([`Op`]).
//!
//! Every operation of the native runtime is recorded as an [`Op`]; [`Op::accesses`] maps it
//! onto reads and writes of runtime objects ([`Obj`]: an atomic, a lock, a wait queue, an actor,
//! a piece of ghost state); two accesses conflict when they touch the same object and at least
//! one writes it; two steps are dependent when any of their accesses conflict ([`dependent`]).
//! Under sequential consistency that relation is sound: steps without a conflict commute (both
//! orders reach the same state and neither enables or disables the other, as every blocking
//! operation is a read that waits for a later write of what it read).

use std::fmt;

/// A runtime object, named by the actor that created it and its creation index there, so the
/// same object has the same name in every execution that shares the creating actor's history,
/// whatever the interleaving. Equality, order and hash are the name's; `slot` numbers the
/// objects of one execution densely (for its tables; it may differ between executions).
#[derive(Clone, Copy)]
pub(crate) struct Obj(pub(crate) u32, pub(crate) u32);

impl PartialEq for Obj {
    fn eq(&self, other: &Obj) -> bool {
        self.0 == other.0
    }
}

impl Eq for Obj {}

impl PartialOrd for Obj {
    fn partial_cmp(&self, other: &Obj) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Obj {
    fn cmp(&self, other: &Obj) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl std::hash::Hash for Obj {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.hash(h)
    }
}

impl Obj {
    /// Bits of the creation index (the actor's index sits above them).
    const INDEX_BITS: u32 = 24;

    /// The creation index that names the main actor itself.
    pub(crate) const MAIN: u32 = (1 << Self::INDEX_BITS) - 1;

    /// Objects created outside an execution: never scheduled, never conflicting.
    pub(crate) const UNTRACKED: Obj = Obj(u32::MAX, u32::MAX);

    pub(crate) fn new(actor: usize, index: u32, slot: u32) -> Obj {
        debug_assert!(index < 1 << Self::INDEX_BITS);
        Obj(((actor as u32) << Self::INDEX_BITS) | index, slot)
    }

    /// Its number among the objects of this execution.
    pub(crate) fn slot(self) -> usize {
        self.1 as usize
    }

    pub(crate) fn is_tracked(self) -> bool {
        self != Obj::UNTRACKED
    }
}

impl fmt::Debug for Obj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_tracked() {
            return f.write_str("untracked");
        }
        write!(
            f,
            "{}#{}",
            self.0 >> Self::INDEX_BITS,
            self.0 & ((1 << Self::INDEX_BITS) - 1)
        )
    }
}

/// How a step touched an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Write,
    /// A read made by waking up: the step may only run after a write to the object (see
    /// [`Op::Awaited`]). Conflicts like a read.
    WakeRead,
    /// A lock taken, and released: writes of the lock. A race between a release and the next
    /// acquisition cannot be reversed (the lock is held in between); the search reverses the
    /// two acquisitions instead.
    Acquire,
    Release,
}

/// One access of a step's footprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    pub obj: Obj,
    pub kind: Kind,
}

impl Kind {
    /// Which access of a step to keep when it touched one object several ways: a lock's
    /// acquisition or release, then a write, then a wake-up read, then a read.
    pub(crate) fn strength(self) -> u8 {
        match self {
            Kind::Read => 0,
            Kind::WakeRead => 1,
            Kind::Write => 2,
            Kind::Acquire | Kind::Release => 3,
        }
    }
}

impl Access {
    pub(crate) fn is_write(self) -> bool {
        matches!(self.kind, Kind::Write | Kind::Acquire | Kind::Release)
    }

    /// Same object, and at least one of the two writes it.
    pub(crate) fn conflicts(self, other: Access) -> bool {
        self.obj == other.obj && (self.is_write() || other.is_write())
    }
}

/// Every harness operation, as the dependency relation sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// An atomic load (`READ_ONCE`, `smp_load_acquire`, ...).
    Load(Obj),
    /// An atomic store.
    Store(Obj),
    /// A read-modify-write; `changed` when it wrote a different value. One that left the value
    /// as it was (a failed `cmpxchg`, `test_and_set_bit` of a set bit) is a read: it commutes
    /// with other reads, and any write that could change its outcome conflicts with it anyway.
    Rmw {
        obj: Obj,
        changed: bool,
    },
    /// A lock taken (the actor only runs it once the lock is free).
    Lock(Obj),
    /// `try_lock()` found the lock held.
    LockBusy(Obj),
    /// A lock released.
    Unlock(Obj),
    /// `Condvar::wait`: releases the lock and queues on the wait queue.
    Wait {
        lock: Obj,
        queue: Obj,
    },
    /// `notify_one` / `notify_all` on a wait queue that woke an actor.
    Notify(Obj),
    /// A notify that found the wait queue empty: it only read the queue (it changes nothing
    /// and enables nobody), so two of them commute, while a `Wait` conflicts with it.
    NotifyNone(Obj),
    /// Woken from a wait queue by a notify.
    Woken(Obj),
    /// An actor spawned (its `Obj` is the child's).
    Spawn(Obj),
    /// An actor's first step (it reads what its spawn wrote).
    Start(Obj),
    /// An actor's last step ends it.
    Exit(Obj),
    /// `join()`, once the child has exited.
    Join(Obj),
    /// A model's ghost state or instrumentation read / written (no schedule point of its own).
    GhostRead(Obj),
    GhostWrite(Obj),
    /// Woken after an await (a spin loop's idle iteration, a busy lock, a join): the step reads
    /// again what the actor waited on.
    Awaited(Obj),
}

/// A deliberate mistake in the dependency relation, for the test that must catch it.
static MUTANT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Test hook: with `on`, atomic loads record no access, so a load no longer conflicts with a
/// store (one conflict dropped from the relation). The soundness tests must then fail.
#[doc(hidden)]
pub fn drop_load_store_conflict(on: bool) {
    MUTANT.store(on, std::sync::atomic::Ordering::Relaxed);
}

impl Op {
    /// The op's accesses (at most two).
    pub(crate) fn accesses(self) -> impl Iterator<Item = Access> {
        let dropped =
            matches!(self, Op::Load(_)) && MUTANT.load(std::sync::atomic::Ordering::Relaxed);
        use Kind::{Acquire, Read, Release, WakeRead, Write};
        let (a, b) = match self {
            Op::Load(o)
            | Op::LockBusy(o)
            | Op::Start(o)
            | Op::Join(o)
            | Op::GhostRead(o)
            | Op::NotifyNone(o) => ((o, Read), None),
            Op::Woken(o) => ((o, WakeRead), None),
            Op::Awaited(o) => ((o, WakeRead), None),
            Op::Rmw { obj, changed } => ((obj, if changed { Write } else { Read }), None),
            Op::Lock(o) => ((o, Acquire), None),
            Op::Unlock(o) => ((o, Release), None),
            Op::Store(o) | Op::Notify(o) | Op::Spawn(o) | Op::Exit(o) | Op::GhostWrite(o) => {
                ((o, Write), None)
            }
            Op::Wait { lock, queue } => ((lock, Release), Some((queue, Write))),
        };
        std::iter::once(a)
            .chain(b)
            .filter(move |(o, _)| o.is_tracked() && !dropped)
            .map(|(obj, kind)| Access { obj, kind })
    }
}

/// Whether two footprints conflict: the steps do not commute.
pub(crate) fn dependent(a: &[Access], b: &[Access]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x.conflicts(*y)))
}

#[cfg(test)]
mod tests {
    //! One test per pair of operation kinds: the dependency relation, spelled out.
    use super::*;

    const X: Obj = Obj(1, 1);
    const Y: Obj = Obj(2, 2);
    const M: Obj = Obj(3, 3);
    const Q: Obj = Obj(4, 4);
    const T: Obj = Obj(5, 5);

    fn dep(a: Op, b: Op) -> bool {
        let (a, b): (Vec<_>, Vec<_>) = (a.accesses().collect(), b.accesses().collect());
        let d = dependent(&a, &b);
        assert_eq!(d, dependent(&b, &a), "the relation is symmetric");
        d
    }

    #[test]
    fn atomics() {
        assert!(!dep(Op::Load(X), Op::Load(X)), "two loads commute");
        assert!(
            dep(Op::Load(X), Op::Store(X)),
            "a load and a store of one location"
        );
        assert!(
            dep(Op::Store(X), Op::Store(X)),
            "two stores of one location"
        );
        assert!(
            !dep(Op::Store(X), Op::Store(Y)),
            "stores of different locations"
        );
        assert!(!dep(Op::Load(X), Op::Store(Y)));
        let rmw = Op::Rmw {
            obj: X,
            changed: true,
        };
        let noop = Op::Rmw {
            obj: X,
            changed: false,
        };
        assert!(dep(rmw, Op::Load(X)) && dep(rmw, Op::Store(X)) && dep(rmw, rmw));
        assert!(
            !dep(noop, Op::Load(X)),
            "an RMW that changed nothing is a read"
        );
        assert!(!dep(noop, noop), "two failed cmpxchg commute");
        assert!(dep(noop, Op::Store(X)) && dep(noop, rmw));
    }

    #[test]
    fn locks() {
        assert!(
            dep(Op::Lock(M), Op::Lock(M)),
            "two acquisitions of one lock"
        );
        assert!(dep(Op::Lock(M), Op::Unlock(M)));
        assert!(
            dep(Op::LockBusy(M), Op::Lock(M)),
            "finding it busy vs taking it"
        );
        assert!(
            dep(Op::LockBusy(M), Op::Unlock(M)),
            "try_lock before or after the unlock"
        );
        assert!(
            !dep(Op::LockBusy(M), Op::LockBusy(M)),
            "two failed try_lock commute"
        );
        assert!(!dep(Op::Lock(M), Op::Lock(Y)), "different locks");
        assert!(!dep(Op::Lock(M), Op::Load(X)), "a lock and an atomic");
    }

    #[test]
    fn wait_queues() {
        let wait = Op::Wait { lock: M, queue: Q };
        assert!(
            dep(wait, Op::Notify(Q)),
            "a notify before or after the wait"
        );
        assert!(dep(wait, Op::Lock(M)), "the wait releases the lock");
        assert!(dep(wait, wait), "two waiters queue in order");
        assert!(dep(Op::Notify(Q), Op::Notify(Q)));
        let none = Op::NotifyNone(Q);
        assert!(!dep(none, none), "two notifies of an empty queue commute");
        assert!(dep(none, wait), "a notify before or after a waiter queues");
        assert!(dep(none, Op::Notify(Q)), "a wake-up empties the queue");
        assert!(
            !dep(none, Op::Woken(Q)),
            "a woken actor left the queue already"
        );
        assert!(!dep(none, Op::Lock(M)));
        assert!(dep(Op::Woken(Q), Op::Notify(Q)), "woken by a notify");
        assert!(!dep(Op::Woken(Q), Op::Woken(Q)));
        assert!(!dep(Op::Notify(Q), Op::Store(X)));
    }

    #[test]
    fn actors() {
        assert!(
            dep(Op::Spawn(T), Op::Start(T)),
            "a child starts after its spawn"
        );
        assert!(dep(Op::Exit(T), Op::Join(T)), "join sees the exit");
        assert!(!dep(Op::Join(T), Op::Join(T)));
        assert!(!dep(Op::Start(T), Op::Join(T)));
        assert!(
            !dep(Op::Spawn(T), Op::Spawn(Y)),
            "spawning two children commutes"
        );
    }

    #[test]
    fn ghost_state_and_awaits() {
        assert!(dep(Op::GhostWrite(X), Op::GhostRead(X)));
        assert!(dep(Op::GhostWrite(X), Op::GhostWrite(X)));
        assert!(!dep(Op::GhostRead(X), Op::GhostRead(X)));
        assert!(
            dep(Op::Awaited(X), Op::Store(X)),
            "a spinner wakes on a store it read"
        );
        assert!(!dep(Op::Awaited(X), Op::Load(X)));
        assert!(!dep(Op::Awaited(X), Op::Store(Y)));
    }

    #[test]
    fn untracked_objects_never_conflict() {
        let u = Obj::UNTRACKED;
        assert!(!dep(Op::Store(u), Op::Store(u)));
        assert_eq!(Op::Wait { lock: u, queue: Q }.accesses().count(), 1);
    }
}
