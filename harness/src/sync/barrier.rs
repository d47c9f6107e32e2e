//! Barriers: [`fence`], [`smp_mb`] and fully ordered RMWs ([`full_rmw`]).

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
