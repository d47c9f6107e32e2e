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
mod proc;
pub mod scene;
mod space;
#[cfg(test)]
mod tests;
mod tlb;

use kmodel_harness::prelude::*;

pub use scene::{Actor, Checks, Next, Op, Scene, Step};
pub use space::MmCpumaskScenes;

pub const PRINTED_BIT_FRESH: &str = "printed-bit-fresh";
pub const LINE_IS_A_SNAPSHOT: &str = "line-is-a-snapshot";
pub const LINES_AGREE: &str = "lines-agree";
pub const SET_MEANS_RUNNING: &str = "set-means-running";
pub const RUNNING_MEANS_SET: &str = "running-means-set";
pub const SUBSET_OF_CPUS_ALLOWED: &str = "subset-of-cpus-allowed";
pub const TRACKS_MIGRATIONS: &str = "tracks-migrations";
/// x86 `switch_mm_irqs_off()`, `prev == next`: "Even in lazy TLB mode, the CPU should stay set
/// in the mm_cpumask."
pub const WARN_LAZY_CPU_SET: &str = "warn-switch-mm-cpu-not-in-mm-cpumask";

/// How the architecture maintains `mm_cpumask()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
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
pub enum Reader {
    /// As posted (v3): `%*pb` then `%*pbl` straight on `mm_cpumask(mm)`.
    AsPosted,
    /// `cpumask_copy()` once, then both lines from the copy.
    Snapshot,
}

/// A single change to x86 lazy a reviewer would ask about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ablation {
    None,
    /// The trim also reaches lazy CPUs and clears their bit while they keep the mm loaded
    /// (instead of skipping them, or switching them to `init_mm` first).
    TrimLazyCpus,
}

/// Which scripted scene a variant's `check` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    /// [`Scene::migration`].
    Migration,
    /// [`Scene::lazy_return`].
    LazyReturn,
}

/// What a variant runs: the architecture's mask policy, the reader's form, an ablation, and
/// the scripted scene of `check`.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    pub policy: Policy,
    pub reader: Reader,
    pub ablation: Ablation,
    pub script: Script,
}

const fn setup(policy: Policy, reader: Reader) -> Setup {
    Setup {
        policy,
        reader,
        ablation: Ablation::None,
        script: Script::Migration,
    }
}

/// Why a mask bit changes (for the `tracks-migrations` claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// A thread of the process is being switched in on this CPU.
    Arrival,
    /// The mm is being switched out on this CPU.
    Departure,
    /// `flush_tlb_func()` on a CPU that no longer runs the mm (x86 lazy trim).
    Trim,
    /// A kernel thread adopts the mm (`kthread_use_mm()`), no thread of the process arrives.
    KthreadUseMm,
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
    let setup = *variant.design::<Setup>();
    let k = Knobs::from(params);
    let scene = match setup.script {
        Script::Migration => Scene::migration(&k),
        Script::LazyReturn => Scene::lazy_return(&k),
    };
    Arc::new(move || scene.run(setup))
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
        Property {
            id: WARN_LAZY_CPU_SET,
            claim: "x86 switch_mm_irqs_off(), prev == next: WARN_ON_ONCE(prev != &init_mm && \
                    !cpumask_test_cpu(cpu, mm_cpumask(next))) never fires (\"Even in lazy TLB \
                    mode, the CPU should stay set in the mm_cpumask\")",
        },
        Property {
            id: DATA_RACE,
            claim: "no data race (LKMM, KCSAN): no two conflicting accesses, at least one \
                    plain, unordered by happens-before",
        },
    ],
    variants: VARIANTS,
    param_verdicts: &[],
    source: &[
        include_str!("mod.rs"),
        include_str!("format.rs"),
        include_str!("tlb.rs"),
        include_str!("proc.rs"),
        include_str!("scene.rs"),
        include_str!("space.rs"),
    ],
    scenario,
    scenes: Some(&MmCpumaskScenes),
    port: kmodel_harness::port_file!("port.toml"),
};

const VARIANTS: &[Variant] = &[
    Variant {
        name: "x86-lazy-as-posted",
        summary: "x86 today (lazy clearing + once-a-second trim), reader as posted",
        expect: expect![LINE_IS_A_SNAPSHOT => Violated, LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        sweep: Some(
            expect![LINE_IS_A_SNAPSHOT => Violated, LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &setup(Policy::X86Lazy, Reader::AsPosted),
    },
    Variant {
        name: "x86-lazy-snapshot",
        summary: "x86 today, reader copies the mask once and prints both lines from the copy",
        expect: expect![PRINTED_BIT_FRESH => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        sweep: Some(
            expect![LINE_IS_A_SNAPSHOT => ViolatedWeakMemory, PRINTED_BIT_FRESH => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &setup(Policy::X86Lazy, Reader::Snapshot),
    },
    Variant {
        name: "x86-eager-as-posted",
        summary: "x86 v4.14-v6.12 (bit cleared on switch-out), reader as posted",
        expect: expect![LINE_IS_A_SNAPSHOT => Violated, LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, DATA_RACE => Violated],
        sweep: Some(
            expect![LINE_IS_A_SNAPSHOT => Violated, LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &setup(Policy::X86Eager, Reader::AsPosted),
    },
    Variant {
        name: "x86-eager-snapshot",
        summary: "x86 v4.14-v6.12, snapshot reader",
        expect: expect![PRINTED_BIT_FRESH => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, DATA_RACE => Violated],
        sweep: Some(
            expect![LINE_IS_A_SNAPSHOT => Violated, PRINTED_BIT_FRESH => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &setup(Policy::X86Eager, Reader::Snapshot),
    },
    Variant {
        name: "arm64-never-set-as-posted",
        summary: "arm64-like: mm_cpumask never set (broadcast TLBI), reader as posted",
        expect: expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        sweep: Some(
            expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &setup(Policy::Arm64NeverSet, Reader::AsPosted),
    },
    Variant {
        name: "arm64-never-set-snapshot",
        summary: "arm64-like, snapshot reader",
        expect: expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        sweep: Some(
            expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &setup(Policy::Arm64NeverSet, Reader::Snapshot),
    },
    Variant {
        name: "sparc64-never-clear-as-posted",
        summary: "sparc64-like: set on switch-in, never cleared, reader as posted",
        expect: expect![LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        sweep: Some(
            expect![LINE_IS_A_SNAPSHOT => Violated, LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &setup(Policy::Sparc64NeverClear, Reader::AsPosted),
    },
    Variant {
        name: "sparc64-never-clear-snapshot",
        summary: "sparc64-like, snapshot reader",
        expect: expect![PRINTED_BIT_FRESH => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        sweep: Some(
            expect![PRINTED_BIT_FRESH => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &setup(Policy::Sparc64NeverClear, Reader::Snapshot),
    },
    Variant {
        name: "ablation-x86-lazy-trim-lazy-cpus",
        summary: "x86 lazy, but the once-a-second trim also clears the bit of lazy CPUs that \
                  keep the mm loaded (instead of skipping them); lazy-return scene",
        expect: expect![TRACKS_MIGRATIONS => Violated, WARN_LAZY_CPU_SET => Violated, DATA_RACE => Violated],
        sweep: Some(
            expect![LINE_IS_A_SNAPSHOT => Violated, LINES_AGREE => Violated, SET_MEANS_RUNNING => Violated, RUNNING_MEANS_SET => Violated, SUBSET_OF_CPUS_ALLOWED => Violated, TRACKS_MIGRATIONS => Violated, WARN_LAZY_CPU_SET => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Setup {
            policy: Policy::X86Lazy,
            reader: Reader::AsPosted,
            ablation: Ablation::TrimLazyCpus,
            script: Script::LazyReturn,
        },
    },
];
