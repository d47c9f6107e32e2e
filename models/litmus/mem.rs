//! The tests' shared memory and their accesses, each recorded as a kernel-named event.

use kmodel_harness::prelude::*;

use super::properties::EXISTS;

/// Every test's locations: `int x, y, z` (0), `atomic_t v`, two spinlocks `s`, `t`, RCU, and
/// two plainly accessed `int`s `a`, `b` (named as the test names them).
pub(crate) struct Mem {
    pub x: AtomicU32,
    pub y: AtomicU32,
    pub z: AtomicU32,
    pub v: AtomicU32,
    pub s: SpinLock,
    pub t: SpinLock,
    pub rcu: Rcu,
    pub a: Plain<u32>,
    pub b: Plain<u32>,
}

impl Mem {
    pub fn new() -> Arc<Mem> {
        Self::with_plain("a", "b")
    }

    /// Memory whose plain `int`s are called `a` and `b` in the test.
    pub fn with_plain(a: &'static str, b: &'static str) -> Arc<Mem> {
        Arc::new(Mem {
            x: AtomicU32::new(0),
            y: AtomicU32::new(0),
            z: AtomicU32::new(0),
            v: AtomicU32::new(0),
            s: SpinLock::new(),
            t: SpinLock::new(),
            rcu: Rcu::new(),
            a: Plain::new(a, 0),
            b: Plain::new(b, 0),
        })
    }
}

/// Runs `f` as thread `Pi` on a clone of the shared memory.
pub(crate) fn cpu<R: Send + 'static>(
    name: &'static str,
    m: &Arc<Mem>,
    f: impl FnOnce(&Mem) -> R + Send + 'static,
) -> JoinHandle<R> {
    let m = m.clone();
    spawn(name, move || f(&m))
}

/// `WRITE_ONCE(*name, val)`.
pub(crate) fn w(a: &AtomicU32, name: &str, val: u32) {
    write_once(a, val);
    ev!("WRITE_ONCE", "{name} = {val}");
}

/// `READ_ONCE(*name)`.
pub(crate) fn r(a: &AtomicU32, name: &str) -> u32 {
    let v = read_once(a);
    ev!("READ_ONCE", "{name} -> {v}");
    v
}

/// `smp_store_release(name, val)`.
pub(crate) fn rel(a: &AtomicU32, name: &str, val: u32) {
    smp_store_release(a, val);
    ev!("smp_store_release", "{name} = {val}");
}

/// `smp_load_acquire(name)`.
pub(crate) fn acq(a: &AtomicU32, name: &str) -> u32 {
    let v = smp_load_acquire(a);
    ev!("smp_load_acquire", "{name} -> {v}");
    v
}

/// `smp_mb()`.
pub(crate) fn mb() {
    ev!("smp_mb", "full barrier");
    smp_mb();
}

/// `smp_wmb()`.
pub(crate) fn wmb() {
    ev!("smp_wmb", "store barrier");
    smp_wmb();
}

/// `smp_rmb()`.
pub(crate) fn rmb() {
    ev!("smp_rmb", "load barrier");
    smp_rmb();
}

/// `spin_lock(name)`.
pub(crate) fn lock<'a>(l: &'a SpinLock, name: &str) -> SpinGuard<'a> {
    let g = l.lock();
    ev!("spin_lock", "{name} taken");
    g
}

/// `spin_unlock(name)`.
pub(crate) fn unlock(g: SpinGuard<'_>, name: &str) {
    ev!("spin_unlock", "{name} released");
    drop(g);
}

/// `r = name;` (plain).
pub(crate) fn pr(a: &Plain<u32>) -> u32 {
    let v = plain_read(a);
    ev!("plain read", "{} -> {v}", a.name());
    v
}

/// `name = val;` (plain).
pub(crate) fn pw(a: &Plain<u32>, val: u32) {
    plain_write(a, val);
    ev!("plain write", "{} = {val}", a.name());
}

/// `rcu_read_lock()`.
pub(crate) fn rlock(m: &Mem) {
    rcu_read_lock(&m.rcu);
    ev!("rcu_read_lock", "");
}

/// `rcu_read_unlock()`.
pub(crate) fn runlock(m: &Mem) {
    ev!("rcu_read_unlock", "");
    rcu_read_unlock(&m.rcu);
}

/// `synchronize_rcu()`.
pub(crate) fn sync_rcu(m: &Mem) {
    ev!("synchronize_rcu", "grace period starts");
    synchronize_rcu(&m.rcu);
    ev!("synchronize_rcu", "grace period ended");
}

/// A final value, read after every thread was joined (no event: not a thread's access).
pub(crate) fn fin(a: &AtomicU32) -> u32 {
    read_once(a)
}

/// Checks the exists clause: `outcome` is whether it is satisfied, `regs` the values it names.
pub(crate) fn exists(outcome: bool, regs: String) {
    check(EXISTS, !outcome, || {
        format!("exists clause satisfied: {regs}")
    });
}
