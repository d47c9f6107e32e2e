//! Barriers: [`fence`], [`smp_mb`], fully ordered RMWs ([`full_rmw`]) and the lock-handover
//! fence every spinlock acquisition issues under loom (`after_spin_lock`).

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

/// Lock-handover ordering, called by the harness [`Mutex`](super::Mutex) right after it is acquired (`lock`,
/// `try_lock`, and the re-acquisition in `Condvar::wait`).
///
/// LKMM (`po-unlock-lock-po` in `cumul-fence`): everything a CPU did before a `spin_unlock()` is
/// ordered before everything the next holder does after its `spin_lock()`, as seen by every CPU,
/// also CPUs that never take the lock (ISA2+pooncelock+pooncelock+pombonce, Never). A C11 mutex
/// only orders the two holders. Under loom the new holder therefore issues `fence(Release)`
/// right after acquiring: its later stores carry everything it acquired from the previous
/// holder, so a third CPU that reads one of them and then acquires (`smp_mb()`, `smp_rmb()`,
/// `smp_load_acquire()`) sees the previous critical section. It is a release fence, not
/// `fence(SeqCst)`: a full fence would forbid Z6.0+pooncelock+pooncelock+pombonce, which LKMM
/// allows (that needs `smp_mb__after_spinlock()`).
///
/// Stronger than LKMM in one respect: the fence also releases what the new holder did *before*
/// its `spin_lock()` (LKMM lets those accesses move into the critical section). The litmus model
/// has a test for exactly that (`MP+po-lock-o+acq-o`, declared beyond this engine). Under
/// shuttle (SC) and on real threads nothing is needed.
#[inline]
pub(crate) fn after_spin_lock() {
    if backend() == Backend::Loom {
        loom::sync::atomic::fence(Ordering::Release);
    }
}
