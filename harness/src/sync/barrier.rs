//! Barriers: [`fence`], [`smp_mb`], fully ordered RMWs ([`full_rmw`]) and the lock-ordering
//! fences a model's lock acquisition issues under loom (`after_spin_lock`).

use std::cell::Cell;

use super::Ordering;
use crate::rt::{backend, note_op, Backend, OpKind};

/// `fence()` under the current engine. `fence(SeqCst)` is the model of `smp_mb()`.
#[inline]
pub fn fence(o: Ordering) {
    note_op(OpKind::Run);
    match backend() {
        Backend::Std => std::sync::atomic::fence(o),
        Backend::Loom => loom::sync::atomic::fence(o),
        Backend::Shuttle => shuttle::sync::atomic::fence(o),
        // Sequentially consistent: nothing to order, and no schedule point of its own.
        Backend::Native => {}
    }
}

/// `smp_mb()`: a full barrier, modelled as `fence(SeqCst)`.
#[inline]
pub fn smp_mb() {
    fence(Ordering::SeqCst)
}

/// A fully ordered value-returning RMW (`atomic_*_return`, `xchg`, `cmpxchg`, `test_and_set_bit`):
/// the kernel defines these as `smp_mb(); rmw; smp_mb()`, so that is how they are modelled.
#[inline]
pub fn full_rmw<R>(rmw: impl FnOnce() -> R) -> R {
    smp_mb();
    let r = rmw();
    smp_mb();
    r
}

loom::thread_local! {
    /// Whether the running loom thread (one actor) has released a spinlock in this execution.
    static RELEASED_A_LOCK: Cell<bool> = Cell::new(false);
}

/// Lock ordering (LKMM's `po-unlock-lock-po`), called by the harness [`Mutex`](super::Mutex)
/// right after a model's lock is acquired (`lock`, `try_lock`, the re-acquisition in
/// `Condvar::wait`); `handover` says the lock was last released by another actor.
///
/// LKMM (explanation.txt, LOCKING): when a lock-acquire reads from a lock-release, or is
/// po-after one on the same CPU (any lock), everything po-before the release executes before
/// everything po-after the acquire, and stores before the release propagate to every CPU
/// before stores after the acquire. A C11 mutex orders only the two holders. Under loom:
///
/// - this actor released a spinlock earlier: `fence(AcqRel)`. The acquire half orders its
///   reads before that unlock before everything after this lock (a CPU's own unlock -> lock,
///   any two locks: the LOCKING examples); the release half makes its later stores carry
///   everything it did and acquired (ISA2+pooncelock+pooncelock+pombonce,
///   MP+unlocklockonceonce+fencermbonceonce);
/// - the lock was handed over by another actor: `fence(Release)`: the new holder's later
///   stores carry the previous critical section to CPUs that never take the lock;
/// - the lock's first acquisition by an actor that never released one: nothing (a plain
///   acquire, as LKMM has it).
///
/// Never `fence(SeqCst)`: that is `smp_mb__after_spinlock()`, and it would forbid
/// Z6.0+pooncelock+pooncelock+pombonce, which LKMM allows.
///
/// Stronger than LKMM where a fence covers more than the accesses before the unlock: reads
/// between this actor's last `spin_unlock()` and this `spin_lock()` are ordered before the
/// critical section (`fence(Acquire)`), and so are stores before this `spin_lock()` when the
/// lock was handed over or this actor released one before (`fence(Release)`). LKMM lets both
/// move into the critical section; loom cannot release or acquire only part of a thread's
/// view. The litmus model has a test for each (declared beyond this engine). Under shuttle
/// (SC) and on real threads nothing is needed.
#[inline]
pub(crate) fn after_spin_lock(handover: bool) {
    if backend() != Backend::Loom {
        return;
    }
    if RELEASED_A_LOCK.with(Cell::get) {
        loom::sync::atomic::fence(Ordering::AcqRel);
    } else if handover {
        loom::sync::atomic::fence(Ordering::Release);
    }
}

/// Notes that the running actor released a spinlock (see [`after_spin_lock`]).
#[inline]
pub(crate) fn spin_unlocked() {
    if backend() == Backend::Loom {
        RELEASED_A_LOCK.with(|r| r.set(true));
    }
}
