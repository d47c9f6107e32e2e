//! The model card: the question, the variants and their declared verdicts, and the scripted
//! scene each variant runs (a scene of the language in `scene.rs`).

use kmodel_harness::prelude::*;

use crate::properties::{PROPERTIES, WOKEN_WITH_COND};
use crate::scene::{run_scene, Scene, SleepWakeScenes};
use crate::sleepwake::{Design, Wait, Wake};

/// A variant whose design is swept with the same verdicts it declares for its scripted scene.
const fn variant(
    name: &'static str,
    summary: &'static str,
    expect: Declared,
    design: Design,
) -> Variant<Design> {
    Variant::new(name, summary, design)
        .expect(expect)
        .sweep(expect)
}

const VARIANTS: &[Variant<Design>] = &[
    variant(
        "prepare-to-wait",
        "prepare_to_wait(), test cond, schedule(), finish_wait(); the waker sets cond and calls \
         wake_up()",
        expect![],
        Design {
            wait: Wait::PrepareToWait,
            wake: Wake::WakeUp,
        },
    ),
    variant(
        "wait-event",
        "wait_event(wq, cond) against cond = 1; wake_up(&wq)",
        expect![],
        Design {
            wait: Wait::WaitEvent,
            wake: Wake::WakeUp,
        },
    ),
    variant(
        "check-before-queueing",
        "the waiter tests cond before prepare_to_wait(): a wake_up() in between finds no one \
         queued (the lost wake-up)",
        expect![HUNG_TASK => Violated],
        Design {
            wait: Wait::CheckBeforeQueueing,
            wake: Wake::WakeUp,
        },
    ),
    variant(
        "no-recheck",
        "the waiter sleeps once and does not test cond again: another event's wake_up() on the \
         same queue ends its wait",
        expect![WOKEN_WITH_COND => Violated],
        Design {
            wait: Wait::NoRecheck,
            wake: Wake::WakeUp,
        },
    ),
    variant(
        "waitqueue-active-no-mb",
        "the waker tests waitqueue_active() without the smp_mb() after setting cond: its load of \
         the queue can pass its store of cond",
        expect![HUNG_TASK => ViolatedWeakMemory],
        Design {
            wait: Wait::PrepareToWait,
            wake: Wake::ActiveNoMb,
        },
    ),
    variant(
        "waitqueue-active-smp-mb",
        "cond = 1; smp_mb(); if (waitqueue_active()) wake_up(): the barrier pairs with \
         set_current_state()'s",
        expect![],
        Design {
            wait: Wait::PrepareToWait,
            wake: Wake::ActiveMb,
        },
    ),
    variant(
        "wq-has-sleeper",
        "cond = 1; if (wq_has_sleeper()) wake_up(): the helper with the barrier built in",
        expect![],
        Design {
            wait: Wait::PrepareToWait,
            wake: Wake::HasSleeper,
        },
    ),
];

/// The sleep/wake model, as the registry holds it (`&MODEL`).
pub struct SleepWake;
pub static MODEL: SleepWake = SleepWake;

impl KernelModel for SleepWake {
    type Design = Design;
    type Params = ();
    type Scenes = SleepWakeScenes;

    const CARD: &'static ModelCard = &ModelCard {
        name: "sleepwake",
        question: "Is a task that sleeps until cond is set always woken, and does it return only \
                   with cond set? Which step of prepare_to_wait()/wake_up() is each part of that?",
        references: &[
            "include/linux/wait.h: waitqueue_active(), wq_has_sleeper(), wait_event()",
            "kernel/sched/wait.c: prepare_to_wait(), finish_wait(), __wake_up()",
            "kernel/sched/core.c: try_to_wake_up()",
            "Documentation/memory-barriers.txt: SLEEP AND WAKE-UP FUNCTIONS",
        ],
        properties: PROPERTIES,
        source: sources!["model.rs", "properties.rs", "sleepwake.rs", "scene.rs"],
        port: None,
    };
    const VARIANTS: &'static [Variant<Design>] = VARIANTS;
    const SCENES: Option<&'static SleepWakeScenes> = Some(&SleepWakeScenes);

    fn scenario(design: &Design, _params: &()) -> Scenario {
        let d = *design;
        let scene = Scene::scripted(d);
        Arc::new(move || run_scene(&scene, d))
    }
}
