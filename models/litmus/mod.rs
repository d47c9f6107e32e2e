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
//!
//! Besides the exists clause, every test is checked for data races ([`DATA_RACE`]: herd7's
//! "Flag data-race", for the tests with plain accesses) and, in the RCU tests, for a use of an
//! object after its free ([`NO_UAF_UNDER_RCU`]).

mod atomics;
mod classic;
mod deps;
mod design;
mod locks;
mod mem;
mod plain;
mod properties;
mod rcu;
mod table;

pub use design::{Litmus, Lkmm};
pub use properties::{EXISTS, PROPERTIES};
pub use table::TESTS;

use kmodel_harness::prelude::*;

const N: usize = TESTS.len();

const fn variants(t: &'static [Litmus]) -> [Variant<&'static Litmus>; N] {
    let mut out = [Variant::new("", "", &t[0]); N];
    let mut i = 0;
    while i < N {
        out[i] = Variant::new(t[i].name, t[i].summary, &t[i]).expect(t[i].expect);
        i += 1;
    }
    out
}

/// One variant per entry of [`TESTS`], in the same order; each runs its test.
pub const VARIANTS: &[Variant<&Litmus>] = &variants(TESTS);

fn scenario(test: &&'static Litmus, _params: &()) -> Scenario {
    Arc::new(test.run)
}

/// The model, as the registry holds it (`&MODEL`).
pub struct LitmusModel;
pub static MODEL: LitmusModel = LitmusModel;

impl KernelModel for LitmusModel {
    type Design = &'static Litmus;
    type Params = ();
    type Scenes = NoScenes<&'static Litmus>;

    const CARD: &'static ModelCard = &ModelCard {
        name: "litmus",
        question:
            "Does the harness's kernel barrier and atomic vocabulary, run under loom (C11) and \
               shuttle (SC), give each of the kernel's memory-model litmus tests its Result: line?",
        references: &[
            "tools/memory-model/litmus-tests/*.litmus (Result: lines), tools/memory-model/README",
            "Documentation/litmus-tests/{atomic,locking,rcu}/*.litmus",
            "tools/memory-model/linux-kernel.cat, lock.cat (po-unlock-lock-po, cumul-fence, pb)",
            "tools/memory-model/Documentation/recipes.txt (rules of thumb), explanation.txt",
            "Documentation/atomic_t.txt (ordering of the atomic API, failed cmpxchg unordered)",
            "github.com/paulmckrcu/litmus manual/kernel/C-2+2W+o-wmb-o+o-wmb-o.litmus",
        ],
        properties: PROPERTIES,
        source: sources![
            "mod.rs",
            "properties.rs",
            "design.rs",
            "mem.rs",
            "table.rs",
            "classic.rs",
            "locks.rs",
            "atomics.rs",
            "rcu.rs",
            "plain.rs",
            "deps.rs",
        ],
        port: None,
    };
    const VARIANTS: &'static [Variant<&'static Litmus>] = VARIANTS;

    fn scenario(design: &&'static Litmus, params: &()) -> Scenario {
        scenario(design, params)
    }
}

#[cfg(test)]
mod tests;
