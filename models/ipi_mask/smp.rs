//! Port of kernel/smp.c: csd locking, the per-CPU call queues, the target-side flush and
//! smp_call_function_many_cond() before and after the task-local IPI mask series.
//!
//! Execution contexts are actors: a *task* (it may be preempted and migrate whenever its
//! preempt count is zero) and a target CPU's *IPI handler*. "Preemption disabled on CPU c" is
//! holding `Smp::pin[c]` (nobody else runs a task on c meanwhile); "IRQs disabled on CPU c" is
//! holding `Smp::irq[c]` (c's IPI handler cannot run meanwhile); an IPI is a flag plus a wake-up
//! of the handler (`hlt` until the interrupt arrives).

use kmodel_harness::prelude::*;

use super::cpumask::CpumaskConfig;
use super::{
    Design, CSD_EXCLUSIVE, EXACTLY_ONCE, NO_LATE_INFO, PREEMPT_BALANCED, WAIT_BOUNDED,
    WAIT_MASK_MATCHES,
};
use kmodel_harness::{fatal_violation, NO_DEADLOCK};

/// CPUs that exist in the scenario (`nr_cpu_ids`, all online). CPU3 only receives migrations.
pub const NR_CPU_IDS: usize = 4;

// include/linux/smp_types.h
pub const CSD_FLAG_LOCK: u32 = 0x01;
pub const CSD_TYPE_ASYNC: u32 = 0x00;
pub const CSD_TYPE_SYNC: u32 = 0x10;
pub const CSD_FLAG_TYPE_MASK: u32 = 0xF0;

// kernel/smp.c
pub const SCF_WAIT: u32 = 1 << 0;
pub const SCF_RUN_LOCAL: u32 = 1 << 1;

/// Instrumentation-only state uses plain std atomics: the engines do not schedule around it,
/// so it adds no interleavings and no ordering; it reads as the execution's SC history.
use std::sync::atomic::{AtomicBool as IBool, AtomicU32 as IU32, AtomicUsize as IUsize};
const I: Ordering = Ordering::SeqCst;

/// `call_single_data_t`: `node.llist`, `node.u_flags`, `func`, `info`. All calls in the model
/// use the same `func`, so only `info` is stored (the call's id). `owner` is instrumentation.
pub struct Csd {
    pub u_flags: AtomicU32,
    /// `node.llist.next`: index + 1 of the next csd, 0 = NULL.
    pub next: AtomicUsize,
    pub info: AtomicUsize,
    /// Instrumentation: the call that holds CSD_FLAG_LOCK (0 = none).
    pub owner: IUsize,
    /// The "event" a waiter in smp_cond_load_acquire() sleeps on until the line is written
    /// (arm64 `__cmpwait_relaxed()` / WFE); see [`csd_lock_wait`].
    pub wfe: (Mutex<()>, Condvar),
}

/// A `struct cpumask` of `cpumask_size()` bytes: `unsigned long` words. The model's CPUs live
/// in word 0; `for_each_cpu()` scans up to `nr_cpu_ids` (= 4), i.e. word 0 only.
pub struct Cpumask {
    pub name: &'static str,
    pub words: Vec<AtomicU64>,
}

impl Cpumask {
    pub fn new(name: &'static str, cfg: &CpumaskConfig) -> Self {
        Cpumask {
            name,
            words: (0..cfg.cpumask_size() / 8)
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    /// `cpumask_and(dst, mask, cpu_online_mask)`: `bitmap_and()` stores every word.
    pub fn and(&self, mask: u64, online: u64) {
        for (i, w) in self.words.iter().enumerate() {
            w.store(if i == 0 { mask & online } else { 0 }, Ordering::Relaxed);
        }
    }

    /// `cpumask_clear()`.
    pub fn clear(&self) {
        for w in &self.words {
            w.store(0, Ordering::Relaxed);
        }
    }

    /// `__cpumask_clear_cpu()`: the non-atomic `__clear_bit()` (plain load + store).
    pub fn clear_cpu(&self, cpu: usize) {
        let v = self.words[0].load(Ordering::Relaxed);
        self.words[0].store(v & !(1 << cpu), Ordering::Relaxed);
    }

    /// `__cpumask_set_cpu()`: the non-atomic `__set_bit()`.
    pub fn set_cpu(&self, cpu: usize) {
        let v = self.words[0].load(Ordering::Relaxed);
        self.words[0].store(v | 1 << cpu, Ordering::Relaxed);
    }

    /// `cpumask_next(start - 1, mask)` as `for_each_cpu()` uses it: first set bit `>= start`,
    /// `nr_cpu_ids` when none (one READ_ONCE of the word per step).
    pub fn next(&self, start: usize) -> usize {
        if start >= NR_CPU_IDS {
            return NR_CPU_IDS;
        }
        let v =
            self.words[0].load(Ordering::Relaxed) & (u64::MAX << start) & ((1 << NR_CPU_IDS) - 1);
        if v == 0 {
            NR_CPU_IDS
        } else {
            v.trailing_zeros() as usize
        }
    }
}

/// `struct call_function_data` of one sending CPU (its csd array is `Smp::csd[cpu][..]`).
pub struct Cfd {
    pub cpumask: Cpumask,
    pub cpumask_ipi: Cpumask,
}

/// The call's `info` — in the kernel typically on the caller's stack (`flush_tlb_info`).
/// Everything but `result` is instrumentation of the call, not kernel state.
pub struct CallInfo {
    pub id: usize,
    pub caller: &'static str,
    /// T(call): CPUs != caller CPU in mask ∧ online ∧ cond, computed from the arguments.
    pub targets: u64,
    /// CPUs that must run func: T(call) plus the caller's CPU for SCF_RUN_LOCAL.
    pub runs: u64,
    /// How many times each CPU ran func(info).
    pub ran: Vec<IU32>,
    /// What func(info) writes into `info` (a plain store, read by the caller after return).
    pub result: Vec<AtomicU32>,
    /// The caller returned: its stack frame (and `info`) is dead.
    pub returned: IBool,
}

/// The IPI lines of the CPUs (one bit per CPU).
#[derive(Default)]
pub struct IpiLine {
    pub pending: u64,
    /// Set by the scenario once every task finished: flush once more and stop.
    pub quit: bool,
}

/// All shared state of one execution.
pub struct Smp {
    pub design: Design,
    pub cfg: CpumaskConfig,
    /// `cpu_online_mask`.
    pub online: u64,
    /// `DEFINE_PER_CPU(struct call_function_data, cfd_data)`.
    pub cfd: Vec<Cfd>,
    /// `cfd->csd`, a per-CPU array per sender: `csd[sender * NR_CPU_IDS + target]`.
    pub csd: Vec<Csd>,
    /// `DEFINE_PER_CPU(struct llist_head, call_single_queue)`: index + 1 of the first csd.
    pub call_single_queue: Vec<AtomicUsize>,
    /// The IPI lines (`arch_send_call_function_single_ipi()` raises one) and the wake-up of
    /// the handler actor.
    pub ipi: (Mutex<IpiLine>, Condvar),
    /// Holding `irq[c]` = IRQs disabled on CPU c. Only taken where a task and an IPI handler
    /// share a CPU (the IRQs-disabled ablation); elsewhere handlers own their CPU alone.
    pub irq: Vec<Mutex<()>>,
    /// Holding `pin[c]` = a task runs on c with preemption disabled.
    pub pin: Vec<Mutex<()>>,
    /// Instrumentation for the deadlock check: CPU c's IRQs are disabled by a task that spins
    /// in csd_lock_wait() for CPU `irqs_off_waiting[c] - 1` (0 = none).
    pub irqs_off_waiting: Vec<IUsize>,
    /// Calls by id - 1.
    pub calls: Vec<CallInfo>,
}

fn bits(m: u64) -> impl Iterator<Item = usize> {
    (0..64).filter(move |c| m & (1 << c) != 0)
}

/// Formats a cpu set the way the kernel's `%*pbl` does.
pub fn pbl(m: u64) -> String {
    let v: Vec<String> = bits(m).map(|c| c.to_string()).collect();
    format!("{{{}}}", v.join(","))
}

impl Smp {
    /// `calls`: (caller name, T(call), CPUs that must run func).
    pub fn new(design: Design, cfg: CpumaskConfig, calls: Vec<(&'static str, u64, u64)>) -> Self {
        Smp {
            design,
            cfg,
            online: (1 << NR_CPU_IDS) - 1,
            cfd: (0..NR_CPU_IDS)
                .map(|_| Cfd {
                    cpumask: Cpumask::new("cfd->cpumask", &cfg),
                    cpumask_ipi: Cpumask::new("cfd->cpumask_ipi", &cfg),
                })
                .collect(),
            csd: (0..NR_CPU_IDS * NR_CPU_IDS)
                .map(|_| Csd {
                    u_flags: AtomicU32::new(0),
                    next: AtomicUsize::new(0),
                    info: AtomicUsize::new(0),
                    owner: IUsize::new(0),
                    wfe: (Mutex::new(()), Condvar::new()),
                })
                .collect(),
            call_single_queue: (0..NR_CPU_IDS).map(|_| AtomicUsize::new(0)).collect(),
            ipi: (Mutex::new(IpiLine::default()), Condvar::new()),
            irq: (0..NR_CPU_IDS).map(|_| Mutex::new(())).collect(),
            pin: (0..NR_CPU_IDS).map(|_| Mutex::new(())).collect(),
            irqs_off_waiting: (0..NR_CPU_IDS).map(|_| IUsize::new(0)).collect(),
            calls: calls
                .into_iter()
                .enumerate()
                .map(|(i, (caller, targets, runs))| CallInfo {
                    id: i + 1,
                    caller,
                    targets,
                    runs,
                    ran: (0..NR_CPU_IDS).map(|_| IU32::new(0)).collect(),
                    result: (0..NR_CPU_IDS).map(|_| AtomicU32::new(0)).collect(),
                    returned: IBool::new(false),
                })
                .collect(),
        }
    }

    pub fn call(&self, id: usize) -> &CallInfo {
        &self.calls[id - 1]
    }

    /// `per_cpu_ptr(cfd->csd, target)` of sender `sender`.
    pub fn csd_index(sender: usize, target: usize) -> usize {
        sender * NR_CPU_IDS + target
    }
}

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

/// A task: its CPU, its preempt count and what it pins, its IPI mask.
pub struct Task<'a> {
    pub name: &'static str,
    pub smp: &'a Smp,
    pub cpu: usize,
    pub preempt_count: i32,
    pub pinned: Option<MutexGuard<'a, ()>>,
    pub ipi_mask: TaskIpiMask,
    /// The scheduler migrates this task to the last CPU once its wait is preemptible.
    pub migrate_on_wait: bool,
}

impl<'a> Task<'a> {
    pub fn new(smp: &'a Smp, name: &'static str, cpu: usize, init_task: bool) -> Self {
        Task {
            name,
            smp,
            cpu,
            preempt_count: 0,
            pinned: None,
            ipi_mask: TaskIpiMask::alloc(&smp.cfg, init_task),
            migrate_on_wait: false,
        }
    }

    /// `preempt_disable()`: the first level pins the task to its CPU (`pin[cpu]`).
    pub fn preempt_disable(&mut self) {
        if self.preempt_count == 0 {
            self.pinned = Some(self.smp.pin[self.cpu].lock());
        }
        self.preempt_count += 1;
        ev!(
            "preempt_disable",
            "{} on CPU{}: preempt_count {} (CPU{} cannot switch tasks)",
            self.name,
            self.cpu,
            self.preempt_count,
            self.cpu
        );
    }

    /// `preempt_enable()`: at zero the task may be preempted and migrate. DEBUG_PREEMPT's
    /// underflow check is the property check.
    pub fn preempt_enable(&mut self) {
        self.preempt_count -= 1;
        check(PREEMPT_BALANCED, self.preempt_count >= 0, || {
            format!(
                "{}: preempt_count underflow ({}) in preempt_enable()",
                self.name, self.preempt_count
            )
        });
        if self.preempt_count <= 0 {
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
        if self.preempt_count == 0 && self.cpu != cpu {
            ev!(
                "sched: migrate",
                "{} preempted on CPU{}, migrates to CPU{}",
                self.name,
                self.cpu,
                cpu
            );
            self.cpu = cpu;
        }
    }
}

/// `csd_lock_wait()` = `smp_cond_load_acquire(&csd->node.u_flags, !(VAL & CSD_FLAG_LOCK))`:
/// an Acquire load of `u_flags` until the lock bit is clear. Between loads the waiter sleeps
/// until the line is written, as arm64 does with WFE (`__cmpwait_relaxed()`): the re-check
/// under `wfe.0` pairs with the wake-up in [`csd_unlock`], so no write is missed. (A polling
/// `Spinner` here lets two waiting tasks starve the IPI handler under loom: see the README.)
/// `waiter` (instrumentation) is the call waiting for its own completion (the final wait of
/// smp_call_function_many_cond()), `None` for csd_lock()'s wait. Returns false on bail-out.
pub fn csd_lock_wait(
    smp: &Smp,
    this_cpu: usize,
    csd_idx: usize,
    waiter: Option<(usize, usize)>,
) -> bool {
    let csd = &smp.csd[csd_idx];
    let target = csd_idx % NR_CPU_IDS;
    let irqs_off = smp.design.irqs_disabled_caller;
    if irqs_off {
        smp.irqs_off_waiting[this_cpu].store(target + 1, I);
    }
    let mut reported = false;
    let mut sleep = None;
    let done = loop {
        let v = csd.u_flags.load(Ordering::Acquire);
        if v & CSD_FLAG_LOCK == 0 {
            break true;
        }
        if execution_spent() || (irqs_off && irqs_off_cycle(smp, this_cpu, target)) {
            break false;
        }
        if let Some((call, cpu)) = waiter {
            let owner = csd.owner.load(I);
            let mine_done = smp.call(call).ran[cpu].load(I) > 0;
            if !reported && owner != 0 && owner != call && mine_done {
                reported = true;
                ev!(
                    "csd_lock_wait",
                    "call #{call} already ran on CPU{cpu}, but its csd is locked again by call #{owner}"
                );
                check(WAIT_BOUNDED, false, || {
                    format!(
                        "call #{call} (by {}) keeps waiting on csd(CPU{}->CPU{cpu}) although its func \
                         finished on CPU{cpu}: call #{owner} re-locked the csd in between (ABA on \
                         CSD_FLAG_LOCK, no generation); a stream of callers reusing it starves the waiter",
                        smp.call(call).caller,
                        csd_idx / NR_CPU_IDS
                    )
                });
            }
        }
        // cpu_relax() / WFE: sleep until the next write to u_flags.
        let g = sleep.take().unwrap_or_else(|| csd.wfe.0.lock());
        if csd.u_flags.load(Ordering::Acquire) & CSD_FLAG_LOCK == 0 {
            break true;
        }
        let g = csd.wfe.1.wait(g);
        drop(g);
        sleep = None;
    };
    if irqs_off {
        smp.irqs_off_waiting[this_cpu].store(0, I);
    }
    done
}

/// Deadlock detection (instrumentation): CPU `me` spins with IRQs off for `target`; follow
/// "IRQs off on t, spinning for t'" edges; reaching `me` again is a cycle nobody can break.
fn irqs_off_cycle(smp: &Smp, me: usize, target: usize) -> bool {
    let mut t = target;
    let mut path = vec![me];
    for _ in 0..NR_CPU_IDS {
        path.push(t);
        let w = smp.irqs_off_waiting[t].load(I);
        if w == 0 {
            return false;
        }
        if w - 1 == me {
            let p: Vec<String> = path.iter().map(|c| format!("CPU{c}")).collect();
            // Fatal: nobody in the cycle ever returns, so nothing after it is checked.
            fatal_violation(
                NO_DEADLOCK,
                format!(
                    "{} -> CPU{me}: each CPU spins in csd_lock_wait() with IRQs disabled for the \
                     next one, whose IPI handler therefore never runs",
                    p.join(" -> ")
                ),
            );
            return true;
        }
        t = w - 1;
    }
    false
}

/// `csd_lock()`: wait for the lock bit to clear (acquire), set it with a *plain*
/// read-modify-write, `smp_wmb()`. Instrumentation: `owner` for [`CSD_EXCLUSIVE`].
pub fn csd_lock(smp: &Smp, csd_idx: usize, call: usize, csd_type: u32) -> bool {
    let csd = &smp.csd[csd_idx];
    if !csd_lock_wait(smp, csd_idx / NR_CPU_IDS, csd_idx, None) {
        return false;
    }
    let v = csd.u_flags.load(Ordering::Relaxed);
    // `csd->node.u_flags |= CSD_FLAG_LOCK` and the caller's `|= CSD_TYPE_SYNC` folded into
    // one plain store: nobody can observe the locked, not yet queued csd in between.
    csd.u_flags
        .store(v | CSD_FLAG_LOCK | csd_type, Ordering::Relaxed);
    fence(Ordering::Release); // smp_wmb()
    let prev = csd.owner.swap(call, I);
    ev!(
        "csd_lock",
        "csd(CPU{}->CPU{}) locked for call #{call}",
        csd_idx / NR_CPU_IDS,
        csd_idx % NR_CPU_IDS
    );
    check(CSD_EXCLUSIVE, prev == 0, || {
        format!(
            "csd(CPU{}->CPU{}) locked for call #{call} while call #{prev} still owns it \
             (plain RMW in csd_lock() raced with a second acquirer)",
            csd_idx / NR_CPU_IDS,
            csd_idx % NR_CPU_IDS
        )
    })
}

/// `csd_unlock()`: `smp_store_release(&csd->node.u_flags, 0)` (ablation: a plain store).
pub fn csd_unlock(smp: &Smp, csd_idx: usize) {
    let csd = &smp.csd[csd_idx];
    csd.owner.store(0, I);
    let order = if smp.design.unlock_relaxed {
        Ordering::Relaxed
    } else {
        Ordering::Release
    };
    csd.u_flags.store(0, order);
    // The write wakes waiters sleeping in smp_cond_load_acquire() (WFE event).
    {
        let _g = csd.wfe.0.lock();
        csd.wfe.1.notify_all();
    }
    ev!(
        "csd_unlock",
        "csd(CPU{}->CPU{}) unlocked{}",
        csd_idx / NR_CPU_IDS,
        csd_idx % NR_CPU_IDS,
        if smp.design.unlock_relaxed {
            " (WRITE_ONCE, no release: ablation)"
        } else {
            ""
        }
    );
}

/// `llist_add()`: `first = READ_ONCE(head->first); do { new->next = first; } while
/// (!try_cmpxchg(&head->first, &first, new));` — fully ordered; returns true if the list was
/// empty (the caller must send the IPI).
pub fn llist_add(smp: &Smp, csd_idx: usize, cpu: usize) -> bool {
    let head = &smp.call_single_queue[cpu];
    let mut first = head.load(Ordering::Relaxed);
    loop {
        smp.csd[csd_idx].next.store(first, Ordering::Relaxed);
        match full_rmw(|| {
            head.compare_exchange(first, csd_idx + 1, Ordering::Relaxed, Ordering::Relaxed)
        }) {
            Ok(_) => return first == 0,
            Err(now) => first = now,
        }
    }
}

/// `llist_del_all()` + `llist_reverse_order()`: takes the whole inbox (xchg, fully ordered)
/// and returns it oldest first. Bounded so a corrupted (cyclic) list cannot hang the model.
pub fn llist_del_all_reversed(smp: &Smp, cpu: usize) -> Vec<usize> {
    let mut e = full_rmw(|| smp.call_single_queue[cpu].swap(0, Ordering::Relaxed));
    let mut v = Vec::new();
    while e != 0 && v.len() < smp.csd.len() {
        v.push(e - 1);
        e = smp.csd[e - 1].next.load(Ordering::Relaxed);
    }
    v.reverse();
    v
}

/// `csd_do_func(func, info, csd)` on `cpu`: func reads `info`, writes its result into it.
pub fn csd_do_func(smp: &Smp, cpu: usize, info: usize) {
    if info == 0 || info > smp.calls.len() {
        check(EXACTLY_ONCE, false, || {
            format!("CPU{cpu} ran a csd whose info ({info}) belongs to no call")
        });
        return;
    }
    let call = smp.call(info);
    ev!("csd_do_func", "CPU{cpu} runs func(info of call #{info})");
    let dead = call.returned.load(I);
    // func runs anyway: in the kernel it dereferences the dead frame.
    check(NO_LATE_INFO, !dead, || {
        format!(
            "CPU{cpu} runs func(info) of call #{info} after {} returned: info is a dead stack frame",
            call.caller
        )
    });
    let n = call.ran[cpu].fetch_add(1, I) + 1;
    check(EXACTLY_ONCE, n == 1 && call.runs & (1 << cpu) != 0, || {
        if n > 1 {
            format!("CPU{cpu} ran call #{info} {n} times")
        } else {
            format!(
                "CPU{cpu} ran call #{info} of {}, which only CPUs {} may run",
                call.caller,
                pbl(call.runs)
            )
        }
    });
    call.result[cpu].store(1, Ordering::Relaxed);
}

/// `__flush_smp_call_function_queue()` on `cpu` (IRQs disabled by the caller): take the inbox,
/// pass 1 runs SYNC csds then unlocks them, pass 2 unlocks ASYNC csds then runs them.
pub fn flush_smp_call_function_queue(smp: &Smp, cpu: usize) {
    let entries = llist_del_all_reversed(smp, cpu);
    if entries.is_empty() {
        return;
    }
    ev!(
        "__flush_smp_call_function_queue",
        "CPU{cpu} took {} csd(s) off call_single_queue",
        entries.len()
    );
    let mut rest = Vec::new();
    for &c in &entries {
        let csd = &smp.csd[c];
        if csd.u_flags.load(Ordering::Relaxed) & CSD_FLAG_TYPE_MASK == CSD_TYPE_SYNC {
            let info = csd.info.load(Ordering::Relaxed);
            csd_do_func(smp, cpu, info);
            csd_unlock(smp, c);
            if smp.design.info_after_unlock {
                // Ablation: a trace hook dereferences info after the waiter was released.
                ev!(
                    "trace_csd_function_exit",
                    "CPU{cpu} reads info of call #{info} after csd_unlock (ablation)"
                );
                if info > 0 && info <= smp.calls.len() {
                    let call = smp.call(info);
                    let dead = call.returned.load(I);
                    check(NO_LATE_INFO, !dead, || {
                        format!(
                            "CPU{cpu} reads info of call #{info} after csd_unlock, and {} has \
                             already returned: info is a dead stack frame",
                            call.caller
                        )
                    });
                }
            }
        } else {
            rest.push(c);
        }
    }
    for c in rest {
        let csd = &smp.csd[c];
        if csd.u_flags.load(Ordering::Relaxed) & CSD_FLAG_TYPE_MASK == CSD_TYPE_ASYNC {
            let info = csd.info.load(Ordering::Relaxed);
            csd_unlock(smp, c);
            csd_do_func(smp, cpu, info);
        }
    }
}

/// `send_call_function_single_ipi()` / `arch_send_call_function_single_ipi()`: raise the
/// target's IPI line and wake its handler.
pub fn send_call_function_single_ipi(smp: &Smp, cpu: usize) {
    let (line, cv) = &smp.ipi;
    line.lock().pending |= 1 << cpu;
    cv.notify_one();
    ev!("send_call_function_single_ipi", "IPI -> CPU{cpu}");
}

/// `generic_smp_call_function_single_interrupt()` of the target CPUs `cpus`, looped, in one
/// actor: it sleeps (`hlt`) until an IPI line is raised (or the scenario ends), then on the
/// lowest CPU with a pending IPI disables IRQs and flushes that CPU's queue. One actor for
/// several target CPUs serialises their handlers (only their order against the tasks
/// matters for the properties) and keeps the scenario within loom's thread budget.
pub fn ipi_handler(smp: &Smp, cpus: &[usize]) {
    let mine: u64 = cpus.iter().fold(0, |m, &c| m | 1 << c);
    loop {
        let (pending, quit) = {
            let (line, cv) = &smp.ipi;
            let mut l = line.lock();
            while l.pending & mine == 0 && !l.quit {
                l = cv.wait(l);
            }
            let p = l.pending & mine;
            let one = p & p.wrapping_neg();
            l.pending &= !one;
            (one, l.quit && p == 0)
        };
        if quit {
            // Everyone is done: a last flush of every CPU (smpcfd_dying_cpu()-style).
            for &cpu in cpus {
                flush_smp_call_function_queue(smp, cpu);
            }
            return;
        }
        let cpu = pending.trailing_zeros() as usize;
        let _irqs_off = smp.design.irqs_disabled_caller.then(|| smp.irq[cpu].lock());
        ev!(
            "generic_smp_call_function_single_interrupt",
            "CPU{cpu} takes the IPI"
        );
        flush_smp_call_function_queue(smp, cpu);
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

/// `smp_call_function_many_cond(mask, func, info, scf_flags, cond_func)` called by `task`.
/// `cond` is the set of CPUs cond_func(cpu, info) accepts (None = no cond_func).
pub fn smp_call_function_many_cond(
    task: &mut Task<'_>,
    mask: u64,
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
    mask: u64,
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
    if mask & smp.online & !(1 << this_cpu) != 0 {
        wmask.and(mask, smp.online);
        wmask.clear_cpu(this_cpu);
        ev!(
            "smp_call_function_many_cond",
            "{} on CPU{this_cpu}: {} := {} (call #{info})",
            task.name,
            wmask.name,
            pbl(mask & smp.online & !(1 << this_cpu))
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
            csd.info.store(info, Ordering::Relaxed);
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

    if scf_flags & SCF_RUN_LOCAL != 0 && mask & (1 << this_cpu) != 0 && cond_ok(this_cpu) {
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
        if task.preempt_count == 0 && task.migrate_on_wait {
            task.migrate(NR_CPU_IDS - 1);
        }
        let mut cpu = wmask.next(0);
        while cpu < NR_CPU_IDS {
            if !check(WAIT_MASK_MATCHES, tr.queued & (1 << cpu) != 0, || {
                format!(
                    "{} (call #{info}) waits on csd(CPU{this_cpu}->CPU{cpu}) which it never queued: \
                     {} now reads {} but the call queued to {}",
                    task.name,
                    wmask.name,
                    pbl(read_mask(wmask)),
                    pbl(tr.queued)
                )
            }) {
                return tr;
            }
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
