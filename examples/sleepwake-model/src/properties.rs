//! The sleep/wake model's properties: the waiter is woken, and only with the condition set.

use kmodel_harness::prelude::*;

properties! {
    HUNG_TASK:
        "once cond is set, every task waiting for it is woken: no task sleeps in \
         TASK_UNINTERRUPTIBLE for ever (a lost wake-up)";
    /// The waiter leaves its wait loop only when it sees the condition set.
    WOKEN_WITH_COND = "woken-with-cond":
        "a waiter returns from its wait only when it sees cond set (wait_event()'s \
         guarantee), whatever else wakes the queue";
    DATA_RACE:
        "no data race (LKMM, KCSAN): cond is only read with READ_ONCE() and written with \
         WRITE_ONCE(), the wait queue only under its lock";
}
