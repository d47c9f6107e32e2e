//! The kernel's atomic API (Documentation/atomic_t.txt): void RMWs, value-returning RMWs with
//! their ordering suffix ([`Kord`]), `xchg()`, `cmpxchg()`, `atomic_add_unless()`.

use super::{read_once, smp_mb, write_once, IntWord, Word};
use crate::sync::Ordering::{self, Acquire, Relaxed, Release};

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
