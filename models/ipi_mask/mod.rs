//! smp_call_function_many_cond() with a preemptible wait: per-CPU vs task-local wait mask.
//!
//! Ports kernel/smp.c (csd_lock / csd_unlock / csd_lock_wait, llist call queues with an IPI
//! only for an empty inbox, __flush_smp_call_function_queue(), smp_call_function_many_cond()
//! with cond_func, SCF_WAIT and SCF_RUN_LOCAL) before and after Chuyi Zhou's 2026 series that
//! re-enables preemption before the final csd_lock_wait() loop and moves the wait mask into the
//! task (`task_struct::ipi_mask_ptr` / `ipi_mask_val`).
//!
//! Scenes (`scene.rs`, `space.rs`): tasks on any CPU making calls, migrating, switching the mm
//! in and out, and the IPI handlers of the CPUs they may target (at most 4 actors under loom).
//! The scripted scene of each variant (task A, the waiter, and task B, a second task the same
//! CPU runs when A is preemptible, on CPU0; one actor for the IPI handlers of CPU1 and CPU2)
//! is a member of that space. "Preemption disabled on CPU c" = holding `pin[c]`; "IRQs
//! disabled on CPU c" = holding `irq[c]`. See `smp.rs`, `call.rs`, `run.rs`.

pub mod call;
pub mod cpumask;
pub mod ipi;
pub mod run;
pub mod scene;
pub mod smp;
pub mod space;
#[cfg(test)]
mod tests;

use kmodel_harness::prelude::*;

pub use cpumask::{ipi_mask_cost_rows, ipi_mask_cost_table, IpiMaskCostRow};
use scene::{Actor, Call, Kind, Mask, Op, Scene};
pub use space::IpiScenes;

pub const FUNC_DONE: &str = "func-done-on-return";
pub const EXACTLY_ONCE: &str = "exactly-once";
pub const NO_LATE_INFO: &str = "no-info-after-return";
pub const CSD_EXCLUSIVE: &str = "csd-single-owner";
pub const WAIT_MASK_MATCHES: &str = "wait-set-is-queued-set";
pub const PREEMPT_BALANCED: &str = "preempt-count-balanced";
pub const WAIT_BOUNDED: &str = "csd-wait-bounded";
/// csd_unlock(): `WARN_ON(!(csd->node.u_flags & CSD_FLAG_LOCK))`.
pub const CSD_UNLOCK_LOCKED: &str = "warn-csd-unlock-not-locked";
/// smp_call_function_many_cond(): `lockdep_assert_irqs_enabled()` on an online CPU.
pub const IRQS_ENABLED: &str = "lockdep-assert-irqs-enabled";

/// The design knobs a variant sets (see [`design_of`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Design {
    /// The series (patch 6): get_cpu()/put_cpu() inside the function, final wait preemptible;
    /// callers no longer disable preemption (patches 7/8). False: the caller pins across all.
    pub pin_in_function: bool,
    /// The series (patch 4): wait mask in the task, cfd->cpumask only for a task without one.
    pub task_local_mask: bool,
    /// 5.15-era: a cond_func-rejected CPU stays in the wait mask.
    pub keep_cond_bits: bool,
    /// Ablation: put_cpu() before the per-CPU cfd / csds are touched.
    pub unpinned_queueing: bool,
    /// Ablation: csd_unlock() as WRITE_ONCE instead of smp_store_release().
    pub unlock_relaxed: bool,
    /// Ablation: the flush reads info after csd_unlock() of a SYNC csd (trace hook).
    pub info_after_unlock: bool,
    /// Ablation: put_cpu() only on the run_remote path.
    pub put_cpu_only_if_remote: bool,
    /// Ablation: callers run the whole call with IRQs disabled (local_irq_save()).
    pub irqs_disabled_caller: bool,
    /// Ablation: no task has a task mask (every caller falls back to cfd->cpumask), the
    /// fallback's assumption (only init_task lacks one) broken.
    pub no_task_masks: bool,
}

/// The variants, by design (each maps to one [`Design`] and one scripted [`Scene`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    PinnedWait,
    PreemptiblePercpuMask,
    TaskLocalMask,
    TaskLocalInline,
    TaskLocalFallback,
    AblationTwoTasksWithoutMask,
    TaskLocalCondBitsKept,
    AblationUnpinnedQueueing,
    AblationCsdUnlockRelaxed,
    AblationInfoReadAfterUnlock,
    AblationPutCpuOnlyIfRemote,
    AblationWaitIrqsDisabled,
}

/// The design a variant checks (generated scenes run under it too).
pub fn design_of(which: Which) -> Design {
    let series = Design {
        pin_in_function: true,
        task_local_mask: true,
        ..Design::default()
    };
    match which {
        Which::PinnedWait => Design::default(),
        Which::PreemptiblePercpuMask => Design {
            pin_in_function: true,
            ..Design::default()
        },
        Which::TaskLocalMask | Which::TaskLocalInline | Which::TaskLocalFallback => series,
        Which::AblationTwoTasksWithoutMask => Design {
            no_task_masks: true,
            ..series
        },
        Which::TaskLocalCondBitsKept => Design {
            keep_cond_bits: true,
            ..series
        },
        Which::AblationUnpinnedQueueing => Design {
            unpinned_queueing: true,
            ..series
        },
        Which::AblationCsdUnlockRelaxed => Design {
            unlock_relaxed: true,
            ..series
        },
        Which::AblationInfoReadAfterUnlock => Design {
            info_after_unlock: true,
            ..series
        },
        Which::AblationPutCpuOnlyIfRemote => Design {
            put_cpu_only_if_remote: true,
            ..series
        },
        Which::AblationWaitIrqsDisabled => Design {
            irqs_disabled_caller: true,
            ..Design::default()
        },
    }
}

fn task(cpu: usize, label: &str, ops: Vec<Op>) -> Actor {
    Actor {
        cpu,
        kind: Kind::Task,
        ops,
        label: Some(label.into()),
    }
}

/// The scripted scene of a variant, a member of the scene space: 4 CPUs; task A on CPU0
/// waits for {1,2} (migrated to CPU3 while its wait is preemptible, in the series variants);
/// task B on CPU0 makes `b_calls` waiting SCF_RUN_LOCAL calls to {0,1}; one actor runs the
/// IPI handlers of CPU1 and CPU2.
pub fn scripted(which: Which, b_calls: usize) -> Scene {
    let a_call = Call {
        migrate: Some(3),
        ..Call::new(Mask::Cpus(0b0110), true)
    };
    let b_call = Call {
        local: true,
        ..Call::new(Mask::Cpus(0b0011), true)
    };
    let (mut a, mut b) = (a_call, b_call);
    let mut nr_cpus = 128;
    match which {
        Which::PinnedWait => {
            nr_cpus = 64;
            a.migrate = None;
        }
        Which::PreemptiblePercpuMask | Which::TaskLocalInline => nr_cpus = 64,
        Which::TaskLocalCondBitsKept => {
            a.cond = Some(0b0010);
            b.mask = Mask::Cpus(0b0101);
        }
        Which::AblationCsdUnlockRelaxed => b.mask = Mask::Cpus(0b0101),
        Which::AblationPutCpuOnlyIfRemote => b.cond = Some(0),
        Which::AblationWaitIrqsDisabled => {
            // Callers on CPU0 and CPU1 call each other; one actor handles both CPUs' IPIs.
            return Scene {
                nr_cpu_ids: 4,
                nr_cpus: 64,
                booting: None,
                mm: 1,
                setup: vec![],
                tasks: vec![
                    task(
                        0,
                        "CPU0 task A (waiter)",
                        vec![Op::Call(Call::new(Mask::Cpus(0b0010), true))],
                    ),
                    task(
                        1,
                        "CPU1 task B",
                        vec![
                            Op::Call(Call {
                                mask: Mask::Cpus(0b0001),
                                ..b_call
                            });
                            b_calls
                        ],
                    ),
                ],
                handler_actors: 1,
            };
        }
        _ => {}
    }
    if which == Which::TaskLocalFallback {
        // init_task (NULL ipi_mask_ptr) is CPU0's idle task: init_idle() binds it to CPU0
        // (PF_NO_SETAFFINITY, kthread_set_per_cpu()) and it runs with preemption disabled
        // (init_idle_preempt_count()), so its wait is never preemptible and never migrates.
        a.migrate = None;
        a.preempt_off = true;
    }
    let mut ta = task(0, "CPU0 task A (waiter)", vec![Op::Call(a)]);
    if which == Which::TaskLocalFallback {
        ta.kind = Kind::InitTask;
    }
    Scene {
        nr_cpu_ids: 4,
        nr_cpus,
        booting: None,
        mm: 1,
        setup: vec![],
        tasks: vec![
            ta,
            task(0, "CPU0 task B (same CPU)", vec![Op::Call(b); b_calls]),
        ],
        handler_actors: 1,
    }
}

fn scenario(variant: &Variant, params: &Params) -> Scenario {
    let which = *variant.design::<Which>();
    let scene = scripted(which, Knobs::from(params).b_calls);
    let design = design_of(which);
    Arc::new(move || run::run(&scene, design))
}

/// Why the unpinned-queueing ablations are checked by shuttle only.
const UNPINNED_SC: &str = "tasks touch CPU0's cfd/csds outside pin[0]; the model has no \
    context-switch barrier between two tasks of one CPU there, so loom's C11 would report \
    stale reads a real same-CPU switch (rq lock + smp_mb__after_spinlock) forbids";

params! {
    /// Knobs of the scripted scene.
    pub struct Knobs {
        b_calls: usize = 1, 1..=4,
            "calls task B makes on CPU0 (a stream of csd reusers for csd-wait-bounded)";
    }
}

pub static MODEL: Model = Model {
    name: "ipi-mask",
    question: "Once csd_lock_wait() in smp_call_function_many_cond() runs preemptible, is the \
               per-CPU cfd->cpumask still safe as the wait mask, and does the task-local mask \
               (pointer or stashed in the pointer word) fix it?",
    references: &[
        "kernel/smp.c: smp_call_function_many_cond(), csd_lock(), csd_unlock(), csd_lock_wait(), \
         __flush_smp_call_function_queue(), llist_add()",
        "include/linux/smp_types.h: CSD_FLAG_LOCK, CSD_TYPE_SYNC",
        "include/linux/cpumask.h: cpumask_size(), large_cpumask_bits",
        "[PATCH v8 04/14] smp: Use task-local IPI cpumask in smp_call_function_many_cond() \
         (Chuyi Zhou, 2026-06-16) and Thomas Gleixner's review (2026-06-26)",
        "[PATCH v8 06/14] smp: Enable preemption early in smp_call_function_many_cond()",
    ],
    params: Knobs::PARAMS,
    param_check: None,
    properties: &[
        Property {
            id: FUNC_DONE,
            claim: "when a SCF_WAIT call returns, func(info) has finished on every targeted CPU",
        },
        Property {
            id: EXACTLY_ONCE,
            claim: "each targeted CPU runs the call's func exactly once; no other CPU runs it",
        },
        Property {
            id: NO_LATE_INFO,
            claim: "no CPU reads a call's info after the caller returned (info on its stack)",
        },
        Property {
            id: CSD_EXCLUSIVE,
            claim: "a csd is owned by one call at a time (csd_lock() has a single acquirer)",
        },
        Property {
            id: WAIT_MASK_MATCHES,
            claim: "the set of csds a call waits on is the set it queued to",
        },
        Property {
            id: PREEMPT_BALANCED,
            claim: "preempt_count is balanced on every path (no underflow, zero at task exit)",
        },
        Property {
            id: NO_DEADLOCK,
            claim: "no deadlock: no cycle of CPUs waiting for each other (locks, or csd waits \
                    with IRQs disabled)",
        },
        Property {
            id: WAIT_BOUNDED,
            claim: "a waiter only waits for its own call: once its func finished on CPU c, \
                    csd_lock_wait() on c's csd is not extended by a later owner of that csd",
        },
        Property {
            id: CSD_UNLOCK_LOCKED,
            claim: "csd_unlock(): WARN_ON(!(csd->node.u_flags & CSD_FLAG_LOCK)) never fires (a \
                    csd is unlocked only while locked)",
        },
        Property {
            id: IRQS_ENABLED,
            claim: "smp_call_function_many_cond(): lockdep_assert_irqs_enabled() holds whenever \
                    the caller's CPU is online",
        },
        Property {
            id: DATA_RACE,
            claim: "no data race (LKMM, KCSAN): no two conflicting accesses, at least one \
                    plain, unordered by happens-before",
        },
    ],
    variants: &[
        Variant {
            name: "pinned-wait",
            summary: "before the series: the caller disables preemption across the whole call \
                      including csd_lock_wait(); wait mask is the per-CPU cfd->cpumask",
            expect: expect![],
            sweep: Some(expect![]),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::PinnedWait,
        },
        Variant {
            name: "preemptible-percpu-mask",
            summary: "put_cpu() before the wait loop, wait mask still cfd->cpumask: task B on \
                      the same CPU overwrites it while task A iterates it",
            expect: expect![
                FUNC_DONE => Violated,
                NO_LATE_INFO => Violated,
                WAIT_MASK_MATCHES => Violated,
                WAIT_BOUNDED => Violated,
                DATA_RACE => Violated
            ],
            sweep: Some(expect![
                FUNC_DONE => Violated,
                NO_LATE_INFO => Violated,
                WAIT_MASK_MATCHES => Violated,
                WAIT_BOUNDED => Violated,
                DATA_RACE => Violated
            ]),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::PreemptiblePercpuMask,
        },
        Variant {
            name: "task-local-mask",
            summary: "the series: wait mask in current->ipi_mask_ptr (NR_CPUS=128, 16-byte \
                      kmalloc'd mask); A migrates to CPU3 while waiting",
            expect: expect![WAIT_BOUNDED => Violated, DATA_RACE => Violated],
            sweep: Some(expect![WAIT_BOUNDED => Violated, DATA_RACE => Violated]),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::TaskLocalMask,
        },
        Variant {
            name: "task-local-inline",
            summary: "the series with NR_CPUS=64: cpumask_size() fits the pointer word, mask \
                      stashed in current->ipi_mask_val",
            expect: expect![WAIT_BOUNDED => Violated, DATA_RACE => Violated],
            sweep: None,
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::TaskLocalInline,
        },
        Variant {
            name: "task-local-fallback",
            summary: "the series, A is init_task (NULL ipi_mask_ptr, bound to CPU0, preemption \
                      disabled): A falls back to cfd->cpumask while B uses its own mask",
            expect: expect![WAIT_BOUNDED => Violated],
            sweep: None,
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::TaskLocalFallback,
        },
        Variant {
            name: "ablation-two-tasks-without-mask",
            summary: "the fallback's assumption broken: two tasks of one CPU both without a task \
                      mask share cfd->cpumask with a preemptible wait",
            expect: expect![
                FUNC_DONE => Violated,
                NO_LATE_INFO => Violated,
                WAIT_MASK_MATCHES => Violated,
                WAIT_BOUNDED => Violated,
                DATA_RACE => Violated
            ],
            sweep: Some(expect![
                FUNC_DONE => Violated,
                NO_LATE_INFO => Violated,
                WAIT_MASK_MATCHES => Violated,
                WAIT_BOUNDED => Violated,
                DATA_RACE => Violated
            ]),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::AblationTwoTasksWithoutMask,
        },
        Variant {
            name: "task-local-cond-bits-kept",
            summary: "the series combined with 5.15-era cond handling (rejected CPU left in the \
                      wait mask): A polls csd(0->2) that B owns",
            expect: expect![WAIT_MASK_MATCHES => Violated, DATA_RACE => Violated],
            sweep: Some(
                expect![WAIT_MASK_MATCHES => Violated, WAIT_BOUNDED => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::TaskLocalCondBitsKept,
        },
        Variant {
            name: "ablation-unpinned-queueing",
            summary: "put_cpu() right after get_cpu(): csd_lock()'s plain RMW on the per-CPU csd \
                      races with task B on the same CPU, and B's cpumask_clear(cfd->cpumask_ipi) \
                      eats A's IPI (A then waits forever)",
            expect: expect![
                FUNC_DONE => Violated,
                EXACTLY_ONCE => Violated,
                NO_LATE_INFO => Violated,
                CSD_EXCLUSIVE => Violated,
                NO_DEADLOCK => Violated,
                WAIT_BOUNDED => Violated,
                CSD_UNLOCK_LOCKED => Violated
            ],
            // Swept by nobody: `explore --exhaustive` runs loom, which this model cannot
            // run soundly here (UNPINNED_SC).
            sweep: None,
            engines: Engines::ShuttleOnly(UNPINNED_SC),
            // shuttle-pct (seed 0, depth 3) first reaches `no-info-after-return` at schedule
            // 6,784 (measured 2026-12, after the port's llist_add() became a try_cmpxchg() loop
            // and shuttle explores on past stuck executions); the others come within 1,300.
            min_pct_schedules: Some(10_000),
            design: &Which::AblationUnpinnedQueueing,
        },
        Variant {
            name: "ablation-csd-unlock-relaxed",
            summary: "the series with csd_unlock() as WRITE_ONCE (no release): the waiter sees \
                      the lock clear before func's stores",
            // no-info-after-return: LKMM allows func's read of info to pass the WRITE_ONCE
            // unlock (load buffering); loom never builds LB (see the README).
            expect: expect![
                FUNC_DONE => ViolatedWeakMemory,
                NO_LATE_INFO => BeyondEngine,
                WAIT_BOUNDED => Violated,
                DATA_RACE => Violated
            ],
            sweep: Some(expect![
                FUNC_DONE => ViolatedWeakMemory,
                NO_LATE_INFO => BeyondEngine,
                WAIT_BOUNDED => Violated,
                DATA_RACE => Violated
            ]),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::AblationCsdUnlockRelaxed,
        },
        Variant {
            name: "ablation-info-read-after-unlock",
            summary: "the series with a flush that touches info after csd_unlock() of a SYNC \
                      csd (e.g. a trace hook)",
            expect: expect![NO_LATE_INFO => Violated, WAIT_BOUNDED => Violated, DATA_RACE => Violated],
            sweep: Some(
                expect![NO_LATE_INFO => Violated, WAIT_BOUNDED => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::AblationInfoReadAfterUnlock,
        },
        Variant {
            name: "ablation-put-cpu-only-if-remote",
            summary: "the series with put_cpu() only on the run_remote path: B's call whose \
                      cond_func rejects every CPU leaks a preempt count",
            expect: expect![PREEMPT_BALANCED => Violated],
            sweep: Some(
                expect![PREEMPT_BALANCED => Violated, WAIT_BOUNDED => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::AblationPutCpuOnlyIfRemote,
        },
        Variant {
            name: "ablation-wait-irqs-disabled",
            summary: "before the series, callers on CPU0 and CPU1 call each other with IRQs \
                      disabled (the lockdep_assert_irqs_enabled() case)",
            expect: expect![NO_DEADLOCK => Violated, IRQS_ENABLED => Violated],
            sweep: Some(expect![NO_DEADLOCK => Violated, IRQS_ENABLED => Violated]),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &Which::AblationWaitIrqsDisabled,
        },
    ],
    param_verdicts: &[],
    source: &[
        include_str!("mod.rs"),
        include_str!("smp.rs"),
        include_str!("ipi.rs"),
        include_str!("call.rs"),
        include_str!("run.rs"),
        include_str!("scene.rs"),
        include_str!("space.rs"),
        include_str!("cpumask.rs"),
    ],
    scenario,
    scenes: Some(&IpiScenes),
    port: kmodel_harness::port_file!("port.toml"),
};
