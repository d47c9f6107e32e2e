//! Spinlock tests (`tools/memory-model/litmus-tests/`, `Documentation/litmus-tests/locking/`)
//! and the model's own test of where the lock mapping is stronger than LKMM.

use kmodel_harness::prelude::*;

use super::mem::{acq, cpu, exists, fin, lock, mb, r, rel, rmb, unlock, w, wmb, Mem};

/// P0 and P1 of the ISA2 / Z6.0 lock tests: `x` and `y` written in one critical section of
/// `s`, then `y` read and `z` written in the next; `after_spinlock` adds
/// `smp_mb__after_spinlock()` in P1. Returns P1's `r0`.
fn two_critical_sections(m: &Arc<Mem>, after_spinlock: bool) -> (JoinHandle<()>, JoinHandle<u32>) {
    let p0 = cpu("P0", m, |m| {
        let g = lock(&m.s, "mylock");
        w(&m.x, "x", 1);
        w(&m.y, "y", 1);
        unlock(g, "mylock");
    });
    let p1 = cpu("P1", m, move |m| {
        let g = lock(&m.s, "mylock");
        if after_spinlock {
            ev!("smp_mb__after_spinlock", "full barrier");
            smp_mb__after_spinlock();
        }
        let r0 = r(&m.y, "y");
        w(&m.z, "z", 1);
        unlock(g, "mylock");
        r0
    });
    (p0, p1)
}

/// ISA2+pooncelock+pooncelock+pombonce: lock handover orders both critical sections for a CPU
/// that never takes the lock.
pub fn isa2_locks() {
    let m = Mem::new();
    let (p0, p1) = two_critical_sections(&m, false);
    let p2 = cpu("P2", &m, |m| {
        let r2 = r(&m.z, "z");
        mb();
        (r2, r(&m.x, "x"))
    });
    p0.join();
    let r0 = p1.join();
    let (r2, r1) = p2.join();
    exists(
        r0 == 1 && r2 == 1 && r1 == 0,
        format!("1:r0={r0} /\\ 2:r2={r2} /\\ 2:r1={r1}"),
    );
}

/// Z6.0+pooncelock+pooncelock+pombonce (`after_spinlock = false`, Sometimes) /
/// Z6.0+pooncelock+poonceLock+pombonce (Never).
fn z6_locks(after_spinlock: bool) {
    let m = Mem::new();
    let (p0, p1) = two_critical_sections(&m, after_spinlock);
    let p2 = cpu("P2", &m, |m| {
        w(&m.z, "z", 2);
        mb();
        r(&m.x, "x")
    });
    p0.join();
    let r0 = p1.join();
    let r1 = p2.join();
    let z = fin(&m.z);
    exists(
        r0 == 1 && z == 2 && r1 == 0,
        format!("1:r0={r0} /\\ z={z} /\\ 2:r1={r1}"),
    );
}

pub fn z6_locks_plain() {
    z6_locks(false)
}

pub fn z6_locks_after_spinlock() {
    z6_locks(true)
}

/// MP+polocks: `WRITE_ONCE(x); spin_lock(); WRITE_ONCE(y); spin_unlock()` against
/// `spin_lock(); READ_ONCE(y); spin_unlock(); READ_ONCE(x)`.
pub fn mp_polocks() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        let g = lock(&m.s, "mylock");
        w(&m.y, "y", 1);
        unlock(g, "mylock");
    });
    let p1 = cpu("P1", &m, |m| {
        let g = lock(&m.s, "mylock");
        let r0 = r(&m.y, "y");
        unlock(g, "mylock");
        (r0, r(&m.x, "x"))
    });
    p0.join();
    let (r0, r1) = p1.join();
    exists(r0 == 1 && r1 == 0, format!("1:r0={r0} /\\ 1:r1={r1}"));
}

/// MP+porevlocks: the reversed form (reader reads `y` outside, `x` inside the lock).
pub fn mp_porevlocks() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let r0 = r(&m.y, "y");
        let g = lock(&m.s, "mylock");
        let r1 = r(&m.x, "x");
        unlock(g, "mylock");
        (r0, r1)
    });
    let p1 = cpu("P1", &m, |m| {
        let g = lock(&m.s, "mylock");
        w(&m.x, "x", 1);
        unlock(g, "mylock");
        w(&m.y, "y", 1);
    });
    let (r0, r1) = p0.join();
    p1.join();
    exists(r0 == 1 && r1 == 0, format!("0:r0={r0} /\\ 0:r1={r1}"));
}

/// MP+unlocklockonceonce+fencermbonceonce: critical sections of two different locks on one CPU
/// are ordered for an observer with `smp_rmb()`.
pub fn mp_unlocklock_rmb() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let g = lock(&m.s, "s");
        w(&m.x, "x", 1);
        unlock(g, "s");
        let g = lock(&m.t, "t");
        w(&m.y, "y", 1);
        unlock(g, "t");
    });
    let p1 = cpu("P1", &m, |m| {
        let r1 = r(&m.y, "y");
        rmb();
        (r1, r(&m.x, "x"))
    });
    p0.join();
    let (r1, r2) = p1.join();
    exists(r1 == 1 && r2 == 0, format!("1:r1={r1} /\\ 1:r2={r2}"));
}

/// LB+unlocklockonceonce+poacquireonce: a read in one critical section and a write in the next
/// (different locks) against an acquire load.
pub fn lb_unlocklock_acquire() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let g = lock(&m.s, "s");
        let r1 = r(&m.x, "x");
        unlock(g, "s");
        let g = lock(&m.t, "t");
        w(&m.y, "y", 1);
        unlock(g, "t");
        r1
    });
    let p1 = cpu("P1", &m, |m| {
        let r2 = acq(&m.y, "y");
        w(&m.x, "x", 1);
        r2
    });
    let (r1, r2) = (p0.join(), p1.join());
    exists(r1 == 1 && r2 == 1, format!("0:r1={r1} /\\ 1:r2={r2}"));
}

/// MP+polockonce+poacquiresilsil (`mb = false`) / MP+polockmbonce+poacquiresilsil: an observer
/// reads `x` with acquire, then `spin_is_locked()` twice.
fn silsil(with_mb: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        let g = lock(&m.s, "lo");
        if with_mb {
            ev!("smp_mb__after_spinlock", "full barrier");
            smp_mb__after_spinlock();
        }
        w(&m.x, "x", 1);
        unlock(g, "lo");
    });
    let p1 = cpu("P1", &m, |m| {
        let r1 = acq(&m.x, "x");
        let r2 = m.s.is_locked();
        ev!("spin_is_locked", "lo -> {}", r2 as u32);
        let r3 = m.s.is_locked();
        ev!("spin_is_locked", "lo -> {}", r3 as u32);
        (r1, r2, r3)
    });
    p0.join();
    let (r1, r2, r3) = p1.join();
    exists(
        r1 == 1 && !r2 && r3,
        format!("1:r1={r1} /\\ 1:r2={} /\\ 1:r3={}", r2 as u32, r3 as u32),
    );
}

pub fn silsil_plain() {
    silsil(false)
}

pub fn silsil_mb() {
    silsil(true)
}

/// DCL-broken (`fixed = false`) / DCL-fixed: double-checked initialisation of `data` (`x`)
/// under `flag` (`y`); each CPU reads `data` at the end.
fn dcl(fixed: bool) {
    fn one(m: &Mem, fixed: bool) -> u32 {
        let r0 = if fixed {
            acq(&m.y, "flag")
        } else {
            r(&m.y, "flag")
        };
        if r0 == 0 {
            let g = lock(&m.s, "lck");
            if r(&m.y, "flag") == 0 {
                w(&m.x, "data", 1);
                if fixed {
                    rel(&m.y, "flag", 1);
                } else {
                    w(&m.y, "flag", 1);
                }
            }
            unlock(g, "lck");
        }
        r(&m.x, "data")
    }
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| one(m, fixed));
    let p1 = cpu("P1", &m, move |m| one(m, fixed));
    let (a, b) = (p0.join(), p1.join());
    exists(a == 0 || b == 0, format!("0:r2={a} \\/ 1:r2={b}"));
}

pub fn dcl_broken() {
    dcl(false)
}

pub fn dcl_fixed() {
    dcl(true)
}

/// RM-fixed: `filter (1:r0=0 /\ 1:r1=1) exists (1:r2=1)`: if P1 saw P0's critical-section
/// write to `x` change before taking the lock, its `atomic_inc_return()` under the lock comes
/// second.
pub fn rm_fixed() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let g = lock(&m.s, "lck");
        let r2 = atomic_inc_return(Kord::Full, &m.v);
        ev!("atomic_inc_return", "y -> {r2}");
        w(&m.x, "x", 1);
        unlock(g, "lck");
    });
    let p1 = cpu("P1", &m, |m| {
        let r0 = r(&m.x, "x");
        let r1 = r(&m.x, "x");
        let g = lock(&m.s, "lck");
        let r2 = atomic_inc_return(Kord::Full, &m.v);
        ev!("atomic_inc_return", "y -> {r2}");
        unlock(g, "lck");
        (r0, r1, r2)
    });
    p0.join();
    let (r0, r1, r2) = p1.join();
    exists(
        r0 == 0 && r1 == 1 && r2 == 1,
        format!("1:r0={r0} /\\ 1:r1={r1} /\\ 1:r2={r2}"),
    );
}

/// kmodel's MP+po-lock-o+acq-o: a store *before* `spin_lock()` is not ordered before the
/// critical section (LKMM: the lock is only an acquire), so an acquiring observer of a store in
/// the critical section may miss it. P0 takes a lock nobody released and has released none
/// itself, so the harness adds no fence: loom shows it, as LKMM allows.
pub fn mp_prelock_store() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        let g = lock(&m.s, "s");
        w(&m.y, "y", 1);
        unlock(g, "s");
    });
    let p1 = cpu("P1", &m, |m| {
        let r0 = acq(&m.y, "y");
        (r0, r(&m.x, "x"))
    });
    p0.join();
    let (r0, r1) = p1.join();
    exists(r0 == 1 && r1 == 0, format!("1:r0={r0} /\\ 1:r1={r1}"));
}

/// explanation.txt, LOCKING, first example (`one_lock = false`: locks `s` and `t`) and its
/// one-lock form: P0 reads `x` in one critical section and `y` in the next on the same CPU;
/// P1 writes `y`, `smp_wmb()`, `x`. A lock-acquire po-after a lock-release orders everything
/// before the release before everything after the acquire, even for different locks.
fn locking_1(one_lock: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        let g = lock(&m.s, "s");
        let r1 = r(&m.x, "x");
        unlock(g, "s");
        let (l, name) = if one_lock { (&m.s, "s") } else { (&m.t, "t") };
        let g = lock(l, name);
        let r2 = r(&m.y, "y");
        unlock(g, name);
        (r1, r2)
    });
    let p1 = cpu("P1", &m, |m| {
        w(&m.y, "y", 1);
        wmb();
        w(&m.x, "x", 1);
    });
    let (r1, r2) = p0.join();
    p1.join();
    exists(r1 == 1 && r2 == 0, format!("0:r1={r1} /\\ 0:r2={r2}"));
}

pub fn locking_1_two_locks() {
    locking_1(false)
}

pub fn locking_1_one_lock() {
    locking_1(true)
}

/// explanation.txt, LOCKING: the first example with `smp_store_release(&s, 1)` and
/// `r3 = smp_load_acquire(&s)` in place of the unlock and lock. The CPU may forward the
/// released value to its own acquire and run the loads out of order: "r2 = 0 and r1 = 1".
pub fn locking_1_release_acquire() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let r1 = r(&m.x, "x");
        rel(&m.z, "s", 1);
        let r3 = acq(&m.z, "s");
        let r2 = r(&m.y, "y");
        (r1, r2, r3)
    });
    let p1 = cpu("P1", &m, |m| {
        w(&m.y, "y", 1);
        wmb();
        w(&m.x, "x", 1);
    });
    let (r1, r2, r3) = p0.join();
    p1.join();
    exists(
        r1 == 1 && r2 == 0,
        format!("0:r1={r1} /\\ 0:r2={r2} (0:r3={r3})"),
    );
}

/// explanation.txt, LOCKING, second example (`other_lock = false`): P0 writes `x` under `s`;
/// P1 reads `x` and writes `y` under `s`; P2 reads `y`, `smp_rmb()`, `x`. If P1's lock read
/// from P0's unlock, `x` propagates to P2 before `y`. With `other_lock` P1 takes `t`: "the
/// writes could have propagated in either order".
fn locking_2(other_lock: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let g = lock(&m.s, "s");
        w(&m.x, "x", 1);
        unlock(g, "s");
    });
    let p1 = cpu("P1", &m, move |m| {
        let (l, name) = if other_lock { (&m.t, "t") } else { (&m.s, "s") };
        let g = lock(l, name);
        let r1 = r(&m.x, "x");
        w(&m.y, "y", 1);
        unlock(g, name);
        r1
    });
    let p2 = cpu("P2", &m, |m| {
        let r2 = r(&m.y, "y");
        rmb();
        (r2, r(&m.x, "x"))
    });
    p0.join();
    let r1 = p1.join();
    let (r2, r3) = p2.join();
    exists(
        r1 == 1 && r2 == 1 && r3 == 0,
        format!("1:r1={r1} /\\ 2:r2={r2} /\\ 2:r3={r3}"),
    );
}

pub fn locking_2_same_lock() {
    locking_2(false)
}

pub fn locking_2_other_lock() {
    locking_2(true)
}

/// kmodel's MP+handover-po-lock-o+acq-o: P1's store to `x` before `spin_lock(s)` is not ordered
/// before its critical section (LKMM: a lock is an acquire), also when the lock was handed over
/// by P0 (`1:r0=1`). The harness's handover fence (`fence(Release)` after acquiring a lock last
/// released by another CPU) orders it: stronger than LKMM.
pub fn mp_handover_prelock_store() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let g = lock(&m.s, "s");
        w(&m.z, "z", 1);
        unlock(g, "s");
    });
    let p1 = cpu("P1", &m, |m| {
        w(&m.x, "x", 1);
        let g = lock(&m.s, "s");
        let r0 = r(&m.z, "z");
        w(&m.y, "y", 1);
        unlock(g, "s");
        r0
    });
    let p2 = cpu("P2", &m, |m| {
        let r1 = acq(&m.y, "y");
        (r1, r(&m.x, "x"))
    });
    p0.join();
    let r0 = p1.join();
    let (r1, r2) = p2.join();
    exists(
        r0 == 1 && r1 == 1 && r2 == 0,
        format!("1:r0={r0} /\\ 2:r1={r1} /\\ 2:r2={r2}"),
    );
}

/// kmodel's MP+unlock-po-lock-o+fencewmbonceonce: P0 reads `x` *between* `spin_unlock(s)` and
/// `spin_lock(t)`, then `y` inside `t`. `po-unlock-lock-po` only orders accesses before the
/// unlock, so LKMM lets the read of `y` pass the read of `x`; the harness's `fence(AcqRel)`
/// after the lock orders every earlier read: stronger than LKMM.
pub fn mp_unlock_read_lock() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let g = lock(&m.s, "s");
        unlock(g, "s");
        let r1 = r(&m.x, "x");
        let g = lock(&m.t, "t");
        let r2 = r(&m.y, "y");
        unlock(g, "t");
        (r1, r2)
    });
    let p1 = cpu("P1", &m, |m| {
        w(&m.y, "y", 1);
        wmb();
        w(&m.x, "x", 1);
    });
    let (r1, r2) = p0.join();
    p1.join();
    exists(r1 == 1 && r2 == 0, format!("0:r1={r1} /\\ 0:r2={r2}"));
}

/// kmodel's SB+lockonce+fencembonceonce (`after = false`) / SB+lock-mbafterspinlock+
/// fencembonceonce: P0 `WRITE_ONCE(x, 1); spin_lock(s); [smp_mb__after_spinlock();]
/// r0 = READ_ONCE(y); spin_unlock(s)`, P1 `WRITE_ONCE(y, 1); smp_mb(); r1 = READ_ONCE(x)`. A
/// lock is only an acquire: the store before it may pass the load inside. With
/// `smp_mb__after_spinlock()` everything before the lock is ordered before everything after.
fn sb_lock(after: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        w(&m.x, "x", 1);
        let g = lock(&m.s, "s");
        if after {
            ev!("smp_mb__after_spinlock", "full barrier");
            smp_mb__after_spinlock();
        }
        let r0 = r(&m.y, "y");
        unlock(g, "s");
        r0
    });
    let p1 = cpu("P1", &m, |m| {
        w(&m.y, "y", 1);
        mb();
        r(&m.x, "x")
    });
    let (r0, r1) = (p0.join(), p1.join());
    exists(r0 == 0 && r1 == 0, format!("0:r0={r0} /\\ 1:r1={r1}"));
}

pub fn sb_lock_plain() {
    sb_lock(false)
}

pub fn sb_lock_after_spinlock() {
    sb_lock(true)
}
