//! Sleep until `cond` is set, against set `cond` and wake the queue (`include/linux/wait.h`:
//! the comment above `waitqueue_active()`, and `Documentation/memory-barriers.txt`: "Sleep and
//! wake-up functions").
//!
//! The waiter queues itself and sets its task state *before* it tests the condition
//! (`prepare_to_wait()`: queue, then `set_current_state()` with its full barrier); the waker sets
//! the condition, then wakes what is queued. Either the waiter sees the condition, or the waker
//! sees the waiter. Variants test the condition before queueing (a lost wake-up), skip the
//! re-test after a wake-up, and look at the queue with `waitqueue_active()` with and without
//! the `smp_mb()` its comment asks for. The model's card (variants, verdicts) is `model.rs`, the
//! scene language `scene.rs`.

use kmodel_harness::prelude::*;

/// The waiter leaves its wait loop only when it sees the condition set.
pub const WOKEN_WITH_COND: &str = "woken-with-cond";

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
