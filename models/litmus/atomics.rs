//! Atomic RMW ordering tests (`Documentation/litmus-tests/atomic/`).

use kmodel_harness::prelude::*;

use super::mem::{acq, cpu, exists, fin, r, rel, rmb, w, wmb, Mem};

/// Atomic-RMW+mb__after_atomic-is-stronger-than-acquire: `atomic_inc(); smp_mb__after_atomic()`
/// orders both the RMW's read and write before the later store.
pub fn rmw_mb_after_atomic() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let r0 = r(&m.x, "x");
        rmb();
        let r1 = atomic_read(&m.v);
        ev!("atomic_read", "y -> {r1}");
        (r0, r1)
    });
    let p1 = cpu("P1", &m, |m| {
        atomic_inc(&m.v);
        ev!("atomic_inc", "y");
        ev!("smp_mb__after_atomic", "full barrier");
        smp_mb__after_atomic();
        w(&m.x, "x", 1);
    });
    let (r0, r1) = p0.join();
    p1.join();
    exists(r0 == 1 && r1 == 0, format!("0:r0={r0} /\\ 0:r1={r1}"));
}

/// Atomic-RMW-ops-are-atomic-WRT-atomic_set: `atomic_add_unless(v, 1, 0)` against
/// `atomic_set(v, 0)`, `v` initially 1.
pub fn add_unless_vs_set() {
    let m = Mem::new();
    write_once(&m.v, 1);
    let p0 = cpu("P0", &m, |m| {
        let added = atomic_add_unless(&m.v, 1, 0);
        ev!("atomic_add_unless", "v: added = {added}");
    });
    let p1 = cpu("P1", &m, |m| {
        atomic_set(&m.v, 0);
        ev!("atomic_set", "v = 0");
    });
    p0.join();
    p1.join();
    let v = fin(&m.v);
    exists(v == 2, format!("v={v}"));
}

/// `cmpxchg(name, old, new)`, fully ordered if it succeeds.
fn cas(a: &AtomicU32, name: &str, old: u32, new: u32) -> u32 {
    let seen = cmpxchg(Kord::Full, a, old, new);
    ev!(
        "cmpxchg",
        "{name}: {old} -> {new} {}, read {seen}",
        if seen == old { "succeeded" } else { "failed" }
    );
    seen
}

/// `smp_mb__after_atomic()`.
fn mb_after_atomic() {
    ev!("smp_mb__after_atomic", "full barrier");
    smp_mb__after_atomic();
}

/// cmpxchg-fail-unordered-1 (`after = false`) / cmpxchg-fail-ordered-1: SB with a failing
/// `cmpxchg(z, 1, 0)` (z stays 0) between each store and load.
fn cmpxchg_fail_sb(after: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        w(&m.x, "x", 1);
        cas(&m.z, "z", 1, 0);
        if after {
            mb_after_atomic();
        }
        r(&m.y, "y")
    });
    let p1 = cpu("P1", &m, move |m| {
        w(&m.y, "y", 1);
        cas(&m.z, "z", 1, 0);
        if after {
            mb_after_atomic();
        }
        r(&m.x, "x")
    });
    let (r0, r1) = (p0.join(), p1.join());
    exists(r0 == 0 && r1 == 0, format!("0:r0={r0} /\\ 1:r0={r1}"));
}

pub fn cmpxchg_fail_unordered_1() {
    cmpxchg_fail_sb(false)
}

pub fn cmpxchg_fail_ordered_1() {
    cmpxchg_fail_sb(true)
}

/// cmpxchg-fail-unordered-2 (`after = false`) / cmpxchg-fail-ordered-2: MP through `y`, where
/// P1's `cmpxchg(y, 0, 1)` fails because P0's succeeded.
fn cmpxchg_fail_mp(after: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        cas(&m.y, "y", 0, 1)
    });
    let p1 = cpu("P1", &m, move |m| {
        let r1 = cas(&m.y, "y", 0, 1);
        if after {
            mb_after_atomic();
        }
        (r1, r(&m.x, "x"))
    });
    let r0 = p0.join();
    let (r1, r2) = p1.join();
    exists(
        r0 == 0 && r1 == 1 && r2 == 0,
        format!("0:r1={r0} /\\ 1:r1={r1} /\\ 1:r2={r2}"),
    );
}

pub fn cmpxchg_fail_unordered_2() {
    cmpxchg_fail_mp(false)
}

pub fn cmpxchg_fail_ordered_2() {
    cmpxchg_fail_mp(true)
}

/// kmodel's SB+xchgs: SB where each store is a fully ordered `xchg()` (value-returning RMWs
/// are full barriers on both sides).
pub fn sb_xchg() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        xchg(Kord::Full, &m.x, 1);
        ev!("xchg", "x = 1");
        r(&m.y, "y")
    });
    let p1 = cpu("P1", &m, |m| {
        xchg(Kord::Full, &m.y, 1);
        ev!("xchg", "y = 1");
        r(&m.x, "x")
    });
    let (r0, r1) = (p0.join(), p1.join());
    exists(r0 == 0 && r1 == 0, format!("0:r0={r0} /\\ 1:r0={r1}"));
}

/// kmodel's SB+xchgrelaxeds: as [`sb_xchg`] with `xchg_relaxed()`: no ordering.
pub fn sb_xchg_relaxed() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        xchg(Kord::Relaxed, &m.x, 1);
        ev!("xchg_relaxed", "x = 1");
        r(&m.y, "y")
    });
    let p1 = cpu("P1", &m, |m| {
        xchg(Kord::Relaxed, &m.y, 1);
        ev!("xchg_relaxed", "y = 1");
        r(&m.x, "x")
    });
    let (r0, r1) = (p0.join(), p1.join());
    exists(r0 == 0 && r1 == 0, format!("0:r0={r0} /\\ 1:r0={r1}"));
}

/// kmodel's MP+o-fetchaddrelease+fetchaddacquire-o: `atomic_fetch_add_release()` publishes,
/// `atomic_fetch_add_acquire()` that reads it orders the later load.
pub fn mp_fetch_add_release_acquire() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        atomic_fetch_add(Kord::Release, 1, &m.v);
        ev!("atomic_fetch_add_release", "v += 1");
    });
    let p1 = cpu("P1", &m, |m| {
        let r0 = atomic_fetch_add(Kord::Acquire, 0, &m.v);
        ev!("atomic_fetch_add_acquire", "v += 0 -> {r0}");
        (r0, r(&m.x, "x"))
    });
    p0.join();
    let (r0, r1) = p1.join();
    exists(r0 == 1 && r1 == 0, format!("1:r0={r0} /\\ 1:r1={r1}"));
}

/// atomics-not-monotonic (Alan Stern, LKML 2022-11, the test behind v6.3's rmw-sequences):
/// P0 `WRITE_ONCE(x, 1); smp_wmb(); atomic_set(y, 1)`; P1 `atomic_inc_return(y)` (or
/// `_release`); P2 `r2 = atomic_read(y); smp_rmb(); r3 = READ_ONCE(x)`. Since v6.3 the RMW
/// continues the write's cumulativity (`rmw-sequence` in cumul-fence): Never in both forms.
fn not_monotonic(k: Kord) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        wmb();
        atomic_set(&m.v, 1);
        ev!("atomic_set", "y = 1");
    });
    let p1 = cpu("P1", &m, move |m| {
        let r1 = atomic_inc_return(k, &m.v);
        ev!("atomic_inc_return", "y -> {r1}");
    });
    let p2 = cpu("P2", &m, |m| {
        let r2 = atomic_read(&m.v);
        ev!("atomic_read", "y -> {r2}");
        rmb();
        (r2, r(&m.x, "x"))
    });
    p0.join();
    p1.join();
    let (r2, r3) = p2.join();
    exists(r2 == 2 && r3 == 0, format!("2:r2={r2} /\\ 2:r3={r3}"));
}

pub fn atomics_not_monotonic() {
    not_monotonic(Kord::Full)
}

pub fn atomics_not_monotonic_release() {
    not_monotonic(Kord::Release)
}

/// MP+pooncerelease+atomicincrmbonce (`mb_after = false`): P0 `WRITE_ONCE(x, 1);
/// smp_store_release(y, 1)`; P1 `atomic_inc(y); smp_rmb(); r1 = READ_ONCE(x)`. explanation.txt
/// ("ODDS AND ENDS"): `smp_rmb()` does not order the read of a non-value-returning RMW
/// (`R4rmb = R \ Noreturn`), so `y=2 /\ 1:r1=0` is allowed. With `smp_mb__after_atomic()`
/// instead (`mb_after`) it is not.
fn mp_atomic_inc(mb_after: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        rel(&m.v, "y", 1);
    });
    let p1 = cpu("P1", &m, move |m| {
        atomic_inc(&m.v);
        ev!("atomic_inc", "y");
        if mb_after {
            mb_after_atomic();
        } else {
            rmb();
        }
        r(&m.x, "x")
    });
    p0.join();
    let r1 = p1.join();
    let y = fin(&m.v);
    exists(y == 2 && r1 == 0, format!("y={y} /\\ 1:r1={r1}"));
}

pub fn mp_atomic_inc_rmb() {
    mp_atomic_inc(false)
}

pub fn mp_atomic_inc_mb_after_atomic() {
    mp_atomic_inc(true)
}

/// kmodel's SB+cmpxchgs (`k = Full`) / SB+cmpxchgrelaxeds: SB with a `cmpxchg()` that always
/// succeeds (each CPU on its own word) between each store and load: a successful fully
/// ordered `cmpxchg()` is a full barrier; `cmpxchg_relaxed()` orders nothing.
fn sb_cmpxchg(k: Kord) {
    fn one(
        k: Kord,
        mine: (&AtomicU32, &str),
        word: (&AtomicU32, &str),
        other: (&AtomicU32, &str),
    ) -> u32 {
        w(mine.0, mine.1, 1);
        let seen = cmpxchg(k, word.0, 0, 1);
        ev!("cmpxchg", "{}: 0 -> 1, read {seen}", word.1);
        r(other.0, other.1)
    }
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        one(k, (&m.x, "x"), (&m.z, "z0"), (&m.y, "y"))
    });
    let p1 = cpu("P1", &m, move |m| {
        one(k, (&m.y, "y"), (&m.v, "z1"), (&m.x, "x"))
    });
    let (r0, r1) = (p0.join(), p1.join());
    exists(r0 == 0 && r1 == 0, format!("0:r0={r0} /\\ 1:r0={r1}"));
}

pub fn sb_cmpxchgs() {
    sb_cmpxchg(Kord::Full)
}

pub fn sb_cmpxchg_relaxeds() {
    sb_cmpxchg(Kord::Relaxed)
}

/// kmodel's MP+pooncerelease+cmpxchgacquireonce: `smp_store_release(y, 1)` against
/// `r0 = cmpxchg_acquire(y, 1, 2); r1 = READ_ONCE(x)`: a successful `_acquire` orders the load.
pub fn mp_cmpxchg_acquire() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        rel(&m.y, "y", 1);
    });
    let p1 = cpu("P1", &m, |m| {
        let r0 = cmpxchg(Kord::Acquire, &m.y, 1, 2);
        ev!("cmpxchg_acquire", "y: 1 -> 2, read {r0}");
        (r0, r(&m.x, "x"))
    });
    p0.join();
    let (r0, r1) = p1.join();
    exists(r0 == 1 && r1 == 0, format!("1:r0={r0} /\\ 1:r1={r1}"));
}

/// kmodel's MP+cmpxchgreleaseonce+poacquireonce (`k = Release`, Never) /
/// MP+xchgrelaxedonce+poacquireonce (`xchg_relaxed()`, Sometimes): P0 publishes `y` with an
/// RMW after `WRITE_ONCE(x, 1)`; P1 `smp_load_acquire(y)` then `READ_ONCE(x)`.
fn mp_rmw_publish(release: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        w(&m.x, "x", 1);
        if release {
            let r = cmpxchg(Kord::Release, &m.y, 0, 1);
            ev!("cmpxchg_release", "y: 0 -> 1, read {r}");
        } else {
            xchg(Kord::Relaxed, &m.y, 1);
            ev!("xchg_relaxed", "y = 1");
        }
    });
    let p1 = cpu("P1", &m, |m| {
        let r0 = acq(&m.y, "y");
        (r0, r(&m.x, "x"))
    });
    p0.join();
    let (r0, r1) = p1.join();
    exists(r0 == 1 && r1 == 0, format!("1:r0={r0} /\\ 1:r1={r1}"));
}

pub fn mp_cmpxchg_release() {
    mp_rmw_publish(true)
}

pub fn mp_xchg_relaxed() {
    mp_rmw_publish(false)
}
