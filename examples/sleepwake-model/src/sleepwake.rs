//! Sleep until `cond` is set, against set `cond` and wake the queue (`include/linux/wait.h`:
//! the comment above `waitqueue_active()`, and `Documentation/memory-barriers.txt`: "Sleep and
//! wake-up functions").
//!
//! The waiter queues itself and sets its task state *before* it tests the condition
//! (`prepare_to_wait()`: queue, then `set_current_state()` with its full barrier); the waker sets
//! the condition, then wakes what is queued. Either the waiter sees the condition, or the waker
//! sees the waiter. Variants test the condition before queueing (a lost wake-up), skip the
//! re-test after a wake-up, and look at the queue with `waitqueue_active()` with and without
//! the `smp_mb()` its comment asks for.

use kmodel_harness::prelude::*;

use crate::scene::{Op, Scene, SleepWakeScenes};

/// Declared verdicts, as `expect![..]` builds them.
type Verdicts = &'static [(&'static str, Expect)];

/// The waiter leaves its wait loop only when it sees the condition set.
pub const WOKEN_WITH_COND: &str = "woken-with-cond";

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

/// How the waiter waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// `for (;;) { prepare_to_wait(); if (cond) break; schedule(); } finish_wait();`
    PrepareToWait,
    /// `wait_event(wq, cond)`.
    WaitEvent,
    /// `while (!cond) { prepare_to_wait(); schedule(); finish_wait(); }`: tests the condition
    /// before it is queued.
    CheckBeforeQueueing,
    /// `prepare_to_wait(); if (!cond) schedule(); finish_wait();`: no re-test after waking.
    NoRecheck,
}

/// How the waker wakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// `WRITE_ONCE(cond, 1); wake_up(&wq);`
    WakeUp,
    /// `WRITE_ONCE(cond, 1); if (waitqueue_active(&wq)) wake_up(&wq);`
    ActiveNoMb,
    /// `WRITE_ONCE(cond, 1); smp_mb(); if (waitqueue_active(&wq)) wake_up(&wq);`
    ActiveMb,
    /// `WRITE_ONCE(cond, 1); if (wq_has_sleeper(&wq)) wake_up(&wq);`
    HasSleeper,
}

/// A variant's design: the waiter's side and the waker's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Design {
    pub wait: Wait,
    pub wake: Wake,
}

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
    source: &[include_str!("sleepwake.rs"), include_str!("scene.rs")],
    scenario,
    scenes: Some(&SleepWakeScenes),
    port: None,
};

/// The shared state: the condition and the wait queue.
pub struct Shared {
    pub cond: AtomicU32,
    pub wq: WaitQueueHead,
}

/// The waiter's side: returns when it stops waiting.
pub fn wait_for_cond(s: &Shared, d: Design) {
    let cond = || {
        let v = read_once(&s.cond);
        ev!("READ_ONCE", "cond = {v}");
        v != 0
    };
    match d.wait {
        Wait::PrepareToWait => {
            let wait = WaitQueueEntry::new();
            loop {
                prepare_to_wait(&s.wq, &wait, TASK_UNINTERRUPTIBLE);
                if cond() {
                    break;
                }
                schedule();
            }
            finish_wait(&s.wq, &wait);
        }
        Wait::WaitEvent => wait_event(&s.wq, "cond != 0", cond),
        Wait::CheckBeforeQueueing => {
            let wait = WaitQueueEntry::new();
            while !cond() {
                prepare_to_wait(&s.wq, &wait, TASK_UNINTERRUPTIBLE);
                schedule();
                finish_wait(&s.wq, &wait);
            }
        }
        Wait::NoRecheck => {
            let wait = WaitQueueEntry::new();
            prepare_to_wait(&s.wq, &wait, TASK_UNINTERRUPTIBLE);
            if !cond() {
                schedule();
            }
            finish_wait(&s.wq, &wait);
        }
    }
    let seen = read_once(&s.cond);
    ev!("wait_for_cond", "returns, cond = {seen}");
    check(WOKEN_WITH_COND, seen != 0, || {
        "the wait ended with cond == 0: woken by another event's wake_up() and not \
         re-testing the condition"
            .into()
    });
}

/// The waker's side: sets the condition and wakes the queue.
pub fn set_cond(s: &Shared, d: Design) {
    write_once(&s.cond, 1);
    ev!("WRITE_ONCE", "cond = 1");
    let wake = match d.wake {
        Wake::WakeUp => true,
        Wake::ActiveNoMb => waitqueue_active(&s.wq),
        Wake::ActiveMb => {
            smp_mb();
            waitqueue_active(&s.wq)
        }
        Wake::HasSleeper => wq_has_sleeper(&s.wq),
    };
    if wake {
        wake_up(&s.wq);
    }
}

/// Another event on the same queue: `wake_up()` without setting `cond`.
pub fn other_event(s: &Shared) {
    wake_up(&s.wq);
}

/// Runs `scene` under design `d`: one actor per program, each op in order.
pub fn run_scene(scene: &Scene, d: Design) {
    let s = Arc::new(Shared {
        cond: AtomicU32::new(0),
        wq: WaitQueueHead::new("wq"),
    });
    let actors: Vec<_> = scene
        .programs
        .iter()
        .enumerate()
        .map(|(cpu, program)| {
            let (s, program) = (s.clone(), program.clone());
            spawn(scene.actor_name(cpu), move || {
                for op in program {
                    match op {
                        Op::Wait => wait_for_cond(&s, d),
                        Op::Set => set_cond(&s, d),
                        Op::OtherEvent => other_event(&s),
                    }
                }
            })
        })
        .collect();
    for a in actors {
        a.join();
    }
}

fn scenario(variant: &Variant, _params: &Params) -> Scenario {
    let d = *variant.design::<Design>();
    let scene = Scene::scripted(d);
    Arc::new(move || run_scene(&scene, d))
}
