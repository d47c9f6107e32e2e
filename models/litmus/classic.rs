//! Coherence, SB, MP, LB, WRC, IRIW, R, S, 2+2W, Z6.0 and ISA2 shapes without locks
//! (`tools/memory-model/litmus-tests/`), plus the model's own dependency and 2+2W tests.
//! Each function is one execution of the test named in its doc line.

use kmodel_harness::prelude::*;

use super::mem::{acq, cpu, exists, fin, mb, r, rel, rmb, w, wmb, Mem};

/// CoRR+poonceonce+Once: two reads of `x` on one CPU never see its writes out of order.
pub fn corr() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| w(&m.x, "x", 1));
    let p1 = cpu("P1", &m, |m| (r(&m.x, "x"), r(&m.x, "x")));
    p0.join();
    let (r0, r1) = p1.join();
    exists(r0 == 1 && r1 == 0, format!("1:r0={r0} /\\ 1:r1={r1}"));
}

/// CoRW+poonceonce+Once: a read never sees a write that is coherence-after its own later write.
pub fn corw() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let r0 = r(&m.x, "x");
        w(&m.x, "x", 1);
        r0
    });
    let p1 = cpu("P1", &m, |m| w(&m.x, "x", 2));
    let r0 = p0.join();
    p1.join();
    let x = fin(&m.x);
    exists(x == 2 && r0 == 2, format!("x={x} /\\ 0:r0={r0}"));
}

/// CoWR+poonceonce+Once: a read after a write to `x` never sees a coherence-earlier write.
pub fn cowr() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        r(&m.x, "x")
    });
    let p1 = cpu("P1", &m, |m| w(&m.x, "x", 2));
    let r0 = p0.join();
    p1.join();
    let x = fin(&m.x);
    exists(x == 1 && r0 == 2, format!("x={x} /\\ 0:r0={r0}"));
}

/// CoWW+poonceonce: two writes of one CPU to `x` are coherence-ordered as in the program.
pub fn coww() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        w(&m.x, "x", 2);
    });
    // An idle second CPU: shuttle's PCT needs two actors to schedule (the test has one).
    let p1 = cpu("P1", &m, |_| ());
    p0.join();
    p1.join();
    let x = fin(&m.x);
    exists(x == 1, format!("x={x}"));
}

/// SB+poonceonces (`mb = false`) / SB+fencembonceonces (`mb = true`): store buffering.
fn sb(with_mb: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        w(&m.x, "x", 1);
        if with_mb {
            mb();
        }
        r(&m.y, "y")
    });
    let p1 = cpu("P1", &m, move |m| {
        w(&m.y, "y", 1);
        if with_mb {
            mb();
        }
        r(&m.x, "x")
    });
    let (r0, r1) = (p0.join(), p1.join());
    exists(r0 == 0 && r1 == 0, format!("0:r0={r0} /\\ 1:r0={r1}"));
}

pub fn sb_poonceonces() {
    sb(false)
}

pub fn sb_fencembonceonces() {
    sb(true)
}

/// SB+rfionceonce-poonceonces: each CPU reads its own write early (not multicopy atomic).
pub fn sb_rfi() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        let r1 = r(&m.x, "x");
        (r1, r(&m.y, "y"))
    });
    let p1 = cpu("P1", &m, |m| {
        w(&m.y, "y", 1);
        let r3 = r(&m.y, "y");
        (r3, r(&m.x, "x"))
    });
    let ((_, r2), (_, r4)) = (p0.join(), p1.join());
    exists(r2 == 0 && r4 == 0, format!("0:r2={r2} /\\ 1:r4={r4}"));
}

/// How the MP writer and reader are ordered.
#[derive(Clone, Copy, PartialEq)]
enum Mp {
    Once,
    WmbRmb,
    RelAcq,
}

/// MP+poonceonces / MP+fencewmbonceonce+fencermbonceonce / MP+pooncerelease+poacquireonce.
fn mp(kind: Mp) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        w(&m.x, "x", 1);
        match kind {
            Mp::Once => w(&m.y, "y", 1),
            Mp::WmbRmb => {
                wmb();
                w(&m.y, "y", 1)
            }
            Mp::RelAcq => rel(&m.y, "y", 1),
        }
    });
    let p1 = cpu("P1", &m, move |m| {
        let r0 = match kind {
            Mp::Once => r(&m.y, "y"),
            Mp::WmbRmb => {
                let r0 = r(&m.y, "y");
                rmb();
                r0
            }
            Mp::RelAcq => acq(&m.y, "y"),
        };
        (r0, r(&m.x, "x"))
    });
    p0.join();
    let (r0, r1) = p1.join();
    exists(r0 == 1 && r1 == 0, format!("1:r0={r0} /\\ 1:r1={r1}"));
}

pub fn mp_poonceonces() {
    mp(Mp::Once)
}

pub fn mp_wmb_rmb() {
    mp(Mp::WmbRmb)
}

pub fn mp_release_acquire() {
    mp(Mp::RelAcq)
}

/// MP+onceassign+derefonce: `y` points at `z` (0) or `x` (1); `rcu_assign_pointer()` publishes
/// `x`, `rcu_dereference()` and the dependent `READ_ONCE()` read through it. With `deref =
/// false` the pointer is read with a plain `READ_ONCE()` (kmodel's MP+onceassign+onceonce).
fn mp_pointer(deref: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        rcu_assign_pointer(&m.y, 1);
        ev!("rcu_assign_pointer", "y = &x");
    });
    let p1 = cpu("P1", &m, move |m| {
        let p = if deref {
            let p = rcu_dereference(&m.y);
            ev!(
                "rcu_dereference",
                "y -> {}",
                if p == 1 { "&x" } else { "&z" }
            );
            p
        } else {
            let p = read_once(&m.y);
            ev!("READ_ONCE", "y -> {}", if p == 1 { "&x" } else { "&z" });
            p
        };
        let r1 = if p == 1 {
            r(&m.x, "*r0 (x)")
        } else {
            r(&m.z, "*r0 (z)")
        };
        (p, r1)
    });
    p0.join();
    let (p, r1) = p1.join();
    exists(
        p == 1 && r1 == 0,
        format!("1:r0={} /\\ 1:r1={r1}", if p == 1 { "x" } else { "z" }),
    );
}

pub fn mp_onceassign_derefonce() {
    mp_pointer(true)
}

pub fn mp_onceassign_onceonce() {
    mp_pointer(false)
}

/// How each LB thread orders its read before its write.
#[derive(Clone, Copy, PartialEq)]
enum Lb {
    Once,
    CtrlMb,
    AcqRel,
}

/// LB+poonceonces / LB+fencembonceonce+ctrlonceonce / LB+poacquireonce+pooncerelease.
fn lb(kind: Lb) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| match kind {
        Lb::Once => {
            let r0 = r(&m.x, "x");
            w(&m.y, "y", 1);
            r0
        }
        Lb::CtrlMb => {
            let r0 = r(&m.x, "x");
            if r0 != 0 {
                w(&m.y, "y", 1);
            }
            r0
        }
        Lb::AcqRel => {
            let r0 = r(&m.x, "x");
            rel(&m.y, "y", 1);
            r0
        }
    });
    let p1 = cpu("P1", &m, move |m| match kind {
        Lb::Once => {
            let r0 = r(&m.y, "y");
            w(&m.x, "x", 1);
            r0
        }
        Lb::CtrlMb => {
            let r0 = r(&m.y, "y");
            mb();
            w(&m.x, "x", 1);
            r0
        }
        Lb::AcqRel => {
            let r0 = acq(&m.y, "y");
            w(&m.x, "x", 1);
            r0
        }
    });
    let (r0, r1) = (p0.join(), p1.join());
    exists(r0 == 1 && r1 == 1, format!("0:r0={r0} /\\ 1:r0={r1}"));
}

pub fn lb_poonceonces() {
    lb(Lb::Once)
}

pub fn lb_ctrl_mb() {
    lb(Lb::CtrlMb)
}

pub fn lb_acquire_release() {
    lb(Lb::AcqRel)
}

/// dep+plain: plain accesses carry P0's dependency from `READ_ONCE(x)` to `WRITE_ONCE(y)`.
pub fn dep_plain() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let a = r(&m.x, "x");
        // *z1 = a; *z2 = *z1: plain, CPU-local.
        let z1 = a;
        let z2 = z1;
        if z2 == 1 {
            w(&m.y, "y", 1);
        }
    });
    let p1 = cpu("P1", &m, |m| {
        let r0 = acq(&m.y, "y");
        rel(&m.x, "x", r0);
    });
    p0.join();
    p1.join();
    let (x, y) = (fin(&m.x), fin(&m.y));
    exists(x == 1 && y == 1, format!("x={x} /\\ y={y}"));
}

/// WRC+poonceonces+Once (`ordered = false`) / WRC+pooncerelease+fencermbonceonce+Once.
fn wrc(ordered: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| w(&m.x, "x", 1));
    let p1 = cpu("P1", &m, move |m| {
        let r0 = r(&m.x, "x");
        if ordered {
            rel(&m.y, "y", 1);
        } else {
            w(&m.y, "y", 1);
        }
        r0
    });
    let p2 = cpu("P2", &m, move |m| {
        let r0 = r(&m.y, "y");
        if ordered {
            rmb();
        }
        (r0, r(&m.x, "x"))
    });
    p0.join();
    let r0 = p1.join();
    let (r1, r2) = p2.join();
    exists(
        r0 == 1 && r1 == 1 && r2 == 0,
        format!("1:r0={r0} /\\ 2:r0={r1} /\\ 2:r1={r2}"),
    );
}

pub fn wrc_poonceonces() {
    wrc(false)
}

pub fn wrc_release_rmb() {
    wrc(true)
}

/// IRIW+poonceonces+OnceOnce / IRIW+fencembonceonces+OnceOnce: do two readers agree on the
/// order of two independent writes?
fn iriw(with_mb: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| w(&m.x, "x", 1));
    let p1 = cpu("P1", &m, move |m| {
        let r0 = r(&m.x, "x");
        if with_mb {
            mb();
        }
        (r0, r(&m.y, "y"))
    });
    let p2 = cpu("P2", &m, |m| w(&m.y, "y", 1));
    let p3 = cpu("P3", &m, move |m| {
        let r0 = r(&m.y, "y");
        if with_mb {
            mb();
        }
        (r0, r(&m.x, "x"))
    });
    p0.join();
    p2.join();
    let ((a0, a1), (b0, b1)) = (p1.join(), p3.join());
    exists(
        a0 == 1 && a1 == 0 && b0 == 1 && b1 == 0,
        format!("1:r0={a0} /\\ 1:r1={a1} /\\ 3:r0={b0} /\\ 3:r1={b1}"),
    );
}

pub fn iriw_poonceonces() {
    iriw(false)
}

pub fn iriw_mb() {
    iriw(true)
}

/// R+poonceonces / R+fencembonceonces.
fn r_shape(with_mb: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        w(&m.x, "x", 1);
        if with_mb {
            mb();
        }
        w(&m.y, "y", 1);
    });
    let p1 = cpu("P1", &m, move |m| {
        w(&m.y, "y", 2);
        if with_mb {
            mb();
        }
        r(&m.x, "x")
    });
    p0.join();
    let r0 = p1.join();
    let y = fin(&m.y);
    exists(y == 2 && r0 == 0, format!("y={y} /\\ 1:r0={r0}"));
}

pub fn r_poonceonces() {
    r_shape(false)
}

pub fn r_mb() {
    r_shape(true)
}

/// How the S writer orders its two stores and the reader its read and write.
#[derive(Clone, Copy, PartialEq)]
enum S {
    Once,
    WmbAcquire,
    WmbCtrl,
}

/// S+poonceonces / S+fencewmbonceonce+poacquireonce / kmodel's S+fencewmbonceonce+ctrlonce.
fn s_shape(kind: S) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        w(&m.x, "x", 2);
        if kind != S::Once {
            wmb();
        }
        w(&m.y, "y", 1);
    });
    let p1 = cpu("P1", &m, move |m| match kind {
        S::Once => {
            let r0 = r(&m.y, "y");
            w(&m.x, "x", 1);
            r0
        }
        S::WmbAcquire => {
            let r0 = acq(&m.y, "y");
            w(&m.x, "x", 1);
            r0
        }
        S::WmbCtrl => {
            let r0 = r(&m.y, "y");
            if r0 != 0 {
                w(&m.x, "x", 1);
            }
            r0
        }
    });
    p0.join();
    let r0 = p1.join();
    let x = fin(&m.x);
    exists(x == 2 && r0 == 1, format!("x={x} /\\ 1:r0={r0}"));
}

pub fn s_poonceonces() {
    s_shape(S::Once)
}

pub fn s_wmb_acquire() {
    s_shape(S::WmbAcquire)
}

pub fn s_wmb_ctrl() {
    s_shape(S::WmbCtrl)
}

/// C-2+2W+o-wmb-o+o-wmb-o (`wmb`) / kmodel's 2+2W+fencembonceonces (`mb`).
fn two_plus_two_w(full: bool) {
    let m = Mem::new();
    let fence = move || if full { mb() } else { wmb() };
    let p0 = cpu("P0", &m, move |m| {
        w(&m.x, "x0", 1);
        fence();
        w(&m.y, "x1", 2);
    });
    let p1 = cpu("P1", &m, move |m| {
        w(&m.y, "x1", 1);
        fence();
        w(&m.x, "x0", 2);
    });
    p0.join();
    p1.join();
    let (x0, x1) = (fin(&m.x), fin(&m.y));
    exists(x0 == 1 && x1 == 1, format!("x0={x0} /\\ x1={x1}"));
}

pub fn two_plus_two_w_wmb() {
    two_plus_two_w(false)
}

pub fn two_plus_two_w_mb() {
    two_plus_two_w(true)
}

/// ISA2+poonceonces (`chain = false`) / ISA2+pooncerelease+poacquirerelease+poacquireonce.
fn isa2(chain: bool) {
    let m = Mem::new();
    let p0 = cpu("P0", &m, move |m| {
        w(&m.x, "x", 1);
        if chain {
            rel(&m.y, "y", 1)
        } else {
            w(&m.y, "y", 1)
        }
    });
    let p1 = cpu("P1", &m, move |m| {
        if chain {
            let r0 = acq(&m.y, "y");
            rel(&m.z, "z", 1);
            r0
        } else {
            let r0 = r(&m.y, "y");
            w(&m.z, "z", 1);
            r0
        }
    });
    let p2 = cpu("P2", &m, move |m| {
        let r0 = if chain { acq(&m.z, "z") } else { r(&m.z, "z") };
        (r0, r(&m.x, "x"))
    });
    p0.join();
    let r0 = p1.join();
    let (r1, r2) = p2.join();
    exists(
        r0 == 1 && r1 == 1 && r2 == 0,
        format!("1:r0={r0} /\\ 2:r0={r1} /\\ 2:r1={r2}"),
    );
}

pub fn isa2_poonceonces() {
    isa2(false)
}

pub fn isa2_release_acquire() {
    isa2(true)
}

/// Z6.0+pooncerelease+poacquirerelease+fencembonceonce: a release-acquire chain with two
/// non-rf links does not order P0's store before P2's load.
pub fn z6_release_acquire_mb() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 1);
        rel(&m.y, "y", 1);
    });
    let p1 = cpu("P1", &m, |m| {
        let r0 = acq(&m.y, "y");
        rel(&m.z, "z", 1);
        r0
    });
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
