//! A deliberately broken model for the CLI's reliability tests (`tests/cli.rs`): its `boom`
//! variant indexes out of bounds in one actor, so every engine sees a model panic; `fine` holds.
//! Run as `cargo run --release --example panicky -- check panicky/boom`.

use std::process::ExitCode;

use kmodel_harness::prelude::*;

properties! {
    NEVER = "never": "the counter never reaches 3";
}

fn scenario(v: &Variant, _: &Params) -> Scenario {
    let boom = *v.design::<bool>();
    std::sync::Arc::new(move || {
        let x = Arc::new(AtomicU32::new(0));
        let a = {
            let x = x.clone();
            spawn("CPU0", move || {
                x.fetch_add(1, Ordering::Relaxed);
                if boom {
                    let table = [1u32, 2];
                    let i = x.load(Ordering::Relaxed) as usize + 4;
                    std::hint::black_box(table[i]);
                }
            })
        };
        x.fetch_add(1, Ordering::Relaxed);
        a.join();
        kmodel_harness::check(NEVER, x.load(Ordering::Relaxed) < 3, || "reached 3".into());
    })
}

static PANICKY: Model = Model {
    name: "panicky",
    question: "Does the CLI report a model panic as one line?",
    references: &[],
    params: &[],
    param_check: None,
    properties: PROPERTIES,
    variants: &[
        Variant {
            name: "boom",
            summary: "an actor indexes out of bounds",
            expect: expect![NEVER => Holds],
            engines: Engines::All,
            min_pct_schedules: None,
            design: &true,
            sweep: None,
        },
        Variant {
            name: "fine",
            summary: "no panic",
            expect: expect![NEVER => Holds],
            engines: Engines::All,
            min_pct_schedules: None,
            design: &false,
            sweep: None,
        },
    ],
    param_verdicts: &[],
    source: &[include_str!("panicky.rs")],
    scenario,
    scenes: None,
    port: None,
};

static REGISTRY: &[&Model] = &[&PANICKY];

fn main() -> ExitCode {
    kmodel::run(REGISTRY)
}
