//! The Linux kernel memory model's litmus tests (`tools/memory-model/litmus-tests/`,
//! `Documentation/litmus-tests/`), ported to the harness's kernel vocabulary
//! (`kmodel_harness::lkmm`), as one model: each test is a variant, its one property is "the
//! test's `exists` clause is never satisfied", and its declared verdict is the file's `Result:`
//! line as the engines can show it:
//!
//! * `Result: Never` → Holds;
//! * `Result: Sometimes` → Violated (weak memory only) when sequential consistency forbids the
//!   outcome (all of the kernel's `Sometimes` tests): loom must find it, shuttle must not;
//! * an outcome LKMM allows that no engine here can produce (load buffering under loom, a
//!   mapping stronger than the kernel's) → beyond this engine, with the reason in [`Litmus::why`].
//!
//! A few tests are the model's own (`source: "kmodel"`, verdict derived from `linux-kernel.cat`)
//! to show where the mapping is stronger or weaker than LKMM; README.md lists them all.
//!
//! Threads are `P0`..`P3` as in the files; `x`, `y`, `z` are `int`s initialised to 0; final
//! values (`x=2` in an exists clause) are read after every thread has been joined.
//!
//! Besides the exists clause, every test is checked for data races ([`DATA_RACE`]: herd7's
//! "Flag data-race", for the tests with plain accesses) and, in the RCU tests, for a use of an
//! object after its free ([`NO_UAF_UNDER_RCU`]).

mod atomics;
mod classic;
mod deps;
mod locks;
mod plain;
mod rcu;
mod table;

pub use table::TESTS;

use kmodel_harness::prelude::*;

/// The one property every test shares.
pub const EXISTS: &str = "exists-never";

/// The `Result:` line of a test (or, for tests without one, the verdict of `linux-kernel.cat`
/// derived by hand, stated as such).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lkmm {
    Never,
    Sometimes,
}

/// One ported litmus test.
pub struct Litmus {
    /// The test's name as in its `C <name>` line.
    pub name: &'static str,
    /// Where it comes from: a path in the kernel tree, or `kmodel` for the model's own tests.
    pub source: &'static str,
    /// LKMM's verdict: the file's `Result:` line.
    pub lkmm: Lkmm,
    /// The exists clause, as in the file.
    pub exists: &'static str,
    /// One line for `kmodel list`: the Result line and what the test asks.
    pub summary: &'static str,
    /// The declared verdict of [`EXISTS`].
    pub expect: &'static [(&'static str, Expect)],
    /// Why the declared verdict is not simply the Result line (vacuous Never, beyond this
    /// engine, mapping stronger or weaker); empty when it is.
    pub why: &'static str,
    /// One execution: spawns the threads, joins them, checks the exists clause.
    pub run: fn(),
}

/// `Result: Never`.
pub(crate) const NEVER: &[(&str, Expect)] = &[(EXISTS, Holds)];
/// `Result: Sometimes`, forbidden under SC: loom finds it, shuttle must not.
pub(crate) const WEAK: &[(&str, Expect)] = &[(EXISTS, ViolatedWeakMemory)];
/// LKMM allows it, no engine here can produce it.
pub(crate) const BEYOND: &[(&str, Expect)] = &[(EXISTS, BeyondEngine)];

const N: usize = TESTS.len();

const fn variants(t: &'static [Litmus]) -> [Variant; N] {
    let mut out = [Variant {
        name: "",
        summary: "",
        expect: &[],
        engines: Engines::All,
        min_pct_schedules: None,
        design: &(),
        sweep: None,
    }; N];
    let mut i = 0;
    while i < N {
        out[i] = Variant {
            name: t[i].name,
            summary: t[i].summary,
            expect: t[i].expect,
            engines: Engines::All,
            min_pct_schedules: None,
            design: &t[i],
            sweep: None,
        };
        i += 1;
    }
    out
}

/// One variant per entry of [`TESTS`], in the same order.
pub static VARIANTS: [Variant; N] = variants(TESTS);

/// The test a variant runs (its typed design).
pub fn test_of(variant: &Variant) -> &'static Litmus {
    variant.design::<Litmus>()
}

fn scenario(variant: &Variant, _params: &Params) -> Scenario {
    let run = test_of(variant).run;
    Arc::new(run)
}

pub static MODEL: Model = Model {
    name: "litmus",
    question: "Does the harness's kernel barrier and atomic vocabulary, run under loom (C11) and \
               shuttle (SC), give each of the kernel's memory-model litmus tests its Result: line?",
    references: &[
        "tools/memory-model/litmus-tests/*.litmus (Result: lines), tools/memory-model/README",
        "Documentation/litmus-tests/{atomic,locking,rcu}/*.litmus",
        "tools/memory-model/linux-kernel.cat, lock.cat (po-unlock-lock-po, cumul-fence, pb)",
        "tools/memory-model/Documentation/recipes.txt (rules of thumb), explanation.txt",
        "Documentation/atomic_t.txt (ordering of the atomic API, failed cmpxchg unordered)",
        "github.com/paulmckrcu/litmus manual/kernel/C-2+2W+o-wmb-o+o-wmb-o.litmus",
    ],
    params: &[],
    param_check: None,
    properties: &[
        Property {
            id: EXISTS,
            claim: "the final state never satisfies the test's exists clause (LKMM: Result: \
                    Never)",
        },
        Property {
            id: DATA_RACE,
            claim: "no two conflicting accesses, at least one plain, run unordered by \
                    happens-before (herd7 flags no data-race)",
        },
        Property {
            id: NO_UAF_UNDER_RCU,
            claim: "no RCU reader uses an object after the updater freed it",
        },
    ],
    variants: &VARIANTS,
    param_verdicts: &[],
    source: &[
        include_str!("mod.rs"),
        include_str!("table.rs"),
        include_str!("classic.rs"),
        include_str!("locks.rs"),
        include_str!("atomics.rs"),
        include_str!("rcu.rs"),
        include_str!("plain.rs"),
        include_str!("deps.rs"),
    ],
    scenario,
    scenes: None,
    port: None,
};

// ---------------------------------------------------------------------------------------------
// The tests' shared memory and their accesses, each recorded as a kernel-named event.

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

#[cfg(test)]
mod tests;
