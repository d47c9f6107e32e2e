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
mod design;
pub mod ipi;
mod properties;
pub mod run;
pub mod scene;
pub mod smp;
pub mod space;
#[cfg(test)]
mod tests;

use kmodel_harness::prelude::*;

pub use cpumask::{ipi_mask_cost_rows, ipi_mask_cost_table, IpiMaskCostRow};
pub use design::{design_of, Design, Knobs, Which};
pub use properties::{
    CSD_EXCLUSIVE, CSD_UNLOCK_LOCKED, EXACTLY_ONCE, FUNC_DONE, IRQS_ENABLED, NO_LATE_INFO,
    PREEMPT_BALANCED, PROPERTIES, WAIT_BOUNDED, WAIT_MASK_MATCHES,
};
pub use space::{scripted, IpiScenes};

fn scenario(which: &Which, k: &Knobs) -> Scenario {
    let which = *which;
    let scene = scripted(which, k.b_calls);
    let design = design_of(which);
    Arc::new(move || run::run(&scene, design))
}

/// Why the unpinned-queueing ablations are checked by shuttle only.
const UNPINNED_SC: &str = "tasks touch CPU0's cfd/csds outside pin[0]; the model has no \
    context-switch barrier between two tasks of one CPU there, so loom's C11 would report \
    stale reads a real same-CPU switch (rq lock + smp_mb__after_spinlock) forbids";

/// The model, as the registry holds it (`&MODEL`).
pub struct IpiMask;
pub static MODEL: IpiMask = IpiMask;

impl KernelModel for IpiMask {
    type Design = Which;
    type Params = Knobs;
    type Scenes = IpiScenes;

    const CARD: &'static ModelCard = &ModelCard {
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
        properties: PROPERTIES,
        source: sources![
            "mod.rs",
            "properties.rs",
            "design.rs",
            "smp.rs",
            "ipi.rs",
            "call.rs",
            "run.rs",
            "scene.rs",
            "space.rs",
            "cpumask.rs",
        ],
        port: kmodel_harness::port_file!("port.toml"),
    };
    const VARIANTS: &'static [Variant<Which>] = &[
        Variant::new(
            "pinned-wait",
            "before the series: the caller disables preemption across the whole call \
             including csd_lock_wait(); wait mask is the per-CPU cfd->cpumask",
            Which::PinnedWait,
        )
        .sweep(expect![]),
        Variant::new(
            "preemptible-percpu-mask",
            "put_cpu() before the wait loop, wait mask still cfd->cpumask: task B on \
             the same CPU overwrites it while task A iterates it",
            Which::PreemptiblePercpuMask,
        )
        .expect(expect![
            FUNC_DONE => Violated,
            NO_LATE_INFO => Violated,
            WAIT_MASK_MATCHES => Violated,
            WAIT_BOUNDED => Violated, DATA_RACE => Violated])
        .sweep(expect![
            FUNC_DONE => Violated,
            NO_LATE_INFO => Violated,
            WAIT_MASK_MATCHES => Violated,
            WAIT_BOUNDED => Violated, DATA_RACE => Violated]),
        Variant::new(
            "task-local-mask",
            "the series: wait mask in current->ipi_mask_ptr (NR_CPUS=128, 16-byte \
             kmalloc'd mask); A migrates to CPU3 while waiting",
            Which::TaskLocalMask,
        )
        .expect(expect![WAIT_BOUNDED => Violated, DATA_RACE => Violated])
        .sweep(expect![WAIT_BOUNDED => Violated, DATA_RACE => Violated]),
        Variant::new(
            "task-local-inline",
            "the series with NR_CPUS=64: cpumask_size() fits the pointer word, mask \
             stashed in current->ipi_mask_val",
            Which::TaskLocalInline,
        )
        .expect(expect![WAIT_BOUNDED => Violated, DATA_RACE => Violated]),
        Variant::new(
            "task-local-fallback",
            "the series, A is init_task (NULL ipi_mask_ptr, bound to CPU0, preemption \
             disabled): A falls back to cfd->cpumask while B uses its own mask",
            Which::TaskLocalFallback,
        )
        .expect(expect![WAIT_BOUNDED => Violated]),
        Variant::new(
            "ablation-two-tasks-without-mask",
            "the fallback's assumption broken: two tasks of one CPU both without a task \
             mask share cfd->cpumask with a preemptible wait",
            Which::AblationTwoTasksWithoutMask,
        )
        .expect(expect![
            FUNC_DONE => Violated,
            NO_LATE_INFO => Violated,
            WAIT_MASK_MATCHES => Violated,
            WAIT_BOUNDED => Violated, DATA_RACE => Violated])
        .sweep(expect![
            FUNC_DONE => Violated,
            NO_LATE_INFO => Violated,
            WAIT_MASK_MATCHES => Violated,
            WAIT_BOUNDED => Violated, DATA_RACE => Violated]),
        Variant::new(
            "task-local-cond-bits-kept",
            "the series combined with 5.15-era cond handling (rejected CPU left in the \
             wait mask): A polls csd(0->2) that B owns",
            Which::TaskLocalCondBitsKept,
        )
        .expect(expect![WAIT_MASK_MATCHES => Violated, DATA_RACE => Violated])
        .sweep(
            expect![WAIT_MASK_MATCHES => Violated, WAIT_BOUNDED => Violated, DATA_RACE => Violated],
        ),
        Variant::new(
            "ablation-unpinned-queueing",
            "put_cpu() right after get_cpu(): csd_lock()'s plain RMW on the per-CPU csd \
             races with task B on the same CPU, and B's cpumask_clear(cfd->cpumask_ipi) \
             eats A's IPI (A then waits forever)",
            Which::AblationUnpinnedQueueing,
        )
        .expect(expect![
            FUNC_DONE => Violated,
            EXACTLY_ONCE => Violated,
            NO_LATE_INFO => Violated,
            CSD_EXCLUSIVE => Violated,
            NO_DEADLOCK => Violated,
            WAIT_BOUNDED => Violated,
            CSD_UNLOCK_LOCKED => Violated,
        ])
        // Swept by nobody: `explore --exhaustive` runs loom, which this model cannot
        // run soundly here (UNPINNED_SC).
        .shuttle_only(UNPINNED_SC)
        // shuttle-pct (seed 0, depth 3) first reaches `no-info-after-return` at schedule
        // 6,784 (measured 2026-12, after the port's llist_add() became a try_cmpxchg() loop
        // and shuttle explores on past stuck executions); the others come within 1,300.
        .min_pct_schedules(10_000),
        Variant::new(
            "ablation-csd-unlock-relaxed",
            "the series with csd_unlock() as WRITE_ONCE (no release): the waiter sees \
             the lock clear before func's stores",
            Which::AblationCsdUnlockRelaxed,
        )
        // no-info-after-return: LKMM allows func's read of info to pass the WRITE_ONCE
        // unlock (load buffering); loom never builds LB (see the README).
        .expect(expect![
            FUNC_DONE => ViolatedWeakMemory,
            NO_LATE_INFO => BeyondEngine,
            WAIT_BOUNDED => Violated, DATA_RACE => Violated])
        .sweep(expect![
            FUNC_DONE => ViolatedWeakMemory,
            NO_LATE_INFO => BeyondEngine,
            WAIT_BOUNDED => Violated, DATA_RACE => Violated]),
        Variant::new(
            "ablation-info-read-after-unlock",
            "the series with a flush that touches info after csd_unlock() of a SYNC \
             csd (e.g. a trace hook)",
            Which::AblationInfoReadAfterUnlock,
        )
        .expect(expect![NO_LATE_INFO => Violated, WAIT_BOUNDED => Violated, DATA_RACE => Violated])
        .sweep(expect![NO_LATE_INFO => Violated, WAIT_BOUNDED => Violated, DATA_RACE => Violated]),
        Variant::new(
            "ablation-put-cpu-only-if-remote",
            "the series with put_cpu() only on the run_remote path: B's call whose \
             cond_func rejects every CPU leaks a preempt count",
            Which::AblationPutCpuOnlyIfRemote,
        )
        .expect(expect![PREEMPT_BALANCED => Violated])
        .sweep(
            expect![PREEMPT_BALANCED => Violated, WAIT_BOUNDED => Violated, DATA_RACE => Violated],
        ),
        Variant::new(
            "ablation-wait-irqs-disabled",
            "before the series, callers on CPU0 and CPU1 call each other with IRQs \
             disabled (the lockdep_assert_irqs_enabled() case)",
            Which::AblationWaitIrqsDisabled,
        )
        .expect(expect![NO_DEADLOCK => Violated, IRQS_ENABLED => Violated])
        .sweep(expect![NO_DEADLOCK => Violated, IRQS_ENABLED => Violated]),
    ];
    const SCENES: Option<&'static IpiScenes> = Some(&IpiScenes);

    fn scenario(design: &Which, params: &Knobs) -> Scenario {
        scenario(design, params)
    }
}
