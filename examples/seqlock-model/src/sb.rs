//! Store buffering (`tools/memory-model/litmus-tests/SB+fencembonceonces.litmus`): each CPU
//! writes its flag, then reads the other's. Without a full barrier on both sides each store can
//! wait in a store buffer while the later load runs, and both CPUs read 0 — the shape behind
//! every "set my flag, then check yours" handshake (wake-up vs. sleep, `task_work` vs. exit).

use kmodel_harness::prelude::*;

properties! {
    NOT_BOTH_ZERO = "not-both-zero":
        "at least one CPU sees the other's store (r0 == 1 || r1 == 1)";
}

/// The barrier each CPU runs between its store and its load (a variant's typed design).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Barrier {
    None,
    /// `smp_wmb()`: orders stores against stores only, not the store against the later load.
    Wmb,
    /// `smp_mb()`: a full barrier.
    Mb,
}

/// The barriers of CPU0 and CPU1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Design(pub Barrier, pub Barrier);

const VARIANTS: &[Variant] = &[
    Variant {
        name: "plain",
        summary: "SB+poonceonces: WRITE_ONCE then READ_ONCE on both CPUs, no barrier",
        expect: expect![NOT_BOTH_ZERO => ViolatedWeakMemory],
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design(Barrier::None, Barrier::None),
        sweep: None,
    },
    Variant {
        name: "smp-wmb",
        summary: "smp_wmb() between the store and the load on both CPUs: not enough",
        expect: expect![NOT_BOTH_ZERO => ViolatedWeakMemory],
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design(Barrier::Wmb, Barrier::Wmb),
        sweep: None,
    },
    Variant {
        name: "smp-mb-one-side",
        summary: "smp_mb() on CPU0 only: barriers pair, one alone orders nothing for the other",
        expect: expect![NOT_BOTH_ZERO => ViolatedWeakMemory],
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design(Barrier::Mb, Barrier::None),
        sweep: None,
    },
    Variant {
        name: "smp-mb",
        summary: "SB+fencembonceonces: smp_mb() on both CPUs (Result: Never)",
        expect: expect![],
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design(Barrier::Mb, Barrier::Mb),
        sweep: None,
    },
];

pub static MODEL: Model = Model {
    name: "sb",
    question: "Which barriers make \"x = 1; r0 = y\" || \"y = 1; r1 = x\" never end with \
               r0 == r1 == 0?",
    references: &[
        "tools/memory-model/litmus-tests/SB+poonceonces.litmus (Result: Sometimes)",
        "tools/memory-model/litmus-tests/SB+fencembonceonces.litmus (Result: Never)",
        "Documentation/memory-barriers.txt: SMP barrier pairing",
    ],
    params: &[],
    param_check: None,
    properties: PROPERTIES,
    variants: VARIANTS,
    param_verdicts: &[],
    source: &[include_str!("sb.rs")],
    scenario,
    scenes: None,
    port: None,
};

fn barrier(b: Barrier) {
    match b {
        Barrier::None => {}
        Barrier::Wmb => smp_wmb(),
        Barrier::Mb => smp_mb(),
    }
}

/// One CPU: `WRITE_ONCE(*mine, 1); <barrier>; r = READ_ONCE(*theirs);`.
fn cpu(
    name: &'static str,
    mine: Arc<AtomicU32>,
    theirs: Arc<AtomicU32>,
    b: Barrier,
) -> JoinHandle<u32> {
    spawn(name, move || {
        write_once(&*mine, 1);
        ev!("WRITE_ONCE", "my flag = 1");
        barrier(b);
        let r = read_once(&*theirs);
        ev!("READ_ONCE", "their flag = {r}");
        r
    })
}

fn scenario(variant: &Variant, _params: &Params) -> Scenario {
    let Design(b0, b1) = *variant.design::<Design>();
    Arc::new(move || {
        let x = Arc::new(AtomicU32::new(0));
        let y = Arc::new(AtomicU32::new(0));
        let p0 = cpu("CPU0", x.clone(), y.clone(), b0);
        let p1 = cpu("CPU1", y, x, b1);
        let (r0, r1) = (p0.join(), p1.join());
        check(NOT_BOTH_ZERO, r0 == 1 || r1 == 1, || {
            format!("r0 = {r0}, r1 = {r1}: both stores were still buffered")
        });
    })
}
