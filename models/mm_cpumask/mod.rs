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

mod design;
pub mod format;
mod proc;
mod properties;
pub mod scene;
mod space;
#[cfg(test)]
mod tests;
mod tlb;

use kmodel_harness::prelude::*;

pub use design::{Ablation, Knobs, Policy, Reader, Script, Setup, Why};
pub use properties::{
    LINES_AGREE, LINE_IS_A_SNAPSHOT, PRINTED_BIT_FRESH, PROPERTIES, RUNNING_MEANS_SET,
    SET_MEANS_RUNNING, SUBSET_OF_CPUS_ALLOWED, TRACKS_MIGRATIONS, WARN_LAZY_CPU_SET,
};
pub use scene::{Actor, Checks, Next, Op, Scene, Step};
pub use space::MmCpumaskScenes;

use design::{check_knobs, setup};

fn scenario(setup: &Setup, k: &Knobs) -> Scenario {
    let setup = *setup;
    let scene = match setup.script {
        Script::Migration => Scene::migration(k),
        Script::LazyReturn => Scene::lazy_return(k),
    };
    Arc::new(move || scene.run(setup))
}

/// The model, as the registry holds it (`&MODEL`).
pub struct MmCpumask;
pub static MODEL: MmCpumask = MmCpumask;

impl KernelModel for MmCpumask {
    type Design = Setup;
    type Params = Knobs;
    type Scenes = MmCpumaskScenes;

    const CARD: &'static ModelCard = &ModelCard {
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
        properties: PROPERTIES,
        source: sources![
            "mod.rs",
            "properties.rs",
            "design.rs",
            "format.rs",
            "tlb.rs",
            "proc.rs",
            "scene.rs",
            "space.rs",
        ],
        port: kmodel_harness::port_file!("port.toml"),
    };
    const VARIANTS: &'static [Variant<Setup>] = VARIANTS;
    const SCENES: Option<&'static MmCpumaskScenes> = Some(&MmCpumaskScenes);

    fn scenario(design: &Setup, params: &Knobs) -> Scenario {
        scenario(design, params)
    }

    fn check_params(params: &Knobs) -> Result<(), String> {
        check_knobs(params)
    }
}

const VARIANTS: &[Variant<Setup>] = &[
    Variant::new(
        "x86-lazy-as-posted",
        "x86 today (lazy clearing + once-a-second trim), reader as posted",
        setup(Policy::X86Lazy, Reader::AsPosted),
    )
    .expect(expect![
        LINE_IS_A_SNAPSHOT => Violated,
        LINES_AGREE => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated])
    .sweep(expect![
        LINE_IS_A_SNAPSHOT => Violated,
        LINES_AGREE => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated]),
    Variant::new(
        "x86-lazy-snapshot",
        "x86 today, reader copies the mask once and prints both lines from the copy",
        setup(Policy::X86Lazy, Reader::Snapshot),
    )
    .expect(expect![
        PRINTED_BIT_FRESH => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated])
    .sweep(expect![
        LINE_IS_A_SNAPSHOT => ViolatedWeakMemory,
        PRINTED_BIT_FRESH => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated]),
    Variant::new(
        "x86-eager-as-posted",
        "x86 v4.14-v6.12 (bit cleared on switch-out), reader as posted",
        setup(Policy::X86Eager, Reader::AsPosted),
    )
    .expect(expect![
        LINE_IS_A_SNAPSHOT => Violated,
        LINES_AGREE => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated, DATA_RACE => Violated])
    .sweep(expect![
        LINE_IS_A_SNAPSHOT => Violated,
        LINES_AGREE => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated]),
    Variant::new(
        "x86-eager-snapshot",
        "x86 v4.14-v6.12, snapshot reader",
        setup(Policy::X86Eager, Reader::Snapshot),
    )
    .expect(expect![
        PRINTED_BIT_FRESH => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated, DATA_RACE => Violated])
    .sweep(expect![
        LINE_IS_A_SNAPSHOT => Violated,
        PRINTED_BIT_FRESH => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated]),
    Variant::new(
        "arm64-never-set-as-posted",
        "arm64-like: mm_cpumask never set (broadcast TLBI), reader as posted",
        setup(Policy::Arm64NeverSet, Reader::AsPosted),
    )
    .expect(expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated])
    .sweep(expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated]),
    Variant::new(
        "arm64-never-set-snapshot",
        "arm64-like, snapshot reader",
        setup(Policy::Arm64NeverSet, Reader::Snapshot),
    )
    .expect(expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated])
    .sweep(expect![RUNNING_MEANS_SET => Violated, TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated]),
    Variant::new(
        "sparc64-never-clear-as-posted",
        "sparc64-like: set on switch-in, never cleared, reader as posted",
        setup(Policy::Sparc64NeverClear, Reader::AsPosted),
    )
    .expect(expect![
        LINES_AGREE => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated])
    .sweep(expect![
        LINE_IS_A_SNAPSHOT => Violated,
        LINES_AGREE => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated]),
    Variant::new(
        "sparc64-never-clear-snapshot",
        "sparc64-like, snapshot reader",
        setup(Policy::Sparc64NeverClear, Reader::Snapshot),
    )
    .expect(expect![
        PRINTED_BIT_FRESH => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated])
    .sweep(expect![
        PRINTED_BIT_FRESH => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated, DATA_RACE => Violated]),
    Variant::new(
        "ablation-x86-lazy-trim-lazy-cpus",
        "x86 lazy, but the once-a-second trim also clears the bit of lazy CPUs that \
         keep the mm loaded (instead of skipping them); lazy-return scene",
        Setup {
            policy: Policy::X86Lazy,
            reader: Reader::AsPosted,
            ablation: Ablation::TrimLazyCpus,
            script: Script::LazyReturn,
        },
    )
    .expect(expect![TRACKS_MIGRATIONS => Violated, WARN_LAZY_CPU_SET => Violated, DATA_RACE => Violated])
    .sweep(expect![
        LINE_IS_A_SNAPSHOT => Violated,
        LINES_AGREE => Violated,
        SET_MEANS_RUNNING => Violated,
        RUNNING_MEANS_SET => Violated,
        SUBSET_OF_CPUS_ALLOWED => Violated,
        TRACKS_MIGRATIONS => Violated,
        WARN_LAZY_CPU_SET => Violated, DATA_RACE => Violated]),
];
