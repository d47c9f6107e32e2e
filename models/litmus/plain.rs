//! Plain accesses and data races (explanation.txt, "PLAIN ACCESSES AND DATA RACES"): each test
//! asks whether herd7 flags a data race (the [`DATA_RACE`] property), and some also have an
//! exists clause.

use kmodel_harness::prelude::*;

use super::mem::{cpu, exists, pr, pw, r, rlock, rmb, runlock, sync_rcu, w, wmb, Mem};

/// explanation.txt's MP with a plain `buf`: `buf = 1; smp_wmb(); WRITE_ONCE(flag, 1)` against
/// `r1 = READ_ONCE(flag); if (r1) { smp_rmb(); r2 = buf; }`. The fences bound the plain
/// accesses: no data race. kmodel's MP+plain-nofences (`fences = false`) drops both fences:
/// the plain accesses race.
fn mp(fences: bool) {
    let m = Mem::with_plain("buf", "unused");
    let p0 = cpu("P0", &m, move |m| {
        pw(&m.a, 1);
        if fences {
            wmb();
        }
        w(&m.y, "flag", 1);
    });
    let p1 = cpu("P1", &m, move |m| {
        let r1 = r(&m.y, "flag");
        let mut r2 = 0;
        if r1 != 0 {
            if fences {
                rmb();
            }
            r2 = pr(&m.a);
        }
        (r1, r2)
    });
    p0.join();
    let (r1, r2) = p1.join();
    exists(r1 == 1 && r2 == 0, format!("1:r1={r1} /\\ 1:r2={r2}"));
}

pub fn mp_fences() {
    mp(true)
}

pub fn mp_nofences() {
    mp(false)
}

/// explanation.txt's first plain example: `int a = 6; int *x = &a;` P0 reads `x` plainly and,
/// if not NULL, `READ_ONCE(*r1)`; P1 `WRITE_ONCE(x, NULL)`. The plain load races with the
/// marked store (the compiler may load `x` twice and dereference NULL). No exists clause.
pub fn null_deref() {
    let m = Mem::with_plain("x", "unused");
    write_once(&m.z, 6);
    plain_write(&m.a, 1); // x = &a (initialisation, before any CPU runs)
    let p0 = cpu("P0", &m, |m| {
        let r1 = pr(&m.a);
        if r1 != 0 {
            r(&m.z, "*r1 (a)");
        }
    });
    let p1 = cpu("P1", &m, |m| {
        write_once(&m.a, 0);
        ev!("WRITE_ONCE", "x = NULL");
    });
    p0.join();
    p1.join();
    exists(false, String::new());
}

/// explanation.txt's RCU publication with a plain store and a plain load through the pointer:
/// `b = 2; rcu_assign_pointer(ptr, &b)` against `rcu_read_lock(); p = rcu_dereference(ptr);
/// r = *p; rcu_read_unlock()` (`int a = 1, *ptr = &a`). The release and the address dependency
/// bound the plain accesses: no race, and `r` is 2 whenever `p` is `&b`.
pub fn rcu_publish() {
    let m = Mem::with_plain("a", "b");
    plain_write(&m.a, 1);
    let p0 = cpu("P0", &m, |m| {
        pw(&m.b, 2);
        rcu_assign_pointer(&m.y, 1);
        ev!("rcu_assign_pointer", "ptr = &b");
    });
    let p1 = cpu("P1", &m, |m| {
        rlock(m);
        let p = rcu_dereference(&m.y);
        ev!(
            "rcu_dereference",
            "ptr -> {}",
            if p == 1 { "&b" } else { "&a" }
        );
        let r = if p == 1 { pr(&m.b) } else { pr(&m.a) };
        runlock(m);
        (p, r)
    });
    p0.join();
    let (p, r) = p1.join();
    exists(
        p == 1 && r != 2,
        format!("1:p={} /\\ 1:r={r}", if p == 1 { "&b" } else { "&a" }),
    );
}

/// explanation.txt's rcu-fence example: `WRITE_ONCE(x, 1); synchronize_rcu(); y = 3;` against
/// `rcu_read_lock(); if (READ_ONCE(x) == 0) y = 2; rcu_read_unlock();`. If the reader saw
/// `x == 0` its critical section ends before the grace period does: the plain stores to `y`
/// do not race, and `y = 2` never comes last.
pub fn rcu_fence() {
    let m = Mem::with_plain("y", "unused");
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        sync_rcu(m);
        pw(&m.a, 3);
    });
    let p1 = cpu("P1", &m, |m| {
        rlock(m);
        if r(&m.x, "x") == 0 {
            pw(&m.a, 2);
        }
        runlock(m);
    });
    p0.join();
    p1.join();
    let y = plain_read(&m.a);
    exists(y == 2, format!("y={y}"));
}
