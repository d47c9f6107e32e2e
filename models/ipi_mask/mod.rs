//! smp_call_function_many_cond() with a preemptible wait: per-CPU vs task-local wait mask.
//!
//! Ports kernel/smp.c (csd_lock / csd_unlock / csd_lock_wait, llist call queues with an IPI
//! only for an empty inbox, __flush_smp_call_function_queue(), smp_call_function_many_cond()
//! with cond_func, SCF_WAIT and SCF_RUN_LOCAL) before and after Chuyi Zhou's 2026 series that
//! re-enables preemption before the final csd_lock_wait() loop and moves the wait mask into the
//! task (`task_struct::ipi_mask_ptr` / `ipi_mask_val`).
//!
//! Actors (4, loom's limit): two tasks that run on CPU0 — task A (the waiter) and task B (a
//! second task the same CPU runs when A is preemptible) — and the IPI handlers of two target
//! CPUs. "Preemption disabled on CPU c" = holding `pin[c]`; "IRQs disabled on CPU c" =
//! holding `irq[c]`. See `smp.rs`.

pub mod cpumask;
pub mod smp;

use kmodel_harness::prelude::*;

use cpumask::CpumaskConfig;
pub use cpumask::{ipi_mask_cost_rows, ipi_mask_cost_table, IpiMaskCostRow};
use smp::{
    ipi_handler, pbl, smp_call_function_many_cond, Smp, Task, NR_CPU_IDS, SCF_RUN_LOCAL, SCF_WAIT,
};

pub const FUNC_DONE: &str = "func-done-on-return";
pub const EXACTLY_ONCE: &str = "exactly-once";
pub const NO_LATE_INFO: &str = "no-info-after-return";
pub const CSD_EXCLUSIVE: &str = "csd-single-owner";
pub const WAIT_MASK_MATCHES: &str = "wait-set-is-queued-set";
pub const PREEMPT_BALANCED: &str = "preempt-count-balanced";
pub const WAIT_BOUNDED: &str = "csd-wait-bounded";

/// The design knobs a variant sets (see [`setup`]).
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
}

/// One task of the scenario and the call(s) it makes.
#[derive(Clone, Copy, Debug)]
struct TaskSpec {
    name: &'static str,
    cpu: usize,
    mask: u64,
    cond: Option<u64>,
    flags: u32,
    /// `init_task`: no task mask unless inlined.
    init_task: bool,
    /// The scheduler migrates it to CPU3 while it waits preemptibly.
    migrate: bool,
}

impl TaskSpec {
    /// T(call): remote online CPUs in mask accepted by cond.
    fn targets(&self) -> u64 {
        let online = (1u64 << NR_CPU_IDS) - 1;
        self.mask & online & !(1 << self.cpu) & self.cond.unwrap_or(u64::MAX)
    }

    /// CPUs that must run func: T(call), plus the caller's CPU with SCF_RUN_LOCAL.
    fn runs(&self) -> u64 {
        let local = self.flags & SCF_RUN_LOCAL != 0
            && self.mask & (1 << self.cpu) != 0
            && self.cond.unwrap_or(u64::MAX) & (1 << self.cpu) != 0;
        self.targets() | if local { 1 << self.cpu } else { 0 }
    }
}

#[derive(Clone, Copy, Debug)]
struct Setup {
    design: Design,
    cfg: CpumaskConfig,
    a: TaskSpec,
    b: TaskSpec,
    /// CPUs that have an IPI-handler actor.
    handlers: [usize; 2],
}

const fn cfg(nr_cpus: usize) -> CpumaskConfig {
    CpumaskConfig {
        nr_cpus,
        offstack: false,
        nr_cpu_ids: if nr_cpus < NR_CPU_IDS {
            nr_cpus
        } else {
            NR_CPU_IDS
        },
        preemption: true,
    }
}

const A: TaskSpec = TaskSpec {
    name: "CPU0 task A (waiter)",
    cpu: 0,
    mask: 0b0110,
    cond: None,
    flags: SCF_WAIT,
    init_task: false,
    migrate: false,
};
const B: TaskSpec = TaskSpec {
    name: "CPU0 task B (same CPU)",
    cpu: 0,
    mask: 0b0011,
    cond: None,
    flags: SCF_WAIT | SCF_RUN_LOCAL,
    init_task: false,
    migrate: false,
};

/// The variants, by design (each maps to one [`Setup`]).
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

fn setup(which: Which) -> Setup {
    let series = Design {
        pin_in_function: true,
        task_local_mask: true,
        ..Design::default()
    };
    let percpu = Design {
        pin_in_function: true,
        ..Design::default()
    };
    let a_mig = TaskSpec { migrate: true, ..A };
    let base = Setup {
        design: series,
        // NR_CPUS=128: cpumask_size() = 16 > 8, the task mask is a kmalloc'd bitmap.
        cfg: cfg(128),
        a: a_mig,
        b: B,
        handlers: [1, 2],
    };
    match which {
        Which::PinnedWait => Setup {
            design: Design::default(),
            cfg: cfg(64),
            a: A,
            ..base
        },
        Which::PreemptiblePercpuMask => Setup {
            design: percpu,
            cfg: cfg(64),
            ..base
        },
        Which::TaskLocalMask => base,
        // NR_CPUS=64: cpumask_size() = 8, stashed in the pointer word.
        Which::TaskLocalInline => Setup {
            cfg: cfg(64),
            ..base
        },
        Which::TaskLocalFallback => Setup {
            a: TaskSpec {
                init_task: true,
                ..a_mig
            },
            ..base
        },
        Which::AblationTwoTasksWithoutMask => Setup {
            a: TaskSpec {
                init_task: true,
                ..a_mig
            },
            b: TaskSpec {
                init_task: true,
                ..B
            },
            ..base
        },
        Which::TaskLocalCondBitsKept => Setup {
            design: Design {
                keep_cond_bits: true,
                ..series
            },
            a: TaskSpec {
                cond: Some(0b0010),
                ..a_mig
            },
            b: TaskSpec { mask: 0b0101, ..B },
            ..base
        },
        Which::AblationUnpinnedQueueing => Setup {
            design: Design {
                unpinned_queueing: true,
                ..series
            },
            ..base
        },
        Which::AblationCsdUnlockRelaxed => Setup {
            design: Design {
                unlock_relaxed: true,
                ..series
            },
            b: TaskSpec { mask: 0b0101, ..B },
            ..base
        },
        Which::AblationInfoReadAfterUnlock => Setup {
            design: Design {
                info_after_unlock: true,
                ..series
            },
            ..base
        },
        Which::AblationPutCpuOnlyIfRemote => Setup {
            design: Design {
                put_cpu_only_if_remote: true,
                ..series
            },
            b: TaskSpec { cond: Some(0), ..B },
            ..base
        },
        Which::AblationWaitIrqsDisabled => Setup {
            design: Design {
                irqs_disabled_caller: true,
                ..Design::default()
            },
            cfg: cfg(64),
            a: TaskSpec { mask: 0b0010, ..A },
            b: TaskSpec {
                name: "CPU1 task B",
                cpu: 1,
                mask: 0b0001,
                ..B
            },
            handlers: [0, 1],
        },
    }
}

/// One task's life: its calls, the caller-side checks after each return, its exit.
/// Returns the preempt count it exits with.
fn run_task(smp: &Smp, spec: TaskSpec, ids: &[usize]) -> i32 {
    let d = smp.design;
    let mut t = Task::new(smp, spec.name, spec.cpu, spec.init_task);
    // local_irq_save() in the caller (ablation only).
    let _irqs_off = d.irqs_disabled_caller.then(|| smp.irq[spec.cpu].lock());
    if d.irqs_disabled_caller {
        ev!(
            "local_irq_save",
            "{}: IRQs off on CPU{}",
            spec.name,
            spec.cpu
        );
    }
    for &id in ids {
        t.cpu = spec.cpu;
        // Before the series on_each_cpu_cond_mask()/smp_call_function() disable preemption.
        if !d.pin_in_function {
            t.preempt_disable();
        }
        let tr = if spec.migrate {
            smp_call_function_many_cond_migrating(&mut t, spec, id)
        } else {
            smp_call_function_many_cond(&mut t, spec.mask, id, spec.flags, spec.cond)
        };
        if !d.pin_in_function {
            t.preempt_enable();
        }
        let call = smp.call(id);
        if spec.flags & SCF_WAIT != 0 && !execution_spent() {
            // The caller now uses what func computed into info (e.g. frees the page tables).
            let missing: u64 = (0..NR_CPU_IDS)
                .filter(|&c| {
                    call.targets & (1 << c) != 0 && call.result[c].load(Ordering::Relaxed) == 0
                })
                .fold(0, |m, c| m | 1 << c);
            check(FUNC_DONE, missing == 0, || {
                format!(
                    "{} returned from a waiting call #{id} but func has not finished on CPU{}",
                    spec.name,
                    pbl(missing)
                )
            });
            if tr.waited_at_all {
                check(WAIT_MASK_MATCHES, tr.waited == tr.queued, || {
                    format!(
                        "{} (call #{id}) queued csds to {} but waited on {}",
                        spec.name,
                        pbl(tr.queued),
                        pbl(tr.waited)
                    )
                });
            }
        }
        call.returned.store(true, Ordering::SeqCst); // instrumentation (std atomic)
        ev!(
            "smp_call_function_many_cond",
            "{} returns from call #{id}: info is gone",
            spec.name
        );
    }
    drop(_irqs_off);
    // do_exit(): "exited with preempt_count %d", then the count is repaired.
    let count = t.preempt_count;
    t.pinned = None;
    count
}

/// smp_call_function_many_cond() for a task the scheduler migrates to CPU3 while it waits.
fn smp_call_function_many_cond_migrating(
    t: &mut Task<'_>,
    spec: TaskSpec,
    id: usize,
) -> smp::CallTrace {
    t.migrate_on_wait = true;
    let tr = smp_call_function_many_cond(t, spec.mask, id, spec.flags, spec.cond);
    t.migrate_on_wait = false;
    tr
}

fn scenario(variant: &Variant, params: &Params) -> Scenario {
    let s = setup(*variant.design::<Which>());
    let b_calls = Knobs::from(params).b_calls;
    Arc::new(move || {
        let mut calls = vec![(s.a.name, s.a.targets(), s.a.runs())];
        for _ in 0..b_calls {
            calls.push((s.b.name, s.b.targets(), s.b.runs()));
        }
        let smp = Arc::new(Smp::new(s.design, s.cfg, calls));
        let handler = {
            let smp = Arc::clone(&smp);
            let cpus = s.handlers;
            spawn(
                format!("CPU{}+CPU{} IPI handlers", cpus[0], cpus[1]),
                move || ipi_handler(&smp, &cpus),
            )
        };
        let ta = {
            let smp = Arc::clone(&smp);
            spawn(s.a.name, move || run_task(&smp, s.a, &[1]))
        };
        let tb = {
            let smp = Arc::clone(&smp);
            let ids: Vec<usize> = (2..2 + b_calls).collect();
            spawn(s.b.name, move || run_task(&smp, s.b, &ids))
        };
        let pa = ta.join();
        let pb = tb.join();
        {
            let (line, cv) = &smp.ipi;
            line.lock().quit = true;
            cv.notify_all();
        }
        handler.join();
        // Once quiet.
        for (name, p) in [(s.a.name, pa), (s.b.name, pb)] {
            check(PREEMPT_BALANCED, p == 0, || {
                format!("{name} exited with preempt_count {p}: a path missed put_cpu()")
            });
        }
        for call in &smp.calls {
            for c in 0..NR_CPU_IDS {
                let n = call.ran[c].load(Ordering::SeqCst);
                let want = u32::from(call.runs & (1 << c) != 0);
                check(EXACTLY_ONCE, n == want, || {
                    format!(
                        "call #{} of {} ran {n} times on CPU{c} (target set {})",
                        call.id,
                        call.caller,
                        pbl(call.targets)
                    )
                });
            }
        }
    })
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
    ],
    variants: &[
        Variant {
            name: "pinned-wait",
            summary: "before the series: the caller disables preemption across the whole call \
                      including csd_lock_wait(); wait mask is the per-CPU cfd->cpumask",
            expect: expect![],
            sweep: None,
            engines: Engines::All,
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
                WAIT_BOUNDED => Violated
            ],
            sweep: None,
            engines: Engines::All,
            design: &Which::PreemptiblePercpuMask,
        },
        Variant {
            name: "task-local-mask",
            summary: "the series: wait mask in current->ipi_mask_ptr (NR_CPUS=128, 16-byte \
                      kmalloc'd mask); A migrates to CPU3 while waiting",
            expect: expect![WAIT_BOUNDED => Violated],
            sweep: None,
            engines: Engines::All,
            design: &Which::TaskLocalMask,
        },
        Variant {
            name: "task-local-inline",
            summary: "the series with NR_CPUS=64: cpumask_size() fits the pointer word, mask \
                      stashed in current->ipi_mask_val",
            expect: expect![WAIT_BOUNDED => Violated],
            sweep: None,
            engines: Engines::All,
            design: &Which::TaskLocalInline,
        },
        Variant {
            name: "task-local-fallback",
            summary: "the series, A is init_task (NULL ipi_mask_ptr): A falls back to \
                      cfd->cpumask while B uses its own mask",
            expect: expect![WAIT_BOUNDED => Violated],
            sweep: None,
            engines: Engines::All,
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
                WAIT_BOUNDED => Violated
            ],
            sweep: None,
            engines: Engines::All,
            design: &Which::AblationTwoTasksWithoutMask,
        },
        Variant {
            name: "task-local-cond-bits-kept",
            summary: "the series combined with 5.15-era cond handling (rejected CPU left in the \
                      wait mask): A polls csd(0->2) that B owns",
            expect: expect![WAIT_MASK_MATCHES => Violated],
            sweep: None,
            engines: Engines::All,
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
                CSD_EXCLUSIVE => Violated,
                NO_DEADLOCK => Violated,
                WAIT_BOUNDED => Violated
            ],
            sweep: None,
            engines: Engines::ShuttleOnly(UNPINNED_SC),
            design: &Which::AblationUnpinnedQueueing,
        },
        Variant {
            name: "ablation-csd-unlock-relaxed",
            summary: "the series with csd_unlock() as WRITE_ONCE (no release): the waiter sees \
                      the lock clear before func's stores",
            expect: expect![FUNC_DONE => ViolatedWeakMemory, WAIT_BOUNDED => Violated],
            sweep: None,
            engines: Engines::All,
            design: &Which::AblationCsdUnlockRelaxed,
        },
        Variant {
            name: "ablation-info-read-after-unlock",
            summary: "the series with a flush that touches info after csd_unlock() of a SYNC \
                      csd (e.g. a trace hook)",
            expect: expect![NO_LATE_INFO => Violated, WAIT_BOUNDED => Violated],
            sweep: None,
            engines: Engines::All,
            design: &Which::AblationInfoReadAfterUnlock,
        },
        Variant {
            name: "ablation-put-cpu-only-if-remote",
            summary: "the series with put_cpu() only on the run_remote path: B's call whose \
                      cond_func rejects every CPU leaks a preempt count",
            expect: expect![PREEMPT_BALANCED => Violated],
            sweep: None,
            engines: Engines::All,
            design: &Which::AblationPutCpuOnlyIfRemote,
        },
        Variant {
            name: "ablation-wait-irqs-disabled",
            summary: "before the series, callers on CPU0 and CPU1 call each other with IRQs \
                      disabled (the lockdep_assert_irqs_enabled() case)",
            expect: expect![NO_DEADLOCK => Violated],
            sweep: None,
            engines: Engines::All,
            design: &Which::AblationWaitIrqsDisabled,
        },
    ],
    source: &[
        include_str!("mod.rs"),
        include_str!("smp.rs"),
        include_str!("cpumask.rs"),
    ],
    scenario,
    scenes: None,
};

#[cfg(test)]
mod model_tests {
    use super::*;

    #[test]
    fn declarations_valid() {
        MODEL.validate().unwrap();
        for v in MODEL.variants {
            let _ = setup(*v.design::<Which>());
        }
    }
}
