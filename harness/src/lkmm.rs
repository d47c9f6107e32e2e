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
//! Words are any harness atomic ([`Word`]); a kernel pointer is an index into the model's own
//! array of atomics.

use crate::sync::{
    fence, AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Mutex, MutexGuard,
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

/// `smp_rmb()` → `fence(Acquire)`. Stronger: LKMM's `smp_rmb()` orders prior loads against later
/// loads only; an acquire fence also orders them against later stores (only visible in
/// load-buffering shapes, which loom never produces).
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

// ---------------------------------------------------------------------------------------------
// Atomic API (Documentation/atomic_t.txt)

/// The ordering suffix of a kernel atomic: none (fully ordered), `_relaxed`, `_acquire`,
/// `_release`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kord {
    /// Value-returning RMW without suffix: `smp_mb(); rmw; smp_mb()` (the kernel's definition).
    Full,
    Relaxed,
    /// The RMW's read is an acquire.
    Acquire,
    /// The RMW's write is a release.
    Release,
}

/// Runs `rmw` with the C11 ordering that `k` maps to, adding the full barriers of [`Kord::Full`].
#[inline]
pub fn ordered<R>(k: Kord, rmw: impl FnOnce(Ordering) -> R) -> R {
    match k {
        Kord::Full => {
            smp_mb();
            let r = rmw(Relaxed);
            smp_mb();
            r
        }
        Kord::Relaxed => rmw(Relaxed),
        Kord::Acquire => rmw(Acquire),
        Kord::Release => rmw(Release),
    }
}

/// `atomic_read(v)` → `READ_ONCE()`. Exact.
#[inline]
pub fn atomic_read<W: Word>(v: &W) -> W::T {
    read_once(v)
}

/// `atomic_set(v, i)` → `WRITE_ONCE()`. Exact.
#[inline]
pub fn atomic_set<W: Word>(v: &W, i: W::T) {
    write_once(v, i)
}

/// `atomic_add(i, v)` (and the other void RMWs: `atomic_inc`, `set_bit`, ...) → `Relaxed` RMW:
/// atomic but unordered. Exact.
#[inline]
pub fn atomic_add<W: IntWord>(i: W::T, v: &W) {
    v.fetch_add(i, Relaxed);
}

/// `atomic_inc(v)` → `Relaxed` RMW. Exact.
#[inline]
pub fn atomic_inc<W: IntWord>(v: &W) {
    v.fetch_add(W::one(), Relaxed);
}

/// `atomic_dec(v)` → `Relaxed` RMW. Exact.
#[inline]
pub fn atomic_dec<W: IntWord>(v: &W) {
    v.fetch_sub(W::one(), Relaxed);
}

/// `atomic_fetch_add{,_relaxed,_acquire,_release}(i, v)`: returns the old value. Without a
/// suffix fully ordered (`smp_mb(); rmw; smp_mb()`), otherwise the C11 ordering. Exact.
#[inline]
pub fn atomic_fetch_add<W: IntWord>(k: Kord, i: W::T, v: &W) -> W::T {
    ordered(k, |o| v.fetch_add(i, o))
}

/// `atomic_fetch_sub{,_relaxed,_acquire,_release}(i, v)`: returns the old value. Exact.
#[inline]
pub fn atomic_fetch_sub<W: IntWord>(k: Kord, i: W::T, v: &W) -> W::T {
    ordered(k, |o| v.fetch_sub(i, o))
}

/// `atomic_dec_and_test(v)`: fully ordered, true if the value reached zero. Exact.
/// (`refcount_dec_and_test()` is weaker in the kernel: release, plus acquire on reaching zero.)
#[inline]
pub fn atomic_dec_and_test<W: IntWord>(v: &W) -> bool {
    atomic_fetch_sub(Kord::Full, W::one(), v) == W::one()
}

/// `atomic_add_return{,_relaxed,_acquire,_release}(i, v)`: returns the new value. Exact.
#[inline]
pub fn atomic_add_return<W: IntWord>(k: Kord, i: W::T, v: &W) -> W::T {
    W::wrapping_add(atomic_fetch_add(k, i, v), i)
}

/// `atomic_inc_return{,_relaxed,_acquire,_release}(v)`. Exact.
#[inline]
pub fn atomic_inc_return<W: IntWord>(k: Kord, v: &W) -> W::T {
    atomic_add_return(k, W::one(), v)
}

/// `atomic_fetch_or{,...}(i, v)` (`test_and_set_bit()` is the fully ordered form). Exact.
#[inline]
pub fn atomic_fetch_or<W: IntWord>(k: Kord, i: W::T, v: &W) -> W::T {
    ordered(k, |o| v.fetch_or(i, o))
}

/// `atomic_fetch_andnot{,...}(i, v)` takes the mask to keep here (`!i`). Exact.
#[inline]
pub fn atomic_fetch_and<W: IntWord>(k: Kord, keep: W::T, v: &W) -> W::T {
    ordered(k, |o| v.fetch_and(keep, o))
}

/// `xchg{,_relaxed,_acquire,_release}(p, new)`. Without a suffix fully ordered. Exact.
#[inline]
pub fn xchg<W: Word>(k: Kord, p: &W, new: W::T) -> W::T {
    ordered(k, |o| p.swap(new, o))
}

/// `cmpxchg{,_relaxed,_acquire,_release}(p, old, new)`: returns the value it read. Ordered as
/// its suffix says **only if it succeeds**; a failed `cmpxchg()` is an unordered read.
///
/// Mapping of the fully ordered form: a `Relaxed` peek; if it differs from `old` that is the
/// failed `cmpxchg()` (a marked read, no barrier, as in LKMM); otherwise `smp_mb()`, a `Relaxed`
/// compare-exchange, and `smp_mb()` if it succeeded. Exact on success and on failure, except
/// that a failure after a stale peek (the word changed in between) has executed the first
/// `smp_mb()`: stronger in that schedule only.
pub fn cmpxchg<W: Word>(k: Kord, p: &W, old: W::T, new: W::T) -> W::T {
    match k {
        Kord::Full => {
            let seen = p.load(Relaxed);
            if seen != old {
                return seen;
            }
            smp_mb();
            match p.compare_exchange(old, new, Relaxed, Relaxed) {
                Ok(v) => {
                    smp_mb();
                    v
                }
                Err(v) => v,
            }
        }
        k => {
            let ok = match k {
                Kord::Acquire => Acquire,
                Kord::Release => Release,
                _ => Relaxed,
            };
            p.compare_exchange(old, new, ok, Relaxed)
                .unwrap_or_else(|v| v)
        }
    }
}

/// `atomic_add_unless(v, a, u)`: adds `a` unless the value is `u`; true if it added. The
/// kernel's `atomic_try_cmpxchg()` loop: fully ordered if it adds, unordered if not. Exact
/// (see [`cmpxchg`]).
pub fn atomic_add_unless<W: IntWord>(v: &W, a: W::T, u: W::T) -> bool {
    let mut c = atomic_read(v);
    loop {
        if c == u {
            return false;
        }
        let seen = cmpxchg(Kord::Full, v, c, W::wrapping_add(c, a));
        if seen == c {
            return true;
        }
        c = seen;
    }
}

// ---------------------------------------------------------------------------------------------
// Spinlocks

/// `spin_lock(l)`: the harness [`Mutex`] is the kernel spinlock. Acquire, plus the lock-handover
/// ordering below (`sync::barrier::after_spin_lock`).
#[inline]
pub fn spin_lock<T>(l: &Mutex<T>) -> MutexGuard<'_, T> {
    l.lock()
}

/// `spin_unlock(l)` → release (drops the guard). Exact.
#[inline]
pub fn spin_unlock<T>(g: MutexGuard<'_, T>) {
    drop(g)
}

/// A spinlock whose lock word can be read, for `spin_is_locked()`: the harness [`Mutex`] plus a
/// `locked` word written `Relaxed` right after the lock is taken and released with the unlock
/// (`queued_spin_lock()`'s acquiring RMW writes it, `queued_spin_unlock()` releases it).
pub struct SpinLock {
    lock: Mutex<()>,
    locked: AtomicBool,
}

/// A held [`SpinLock`]; dropping it is `spin_unlock()`.
pub struct SpinGuard<'a> {
    owner: &'a SpinLock,
    _g: MutexGuard<'a, ()>,
}

impl Default for SpinLock {
    fn default() -> Self {
        Self::new()
    }
}

impl SpinLock {
    pub fn new() -> Self {
        SpinLock {
            lock: Mutex::new(()),
            locked: AtomicBool::new(false),
        }
    }

    /// `spin_lock()`.
    pub fn lock(&self) -> SpinGuard<'_> {
        let g = self.lock.lock();
        self.locked.store(true, Relaxed);
        SpinGuard { owner: self, _g: g }
    }

    /// `spin_is_locked()` → `Relaxed` load of the lock word (LKMM: an unordered read of the lock).
    pub fn is_locked(&self) -> bool {
        self.locked.load(Relaxed)
    }
}

impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        self.owner.locked.store(false, Release);
    }
}
