//! The Linux kernel's barrier and atomic vocabulary (LKMM, `tools/memory-model`), by kernel name,
//! built on the engine-neutral primitives of [`crate::sync`].
//!
//! Each function names the kernel primitive it stands for and how it is mapped onto what the
//! engines offer (loom: C11 relaxed / acquire / release accesses and fences, with `fence(SeqCst)`
//! as one global order of fences; shuttle: sequential consistency, where every mapping is
//! exact because nothing is reordered). A mapping is *exact* (same outcomes as LKMM in the
//! kernel's litmus tests), *stronger* (may hide an outcome LKMM allows) or *weaker* (may show
//! an outcome LKMM forbids); `models/litmus/README.md` has the table and the tests behind it.
//!
//! Words are any harness atomic or [`Plain`] variable ([`Word`]); a kernel pointer is an index
//! into the model's own array of words.
//!
//! - `mod.rs`: words, marked accesses, barriers;
//! - `atomic.rs`: the atomic API (`atomic_*()`, `xchg()`, `cmpxchg()`) and its orderings;
//! - `spinlock.rs`: spinlocks;
//! - `plain.rs`: plain accesses (`x = v;`, `r = x;`) and the data-race property;
//! - `rcu.rs`: RCU (read-side critical sections, grace periods, callbacks).

mod atomic;
mod plain;
mod rcu;
mod spinlock;

pub use atomic::*;
pub use plain::*;
pub use rcu::*;
pub use spinlock::*;

use crate::sync::{
    fence, AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize,
    Ordering::{self, Acquire, Relaxed, Release},
};

pub use crate::sync::smp_mb;

/// An atomic word the kernel vocabulary applies to (`int`, `long`, `atomic_t`, a pointer).
pub trait Word {
    type T: Copy + PartialEq;
    fn load(&self, o: Ordering) -> Self::T;
    fn store(&self, v: Self::T, o: Ordering);
    fn swap(&self, v: Self::T, o: Ordering) -> Self::T;
    fn compare_exchange(
        &self,
        cur: Self::T,
        new: Self::T,
        ok: Ordering,
        fail: Ordering,
    ) -> Result<Self::T, Self::T>;
}

/// An atomic integer (`atomic_t`, `atomic_long_t`, `unsigned long` bit words).
pub trait IntWord: Word {
    fn fetch_add(&self, v: Self::T, o: Ordering) -> Self::T;
    fn fetch_sub(&self, v: Self::T, o: Ordering) -> Self::T;
    fn fetch_or(&self, v: Self::T, o: Ordering) -> Self::T;
    fn fetch_and(&self, v: Self::T, o: Ordering) -> Self::T;
    /// `v + d` with the kernel's two's-complement wrap.
    fn wrapping_add(v: Self::T, d: Self::T) -> Self::T;
    fn one() -> Self::T;
}

macro_rules! word {
    ($A:ty, $t:ty) => {
        impl Word for $A {
            type T = $t;
            fn load(&self, o: Ordering) -> $t {
                <$A>::load(self, o)
            }
            fn store(&self, v: $t, o: Ordering) {
                <$A>::store(self, v, o)
            }
            fn swap(&self, v: $t, o: Ordering) -> $t {
                <$A>::swap(self, v, o)
            }
            fn compare_exchange(
                &self,
                cur: $t,
                new: $t,
                ok: Ordering,
                fail: Ordering,
            ) -> Result<$t, $t> {
                <$A>::compare_exchange(self, cur, new, ok, fail)
            }
        }
    };
}

macro_rules! int_word {
    ($A:ty, $t:ty) => {
        word!($A, $t);
        impl IntWord for $A {
            fn fetch_add(&self, v: $t, o: Ordering) -> $t {
                <$A>::fetch_add(self, v, o)
            }
            fn fetch_sub(&self, v: $t, o: Ordering) -> $t {
                <$A>::fetch_sub(self, v, o)
            }
            fn fetch_or(&self, v: $t, o: Ordering) -> $t {
                <$A>::fetch_or(self, v, o)
            }
            fn fetch_and(&self, v: $t, o: Ordering) -> $t {
                <$A>::fetch_and(self, v, o)
            }
            fn wrapping_add(v: $t, d: $t) -> $t {
                v.wrapping_add(d)
            }
            fn one() -> $t {
                1
            }
        }
    };
}

word!(AtomicBool, bool);
int_word!(AtomicI32, i32);
int_word!(AtomicU32, u32);
int_word!(AtomicU64, u64);
int_word!(AtomicUsize, usize);

// ---------------------------------------------------------------------------------------------
// Marked accesses

/// `READ_ONCE(*p)` → `Relaxed` load. Exact, except that LKMM orders a load before a dependent
/// access (address, data, control dependency) and C11 does not: use [`rcu_dereference`] for a
/// load whose value is dereferenced; control/data dependencies to stores matter only in
/// load-buffering shapes, which loom never produces (see the README).
#[inline]
pub fn read_once<W: Word>(p: &W) -> W::T {
    p.load(Relaxed)
}

/// `WRITE_ONCE(*p, v)` → `Relaxed` store. Exact.
#[inline]
pub fn write_once<W: Word>(p: &W, v: W::T) {
    p.store(v, Relaxed)
}

/// `smp_load_acquire(p)` → `Acquire` load. Exact in the kernel's tests.
#[inline]
pub fn smp_load_acquire<W: Word>(p: &W) -> W::T {
    p.load(Acquire)
}

/// `smp_store_release(p, v)` → `Release` store (A-cumulative in both models). Exact in the
/// kernel's tests.
#[inline]
pub fn smp_store_release<W: Word>(p: &W, v: W::T) {
    p.store(v, Release)
}

/// `rcu_dereference(p)` (and a `READ_ONCE()` whose value is dereferenced) → `Acquire` load.
/// Stronger: LKMM orders only the dependent accesses, acquire orders every later access.
#[inline]
pub fn rcu_dereference<W: Word>(p: &W) -> W::T {
    p.load(Acquire)
}

/// `rcu_assign_pointer(p, v)` → `Release` store, as the kernel defines it. Exact.
#[inline]
pub fn rcu_assign_pointer<W: Word>(p: &W, v: W::T) {
    p.store(v, Release)
}

// ---------------------------------------------------------------------------------------------
// Barriers

/// `smp_wmb()` → `fence(Release)`. Stronger: LKMM's `smp_wmb()` orders prior stores against
/// later stores only and is not A-cumulative; a release fence also orders prior loads (and what
/// they read) against later stores, for observers that acquire.
#[inline]
pub fn smp_wmb() {
    fence(Release)
}

/// `smp_rmb()` → `fence(Acquire)`. Stronger in two ways: an acquire fence also orders prior
/// loads against later *stores* (visible only in load buffering, which loom never builds), and
/// it orders the read of a prior non-value-returning RMW (`atomic_inc()`, `set_bit()`) against
/// later loads, which LKMM's `smp_rmb()` does not (`R4rmb = R \ Noreturn` in
/// linux-kernel.cat: ARMv8 may execute such an RMW "off the CPU"). That one shows in a
/// message-passing shape: MP+pooncerelease+atomicincrmbonce is Sometimes in LKMM and never
/// seen by loom (declared beyond this engine in the litmus model). loom's acquire fence takes
/// every store the thread has read; it cannot leave out an RMW's.
#[inline]
pub fn smp_rmb() {
    fence(Acquire)
}

/// `smp_mb__before_atomic()` → `smp_mb()`. Exact when, as the kernel requires, a non-value-
/// returning RMW follows; stronger otherwise (LKMM gives no ordering without the RMW).
#[inline]
#[allow(non_snake_case)]
pub fn smp_mb__before_atomic() {
    smp_mb()
}

/// `smp_mb__after_atomic()` → `smp_mb()`. Exact after an RMW (also a failed `cmpxchg()`, which
/// it turns into a full barrier); stronger otherwise.
#[inline]
#[allow(non_snake_case)]
pub fn smp_mb__after_atomic() {
    smp_mb()
}

/// `smp_mb__after_spinlock()` → `smp_mb()` right after the lock is taken: orders everything
/// before the `spin_lock()` (and the lock itself) against everything after. Exact.
#[inline]
#[allow(non_snake_case)]
pub fn smp_mb__after_spinlock() {
    smp_mb()
}

/// `smp_store_mb(x, v)` → `WRITE_ONCE(x, v); smp_mb()` (the generic definition). Exact.
#[inline]
pub fn smp_store_mb<W: Word>(p: &W, v: W::T) {
    write_once(p, v);
    smp_mb();
}
