//! The caller side of kernel/smp.c: a task (preempt count, CPU, task-local IPI mask) and
//! smp_call_function_many_cond() before and after the task-local IPI mask series.

use kmodel_harness::prelude::*;

use super::cpumask::CpumaskConfig;
use super::ipi::{csd_do_func, send_call_function_single_ipi};
use super::properties::WAIT_MASK_MATCHES;
use super::smp::{
    csd_lock, csd_lock_wait, llist_add, pbl, Cpumask, Smp, CSD_TYPE_ASYNC, CSD_TYPE_SYNC, I,
    NR_CPU_IDS, SCF_RUN_LOCAL, SCF_WAIT,
};

/// The task-local mask of the series: the union word itself (`ipi_mask_val`, a one-word
/// mask), a `kmalloc(cpumask_size())` mask (`ipi_mask_ptr`), or NULL.
pub enum TaskIpiMask {
    Inline(Cpumask),
    Ptr(Cpumask),
    Null,
}

impl TaskIpiMask {
    /// `smp_task_ipi_mask_alloc()` (dup_task_struct) — or the NULL of `init_task` when
    /// `init_task` is set and the mask is not inlined (a static union is zero = a valid empty
    /// inline mask, so an inlined `init_task` has its mask too).
    pub fn alloc(cfg: &CpumaskConfig, init_task: bool) -> Self {
        if cfg.ipi_mask_inlined() {
            TaskIpiMask::Inline(Cpumask::new("current->ipi_mask_val", cfg))
        } else if init_task {
            TaskIpiMask::Null
        } else {
            TaskIpiMask::Ptr(Cpumask::new("current->ipi_mask_ptr", cfg))
        }
    }
}

/// A task: its CPU, what its preempt count pins, its IPI mask. Its preempt count and IRQ state
/// are the kernel prelude's (`preempt_count()`, `irqs_disabled()`: the actor's own).
pub struct Task<'a> {
    pub name: String,
    pub smp: &'a Smp,
    pub cpu: usize,
    pub pinned: Option<MutexGuard<'a, ()>>,
    pub ipi_mask: TaskIpiMask,
    /// The scheduler migrates this task to that CPU once its wait is preemptible.
    pub migrate_on_wait: Option<usize>,
}

impl<'a> Task<'a> {
    pub fn new(smp: &'a Smp, name: String, cpu: usize, init_task: bool) -> Self {
        // Tasks of one CPU are separated by context switches (the data-race check's view).
        task_on_cpu(Some(cpu));
        Task {
            name,
            smp,
            cpu,
            pinned: None,
            ipi_mask: TaskIpiMask::alloc(&smp.cfg, init_task),
            migrate_on_wait: None,
        }
    }

    /// `preempt_disable()` (the prelude's count); the first level also pins the task to its CPU
    /// (`pin[cpu]`: the prelude's count excludes nobody, this CPU's other tasks must wait).
    pub fn preempt_disable(&mut self) {
        if preempt_count() == 0 {
            self.pinned = Some(self.smp.pin[self.cpu].lock());
        }
        preempt_disable();
        ev!(
            "preempt_disable",
            "{} on CPU{}: preempt_count {} (CPU{} cannot switch tasks)",
            self.name,
            self.cpu,
            preempt_count(),
            self.cpu
        );
    }

    /// `preempt_enable()` (the prelude's, with DEBUG_PREEMPT's underflow check): at zero the
    /// task may be preempted and migrate.
    pub fn preempt_enable(&mut self) {
        preempt_enable();
        if preempt_count() == 0 {
            self.pinned = None;
            ev!(
                "preempt_enable",
                "{}: preempt_count 0: preemptible, CPU{} may run another task",
                self.name,
                self.cpu
            );
        }
    }

    /// `get_cpu()` = `preempt_disable(); smp_processor_id()`.
    pub fn get_cpu(&mut self) -> usize {
        self.preempt_disable();
        self.cpu
    }

    /// `put_cpu()` = `preempt_enable()`.
    pub fn put_cpu(&mut self) {
        self.preempt_enable();
    }

    /// The scheduler moves a preemptible task to `cpu` (load balancing while it waits).
    pub fn migrate(&mut self, cpu: usize) {
        if preempt_count() == 0 && !irqs_disabled() && self.cpu != cpu {
            ev!(
                "sched: migrate",
                "{} preempted on CPU{}, migrates to CPU{}",
                self.name,
                self.cpu,
                cpu
            );
            self.cpu = cpu;
            task_on_cpu(Some(cpu));
        }
    }
}

/// What the instrumentation learns from one smp_call_function_many_cond() call.
#[derive(Default, Debug)]
pub struct CallTrace {
    /// CPUs whose inbox this call added its csd to.
    pub queued: u64,
    /// CPUs whose csd this call waited on.
    pub waited: u64,
    pub waited_at_all: bool,
}

/// The `mask` argument of a call: a constant cpumask, or `mm_cpumask(mm)`, which CPUs change
/// while the call runs; `must` / `may` are the CPUs in every / some value it takes in the
/// scene (instrumentation: what the call must / may reach).
#[derive(Clone, Copy, Debug)]
pub enum CallMask {
    Cpus(u64),
    Mm { must: u64, may: u64 },
}

impl CallMask {
    /// One read of the mask's word (`bitmap_and()` / `cpumask_test_cpu()` read it afresh).
    fn read(&self, smp: &Smp) -> u64 {
        match *self {
            CallMask::Cpus(m) => m,
            CallMask::Mm { .. } => plain_read(&smp.mm_cpumask),
        }
    }

    fn must(&self) -> u64 {
        match *self {
            CallMask::Cpus(m) => m,
            CallMask::Mm { must, .. } => must,
        }
    }

    fn may(&self) -> u64 {
        match *self {
            CallMask::Cpus(m) => m,
            CallMask::Mm { may, .. } => may,
        }
    }
}

/// Instrumentation on entry, once `this_cpu` is known: the CPUs the call must and may run on.
fn expect_runs(smp: &Smp, info: usize, this_cpu: usize, mask: CallMask, flags: u32, cond: u64) {
    let call = smp.call(info);
    let remote = |m: u64| m & smp.online & cond & !(1 << this_cpu);
    let local = |m: u64| {
        if flags & SCF_RUN_LOCAL != 0 && m & cond & (1 << this_cpu) != 0 {
            1 << this_cpu
        } else {
            0
        }
    };
    call.targets.store(remote(mask.must()), I);
    call.runs.store(remote(mask.must()) | local(mask.must()), I);
    call.may_run
        .store(remote(mask.may()) | local(mask.may()), I);
}

/// `smp_call_function_many_cond(mask, func, info, scf_flags, cond_func)` called by `task`.
/// `cond` is the set of CPUs cond_func(cpu, info) accepts (None = no cond_func).
pub fn smp_call_function_many_cond(
    task: &mut Task<'_>,
    mask: CallMask,
    info: usize,
    scf_flags: u32,
    cond: Option<u64>,
) -> CallTrace {
    // `current->ipi_mask_*` is only ever touched by current itself: lend it out for the call.
    let ipi_mask = std::mem::replace(&mut task.ipi_mask, TaskIpiMask::Null);
    let tr = call_many_cond(task, &ipi_mask, mask, info, scf_flags, cond);
    task.ipi_mask = ipi_mask;
    tr
}

fn call_many_cond(
    task: &mut Task<'_>,
    ipi_mask: &TaskIpiMask,
    mask: CallMask,
    info: usize,
    scf_flags: u32,
    cond: Option<u64>,
) -> CallTrace {
    let smp = task.smp;
    let d = smp.design;
    let wait = scf_flags & SCF_WAIT != 0;
    let mut tr = CallTrace::default();
    let mut nr_cpus = 0;
    let mut last_cpu = NR_CPU_IDS;
    let mut run_remote = false;
    let cond_ok = |c: usize| cond.is_none_or(|m| m & (1 << c) != 0);

    // The series: get_cpu() inside; before it the caller disabled preemption.
    let this_cpu = if d.pin_in_function {
        task.get_cpu()
    } else {
        task.cpu
    };
    expect_runs(
        smp,
        info,
        this_cpu,
        mask,
        scf_flags,
        cond.unwrap_or(u64::MAX),
    );
    // if (cpu_online(this_cpu) && !oops_in_progress && !early_boot_irqs_disabled)
    //         lockdep_assert_irqs_enabled();
    if smp.online & (1 << this_cpu) != 0 {
        lockdep_assert_irqs_enabled();
    }
    let cfd = &smp.cfd[this_cpu];
    // The series: the wait mask is the task's own, cfd->cpumask only without one.
    let wmask = match ipi_mask {
        TaskIpiMask::Inline(m) | TaskIpiMask::Ptr(m) if d.task_local_mask => m,
        _ => &cfd.cpumask,
    };
    if d.unpinned_queueing {
        // Ablation: preemption re-enabled before the per-CPU cfd / csds are touched.
        task.put_cpu();
    }

    // cpumask_any_and_but(mask, cpu_online_mask, this_cpu) < nr_cpu_ids
    if mask.read(smp) & smp.online & !(1 << this_cpu) != 0 {
        // cpumask_and(cfd->cpumask, mask, cpu_online_mask): a fresh read of the mask.
        let m = mask.read(smp);
        wmask.and(m, smp.online);
        wmask.clear_cpu(this_cpu);
        ev!(
            "smp_call_function_many_cond",
            "{} on CPU{this_cpu}: {} := {} (call #{info})",
            task.name,
            wmask.name,
            pbl(m & smp.online & !(1 << this_cpu))
        );
        cfd.cpumask_ipi.clear();
        let mut cpu = wmask.next(0);
        while cpu < NR_CPU_IDS {
            let csd_idx = Smp::csd_index(this_cpu, cpu);
            if !cond_ok(cpu) {
                if !d.keep_cond_bits {
                    wmask.clear_cpu(cpu);
                }
                ev!(
                    "smp_call_function_many_cond",
                    "cond_func(CPU{cpu}) false: skip{}",
                    if d.keep_cond_bits {
                        " (bit left in the wait mask)"
                    } else {
                        ""
                    }
                );
                cpu = wmask.next(cpu + 1);
                continue;
            }
            run_remote = true;
            let csd_type = if wait { CSD_TYPE_SYNC } else { CSD_TYPE_ASYNC };
            if !csd_lock(smp, csd_idx, info, csd_type) {
                return tr;
            }
            let csd = &smp.csd[csd_idx];
            plain_write(&csd.info, info);
            tr.queued |= 1 << cpu;
            if llist_add(smp, csd_idx, cpu) {
                cfd.cpumask_ipi.set_cpu(cpu);
                nr_cpus += 1;
                last_cpu = cpu;
                ev!(
                    "llist_add",
                    "csd(CPU{this_cpu}->CPU{cpu}) queued, inbox was empty: IPI needed"
                );
            } else {
                ev!(
                    "llist_add",
                    "csd(CPU{this_cpu}->CPU{cpu}) queued behind pending work: no IPI"
                );
            }
            cpu = wmask.next(cpu + 1);
        }
        if nr_cpus == 1 {
            send_call_function_single_ipi(smp, last_cpu);
        } else if nr_cpus > 1 {
            // arch_send_call_function_ipi_mask(cfd->cpumask_ipi)
            let mut c = cfd.cpumask_ipi.next(0);
            while c < NR_CPU_IDS {
                send_call_function_single_ipi(smp, c);
                c = cfd.cpumask_ipi.next(c + 1);
            }
        }
    }

    if scf_flags & SCF_RUN_LOCAL != 0 && mask.read(smp) & (1 << this_cpu) != 0 && cond_ok(this_cpu)
    {
        // local_irq_save(): only matters where an IPI handler shares the CPU, and there
        // (the IRQs-disabled ablation) the caller already holds irq[this_cpu].
        ev!(
            "smp_call_function_many_cond",
            "SCF_RUN_LOCAL: func(info) on CPU{this_cpu}, IRQs off"
        );
        csd_do_func(smp, this_cpu, info);
    }

    if d.pin_in_function && !d.unpinned_queueing && (run_remote || !d.put_cpu_only_if_remote) {
        task.put_cpu();
    }

    if run_remote && wait {
        tr.waited_at_all = true;
        if let Some(to) = task.migrate_on_wait {
            task.migrate(to);
        }
        let mut cpu = wmask.next(0);
        while cpu < NR_CPU_IDS {
            // A csd this call never queued: the kernel waits on it all the same (it is free,
            // or another call's), so the model records the violation and goes on waiting.
            check(WAIT_MASK_MATCHES, tr.queued & (1 << cpu) != 0, || {
                format!(
                    "{} (call #{info}) waits on csd(CPU{this_cpu}->CPU{cpu}) which it never queued: \
                     {} now reads {} but the call queued to {}",
                    task.name,
                    wmask.name,
                    pbl(read_mask(wmask)),
                    pbl(tr.queued)
                )
            });
            tr.waited |= 1 << cpu;
            ev!(
                "smp_call_function_many_cond",
                "{} waits on csd(CPU{this_cpu}->CPU{cpu}) (next bit of {})",
                task.name,
                wmask.name
            );
            if !csd_lock_wait(
                smp,
                this_cpu,
                Smp::csd_index(this_cpu, cpu),
                Some((info, cpu)),
            ) {
                return tr;
            }
            cpu = wmask.next(cpu + 1);
        }
        // (ev! arguments must not touch model atomics: events are only formatted on replays.)
        ev!(
            "smp_call_function_many_cond",
            "{} done waiting: no bit of {} left after CPU{}, waited on {} (queued {})",
            task.name,
            wmask.name,
            tr.waited.checked_ilog2().unwrap_or(0),
            pbl(tr.waited),
            pbl(tr.queued)
        );
    }
    tr
}

/// The model's CPUs of a wait mask (for messages).
fn read_mask(m: &Cpumask) -> u64 {
    (0..NR_CPU_IDS)
        .filter(|&c| m.next(c) == c)
        .fold(0, |a, c| a | 1 << c)
}
