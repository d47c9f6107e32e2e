//! RCU tests (`Documentation/litmus-tests/rcu/`, explanation.txt's "THE RCU-FENCE ORDERING")
//! on the harness's RCU (`kmodel_harness::lkmm` `rcu.rs`).

use kmodel_harness::prelude::*;

use super::mem::{cpu, exists, r, rlock, runlock, sync_rcu, w, Mem};

/// RCU+sync+read: P0 writes `x` then `y` in a read-side critical section; P1 reads `x`,
/// `synchronize_rcu()`, reads `y`. A critical section cannot span a grace period.
pub fn sync_read() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        rlock(m);
        w(&m.x, "x", 1);
        w(&m.y, "y", 1);
        runlock(m);
    });
    let p1 = cpu("P1", &m, |m| {
        let r0 = r(&m.x, "x");
        sync_rcu(m);
        (r0, r(&m.y, "y"))
    });
    p0.join();
    let (r0, r1) = p1.join();
    exists(r0 == 1 && r1 == 0, format!("1:r0={r0} /\\ 1:r1={r1}"));
}

/// Where `y` points: `x` (0, the initial value) or `z` (1).
const POINTS_AT_Z: u32 = 1;

/// RCU+sync+free (`sync = true`): `x = 1`, `y = &x`, `z = 1`; P0 reads `y` with
/// `rcu_dereference()` and the object through it in a critical section; P1
/// `rcu_assign_pointer(y, &z)`, `synchronize_rcu()`, then destroys `x` (`WRITE_ONCE(*x, 0)`,
/// and the object is freed). kmodel's RCU+nosync+free (`sync = false`) leaves out the grace
/// period: the reader may use `x` after its destruction, even under SC.
fn free(sync: bool) {
    let m = Mem::new();
    write_once(&m.x, 1);
    write_once(&m.z, 1);
    let objs = Arc::new([RcuObject::new("x"), RcuObject::new("z")]);
    let o = objs.clone();
    let p0 = cpu("P0", &m, move |m| {
        rlock(m);
        let p = rcu_dereference(&m.y);
        let name = if p == POINTS_AT_Z { "z" } else { "x" };
        ev!("rcu_dereference", "y -> &{name}");
        let r1 = if p == POINTS_AT_Z {
            r(&m.z, "*r0 (z)")
        } else {
            r(&m.x, "*r0 (x)")
        };
        o[p as usize].deref(&format!("READ_ONCE(*r0) ({name})"));
        runlock(m);
        (p, r1)
    });
    let o = objs.clone();
    let p1 = cpu("P1", &m, move |m| {
        rcu_assign_pointer(&m.y, POINTS_AT_Z);
        ev!("rcu_assign_pointer", "y = &z");
        if sync {
            sync_rcu(m);
        }
        w(&m.x, "x", 0);
        o[0].kfree();
        ev!("kfree", "x");
    });
    let (p, r1) = p0.join();
    p1.join();
    exists(
        p != POINTS_AT_Z && r1 == 0,
        format!(
            "0:r0={} /\\ 0:r1={r1}",
            if p == POINTS_AT_Z { "z" } else { "x" }
        ),
    );
}

pub fn sync_free() {
    free(true)
}

pub fn nosync_free() {
    free(false)
}

/// explanation.txt's second rcu-order example: two critical sections (P0, P2) and one grace
/// period (P1). `r0 = r1 = r2 = 1` is allowed (fewer grace periods than critical sections in
/// the cycle), but only if P0 and P2 each run their store before their earlier load: load
/// buffering, which loom never builds and SC forbids.
pub fn two_rscs_one_gp() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        rlock(m);
        let r0 = r(&m.x, "x");
        w(&m.y, "y", 1);
        runlock(m);
        r0
    });
    let p1 = cpu("P1", &m, |m| {
        let r1 = r(&m.y, "y");
        sync_rcu(m);
        w(&m.z, "z", 1);
        r1
    });
    let p2 = cpu("P2", &m, |m| {
        rlock(m);
        let r2 = r(&m.z, "z");
        w(&m.x, "x", 1);
        runlock(m);
        r2
    });
    let (r0, r1, r2) = (p0.join(), p1.join(), p2.join());
    exists(
        r0 == 1 && r1 == 1 && r2 == 1,
        format!("0:r0={r0} /\\ 1:r1={r1} /\\ 2:r2={r2}"),
    );
}

/// kmodel's RCU+callback+free: RCU+sync+free with `call_rcu()` (the free runs in a callback
/// actor after a grace period) instead of `synchronize_rcu()` then the free.
pub fn callback_free() {
    let m = Mem::new();
    write_once(&m.x, 1);
    write_once(&m.z, 1);
    let objs = Arc::new([RcuObject::new("x"), RcuObject::new("z")]);
    let o = objs.clone();
    let p0 = cpu("P0", &m, move |m| {
        rlock(m);
        let p = rcu_dereference(&m.y);
        let name = if p == POINTS_AT_Z { "z" } else { "x" };
        ev!("rcu_dereference", "y -> &{name}");
        let r1 = if p == POINTS_AT_Z {
            r(&m.z, "*r0 (z)")
        } else {
            r(&m.x, "*r0 (x)")
        };
        o[p as usize].deref(&format!("READ_ONCE(*r0) ({name})"));
        runlock(m);
        (p, r1)
    });
    let (mm, o) = (m.clone(), objs.clone());
    let p1 = spawn("P1", move || {
        rcu_assign_pointer(&mm.y, POINTS_AT_Z);
        ev!("rcu_assign_pointer", "y = &z");
        ev!("call_rcu", "free x after a grace period");
        let cb = mm.clone();
        call_rcu(&mm.rcu, "rcu callback", move || {
            w(&cb.x, "x", 0);
            o[0].kfree();
            ev!("kfree", "x");
        });
    });
    let (p, r1) = p0.join();
    p1.join();
    rcu_barrier(&m.rcu);
    exists(
        p != POINTS_AT_Z && r1 == 0,
        format!(
            "0:r0={} /\\ 0:r1={r1}",
            if p == POINTS_AT_Z { "z" } else { "x" }
        ),
    );
}
