//! sched/mmcid: per-mm concurrency IDs, per-task vs per-CPU ownership and the two-phase
//! TRANSIT mode switch (Thomas Gleixner's "sched: Rewrite MM CID management", V3 vs mainline).
//!
//! Actors are CPUs running short scripts of kernel events (fork, exit, failed execve, context
//! switch, migration, affinity change). Tasks are records; "running in user space" means being
//! `rq->curr` of a CPU after `mm_cid_schedin()` or after a syscall returned. Ghost state (never
//! seen by the engines, an OS-level std mutex that is never held across a scheduling point)
//! records which CID each CPU's current task exposes to user space.

pub mod cid;
pub mod cpu;
mod design;
pub mod hooks;
pub mod mode;
mod properties;
pub mod scene;
pub mod space;
mod state;
pub mod sys;
#[cfg(test)]
mod tests;

use kmodel_harness::prelude::*;
use kmodel_harness::setup::SetupSpace;

pub use cpu::Op;
pub use design::{Ablation, Design, Knobs, Setup};
pub use properties::{
    CIDMASK_IN_BOUNDS, CID_IN_RANGE, CID_UNIQUE, NO_CID_LEAK, NO_TRANSIT_LEFT, PROPERTIES,
    SWITCH_BACK,
};
pub use scene::Scene;
pub use space::MmcidScenes;
pub use sys::{MmLocked, MmMmCid, Rq, Sys, Task, TASK_NAMES};

use design::{check_knobs, setup, Script};

fn scenario(setup: &Setup, k: &Knobs) -> Scenario {
    let &Setup {
        design,
        ablation,
        script,
        execfail,
    } = setup;
    let scene = match script {
        Script::Fork => Scene::fork(k),
        Script::Exit if execfail || k.exit_execfail => Scene::execfail(k),
        Script::Exit => Scene::exit(k),
        Script::Alloc => Scene::alloc(),
    };
    Arc::new(move || scene.run(design, ablation))
}

/// The model, as the registry holds it (`&MODEL`).
pub struct Mmcid;
pub static MODEL: Mmcid = Mmcid;

impl KernelModel for Mmcid {
    type Design = Setup;
    type Params = Knobs;
    type Scenes = MmcidScenes;

    const CARD: &'static ModelCard = &ModelCard {
        name: "mmcid",
        question: "Do per-mm concurrency IDs stay unique, bounded, allocatable and leak-free across \
               the per-task <-> per-CPU ownership switches, in V3 and in mainline?",
        references: &[
        "kernel/sched/sched.h: mm_cid_schedin(), mm_cid_schedout(), mm_cid_from_cpu(), \
         mm_cid_from_task(), mm_get_cid()",
        "kernel/sched/core.c: mm_update_max_cids(), mm_update_cpus_allowed(), \
         mm_cid_fixup_cpus_to_tasks(), mm_cid_fixup_tasks_to_cpus(), sched_mm_cid_fork(), \
         sched_mm_cid_exit(), mm_cid_work_fn()",
        "include/linux/rseq_types.h: MM_CID_UNSET, MM_CID_ONCPU, MM_CID_TRANSIT",
        "[patch V3 17/20] sched/mmcid: Provide CID ownership mode fixup functions (2025-10-29) \
         and Mathieu Desnoyers' review (2025-10-30)",
        "Message-ID: <87wm4brp00.ffs@tglx> (Thomas Gleixner's answer on pcpu_thrs vs max_cids)",
    ],
        properties: PROPERTIES,
        source: sources![
            "mod.rs",
            "properties.rs",
            "design.rs",
            "cid.rs",
            "mode.rs",
            "hooks.rs",
            "sys.rs",
            "cpu.rs",
            "scene.rs",
            "space.rs",
            "state.rs",
        ],
        port: kmodel_harness::port_file!("port.toml"),
    };
    const VARIANTS: &'static [Variant<Setup>] = &[
        Variant::new(
            "mainline",
            "mainline, fork scene: per-task -> per-CPU while T1 runs on CPU1, is \
             migrated and scheduled in on CPU2",
            setup(Design::Mainline, Ablation::None, Script::Fork, false),
        )
        .sweep(
            expect![NO_LIVELOCK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
        ),
        Variant::new(
            "mainline-exit",
            "mainline, exit scene: per-CPU -> per-task by the second of two \
             concurrent exits while T2 is scheduled in and out",
            setup(Design::Mainline, Ablation::None, Script::Exit, false),
        )
        .expect(expect![DATA_RACE => Violated]),
        Variant::new(
            "v3",
            "as posted in V3, fork scene",
            setup(Design::V3, Ablation::None, Script::Fork, false),
        )
        .expect(expect![NO_LIVELOCK => Violated, DATA_RACE => Violated])
        .sweep(
            expect![NO_LIVELOCK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
        ),
        Variant::new(
            "v3-exit",
            "as posted in V3, exit scene",
            setup(Design::V3, Ablation::None, Script::Exit, false),
        )
        .expect(expect![DATA_RACE => Violated]),
        Variant::new(
            "direct-handover",
            "no TRANSIT in either direction, fork scene",
            setup(Design::DirectHandover, Ablation::None, Script::Fork, false),
        )
        .expect(expect![NO_LIVELOCK => Violated])
        .sweep(
            expect![NO_LIVELOCK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
        ),
        Variant::new(
            "direct-handover-exit",
            "no TRANSIT in either direction, exit scene",
            setup(Design::DirectHandover, Ablation::None, Script::Exit, false),
        )
        .expect(expect![DATA_RACE => Violated]),
        Variant::new(
            "thrs-recompute",
            "Mathieu's question: fork/exit recompute pcpu_thrs before comparing (as the \
             affinity path does), exit scene",
            setup(Design::ThrsRecompute, Ablation::None, Script::Exit, false),
        )
        .expect(expect![SWITCH_BACK => Violated])
        .sweep(expect![
            NO_LIVELOCK => Violated,
            NO_TRANSIT_LEFT => Violated,
            SWITCH_BACK => Violated, DATA_RACE => Violated]),
        Variant::new(
            "v6.19.0-exit",
            "v6.19.0 (mainline before two later fixes: mm_drop_cid_on_cpu() without the \
             ONCPU test, CPU->task walk without the UNSET test), exit scene",
            setup(Design::V6190, Ablation::None, Script::Exit, false),
        )
        .expect(expect![CIDMASK_IN_BOUNDS => Violated, DATA_RACE => Violated])
        .sweep(expect![
            CIDMASK_IN_BOUNDS => Violated,
            NO_LIVELOCK => Violated,
            NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated]),
        Variant::new(
            "mainline-execfail",
            "mainline, failed-execve scene (2 CPUs): the last thread's execve() fails \
             after its process left per-CPU mode through the last-user path, then it \
             creates a thread: mm_get_cid() spins forever (finding, README)",
            setup(Design::Mainline, Ablation::None, Script::Exit, true),
        )
        .expect(expect![NO_LIVELOCK => Violated]),
        Variant::new(
            "no-schedout-drop",
            "ablation of mainline, exit scene: mm_cid_schedout() ignores TRANSIT CIDs",
            setup(
                Design::Mainline,
                Ablation::NoSchedoutDrop,
                Script::Exit,
                false,
            ),
        )
        .expect(
            expect![NO_CID_LEAK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
        )
        .sweep(expect![
            NO_LIVELOCK => Violated,
            NO_CID_LEAK => Violated,
            NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated]),
        Variant::new(
            "mainline-alloc",
            "mainline, alloc scene: per-CPU mode, T2 and T3 scheduled in at once on CPU2 \
             and CPU3, both must allocate beyond max_cids",
            setup(Design::Mainline, Ablation::None, Script::Alloc, false),
        )
        .expect(expect![DATA_RACE => Violated]),
        Variant::new(
            "nonatomic-get-cid",
            "ablation of mainline, alloc scene: __mm_get_cid() claims with test_bit() + \
             __set_bit() instead of test_and_set_bit()",
            setup(
                Design::Mainline,
                Ablation::NonatomicGetCid,
                Script::Alloc,
                false,
            ),
        )
        .expect(expect![CID_UNIQUE => Violated, DATA_RACE => Violated])
        .sweep(expect![
            CID_UNIQUE => Violated,
            NO_LIVELOCK => Violated,
            NO_CID_LEAK => Violated,
            NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated]),
        Variant::new(
            "get-cid-no-retry",
            "ablation of mainline, alloc scene: mm_get_cid() returns UNSET instead of \
             retrying over all num_possible_cpus() CIDs",
            setup(
                Design::Mainline,
                Ablation::GetCidNoRetry,
                Script::Alloc,
                false,
            ),
        )
        .expect(expect![CID_IN_RANGE => Violated, NO_CID_LEAK => Violated, DATA_RACE => Violated])
        .sweep(expect![
            CID_IN_RANGE => Violated,
            CIDMASK_IN_BOUNDS => Violated,
            NO_LIVELOCK => Violated,
            NO_CID_LEAK => Violated,
            NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated]),
    ];
    const SCENES: Option<&'static MmcidScenes> = Some(&MmcidScenes);
    const SETUP: Option<&'static dyn SetupSpace> = Some(&MmcidScenes);

    fn scenario(design: &Setup, params: &Knobs) -> Scenario {
        scenario(design, params)
    }

    fn check_params(params: &Knobs) -> Result<(), String> {
        check_knobs(params)
    }
}
