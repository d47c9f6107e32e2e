//! What a variant runs: the architecture's mask policy, the reader's form, an ablation and the
//! scripted scene ([`Setup`]), why a mask bit changes ([`Why`]), and the scene's knobs.

use kmodel_harness::prelude::*;

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

pub(crate) const fn setup(policy: Policy, reader: Reader) -> Setup {
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
pub(crate) fn check_knobs(k: &Knobs) -> Result<(), String> {
    if k.from_cpu >= k.nr_cpu_ids || k.to_cpu >= k.nr_cpu_ids || k.from_cpu == k.to_cpu {
        return Err(format!(
            "from_cpu={} and to_cpu={} must be distinct CPUs below nr_cpu_ids={}",
            k.from_cpu, k.to_cpu, k.nr_cpu_ids
        ));
    }
    Ok(())
}
