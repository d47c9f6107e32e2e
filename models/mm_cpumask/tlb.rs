//! The kernel side: `mm_cpumask(mm)` maintained by the context switch, lazy TLB,
//! `kthread_use_mm()` and the x86 TLB-flush trim, per architecture policy; plus the ghost state
//! (mask history, where the process runs) and the scheduler bookkeeping the scenes need.

use std::collections::BTreeMap;

use kmodel_harness::prelude::*;

use super::design::{Ablation, Policy, Why};
use super::format::{fmt_set, BitmapSrc};
use super::properties::{LINE_IS_A_SNAPSHOT, RUNNING_MEANS_SET};
use super::properties::{SUBSET_OF_CPUS_ALLOWED, TRACKS_MIGRATIONS, WARN_LAZY_CPU_SET};

/// Identities of `struct mm_struct`s (what `cpu_tlbstate.loaded_mm` points to).
pub const INIT_MM: usize = 0;
/// The process whose status file is read.
pub const MM: usize = 1;
/// Another process's mm (every CPU's "other process" task uses one).
pub const MM_Q: usize = 2;
/// `LOADED_MM_SWITCHING` (x86 since 6.x: published before the mask bit is set).
pub const LOADED_MM_SWITCHING: usize = usize::MAX;

pub fn mm_name(mm: usize) -> &'static str {
    match mm {
        INIT_MM => "&init_mm",
        MM => "mm (the process's)",
        MM_Q => "mm of another process",
        _ => "LOADED_MM_SWITCHING",
    }
}

/// `jiffies` at the start of a scene; it only moves when a thread sleeps a second.
pub const JIFFIES: u64 = 100_000;
pub const HZ: u64 = 1000;

/// Names of the process's threads (T1 is the thread-group leader whose status file is read).
pub const THREAD_NAMES: [&str; 3] = ["T1", "T2", "T3"];
const CPUS_MASK_NAMES: [&str; 3] = ["T1->cpus_mask", "T2->cpus_mask", "T3->cpus_mask"];

/// What a CPU's `rq->curr` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curr {
    /// Thread `Tn+1` of the process.
    Thread(usize),
    /// A task of another process (pinned to this CPU).
    Other,
    /// This CPU's kernel thread (pinned; idle, the stopper and a kthread_use_mm() user in one).
    Kthread,
}

/// Ghost state (not kernel state) plus the scheduler's bookkeeping (rq locks and `pi_lock`,
/// folded into one lock: which task each CPU runs, where each thread is queued, affinities).
pub struct Ghost {
    /// Every value `mm_cpumask(mm)` took, in modification order (`hist[0]` = initial).
    pub hist: Vec<u128>,
    /// CPUs whose `rq->curr` is a thread of the process.
    pub running: u128,
    /// CPUs that ran a thread of the process at some point.
    pub ran: u128,
    /// The first mask change that was not a thread arriving / the mm leaving a CPU. Reported
    /// once quiet, not when it happens: the harness keeps one violation per execution, and a
    /// report here would hide what the reader sees afterwards.
    pub unexplained_change: Option<String>,
    /// `rq->curr` per modelled CPU (index into `System::cpus`).
    pub curr: Vec<Curr>,
    /// `task_cpu(Tn)`: the modelled CPU whose runqueue holds thread n.
    pub task_cpu: Vec<usize>,
    /// Thread n has not exited.
    pub alive: Vec<bool>,
    /// `Tn->cpus_mask` as CPU numbers (the scheduler's view; the bitmap is what /proc prints).
    pub allowed: Vec<u128>,
    /// The CPU's kernel thread holds the mm (`kthread_use_mm()` without `kthread_unuse_mm()`).
    pub kthread_mm: Vec<bool>,
}

/// What holding CPU `id`'s `PerCpu::irq` stands for, as timelines name it
/// (`local_irq_disable() on CPU70`).
fn irqs_off_name(id: usize) -> &'static str {
    // One name per CPU number ever used (at most `nr_cpu_ids`), made once for the process.
    static NAMES: std::sync::Mutex<BTreeMap<usize, &'static str>> =
        std::sync::Mutex::new(BTreeMap::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    names
        .entry(id)
        .or_insert_with(|| format!("local_irq_disable() on CPU{id}").leak())
}

/// The per-CPU state the model needs.
pub struct PerCpu {
    pub id: usize,
    /// `local_irq_disable()` on this CPU: `switch_mm_irqs_off()` and IPI handlers exclude
    /// each other. An IPI handler is run by the sender while holding the target's lock
    /// (`smp_call_function_many(..., wait=1)` waits for it anyway). Not the kernel prelude's
    /// `local_irq_disable()`: that is the running actor's own ghost state and excludes nobody,
    /// while here the sender's actor disables the target CPU's interrupts.
    pub irq: Mutex<()>,
    /// `cpu_tlbstate.loaded_mm`.
    pub loaded_mm: AtomicUsize,
    /// `cpu_tlbstate_shared.is_lazy`.
    pub is_lazy: AtomicBool,
}

/// A thread of the process.
pub struct Thread {
    /// `Tn->cpus_mask` (T1's is printed as `Cpus_allowed`).
    pub cpus_mask: Bitmap,
    /// `Tn->on_cpu`.
    pub on_cpu: AtomicBool,
}

pub struct System {
    pub policy: Policy,
    pub ablation: Ablation,
    pub nr_cpu_ids: usize,
    /// `mm_cpumask(mm)`.
    pub cpumask: Bitmap,
    /// `mm->context.next_trim_cpumask`.
    pub next_trim_cpumask: AtomicU64,
    /// `jiffies`.
    pub jiffies: AtomicU64,
    pub threads: Vec<Thread>,
    pub cpus: Vec<PerCpu>,
    pub ghost: Mutex<Ghost>,
}

impl BitmapSrc for Bitmap {
    fn load_word(&self, word: usize) -> u64 {
        self.read_word(word)
    }
    fn find_next_bit(&self, size: usize, start: usize) -> usize {
        Bitmap::find_next_bit(self, size, start)
    }
    fn find_next_zero_bit(&self, size: usize, start: usize) -> usize {
        Bitmap::find_next_zero_bit(self, size, start)
    }
}

impl System {
    /// Boot: T1 runs on the first CPU with the mm loaded (its switch-in happened before the
    /// scene); every other CPU runs a task of another process; T2.. are runnable on the first
    /// CPU's queue; every thread may run on every modelled CPU.
    pub fn new(
        policy: Policy,
        ablation: Ablation,
        nr_cpu_ids: usize,
        ids: &[usize],
        threads: usize,
    ) -> System {
        let all: u128 = ids.iter().fold(0, |m, &c| m | 1 << c);
        let percpu = |(i, &id): (usize, &usize)| PerCpu {
            id,
            irq: Mutex::named(irqs_off_name(id), ()),
            loaded_mm: AtomicUsize::new(if i == 0 { MM } else { MM_Q }),
            is_lazy: AtomicBool::new(false),
        };
        let first = 1u128 << ids[0];
        let set_first = policy != Policy::Arm64NeverSet;
        let sys = System {
            policy,
            ablation,
            nr_cpu_ids,
            cpumask: Bitmap::new("mm_cpumask(mm)", nr_cpu_ids, LINE_IS_A_SNAPSHOT),
            // init_new_context(): the mm was created (or last trimmed) just now.
            next_trim_cpumask: AtomicU64::new(JIFFIES + HZ),
            jiffies: AtomicU64::new(JIFFIES),
            threads: (0..threads)
                .map(|t| Thread {
                    cpus_mask: Bitmap::new(CPUS_MASK_NAMES[t], nr_cpu_ids, SUBSET_OF_CPUS_ALLOWED),
                    on_cpu: AtomicBool::new(t == 0),
                })
                .collect(),
            cpus: ids.iter().enumerate().map(percpu).collect(),
            ghost: Mutex::named(
                "ghost history (instrumentation)",
                Ghost {
                    hist: vec![if set_first { first } else { 0 }],
                    running: first,
                    ran: first,
                    unexplained_change: None,
                    curr: (0..ids.len())
                        .map(|i| if i == 0 { Curr::Thread(0) } else { Curr::Other })
                        .collect(),
                    task_cpu: vec![0; threads],
                    alive: vec![true; threads],
                    allowed: vec![all; threads],
                    kthread_mm: vec![false; ids.len()],
                },
            ),
        };
        for t in &sys.threads {
            for &c in ids {
                t.cpus_mask.set_bit(c);
            }
        }
        if set_first {
            sys.cpumask.set_bit(ids[0]);
        }
        sys
    }

    pub fn cpu(&self, id: usize) -> Option<&PerCpu> {
        self.cpus.iter().find(|c| c.id == id)
    }

    pub fn hist_len(&self) -> usize {
        self.ghost.lock().hist.len()
    }

    /// `cpumask_set_cpu(cpu, mm_cpumask(mm))`, recorded in the ghost history.
    fn cpumask_set_cpu(&self, cpu: usize, why: Why) {
        let mut g = self.ghost.lock();
        self.cpumask.set_bit(cpu);
        let new = g.hist.last().copied().unwrap_or(0) | 1 << cpu;
        g.hist.push(new);
        ev!(
            "cpumask_set_cpu",
            "mm_cpumask(mm) |= CPU{cpu} -> {}",
            fmt_set(new)
        );
        check(TRACKS_MIGRATIONS, why == Why::Arrival, || {
            format!("CPU{cpu} joined mm_cpumask in a {why:?} step, not when a thread arrived")
        });
    }

    /// `cpumask_clear_cpu(cpu, mm_cpumask(mm))`, recorded in the ghost history.
    fn cpumask_clear_cpu(&self, cpu: usize, why: Why) {
        let mut g = self.ghost.lock();
        self.cpumask.clear_bit(cpu);
        let new = g.hist.last().copied().unwrap_or(0) & !(1 << cpu);
        g.hist.push(new);
        ev!(
            "cpumask_clear_cpu",
            "mm_cpumask(mm) &= ~CPU{cpu} -> {}",
            fmt_set(new)
        );
        if why != Why::Departure && g.unexplained_change.is_none() {
            g.unexplained_change = Some(format!(
                "CPU{cpu} left mm_cpumask in a {why:?} step (a TLB flush IPI), not when the \
                 process left it: it had left CPU{cpu} earlier and ran on {} then",
                fmt_set(g.running)
            ));
        }
    }
}

/// `switch_mm_irqs_off(prev, next, tsk)` (x86) / `switch_mm()` (arm64, sparc64), called from
/// `context_switch()` or `kthread_use_mm()` with irqs off. Only `mm`'s mask is modelled.
/// `why` says what brings `next` here (a thread arriving, a kernel thread adopting it).
pub fn switch_mm_irqs_off(sys: &System, cpu: &PerCpu, next: usize, why: Why) {
    let _irqs_off = cpu.irq.lock();
    switch_mm_locked(sys, cpu, next, why);
}

/// The body of `switch_mm_irqs_off()`, irqs already off on `cpu`.
fn switch_mm_locked(sys: &System, cpu: &PerCpu, next: usize, why: Why) {
    let c = cpu.id;
    let real_prev = read_once(&cpu.loaded_mm);
    ev!(
        "switch_mm_irqs_off",
        "CPU{c}: {} -> {}",
        mm_name(real_prev),
        mm_name(next)
    );
    match sys.policy {
        Policy::X86Lazy | Policy::X86Eager => {
            // was_lazy: leave lazy mode before anything else.
            write_once(&cpu.is_lazy, false);
            if real_prev == next {
                // "Even in lazy TLB mode, the CPU should stay set in the mm_cpumask."
                if next == MM {
                    let set = sys.cpumask.test_bit(c);
                    if !check(WARN_LAZY_CPU_SET, set, || {
                        format!(
                            "switch_mm_irqs_off(): CPU{c} returns to the mm it still has loaded \
                             but its bit is clear: WARN_ON_ONCE(prev != &init_mm && \
                             !cpumask_test_cpu(cpu, mm_cpumask(next)))"
                        )
                    }) {
                        sys.cpumask_set_cpu(c, why);
                    }
                }
                // Not actually switching mm's (tlb_gen is not modelled).
                return;
            }
            if sys.policy == Policy::X86Lazy {
                // this_cpu_write(cpu_tlbstate.loaded_mm, LOADED_MM_SWITCHING): a plain per-CPU
                // store, read remotely by should_flush_tlb(); the prev mm's bit is left set:
                // it is trimmed lazily. x86-TSO keeps it after the is_lazy store above (the
                // order should_flush_tlb()'s smp_rmb() pairs with); LKMM needs smp_wmb().
                smp_wmb();
                write_once(&cpu.loaded_mm, LOADED_MM_SWITCHING);
                // "Rely on the smp_mb() implied by cpumask_set_cpu()'s atomic operation, or
                // explicitly provide one" (x86's LOCK BTS is a full barrier; in LKMM terms the
                // set_bit() is unordered, so the model adds the smp_mb() in both branches).
                if next == MM && !sys.cpumask.test_bit(c) {
                    sys.cpumask_set_cpu(c, why);
                }
                smp_mb();
            } else {
                if real_prev == MM {
                    // "Stop remote flushes for the previous mm"
                    sys.cpumask_clear_cpu(c, Why::Departure);
                }
                // "Start remote flushes and then read tlb_gen."
                if next == MM && !sys.cpumask.test_bit(c) {
                    sys.cpumask_set_cpu(c, why);
                }
            }
            // this_cpu_write(cpu_tlbstate.loaded_mm, next)
            write_once(&cpu.loaded_mm, next);
        }
        Policy::Arm64NeverSet => {
            // check_and_switch_context(): ASID allocation, no mm_cpumask update.
            write_once(&cpu.loaded_mm, next);
        }
        Policy::Sparc64NeverClear => {
            if next == MM && !sys.cpumask.test_bit(c) {
                sys.cpumask_set_cpu(c, why);
            }
            write_once(&cpu.loaded_mm, next);
        }
    }
}

/// `enter_lazy_tlb()`: switching to a kernel thread keeps the old mm loaded (x86: `is_lazy`).
pub fn enter_lazy_tlb(sys: &System, cpu: &PerCpu) {
    let _irqs_off = cpu.irq.lock();
    let loaded = read_once(&cpu.loaded_mm);
    if matches!(sys.policy, Policy::X86Lazy | Policy::X86Eager) && loaded != INIT_MM {
        write_once(&cpu.is_lazy, true);
    }
    ev!(
        "enter_lazy_tlb",
        "CPU{}: kernel thread borrows {}, bit stays",
        cpu.id,
        mm_name(loaded)
    );
}

/// `should_trim_cpumask()` (x86 lazy): at most once per `HZ` per mm.
fn should_trim_cpumask(sys: &System) -> bool {
    let jiffies = read_once(&sys.jiffies);
    let next = read_once(&sys.next_trim_cpumask);
    // time_after(jiffies, next)
    if (next.wrapping_sub(jiffies) as i64) < 0 {
        write_once(&sys.next_trim_cpumask, jiffies + HZ);
        return true;
    }
    false
}

/// `should_flush_tlb()` (x86 lazy) / `tlb_is_not_lazy()` (x86 eager): the IPI condition.
fn should_flush_tlb(sys: &System, cpu: &PerCpu, trim_cpumask: bool) -> bool {
    let loaded_mm = read_once(&cpu.loaded_mm);
    // "Order the 'loaded_mm' and 'is_lazy' against their write ordering in
    // switch_mm_irqs_off(). Ensure 'is_lazy' is at least as new as 'loaded_mm'."
    smp_rmb();
    // Lazy TLB will get flushed at the next context switch.
    if read_once(&cpu.is_lazy) {
        // Ablation: trim lazy CPUs as well.
        return sys.ablation == Ablation::TrimLazyCpus && trim_cpumask;
    }
    if sys.policy == Policy::X86Eager {
        return true;
    }
    // While switching, the remote CPU could have state from either the prev or next mm.
    if loaded_mm == LOADED_MM_SWITCHING {
        return true;
    }
    // The target mm is loaded, and the CPU is not lazy.
    if loaded_mm == MM {
        return true;
    }
    // In cpumask, but not the loaded mm? Periodically remove by flushing.
    trim_cpumask
}

/// `flush_tlb_func()` run on `cpu` (IPI handler, irqs off there).
fn flush_tlb_func(sys: &System, cpu: &PerCpu, trim_cpumask: bool) {
    let _irqs_off = cpu.irq.lock();
    let loaded_mm = read_once(&cpu.loaded_mm);
    let lazy = read_once(&cpu.is_lazy);
    let trim_lazy = sys.ablation == Ablation::TrimLazyCpus && trim_cpumask && lazy;
    if loaded_mm != MM || trim_lazy {
        if sys.policy == Policy::X86Lazy {
            // The CPU was left in the mm_cpumask of the target mm. Clear it.
            ev!(
                "flush_tlb_func",
                "CPU{}: {} loaded{}: TLB_REMOTE_WRONG_CPU",
                cpu.id,
                mm_name(loaded_mm),
                if trim_lazy {
                    " lazily (ablation)"
                } else {
                    ", not mm"
                }
            );
            sys.cpumask_clear_cpu(cpu.id, Why::Trim);
        } else {
            ev!(
                "flush_tlb_func_remote",
                "CPU{}: f->mm not loaded, return",
                cpu.id
            );
        }
        return;
    }
    if lazy {
        // "We're in lazy mode ... just switch to init_mm."
        ev!("flush_tlb_func", "CPU{}: lazy: switch to init_mm", cpu.id);
        switch_mm_locked(sys, cpu, INIT_MM, Why::Departure);
        return;
    }
    ev!("flush_tlb_func", "CPU{}: flush mm's TLB entries", cpu.id);
}

/// `flush_tlb_mm_range()` by a thread on `me` after `munmap()` (no page tables freed).
pub fn flush_tlb_mm_range(sys: &System, me: &PerCpu) {
    let n = sys.nr_cpu_ids;
    match sys.policy {
        Policy::Arm64NeverSet => {
            ev!(
                "flush_tlb_mm",
                "TLBI ASIDE1IS: broadcast, mm_cpumask not used"
            );
        }
        Policy::Sparc64NeverClear => {
            ev!(
                "smp_flush_tlb_mm",
                "cross-call every CPU in mm_cpumask; no clearing"
            );
        }
        Policy::X86Lazy | Policy::X86Eager => {
            // cpumask_any_but(mm_cpumask(mm), cpu) < nr_cpu_ids
            let mut other = sys.cpumask.find_next_bit(n, 0);
            if other == me.id {
                other = sys.cpumask.find_next_bit(n, me.id + 1);
            }
            if other >= n {
                ev!(
                    "flush_tlb_mm_range",
                    "no other CPU in mm_cpumask: local flush only"
                );
                return;
            }
            let trim = sys.policy == Policy::X86Lazy && should_trim_cpumask(sys);
            ev!(
                "flush_tlb_mm_range",
                "flush_tlb_multi(mm_cpumask(mm)), info->trim_cpumask = {trim}"
            );
            // on_each_cpu_cond_mask(should_flush_tlb, flush_tlb_func, info, 1, mm_cpumask(mm))
            let mut cpu = sys.cpumask.find_next_bit(n, 0);
            while cpu < n {
                if cpu == me.id {
                    ev!("flush_tlb_func", "CPU{cpu}: local flush");
                } else if let Some(target) = sys.cpu(cpu) {
                    if should_flush_tlb(sys, target, trim) {
                        ev!("smp_call_function_many_cond", "IPI CPU{cpu}");
                        flush_tlb_func(sys, target, trim);
                    } else {
                        ev!("should_flush_tlb", "CPU{cpu}: no IPI, bit stays");
                    }
                }
                cpu = sys.cpumask.find_next_bit(n, cpu + 1);
            }
        }
    }
}

/// The ideal observer: at one instant (under the ghost lock) compare the mask with where the
/// process runs. If this fails, no reading of the file can support the claim at that moment.
pub fn check_now(sys: &System, when: &str) {
    let g = sys.ghost.lock();
    let mask = g.hist.last().copied().unwrap_or(0);
    let running = g.running;
    drop(g);
    ev!(
        "ghost",
        "{when}: mask {} running {}",
        fmt_set(mask),
        fmt_set(running)
    );
    // running-means-set first: a stale bit (set-means-running) must not hide a missing one.
    if !check(RUNNING_MEANS_SET, running & !mask == 0, || {
        format!(
            "{when}: the process runs on {} but mm_cpumask is {}",
            fmt_set(running),
            fmt_set(mask)
        )
    }) {
        return;
    }
    check(
        super::properties::SET_MEANS_RUNNING,
        mask & !running == 0,
        || {
            format!(
                "{when}: mm_cpumask {} but the process runs only on {}",
                fmt_set(mask),
                fmt_set(running)
            )
        },
    );
}
