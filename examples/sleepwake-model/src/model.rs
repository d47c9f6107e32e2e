//! The model card: the question, the properties, the variants and their declared verdicts, and
//! the scripted scene each variant runs (a scene of the language in `scene.rs`).

use kmodel_harness::prelude::*;

use crate::scene::{run_scene, Scene, SleepWakeScenes};
use crate::sleepwake::{Design, Wait, Wake, WOKEN_WITH_COND};

/// Declared verdicts, as `expect![..]` builds them.
type Verdicts = &'static [(&'static str, Expect)];

const PROPERTIES: &[Property] = &[
    Property {
        id: HUNG_TASK,
        claim: "once cond is set, every task waiting for it is woken: no task sleeps in \
                TASK_UNINTERRUPTIBLE for ever (a lost wake-up)",
    },
    Property {
        id: WOKEN_WITH_COND,
        claim: "a waiter returns from its wait only when it sees cond set (wait_event()'s \
                guarantee), whatever else wakes the queue",
    },
];

const fn variant(
    name: &'static str,
    summary: &'static str,
    expect: Verdicts,
    sweep: Verdicts,
    design: &'static Design,
) -> Variant {
    Variant {
        name,
        summary,
        expect,
        engines: Engines::All,
        min_pct_schedules: None,
        design,
        sweep: Some(sweep),
    }
}

const VARIANTS: &[Variant] = &[
    variant(
        "prepare-to-wait",
        "prepare_to_wait(), test cond, schedule(), finish_wait(); the waker sets cond and calls \
         wake_up()",
        expect![],
        expect![],
        &Design {
            wait: Wait::PrepareToWait,
            wake: Wake::WakeUp,
        },
    ),
    variant(
        "wait-event",
        "wait_event(wq, cond) against cond = 1; wake_up(&wq)",
        expect![],
        expect![],
        &Design {
            wait: Wait::WaitEvent,
            wake: Wake::WakeUp,
        },
    ),
    variant(
        "check-before-queueing",
        "the waiter tests cond before prepare_to_wait(): a wake_up() in between finds no one \
         queued (the lost wake-up)",
        expect![HUNG_TASK => Violated],
        expect![HUNG_TASK => Violated],
        &Design {
            wait: Wait::CheckBeforeQueueing,
            wake: Wake::WakeUp,
        },
    ),
    variant(
        "no-recheck",
        "the waiter sleeps once and does not test cond again: another event's wake_up() on the \
         same queue ends its wait",
        expect![WOKEN_WITH_COND => Violated],
        expect![WOKEN_WITH_COND => Violated],
        &Design {
            wait: Wait::NoRecheck,
            wake: Wake::WakeUp,
        },
    ),
    variant(
        "waitqueue-active-no-mb",
        "the waker tests waitqueue_active() without the smp_mb() after setting cond: its load of \
         the queue can pass its store of cond",
        expect![HUNG_TASK => ViolatedWeakMemory],
        expect![HUNG_TASK => ViolatedWeakMemory],
        &Design {
            wait: Wait::PrepareToWait,
            wake: Wake::ActiveNoMb,
        },
    ),
    variant(
        "waitqueue-active-smp-mb",
        "cond = 1; smp_mb(); if (waitqueue_active()) wake_up(): the barrier pairs with \
         set_current_state()'s",
        expect![],
        expect![],
        &Design {
            wait: Wait::PrepareToWait,
            wake: Wake::ActiveMb,
        },
    ),
    variant(
        "wq-has-sleeper",
        "cond = 1; if (wq_has_sleeper()) wake_up(): the helper with the barrier built in",
        expect![],
        expect![],
        &Design {
            wait: Wait::PrepareToWait,
            wake: Wake::HasSleeper,
        },
    ),
];

pub static MODEL: Model = Model {
    name: "sleepwake",
    question: "Is a task that sleeps until cond is set always woken, and does it return only \
               with cond set? Which step of prepare_to_wait()/wake_up() is each part of that?",
    references: &[
        "include/linux/wait.h: waitqueue_active(), wq_has_sleeper(), wait_event()",
        "kernel/sched/wait.c: prepare_to_wait(), finish_wait(), __wake_up()",
        "kernel/sched/core.c: try_to_wake_up()",
        "Documentation/memory-barriers.txt: SLEEP AND WAKE-UP FUNCTIONS",
    ],
    params: &[],
    param_check: None,
    properties: PROPERTIES,
    variants: VARIANTS,
    param_verdicts: &[],
    source: &[
        include_str!("model.rs"),
        include_str!("sleepwake.rs"),
        include_str!("scene.rs"),
    ],
    scenario,
    scenes: Some(&SleepWakeScenes),
    port: None,
};

fn scenario(variant: &Variant, _params: &Params) -> Scenario {
    let d = *variant.design::<Design>();
    let scene = Scene::scripted(d);
    Arc::new(move || run_scene(&scene, d))
}
