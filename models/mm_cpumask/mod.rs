//! `Cpus_active_mm` / `Cpus_active_mm_list` in `/proc/[pid]/status` (Aaron Tomlin, "fs/proc:
//! Expose mm_cpumask in /proc/[pid]/status", v1–v3, Dec 2025 – Jan 2026): what can userspace
//! conclude from two lines printed from `mm_cpumask(mm)` without lock or snapshot, while CPUs
//! switch the mm in and out and TLB flushes trim it, under each architecture's mask policy?
//!
//! Scenario (one execution, 3 actors):
//! * `CPU<from>`: thread T1 of the process runs here with the mm loaded. `sched_setaffinity()`
//!   narrows T1 to `{to}`; the CPU switches to a task of another process Q (or, with
//!   `lazy_tlb=1`, to a kernel thread that keeps the mm loaded lazily) and releases T1
//!   (`finish_task()`: `on_cpu = 0`).
//! * `CPU<to>`: waits for `T1->on_cpu == 0` (as `try_to_wake_up()` / `move_queued_task()` do),
//!   switches from a task of process R to T1, then T1 calls `munmap()` → `flush_tlb_mm_range()`.
//! * the reader: `cat /proc/<T1>/status`, printing `Cpus_allowed`, `Cpus_active_mm` (`%*pb`) and
//!   `Cpus_active_mm_list` (`%*pbl`) as the patch does, or from one `cpumask_copy()` snapshot.
//!
//! Ghost state (not kernel state, one mutex so every modification is one instant): the history
//! of every value `mm_cpumask(mm)` took, and which CPUs run (`rq->curr`) a thread of the process.
//! Every mask modification happens under the ghost lock, so the history order is the
//! modification order; the reader's loads are outside it, so they race for real.

pub mod format;

use format::{
    bitmap_list_string, bitmap_string, fmt_set, parse_hex, parse_list, set_to_u128, BitmapSrc,
};
use kmodel_harness::prelude::*;

const PRINTED_BIT_FRESH: &str = "printed-bit-fresh";
const LINE_IS_A_SNAPSHOT: &str = "line-is-a-snapshot";
const LINES_AGREE: &str = "lines-agree";
const SET_MEANS_RUNNING: &str = "set-means-running";
const RUNNING_MEANS_SET: &str = "running-means-set";
const SUBSET_OF_CPUS_ALLOWED: &str = "subset-of-cpus-allowed";
const TRACKS_MIGRATIONS: &str = "tracks-migrations";

/// Identities of `struct mm_struct`s (what `cpu_tlbstate.loaded_mm` points to).
const INIT_MM: usize = 0;
/// The process whose status file is read.
const MM: usize = 1;
/// The process CPU<from> switches to.
const MM_Q: usize = 2;
/// The process CPU<to> ran before T1 arrived.
const MM_R: usize = 3;
/// `LOADED_MM_SWITCHING` (x86 since 6.x: published before the mask bit is set).
const LOADED_MM_SWITCHING: usize = usize::MAX;

fn mm_name(mm: usize) -> &'static str {
    match mm {
        INIT_MM => "&init_mm",
        MM => "mm (T1's process)",
        MM_Q => "mm of Q",
        MM_R => "mm of R",
        _ => "LOADED_MM_SWITCHING",
    }
}

/// `jiffies` during the scenario (constant: the scenario lasts far less than a tick).
const JIFFIES: u64 = 100_000;
const HZ: u64 = 1000;

/// How the architecture maintains `mm_cpumask()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    /// x86 since 209954cbc7d0 (v6.13): set on switch-in, never cleared on switch-out; cleared by
    /// `flush_tlb_func()` on a CPU that no longer runs the mm, which non-running CPUs only get
    /// from the once-a-second trim (6db2526c1d69, `should_trim_cpumask()`).
    X86Lazy,
    /// x86 v4.14 – v6.12: `switch_mm_irqs_off()` clears the previous mm's bit and sets the next.
    X86Eager,
    /// arm64: ASIDs + broadcast TLBI; context switch never touches `mm_cpumask()`.
    Arm64NeverSet,
    /// sparc64 since 2020 ("remove mm_cpumask clearing to fix kthread_use_mm race"): set on
    /// switch-in, never cleared.
    Sparc64NeverClear,
}

/// How `/proc/<pid>/status` reads the mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reader {
    /// As posted (v3): `%*pb` then `%*pbl` straight on `mm_cpumask(mm)`.
    AsPosted,
    /// `cpumask_copy()` once, then both lines from the copy.
    Snapshot,
}

/// What a variant runs: the architecture's mask policy and the reader's form.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    policy: Policy,
    reader: Reader,
}

/// Why a mask bit changes (for the `tracks-migrations` claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why {
    /// A thread of the process is being switched in on this CPU.
    Arrival,
    /// The mm is being switched out on this CPU.
    Departure,
    /// `flush_tlb_func()` on a CPU that no longer runs the mm (x86 lazy trim).
    Trim,
}

/// Ghost state: not kernel state. See the module docs.
struct Ghost {
    /// Every value `mm_cpumask(mm)` took, in modification order (`hist[0]` = initial).
    hist: Vec<u128>,
    /// CPUs whose `rq->curr` is a thread of the process.
    running: u128,
    /// CPUs that ran a thread of the process at some point.
    ran: u128,
    /// The first mask change that was not a thread arriving / the mm leaving a CPU. Reported
    /// once quiet, not when it happens: the harness keeps one violation per execution, and a
    /// report here would hide what the reader sees afterwards.
    unexplained_change: Option<String>,
}

/// The per-CPU state the model needs.
struct PerCpu {
    id: usize,
    /// `local_irq_disable()` on this CPU: `switch_mm_irqs_off()` and IPI handlers exclude
    /// each other. An IPI handler is run by the sender while holding the target's lock
    /// (`smp_call_function_many(..., wait=1)` waits for it anyway).
    irq: Mutex<()>,
    /// `cpu_tlbstate.loaded_mm`.
    loaded_mm: AtomicUsize,
    /// `cpu_tlbstate_shared.is_lazy`.
    is_lazy: AtomicBool,
}

struct System {
    policy: Policy,
    nr_cpu_ids: usize,
    /// `mm_cpumask(mm)`.
    cpumask: Bitmap,
    /// `mm->context.next_trim_cpumask`.
    next_trim_cpumask: AtomicU64,
    /// `T1->cpus_mask`.
    cpus_mask: Bitmap,
    /// `T1->on_cpu`.
    on_cpu: AtomicBool,
    cpus: [PerCpu; 2],
    ghost: Mutex<Ghost>,
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
    fn cpu(&self, id: usize) -> Option<&PerCpu> {
        self.cpus.iter().find(|c| c.id == id)
    }

    fn hist_len(&self) -> usize {
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

    /// `rq->curr = next` in `__schedule()` (ghost: does a thread of the process run here now).
    fn rq_set_curr(&self, cpu: usize, runs_process: bool) {
        let mut g = self.ghost.lock();
        if runs_process {
            g.running |= 1 << cpu;
            g.ran |= 1 << cpu;
        } else {
            g.running &= !(1 << cpu);
        }
        ev!(
            "__schedule",
            "rq->curr = {} on CPU{cpu}",
            if runs_process { "T1" } else { "other" }
        );
    }
}

/// `switch_mm_irqs_off(prev, next, tsk)` (x86) / `switch_mm()` (arm64, sparc64), called from
/// `context_switch()` with irqs off. Only `mm`'s mask is modelled; other mms' masks are not.
fn switch_mm_irqs_off(sys: &System, cpu: &PerCpu, next: usize) {
    let _irqs_off = cpu.irq.lock();
    let c = cpu.id;
    let real_prev = cpu.loaded_mm.load(Ordering::Relaxed);
    ev!(
        "switch_mm_irqs_off",
        "CPU{c}: {} -> {}",
        mm_name(real_prev),
        mm_name(next)
    );
    match sys.policy {
        Policy::X86Lazy => {
            cpu.is_lazy.store(false, Ordering::Relaxed);
            // Publish "switching" before joining the mask (the flusher reads loaded_mm in
            // should_flush_tlb()); the prev mm's bit is left set: it is trimmed lazily.
            cpu.loaded_mm.store(LOADED_MM_SWITCHING, Ordering::Release);
            if next == MM && !sys.cpumask.test_bit(c) {
                sys.cpumask_set_cpu(c, Why::Arrival);
            }
            cpu.loaded_mm.store(next, Ordering::Relaxed);
        }
        Policy::X86Eager => {
            cpu.is_lazy.store(false, Ordering::Relaxed);
            // "Stop remote flushes for the previous mm"
            if real_prev == MM {
                sys.cpumask_clear_cpu(c, Why::Departure);
            }
            // "Start remote flushes and then read tlb_gen."
            if next == MM {
                sys.cpumask_set_cpu(c, Why::Arrival);
            }
            cpu.loaded_mm.store(next, Ordering::Relaxed);
        }
        Policy::Arm64NeverSet => {
            // check_and_switch_context(): ASID allocation, no mm_cpumask update.
            cpu.loaded_mm.store(next, Ordering::Relaxed);
        }
        Policy::Sparc64NeverClear => {
            if next == MM && !sys.cpumask.test_bit(c) {
                sys.cpumask_set_cpu(c, Why::Arrival);
            }
            cpu.loaded_mm.store(next, Ordering::Relaxed);
        }
    }
}

/// `enter_lazy_tlb()`: switching to a kernel thread keeps the old mm loaded (x86: `is_lazy`).
fn enter_lazy_tlb(sys: &System, cpu: &PerCpu) {
    let _irqs_off = cpu.irq.lock();
    if matches!(sys.policy, Policy::X86Lazy | Policy::X86Eager) {
        cpu.is_lazy.store(true, Ordering::Relaxed);
    }
    ev!(
        "enter_lazy_tlb",
        "CPU{}: kernel thread borrows {}, bit stays",
        cpu.id,
        mm_name(cpu.loaded_mm.load(Ordering::Relaxed))
    );
}

/// `should_trim_cpumask()` (x86 lazy): at most once per `HZ` per mm.
fn should_trim_cpumask(sys: &System) -> bool {
    let next = sys.next_trim_cpumask.load(Ordering::Relaxed);
    // time_after(jiffies, next)
    if (next.wrapping_sub(JIFFIES) as i64) < 0 {
        sys.next_trim_cpumask.store(JIFFIES + HZ, Ordering::Relaxed);
        return true;
    }
    false
}

/// `should_flush_tlb()` (x86 lazy) / `tlb_is_not_lazy()` (x86 eager): the IPI condition.
fn should_flush_tlb(sys: &System, cpu: &PerCpu, trim_cpumask: bool) -> bool {
    // Lazy TLB will get flushed at the next context switch.
    if cpu.is_lazy.load(Ordering::Relaxed) {
        return false;
    }
    if sys.policy == Policy::X86Eager {
        return true;
    }
    // The target mm is loaded, and the CPU is not lazy.
    if cpu.loaded_mm.load(Ordering::Relaxed) == MM {
        return true;
    }
    // In cpumask, but not the loaded mm? Periodically remove by flushing.
    trim_cpumask
}

/// `flush_tlb_func()` run on `cpu` (IPI handler, irqs off there).
fn flush_tlb_func(sys: &System, cpu: &PerCpu) {
    let _irqs_off = cpu.irq.lock();
    let loaded_mm = cpu.loaded_mm.load(Ordering::Relaxed);
    if loaded_mm != MM {
        if sys.policy == Policy::X86Lazy {
            // The CPU was left in the mm_cpumask of the target mm. Clear it.
            ev!(
                "flush_tlb_func",
                "CPU{}: {} loaded, not mm: TLB_REMOTE_WRONG_CPU",
                cpu.id,
                mm_name(loaded_mm)
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
    ev!("flush_tlb_func", "CPU{}: flush mm's TLB entries", cpu.id);
}

/// `flush_tlb_mm_range()` by T1 on `me` after `munmap()` (no page tables freed).
fn flush_tlb_mm_range(sys: &System, me: &PerCpu) {
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
                        flush_tlb_func(sys, target);
                    } else {
                        ev!("should_flush_tlb", "CPU{cpu}: no IPI, bit stays");
                    }
                }
                cpu = sys.cpumask.find_next_bit(n, cpu + 1);
            }
        }
    }
}

/// What the reader printed and when (ghost history indices).
struct Status {
    allowed: String,
    hex: String,
    list: String,
    /// `hist.len()` when the read began / each line began / each line ended.
    read_start: usize,
    hex_span: (usize, usize),
    list_span: (usize, usize),
}

/// `proc_pid_status()` → `task_cpus_allowed()` + the patch's `task_cpus_active_mm()`.
fn proc_pid_status(sys: &System, reader: Reader) -> Status {
    let n = sys.nr_cpu_ids;
    let read_start = sys.hist_len();
    let allowed = bitmap_string(&sys.cpus_mask, n, |_, _| {});
    ev!("task_cpus_allowed", "Cpus_allowed:\t{allowed}");
    let copy: Vec<u64>;
    let src: &dyn BitmapSrc = match reader {
        Reader::AsPosted => &sys.cpumask,
        Reader::Snapshot => {
            // cpumask_copy(&tmp, mm_cpumask(mm)): one load per word
            copy = (0..sys.cpumask.nwords())
                .map(|i| sys.cpumask.read_word(i))
                .collect();
            ev!("cpumask_copy", "tmp = mm_cpumask(mm) = {copy:x?}");
            &copy
        }
    };
    let s = sys.hist_len();
    let hex = bitmap_string(src, n, |bit, val| {
        ev!("bitmap_string", "chunk at bit {bit}: {val:x}");
    });
    let e = sys.hist_len();
    ev!("task_cpus_active_mm", "Cpus_active_mm:\t{hex}");
    let hex_span = (s, e);
    let s = sys.hist_len();
    let list = bitmap_list_string(src, n, |b, t| {
        ev!("bitmap_list_string", "run [{b}, {t})");
    });
    let e = sys.hist_len();
    ev!("task_cpus_active_mm", "Cpus_active_mm_list:\t{list}");
    Status {
        allowed,
        hex,
        list,
        read_start,
        hex_span,
        list_span: (s, e),
    }
}

/// The claims a user makes from one read of the status file.
fn check_lines(sys: &System, st: &Status, check_subset: bool) {
    let n = sys.nr_cpu_ids;
    let hist = sys.ghost.lock().hist.clone();
    let hex = set_to_u128(&parse_hex(&st.hex, n).expect("model error: unparsable %*pb"));
    let list = set_to_u128(&parse_list(&st.list, n).expect("model error: unparsable %*pbl"));
    let allowed = set_to_u128(&parse_hex(&st.allowed, n).expect("model error: unparsable"));
    let states = |from: usize, to: usize| &hist[from.saturating_sub(1)..to.max(1)];
    let lines = [
        ("Cpus_active_mm", st.hex.as_str(), hex, st.hex_span),
        ("Cpus_active_mm_list", st.list.as_str(), list, st.list_span),
    ];
    for (name, text, set, (s, e)) in lines {
        // A line that is no snapshot at all is reported before a merely stale one.
        let since_open = states(st.read_start, e);
        if !check(LINE_IS_A_SNAPSHOT, since_open.contains(&set), || {
            format!(
                "\"{name}: {text}\" = {} is a set the mask never held: since the file was \
                 opened it went {}",
                fmt_set(set),
                since_open
                    .iter()
                    .map(|&m| fmt_set(m))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            )
        }) {
            return;
        }
        let during = states(s, e);
        for cpu in 0..n {
            let printed = set & (1 << cpu) != 0;
            let ok = during.iter().any(|m| (m & (1 << cpu) != 0) == printed);
            if !check(PRINTED_BIT_FRESH, ok, || {
                format!(
                    "\"{name}: {text}\" shows CPU{cpu} as {}, but while the line was printed the \
                     mask only took the values {}",
                    if printed { "set" } else { "clear" },
                    during
                        .iter()
                        .map(|&m| fmt_set(m))
                        .collect::<Vec<_>>()
                        .join(" -> ")
                )
            }) {
                return;
            }
        }
    }
    if !check(LINES_AGREE, hex == list, || {
        format!(
            "Cpus_active_mm \"{}\" = {} but Cpus_active_mm_list \"{}\" = {}",
            st.hex,
            fmt_set(hex),
            st.list,
            fmt_set(list)
        )
    }) || !check_subset
    {
        return;
    }
    check(SUBSET_OF_CPUS_ALLOWED, hex & !allowed == 0, || {
        format!(
            "Cpus_active_mm {} is not a subset of Cpus_allowed {} (\"{}\")",
            fmt_set(hex),
            fmt_set(allowed),
            st.allowed
        )
    });
}

/// The ideal observer: at one instant (under the ghost lock) compare the mask with where the
/// process runs. If this fails, no reading of the file can support the claim at that moment.
fn check_now(sys: &System, when: &str) {
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
    check(SET_MEANS_RUNNING, mask & !running == 0, || {
        format!(
            "{when}: mm_cpumask {} but the process runs only on {}",
            fmt_set(mask),
            fmt_set(running)
        )
    });
}

/// Once quiet (all actors joined): the claims about the mask at rest. `first` picks which claim
/// is checked first (the harness keeps one violation per execution; see `quiet_first`).
fn check_quiet(sys: &System, first: u32) {
    let g = sys.ghost.lock();
    let mask = g.hist.last().copied().unwrap_or(0);
    let running = g.running;
    let departed = g.ran & !g.running;
    let unexplained = g.unexplained_change.clone();
    drop(g);
    let tracks = || {
        if let Some(msg) = &unexplained {
            return check(TRACKS_MIGRATIONS, false, || msg.clone());
        }
        check(TRACKS_MIGRATIONS, mask == running, || {
            format!(
                "once quiet: the process runs on {} and left {}, but Cpus_active_mm shows {}",
                fmt_set(running),
                fmt_set(departed),
                fmt_set(mask)
            )
        })
    };
    let lines = || {
        let st = proc_pid_status(sys, Reader::AsPosted);
        check_lines(sys, &st, true);
        !execution_spent()
    };
    match first {
        1 => {
            check(SET_MEANS_RUNNING, mask & !running == 0, || {
                format!(
                    "once quiet: mm_cpumask {} but the process runs only on {}",
                    fmt_set(mask),
                    fmt_set(running)
                )
            });
        }
        2 => {
            check(RUNNING_MEANS_SET, running & !mask == 0, || {
                format!(
                    "once quiet: the process runs on {} but mm_cpumask is {}",
                    fmt_set(running),
                    fmt_set(mask)
                )
            });
        }
        3 => {
            lines();
        }
        _ => {}
    }
    let _ = tracks() && lines();
    check_now(sys, "once quiet");
}

struct Config {
    policy: Policy,
    reader: Reader,
    nr_cpu_ids: usize,
    from: usize,
    to: usize,
    trim_due: bool,
    lazy_tlb: bool,
    transient_checks: bool,
    quiet_first: u32,
}

fn build(cfg: &Config) -> System {
    let n = cfg.nr_cpu_ids;
    let percpu = |id: usize, mm: usize| PerCpu {
        id,
        irq: Mutex::new(()),
        loaded_mm: AtomicUsize::new(mm),
        is_lazy: AtomicBool::new(false),
    };
    // Bounds are validated when the scenario is built, so these properties never fire here.
    let sys = System {
        policy: cfg.policy,
        nr_cpu_ids: n,
        cpumask: Bitmap::new("mm_cpumask(mm)", n, LINE_IS_A_SNAPSHOT),
        next_trim_cpumask: AtomicU64::new(if cfg.trim_due {
            JIFFIES - 1
        } else {
            JIFFIES + HZ / 2
        }),
        cpus_mask: Bitmap::new("T1->cpus_mask", n, SUBSET_OF_CPUS_ALLOWED),
        on_cpu: AtomicBool::new(true),
        cpus: [percpu(cfg.from, MM), percpu(cfg.to, MM_R)],
        ghost: Mutex::new(Ghost {
            hist: vec![0],
            running: 1 << cfg.from,
            ran: 1 << cfg.from,
            unexplained_change: None,
        }),
    };
    sys.cpus_mask.set_bit(cfg.from);
    sys.cpus_mask.set_bit(cfg.to);
    // T1 has been running on CPU<from> since before the read: its switch-in already happened.
    if cfg.policy != Policy::Arm64NeverSet {
        sys.cpumask.set_bit(cfg.from);
        sys.ghost.lock().hist[0] = 1 << cfg.from;
    }
    sys
}

params! {
    /// Knobs of the scripted scene.
    pub struct Knobs {
        nr_cpu_ids: usize = 48, 2..=128,
            "bits printed; > 32 gives the hex line two chunks, > 64 two words";
        from_cpu: usize = 1, 0..=127, "CPU T1 runs on at first (low chunk by default)";
        to_cpu: usize = 40, 0..=127, "CPU T1 migrates to (high chunk by default)";
        trim_due: bool = true, 0..=1,
            "x86 lazy: 1 = a second passed since the last trim, so the munmap flush trims";
        lazy_tlb: bool = false, 0..=1,
            "1 = CPU<from> switches to a kernel thread (lazy TLB) instead of another process";
        transient_checks: bool = true, 0..=1,
            "1 = the reader also checks the set/running/Cpus_allowed claims at its instant; \
             0 = those claims only once quiet (the mask at rest)";
        quiet_first: u32 = 0, 0..=3,
            "claim checked first once quiet (one violation is kept per execution): \
             0 tracks-migrations, 1 set-means-running, 2 running-means-set, \
             3 the lines (subset-of-cpus-allowed)";
    }
}

/// The scene needs two distinct CPUs below `nr_cpu_ids`.
fn check_knobs(p: &Params) -> Result<(), String> {
    let k = Knobs::from(p);
    if k.from_cpu >= k.nr_cpu_ids || k.to_cpu >= k.nr_cpu_ids || k.from_cpu == k.to_cpu {
        return Err(format!(
            "from_cpu={} and to_cpu={} must be distinct CPUs below nr_cpu_ids={}",
            k.from_cpu, k.to_cpu, k.nr_cpu_ids
        ));
    }
    Ok(())
}

fn scenario(variant: &Variant, params: &Params) -> Scenario {
    let &Setup { policy, reader } = variant.design::<Setup>();
    let k = Knobs::from(params);
    let cfg = Config {
        policy,
        reader,
        nr_cpu_ids: k.nr_cpu_ids,
        from: k.from_cpu,
        to: k.to_cpu,
        trim_due: k.trim_due,
        lazy_tlb: k.lazy_tlb,
        transient_checks: k.transient_checks,
        quiet_first: k.quiet_first,
    };
    let cfg = Arc::new(cfg);
    Arc::new(move || {
        let sys = Arc::new(build(&cfg));
        let (from, to) = (cfg.from, cfg.to);
        let quiet_first = cfg.quiet_first;

        let s = sys.clone();
        let lazy = cfg.lazy_tlb;
        let leaving = spawn(format!("CPU{from} (T1 leaves)"), move || {
            let me = &s.cpus[0];
            // sched_setaffinity(T1, {to}) -> __set_cpus_allowed_ptr(): cpumask_copy()
            s.cpus_mask.clear_bit(from);
            ev!("__set_cpus_allowed_ptr", "T1->cpus_mask = {{{to}}}");
            // migration_cpu_stop() pushes T1 away; __schedule() picks the next task.
            s.rq_set_curr(from, false);
            if lazy {
                enter_lazy_tlb(&s, me);
            } else {
                switch_mm_irqs_off(&s, me, MM_Q);
            }
            // finish_task(prev): smp_store_release(&prev->on_cpu, 0)
            s.on_cpu.store(false, Ordering::Release);
            ev!("finish_task", "T1->on_cpu = 0");
        });

        let s = sys.clone();
        let arriving = spawn(format!("CPU{to} (T1 arrives, munmap)"), move || {
            let me = &s.cpus[1];
            // try_to_wake_up()/move_queued_task(): smp_cond_load_acquire(&p->on_cpu, !VAL)
            let mut spin = Spinner::new("smp_cond_load_acquire(&T1->on_cpu, !VAL)");
            while s.on_cpu.load(Ordering::Acquire) {
                if !spin.relax() {
                    return;
                }
            }
            s.rq_set_curr(to, true);
            switch_mm_irqs_off(&s, me, MM);
            // T1: munmap() -> tlb_finish_mmu() -> flush_tlb_mm_range()
            flush_tlb_mm_range(&s, me);
        });

        let s = sys.clone();
        let (reader, transient) = (cfg.reader, cfg.transient_checks);
        let cat = spawn("reader: cat /proc/T1/status", move || {
            let st = proc_pid_status(&s, reader);
            check_lines(&s, &st, transient);
            if transient {
                check_now(&s, "right after the read");
            }
        });

        leaving.join();
        arriving.join();
        cat.join();

        // Once quiet: nothing is switching or flushing any more.
        check_quiet(&sys, quiet_first);
    })
}

pub static MODEL: Model = Model {
    name: "mm-cpumask",
    question: "What can userspace conclude from Cpus_active_mm / Cpus_active_mm_list \
               (mm_cpumask printed without lock or snapshot), per architecture mask policy?",
    references: &[
        "fs/proc/array.c: proc_pid_status(), task_cpus_allowed(), task_cpus_active_mm() (v3 patch)",
        "lib/vsprintf.c: bitmap_string(), bitmap_list_string()",
        "include/linux/find.h: for_each_set_bitrange()",
        "arch/x86/mm/tlb.c: switch_mm_irqs_off(), flush_tlb_func(), should_flush_tlb(), \
         should_trim_cpumask(), flush_tlb_mm_range(), enter_lazy_tlb()",
        "209954cbc7d0 x86/mm/tlb: Update mm_cpumask lazily",
        "6db2526c1d69 x86/mm/tlb: Only trim the mm_cpumask once a second",
        "sparc64: remove mm_cpumask clearing to fix kthread_use_mm race (Nick Piggin, Sep 2020)",
        "[v3 PATCH 1/1] fs/proc: Expose mm_cpumask in /proc/[pid]/status (Aaron Tomlin, \
         2026-01-15) and Peter Zijlstra's reply",
    ],
    params: Knobs::PARAMS,
    param_check: Some(check_knobs),
    properties: &[
        Property {
            id: PRINTED_BIT_FRESH,
            claim: "each CPU a line shows as set (or clear) had that bit value at some instant \
                    while that line was being printed",
        },
        Property {
            id: LINE_IS_A_SNAPSHOT,
            claim: "each line equals the value mm_cpumask held at one instant since the file was \
                    opened",
        },
        Property {
            id: LINES_AGREE,
            claim: "Cpus_active_mm and Cpus_active_mm_list describe the same set of CPUs",
        },
        Property {
            id: SET_MEANS_RUNNING,
            claim: "a CPU in Cpus_active_mm is running a thread of this process now",
        },
        Property {
            id: RUNNING_MEANS_SET,
            claim: "every CPU running a thread of this process is in Cpus_active_mm",
        },
        Property {
            id: SUBSET_OF_CPUS_ALLOWED,
            claim: "Cpus_active_mm is a subset of Cpus_allowed (as printed in the same read)",
        },
        Property {
            id: TRACKS_MIGRATIONS,
            claim: "Cpus_active_mm changes exactly when threads migrate: a CPU joins when a \
                    thread arrives, leaves when the mm leaves it, and no CPU the process left \
                    stays in it",
        },
    ],
    variants: VARIANTS,
    source: &[include_str!("mod.rs"), include_str!("format.rs")],
    scenario,
    scenes: None,
};

const VARIANTS: &[Variant] = &[
    Variant {
        name: "x86-lazy-as-posted",
        summary: "x86 today (lazy clearing + once-a-second trim), reader as posted",
        expect: expect![LINE_IS_A_SNAPSHOT => Violated, LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated],
        sweep: None,
        engines: Engines::All,
        design: &Setup {
            policy: Policy::X86Lazy,
            reader: Reader::AsPosted,
        },
    },
    Variant {
        name: "x86-lazy-snapshot",
        summary: "x86 today, reader copies the mask once and prints both lines from the copy",
        expect: expect![PRINTED_BIT_FRESH => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated],
        sweep: None,
        engines: Engines::All,
        design: &Setup {
            policy: Policy::X86Lazy,
            reader: Reader::Snapshot,
        },
    },
    Variant {
        name: "x86-eager-as-posted",
        summary: "x86 v4.14-v6.12 (bit cleared on switch-out), reader as posted",
        expect: expect![LINE_IS_A_SNAPSHOT => Violated, LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated],
        sweep: None,
        engines: Engines::All,
        design: &Setup {
            policy: Policy::X86Eager,
            reader: Reader::AsPosted,
        },
    },
    Variant {
        name: "x86-eager-snapshot",
        summary: "x86 v4.14-v6.12, snapshot reader",
        expect: expect![PRINTED_BIT_FRESH => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated],
        sweep: None,
        engines: Engines::All,
        design: &Setup {
            policy: Policy::X86Eager,
            reader: Reader::Snapshot,
        },
    },
    Variant {
        name: "arm64-never-set-as-posted",
        summary: "arm64-like: mm_cpumask never set (broadcast TLBI), reader as posted",
        expect: expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated],
        sweep: None,
        engines: Engines::All,
        design: &Setup {
            policy: Policy::Arm64NeverSet,
            reader: Reader::AsPosted,
        },
    },
    Variant {
        name: "arm64-never-set-snapshot",
        summary: "arm64-like, snapshot reader",
        expect: expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated],
        sweep: None,
        engines: Engines::All,
        design: &Setup {
            policy: Policy::Arm64NeverSet,
            reader: Reader::Snapshot,
        },
    },
    Variant {
        name: "sparc64-never-clear-as-posted",
        summary: "sparc64-like: set on switch-in, never cleared, reader as posted",
        expect: expect![LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated],
        sweep: None,
        engines: Engines::All,
        design: &Setup {
            policy: Policy::Sparc64NeverClear,
            reader: Reader::AsPosted,
        },
    },
    Variant {
        name: "sparc64-never-clear-snapshot",
        summary: "sparc64-like, snapshot reader",
        expect: expect![PRINTED_BIT_FRESH => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated],
        sweep: None,
        engines: Engines::All,
        design: &Setup {
            policy: Policy::Sparc64NeverClear,
            reader: Reader::Snapshot,
        },
    },
];
