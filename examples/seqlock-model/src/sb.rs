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

const VARIANTS: &[Variant<Design>] = &[
    Variant::new(
        "plain",
        "SB+poonceonces: WRITE_ONCE then READ_ONCE on both CPUs, no barrier",
        Design(Barrier::None, Barrier::None),
    )
    .expect(expect![NOT_BOTH_ZERO => ViolatedWeakMemory]),
    Variant::new(
        "smp-wmb",
        "smp_wmb() between the store and the load on both CPUs: not enough",
        Design(Barrier::Wmb, Barrier::Wmb),
    )
    .expect(expect![NOT_BOTH_ZERO => ViolatedWeakMemory]),
    Variant::new(
        "smp-mb-one-side",
        "smp_mb() on CPU0 only: barriers pair, one alone orders nothing for the other",
        Design(Barrier::Mb, Barrier::None),
    )
    .expect(expect![NOT_BOTH_ZERO => ViolatedWeakMemory]),
    Variant::new(
        "smp-mb",
        "SB+fencembonceonces: smp_mb() on both CPUs (Result: Never)",
        Design(Barrier::Mb, Barrier::Mb),
    ),
];

/// Store buffering, as the registry holds it (`&MODEL`).
pub struct Sb;
pub static MODEL: Sb = Sb;

impl KernelModel for Sb {
    type Design = Design;
    type Params = ();
    type Scenes = NoScenes<Design>;

    const CARD: &'static ModelCard = &ModelCard {
        name: "sb",
        question: "Which barriers make \"x = 1; r0 = y\" || \"y = 1; r1 = x\" never end with \
               r0 == r1 == 0?",
        references: &[
            "tools/memory-model/litmus-tests/SB+poonceonces.litmus (Result: Sometimes)",
            "tools/memory-model/litmus-tests/SB+fencembonceonces.litmus (Result: Never)",
            "Documentation/memory-barriers.txt: SMP barrier pairing",
        ],
        properties: PROPERTIES,
        source: sources!["sb.rs"],
        port: None,
    };
    const VARIANTS: &'static [Variant<Design>] = VARIANTS;

    fn scenario(design: &Design, params: &()) -> Scenario {
        scenario(design, params)
    }
}

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

fn scenario(design: &Design, _params: &()) -> Scenario {
    let Design(b0, b1) = *design;
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
