//! Data dependencies: LKMM orders a load before a store whose value depends on it (`ppo`
//! includes `data`); C11 (loom) has no dependencies.

use super::mem::{cpu, exists, fin, r, w, wmb, Mem};

/// kmodel's S+fencewmbonceonce+dataonceonce: P0 `WRITE_ONCE(x, 2); smp_wmb();
/// WRITE_ONCE(y, 1)`; P1 `r0 = READ_ONCE(y); WRITE_ONCE(x, r0)` (a data dependency). LKMM:
/// Never, as with the acquire of S+fencewmbonceonce+poacquireonce.
pub fn s_wmb_data() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        w(&m.x, "x", 2);
        wmb();
        w(&m.y, "y", 1);
    });
    let p1 = cpu("P1", &m, |m| {
        let r0 = r(&m.y, "y");
        w(&m.x, "x", r0);
        r0
    });
    p0.join();
    let r0 = p1.join();
    let x = fin(&m.x);
    exists(x == 2 && r0 == 1, format!("x={x} /\\ 1:r0={r0}"));
}

/// kmodel's LB+dataonceonce+dataonceonces: each CPU stores what it loaded into the other's
/// location. LKMM: Never (no out-of-thin-air values).
pub fn lb_datas() {
    let m = Mem::new();
    let p0 = cpu("P0", &m, |m| {
        let r0 = r(&m.x, "x");
        w(&m.y, "y", r0);
        r0
    });
    let p1 = cpu("P1", &m, |m| {
        let r1 = r(&m.y, "y");
        w(&m.x, "x", r1);
        r1
    });
    let (r0, r1) = (p0.join(), p1.join());
    exists(r0 == 1 && r1 == 1, format!("0:r0={r0} /\\ 1:r1={r1}"));
}
