//! Port of kernel/smp.c: csd locking, the per-CPU call queues, the target-side flush and
//! smp_call_function_many_cond() before and after the task-local IPI mask series.
//!
//! Execution contexts are actors: a *task* (it may be preempted and migrate whenever its
//! preempt count is zero) and a target CPU's *IPI handler*. "Preemption disabled on CPU c" is
//! holding `Smp::pin[c]` (nobody else runs a task on c meanwhile); "IRQs disabled on CPU c" is
//! holding `Smp::irq[c]` (c's IPI handler cannot run meanwhile); an IPI is a flag plus a wake-up
//! of the handler (`hlt` until the interrupt arrives). The preempt count and IRQ state
//! themselves are the kernel prelude's (`preempt_disable()`, `local_irq_save()`,
//! `lockdep_assert_irqs_enabled()`), which exclude nobody: `pin` and `irq` add the exclusion.

use kmodel_harness::prelude::*;

use super::cpumask::CpumaskConfig;
use super::design::Design;
use super::properties::{CSD_EXCLUSIVE, CSD_UNLOCK_LOCKED, WAIT_BOUNDED};
use kmodel_harness::{fatal_violation, NO_DEADLOCK};

/// The most CPUs a scene has (`nr_cpu_ids` <= 4): the size of every per-CPU array. A scene's
/// CPUs are `0..nr_cpu_ids`; `cpu_online_mask` (`Smp::online`) says which of them are online.
pub const NR_CPU_IDS: usize = 4;

// include/linux/smp_types.h
pub const CSD_FLAG_LOCK: u32 = 0x01;
pub const CSD_TYPE_ASYNC: u32 = 0x00;
pub const CSD_TYPE_SYNC: u32 = 0x10;
pub const CSD_FLAG_TYPE_MASK: u32 = 0xF0;

// kernel/smp.c
pub const SCF_WAIT: u32 = 1 << 0;
pub const SCF_RUN_LOCAL: u32 = 1 << 1;

/// Instrumentation-only state uses the harness's ghost atomics: the engines do not schedule
/// around it, so it adds no interleavings and no ordering; it reads as the execution's SC history
/// (the dpor engine records which steps touch it).
pub use kmodel_harness::sync::{
    GhostBool as IBool, GhostU32 as IU32, GhostU64 as IU64, GhostUsize as IUsize,
};
pub const I: Ordering = Ordering::SeqCst;

/// `call_single_data_t`: `node.llist`, `node.u_flags`, `func`, `info`. All calls in the model
/// use the same `func`, so only `info` is stored (the call's id). `owner` is instrumentation.
pub struct Csd {
    /// Plain (`|=` in `csd_lock()`, `CSD_TYPE()`, the `WARN_ON()`) and marked
    /// (`smp_store_release()`, `smp_cond_load_acquire()`) accesses.
    pub u_flags: Plain<u32>,
    /// `node.llist.next`: index + 1 of the next csd, 0 = NULL.
    pub next: AtomicUsize,
    /// `csd->info = info` / `info = csd->info`: plain.
    pub info: Plain<usize>,
    /// Instrumentation: the call that holds CSD_FLAG_LOCK (0 = none).
    pub owner: IUsize,
    /// The "event" a waiter in smp_cond_load_acquire() sleeps on until the line is written
    /// (arm64 `__cmpwait_relaxed()` / WFE); see [`csd_lock_wait`]. A CPU's exclusive monitor,
    /// not a task's sleep: the prelude's wait queues do not serve.
    pub wfe: (Mutex<()>, Condvar),
}

/// A `struct cpumask` of `cpumask_size()` bytes: `unsigned long` words. The model's CPUs live
/// in word 0; `for_each_cpu()` scans up to `nr_cpu_ids` (= 4), i.e. word 0 only.
pub struct Cpumask {
    pub name: &'static str,
    /// Written and read with the non-atomic bitmap operations: plain accesses.
    pub words: Vec<Plain<u64>>,
}

impl Cpumask {
    pub fn new(name: &'static str, cfg: &CpumaskConfig) -> Self {
        Cpumask {
            name,
            words: (0..cfg.cpumask_size() / 8)
                .map(|_| Plain::new(name, 0))
                .collect(),
        }
    }

    /// `cpumask_and(dst, mask, cpu_online_mask)`: `bitmap_and()` stores every word.
    pub fn and(&self, mask: u64, online: u64) {
        for (i, w) in self.words.iter().enumerate() {
            plain_write(w, if i == 0 { mask & online } else { 0 });
        }
    }

    /// `cpumask_clear()`.
    pub fn clear(&self) {
        for w in &self.words {
            plain_write(w, 0);
        }
    }

    /// `__cpumask_clear_cpu()`: the non-atomic `__clear_bit()` (plain load + store).
    pub fn clear_cpu(&self, cpu: usize) {
        plain_update(&self.words[0], |v| v & !(1 << cpu));
    }

    /// `__cpumask_set_cpu()`: the non-atomic `__set_bit()`.
    pub fn set_cpu(&self, cpu: usize) {
        plain_update(&self.words[0], |v| v | 1 << cpu);
    }

    /// `cpumask_next(start - 1, mask)` as `for_each_cpu()` uses it: first set bit `>= start`,
    /// `nr_cpu_ids` when none (`_find_next_bit()`: one plain load of the word per step).
    pub fn next(&self, start: usize) -> usize {
        if start >= NR_CPU_IDS {
            return NR_CPU_IDS;
        }
        let v = plain_read(&self.words[0]) & (u64::MAX << start) & ((1 << NR_CPU_IDS) - 1);
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
    pub caller: String,
    /// SCF_WAIT: `info` lives on the caller's stack until it returns.
    pub wait: bool,
    /// Set by the caller on entry, once it knows `this_cpu` (see `call::expect_runs`):
    /// T(call), CPUs != this_cpu in every value the mask takes ∧ online ∧ cond.
    pub targets: IU64,
    /// CPUs that must run func: T(call) plus this_cpu for SCF_RUN_LOCAL.
    pub runs: IU64,
    /// CPUs that may run func: as `runs`, over any value the mask takes.
    pub may_run: IU64,
    /// How many times each CPU ran func(info).
    pub ran: Vec<IU32>,
    /// What func(info) writes into `info` (a plain store, read by the caller after return).
    pub result: Vec<Plain<u32>>,
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

/// What holding `Smp::irq[c]` stands for, as timelines name it.
const IRQS_OFF: [&str; NR_CPU_IDS] = [
    "local_irq_save() on CPU0",
    "local_irq_save() on CPU1",
    "local_irq_save() on CPU2",
    "local_irq_save() on CPU3",
];

/// What holding `Smp::pin[c]` stands for, as timelines name it.
const PREEMPT_OFF: [&str; NR_CPU_IDS] = [
    "preempt_disable() on CPU0",
    "preempt_disable() on CPU1",
    "preempt_disable() on CPU2",
    "preempt_disable() on CPU3",
];

/// All shared state of one execution.
pub struct Smp {
    pub design: Design,
    pub cfg: CpumaskConfig,
    /// `cpu_online_mask` (a CPU being brought up is not in it yet).
    pub online: u64,
    /// `mm_cpumask(mm)` of the scene's mm: callers may pass it as their mask while CPUs set
    /// and clear their bits (`switch_mm()`: atomic `cpumask_set_cpu()` / `cpumask_clear_cpu()`).
    /// Set and cleared with atomic bitops, read plainly by `bitmap_and()` / `find_next_bit()`.
    pub mm_cpumask: Plain<u64>,
    /// `DEFINE_PER_CPU(struct call_function_data, cfd_data)`.
    pub cfd: Vec<Cfd>,
    /// `cfd->csd`, a per-CPU array per sender: `csd[sender * NR_CPU_IDS + target]`.
    pub csd: Vec<Csd>,
    /// `DEFINE_PER_CPU(struct llist_head, call_single_queue)`: index + 1 of the first csd.
    pub call_single_queue: Vec<AtomicUsize>,
    /// The IPI lines (`arch_send_call_function_single_ipi()` raises one) and the wake-up of
    /// the handler actor: an interrupt, not a kernel wait queue (the prelude's do not serve).
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
    /// `calls`: (caller name, SCF_WAIT) in call-id order.
    pub fn new(
        design: Design,
        cfg: CpumaskConfig,
        online: u64,
        mm_cpumask: u64,
        calls: Vec<(String, bool)>,
    ) -> Self {
        Smp {
            design,
            cfg,
            online,
            mm_cpumask: Plain::new("mm_cpumask(mm)", mm_cpumask),
            cfd: (0..NR_CPU_IDS)
                .map(|_| Cfd {
                    cpumask: Cpumask::new("cfd->cpumask", &cfg),
                    cpumask_ipi: Cpumask::new("cfd->cpumask_ipi", &cfg),
                })
                .collect(),
            csd: (0..NR_CPU_IDS * NR_CPU_IDS)
                .map(|_| Csd {
                    u_flags: Plain::new("csd->node.u_flags", 0),
                    next: AtomicUsize::new(0),
                    info: Plain::new("csd->info", 0),
                    owner: IUsize::new(0),
                    wfe: (
                        Mutex::named("WFE monitor of csd->node.u_flags", ()),
                        Condvar::new(),
                    ),
                })
                .collect(),
            call_single_queue: (0..NR_CPU_IDS).map(|_| AtomicUsize::new(0)).collect(),
            ipi: (
                Mutex::named("IPI lines", IpiLine::default()),
                Condvar::new(),
            ),
            irq: IRQS_OFF.iter().map(|&n| Mutex::named(n, ())).collect(),
            pin: PREEMPT_OFF.iter().map(|&n| Mutex::named(n, ())).collect(),
            irqs_off_waiting: (0..NR_CPU_IDS).map(|_| IUsize::new(0)).collect(),
            calls: calls
                .into_iter()
                .enumerate()
                .map(|(i, (caller, wait))| CallInfo {
                    id: i + 1,
                    caller,
                    wait,
                    targets: IU64::new(0),
                    runs: IU64::new(0),
                    may_run: IU64::new(0),
                    ran: (0..NR_CPU_IDS).map(|_| IU32::new(0)).collect(),
                    result: (0..NR_CPU_IDS)
                        .map(|_| Plain::new("info (func's result)", 0))
                        .collect(),
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

/// `csd_lock_wait()` = `smp_cond_load_acquire(&csd->node.u_flags, !(VAL & CSD_FLAG_LOCK))`:
/// `smp_load_acquire()` of `u_flags` until the lock bit is clear (arm64's shape of
/// `smp_cond_load_acquire()`: every poll is an acquire load; LKMM orders only the final one,
/// the generic `smp_cond_load_relaxed()` + `smp_acquire__after_ctrl_dep()` gives the same
/// outcomes for the value that ends the loop). Between loads the waiter sleeps
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
        let v = smp_load_acquire(&csd.u_flags);
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
        if smp_load_acquire(&csd.u_flags) & CSD_FLAG_LOCK == 0 {
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
    // `csd->node.u_flags |= CSD_FLAG_LOCK` and the caller's `|= CSD_TYPE_SYNC` folded into
    // one plain read-modify-write: nobody can observe the locked, not yet queued csd in
    // between.
    plain_update(&csd.u_flags, |v| v | CSD_FLAG_LOCK | csd_type);
    smp_wmb();
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

/// `csd_unlock()`: `smp_store_release(&csd->node.u_flags, 0)` (ablation: `WRITE_ONCE()`).
pub fn csd_unlock(smp: &Smp, csd_idx: usize) {
    let csd = &smp.csd[csd_idx];
    // WARN_ON(!(csd->node.u_flags & CSD_FLAG_LOCK)): the kernel's own (plain) read of the
    // flags (ported, not a ghost check: the unlocking CPU really loads the line here).
    let v = plain_read(&csd.u_flags);
    check(CSD_UNLOCK_LOCKED, v & CSD_FLAG_LOCK != 0, || {
        format!(
            "csd_unlock() of csd(CPU{}->CPU{}) whose CSD_FLAG_LOCK is clear: \
             WARN_ON(!(csd->node.u_flags & CSD_FLAG_LOCK))",
            csd_idx / NR_CPU_IDS,
            csd_idx % NR_CPU_IDS
        )
    });
    csd.owner.store(0, I);
    if smp.design.unlock_relaxed {
        write_once(&csd.u_flags, 0);
    } else {
        smp_store_release(&csd.u_flags, 0);
    }
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
/// (!try_cmpxchg(&head->first, &first, new));` — the successful `try_cmpxchg()` is fully
/// ordered, a failed one an unordered read (lkmm [`cmpxchg`]); returns true if the list was
/// empty (the caller must send the IPI).
pub fn llist_add(smp: &Smp, csd_idx: usize, cpu: usize) -> bool {
    let head = &smp.call_single_queue[cpu];
    let mut first = read_once(head);
    loop {
        smp.csd[csd_idx].next.store(first, Ordering::Relaxed);
        let seen = cmpxchg(Kord::Full, head, first, csd_idx + 1);
        if seen == first {
            return first == 0;
        }
        first = seen;
    }
}

/// `llist_del_all()` + `llist_reverse_order()`: takes the whole inbox (`xchg()`, fully
/// ordered) and returns it oldest first. Bounded so a corrupted (cyclic) list cannot hang the
/// model.
pub fn llist_del_all_reversed(smp: &Smp, cpu: usize) -> Vec<usize> {
    let mut e = xchg(Kord::Full, &smp.call_single_queue[cpu], 0);
    let mut v = Vec::new();
    while e != 0 && v.len() < smp.csd.len() {
        v.push(e - 1);
        e = smp.csd[e - 1].next.load(Ordering::Relaxed);
    }
    v.reverse();
    v
}
