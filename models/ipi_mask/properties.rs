//! What a caller of `smp_call_function_many_cond()` relies on, and the kernel's own assertions
//! on the path, as properties.

use kmodel_harness::prelude::*;

properties! {
    FUNC_DONE = "func-done-on-return":
        "when a SCF_WAIT call returns, func(info) has finished on every targeted CPU";
    EXACTLY_ONCE = "exactly-once":
        "each targeted CPU runs the call's func exactly once; no other CPU runs it";
    NO_LATE_INFO = "no-info-after-return":
        "no CPU reads a call's info after the caller returned (info on its stack)";
    CSD_EXCLUSIVE = "csd-single-owner":
        "a csd is owned by one call at a time (csd_lock() has a single acquirer)";
    WAIT_MASK_MATCHES = "wait-set-is-queued-set":
        "the set of csds a call waits on is the set it queued to";
    PREEMPT_BALANCED = "preempt-count-balanced":
        "preempt_count is balanced on every path: zero at task exit (do_exit()'s \
         \"exited with preempt_count\"; an underflow is the prelude's preempt-count-underflow)";
    NO_DEADLOCK:
        "no deadlock: no cycle of CPUs waiting for each other (locks, or csd waits \
         with IRQs disabled)";
    WAIT_BOUNDED = "csd-wait-bounded":
        "a waiter only waits for its own call: once its func finished on CPU c, \
         csd_lock_wait() on c's csd is not extended by a later owner of that csd";
    /// csd_unlock(): `WARN_ON(!(csd->node.u_flags & CSD_FLAG_LOCK))`.
    CSD_UNLOCK_LOCKED = "warn-csd-unlock-not-locked":
        "csd_unlock(): WARN_ON(!(csd->node.u_flags & CSD_FLAG_LOCK)) never fires (a \
         csd is unlocked only while locked)";
    /// smp_call_function_many_cond(): `lockdep_assert_irqs_enabled()` on an online CPU (the
    /// kernel prelude's assertion, whose property this is).
    IRQS_ENABLED = "lockdep-assert-irqs-enabled":
        "smp_call_function_many_cond(): lockdep_assert_irqs_enabled() holds whenever \
         the caller's CPU is online";
    DATA_RACE:
        "no data race (LKMM, KCSAN): no two conflicting accesses, at least one plain, \
         unordered by happens-before";
}
