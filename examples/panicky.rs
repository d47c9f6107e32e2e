//! A deliberately broken model for the CLI's reliability tests (`tests/cli.rs`): its `boom`
//! variant indexes out of bounds in one actor, so every engine sees a model panic; `fine` holds.
//! Run as `cargo run --release --example panicky -- check panicky/boom`.

use std::process::ExitCode;

use kmodel_harness::prelude::*;

properties! {
    NEVER = "never": "the counter never reaches 3";
}

/// The model; its design is whether the actor indexes out of bounds.
struct Panicky;
static PANICKY: Panicky = Panicky;

impl KernelModel for Panicky {
    type Design = bool;
    type Params = ();
    type Scenes = NoScenes<bool>;

    const CARD: &'static ModelCard = &ModelCard {
        name: "panicky",
        question: "Does the CLI report a model panic as one line?",
        references: &[],
        properties: PROPERTIES,
        source: sources!["panicky.rs"],
        port: None,
    };
    const VARIANTS: &'static [Variant<bool>] = &[
        Variant::new("boom", "an actor indexes out of bounds", true)
            .expect(expect![NEVER => Holds]),
        Variant::new("fine", "no panic", false).expect(expect![NEVER => Holds]),
    ];

    fn scenario(boom: &bool, _: &()) -> Scenario {
        let boom = *boom;
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
}

static REGISTRY: &[&dyn Model] = &[&PANICKY];

fn main() -> ExitCode {
    kmodel::run(REGISTRY)
}
