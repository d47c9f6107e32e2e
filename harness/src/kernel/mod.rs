//! The kernel's sleep/wake-up and atomic-context vocabulary, by kernel name, for models of
//! designs that sleep: task state and `schedule()`, `try_to_wake_up()`, wait queues,
//! completions, interrupt and preemption state with their lockdep-style assertions.
//!
//! Built only on the engine-neutral primitives ([`crate::sync`], [`crate::lkmm`], actors), so
//! every engine runs them unchanged. Each function ports one kernel function (named in its doc
//! comment, with where it simplifies); barriers are the kernel's, by name.
//!
//! - `task.rs`: `current`, task state, `set_current_state()`, `schedule()`, `try_to_wake_up()`.
//! - `wait.rs`: wait queues (`include/linux/wait.h`, `kernel/sched/wait.c`), `wait_event()`.
//! - `completion.rs`: completions (`kernel/sched/completion.c`).
//! - `irq.rs`: `local_irq_*()`, `preempt_*()`, `spin_lock_irqsave()`, `might_sleep()`, lockdep
//!   assertions; each assertion is a property a model can list ([`LOCKDEP_ASSERT_HELD`], ...).
//!
//! A task that sleeps for ever in `TASK_UNINTERRUPTIBLE` (nothing is left that could wake it) is
//! the built-in [`HUNG_TASK`](crate::rt::HUNG_TASK) violation, named after the kernel's hung task
//! detector; one asleep interruptibly is, like the detector, not reported as hung (a stuck
//! execution with no uninterruptible sleeper is `no-deadlock`).

mod completion;
mod irq;
mod task;
mod wait;

pub use completion::Completion;
pub use irq::{
    irqs_disabled, local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save,
    lockdep_assert_held, lockdep_assert_irqs_disabled, lockdep_assert_irqs_enabled,
    lockdep_assert_preemption_disabled, might_sleep, preempt_count, preempt_disable,
    preempt_enable, spin_lock_irq, spin_lock_irqsave, spin_unlock_irq, spin_unlock_irqrestore,
    IrqFlags, IrqGuard, LOCKDEP_ASSERT_HELD, LOCKDEP_ASSERT_IRQS_DISABLED,
    LOCKDEP_ASSERT_IRQS_ENABLED, LOCKDEP_ASSERT_PREEMPTION_DISABLED, MIGHT_SLEEP,
    PREEMPT_COUNT_UNDERFLOW, SCHEDULING_WHILE_ATOMIC,
};
pub use task::{
    __set_current_state, current, schedule, set_current_state, spawn_task, try_to_wake_up,
    wake_up_process, wake_up_state, Task, TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING,
    TASK_UNINTERRUPTIBLE,
};
pub use wait::{
    finish_wait, prepare_to_wait, prepare_to_wait_event, prepare_to_wait_exclusive, wait_event,
    wait_event_exclusive, waitqueue_active, wake_up, wake_up_all, wake_up_nr, wq_has_sleeper,
    WaitQueueEntry, WaitQueueHead,
};
