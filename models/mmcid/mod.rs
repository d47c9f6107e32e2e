//! sched/mmcid: per-mm concurrency IDs, per-task vs per-CPU ownership and the two-phase
//! TRANSIT mode switch (Thomas Gleixner's "sched: Rewrite MM CID management", V3 vs mainline).
//!
//! Actors are CPUs running short scripts of kernel events (fork, exit, failed execve, context
//! switch, migration, affinity change). Tasks are records; "running in user space" means being
//! `rq->curr` of a CPU after `mm_cid_schedin()` or after a syscall returned. Ghost state (never
//! seen by the engines, an OS-level std mutex that is never held across a scheduling point)
//! records which CID each CPU's current task exposes to user space.

pub mod cid;
pub mod hooks;
pub mod mode;
pub mod scene;
pub mod space;
pub mod sys;
#[cfg(test)]
mod tests;

use kmodel_harness::prelude::*;

pub use scene::{Op, Scene};
pub use space::MmcidScenes;
pub use sys::*;

pub const CID_UNIQUE: &str = "cid-unique";
pub const CID_IN_RANGE: &str = "cid-in-range";
pub const CIDMASK_IN_BOUNDS: &str = "cidmask-in-bounds";
pub const NO_CID_LEAK: &str = "no-cid-leak";
pub const NO_TRANSIT_LEFT: &str = "no-transit-left";
pub const SWITCH_BACK: &str = "switch-back-at-recorded-thrs";

/// Which version of the design runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// Mainline (mid-2026): combined `mode` word, TRANSIT both ways, two smp_mb()s.
    Mainline,
    /// As posted in V3 (2025-10-29): `percpu` + `transit` words, no barriers, direct task->CPU
    /// transfer, schedule-out always drops TRANSIT, no threshold clamp, V3 exit/walk details.
    V3,
    /// Mainline without TRANSIT in either direction (direct ownership handover).
    DirectHandover,
    /// Mainline, but fork/exit recompute `pcpu_thrs` before comparing (Mathieu's question).
    ThrsRecompute,
    /// v6.19.0: mainline before two later fixes: `mm_drop_cid_on_cpu()` did not test ONCPU and
    /// the CPU->task walk marked a running task's CID TRANSIT without testing for UNSET.
    V6190,
}

/// A single change to mainline that a reviewer would ask about ("why is X needed?").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ablation {
    None,
    /// `mm_cid_schedout()` ignores TRANSIT CIDs: why must schedule-out drop them?
    NoSchedoutDrop,
    /// `__mm_get_cid()` claims with `test_bit()` + `__set_bit()`: why an atomic RMW when the
    /// caller holds its rq lock?
    NonatomicGetCid,
    /// `mm_get_cid()` fails instead of retrying over the whole num_possible_cpus() space.
    GetCidNoRetry,
}

/// Which scripted scene a variant runs (see [`Scene::fork`], [`Scene::exit`], [`Scene::alloc`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    /// per-task -> per-CPU: a fork while another task is scheduled in and migrated.
    Fork,
    /// per-CPU -> per-task: two exits while a third task is scheduled in and out.
    Exit,
    /// per-CPU mode: two new threads are scheduled in at once on two CPUs without a CID.
    Alloc,
}

/// What a variant runs: the design, an ablation of it, the scripted scene, and whether T2 runs
/// a failing execve in the exit scene.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    pub design: Design,
    pub ablation: Ablation,
    script: Script,
    execfail: bool,
}

const fn setup(design: Design, ablation: Ablation, script: Script, execfail: bool) -> Setup {
    Setup {
        design,
        ablation,
        script,
        execfail,
    }
}

params! {
    /// Knobs of the scripted scenes.
    pub struct Knobs {
        fork_num_possible_cpus: u32 = 3, 3..=8,
            "num_possible_cpus() (= allowed CPUs) of the fork scene; 3 fills the CID space \
             with 3 users so the fork must switch to per-CPU mode";
        exit_num_possible_cpus: u32 = 4, 3..=8,
            "num_possible_cpus() of the exit scene; >= 4 needed for pcpu_thrs >= 2, i.e. \
             for an exit to switch back at all";
        exit_nr_cpus_allowed: u32 = 2, 1..=8,
            "weight of the mm's allowed mask in the exit scene (>= 2 for pcpu_thrs >= 2; at \
             most exit_num_possible_cpus)";
        exit_settle: bool = false, 0..=1,
            "exit scene: 1 = T1 schedules out and in after the fork's per-CPU switch; 0 = \
             T1 keeps the TRANSIT CID the task walk gave it (still running)";
        extra_switches: u32 = 0, 0..=4,
            "additional schedule out/in pairs of the scheduling CPU";
        affinity_widen: bool = false, 0..=1,
            "fork scene: 1 = CPU2 widens T1's affinity to all possible CPUs at the end";
        exit_execfail: bool = false, 0..=1,
            "exit scene: 1 = in the setup T2 is scheduled in on CPU2 and runs a failing \
             execve; CPU2 then stays put (always on in mainline-execfail)";
    }
}

/// The exit scene's allowed mask must fit its possible CPUs.
fn check_knobs(p: &Params) -> Result<(), String> {
    let k = Knobs::from(p);
    if k.exit_nr_cpus_allowed > k.exit_num_possible_cpus {
        return Err(format!(
            "exit_nr_cpus_allowed={} exceeds exit_num_possible_cpus={}",
            k.exit_nr_cpus_allowed, k.exit_num_possible_cpus
        ));
    }
    Ok(())
}

fn scenario(v: &Variant, p: &Params) -> Scenario {
    let &Setup {
        design,
        ablation,
        script,
        execfail,
    } = v.design::<Setup>();
    let k = Knobs::from(p);
    let scene = match script {
        Script::Fork => Scene::fork(&k),
        Script::Exit if execfail || k.exit_execfail => Scene::execfail(&k),
        Script::Exit => Scene::exit(&k),
        Script::Alloc => Scene::alloc(),
    };
    Arc::new(move || scene.run(design, ablation))
}

const PROPERTIES: &[Property] = &[
    Property {
        id: CID_UNIQUE,
        claim: "two tasks of the mm running in user space at the same time never see the same \
                mm_cid (and once quiet no CID has two owners)",
    },
    Property {
        id: CID_IN_RANGE,
        claim: "every mm_cid published to user space is < num_possible_cpus()",
    },
    Property {
        id: CIDMASK_IN_BOUNDS,
        claim: "no access to mm_cidmask(mm) beyond its num_possible_cpus() bits",
    },
    Property {
        id: NO_LIVELOCK,
        claim: "mm_get_cid() never spins forever with its rq lock held: a free CID exists or \
                someone who does not need that lock frees one",
    },
    Property {
        id: NO_CID_LEAK,
        claim: "once quiet, the bits of mm_cidmask are exactly the CIDs owned by tasks (plain) \
                and CPUs (ONCPU)",
    },
    Property {
        id: NO_TRANSIT_LEFT,
        claim: "once quiet, no transition state is left: mode has no TRANSIT, no sleeping task \
                holds a TRANSIT CID, no task owns a CID in per-CPU mode, no CPU in per-task mode",
    },
    Property {
        id: SWITCH_BACK,
        claim: "an mm whose user count dropped below the threshold recorded when it entered \
                per-CPU mode is back in per-task mode (changelog of V3 17/20)",
    },
    Property {
        id: DATA_RACE,
        claim: "no data race (LKMM, KCSAN): no two conflicting accesses, at least one plain, \
                unordered by happens-before",
    },
];

pub static MODEL: Model = Model {
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
    params: Knobs::PARAMS,
    param_check: Some(check_knobs),
    properties: PROPERTIES,
    variants: &[
        Variant {
            name: "mainline",
            summary: "mainline, fork scene: per-task -> per-CPU while T1 runs on CPU1, is \
                      migrated and scheduled in on CPU2",
            expect: expect![],
            sweep: Some(
                expect![NO_LIVELOCK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::Mainline, Ablation::None, Script::Fork, false),
        },
        Variant {
            name: "mainline-exit",
            summary: "mainline, exit scene: per-CPU -> per-task by the second of two \
                      concurrent exits while T2 is scheduled in and out",
            expect: expect![DATA_RACE => Violated],
            sweep: None,
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::Mainline, Ablation::None, Script::Exit, false),
        },
        Variant {
            name: "v3",
            summary: "as posted in V3, fork scene",
            expect: expect![NO_LIVELOCK => Violated, DATA_RACE => Violated],
            sweep: Some(
                expect![NO_LIVELOCK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::V3, Ablation::None, Script::Fork, false),
        },
        Variant {
            name: "v3-exit",
            summary: "as posted in V3, exit scene",
            expect: expect![DATA_RACE => Violated],
            sweep: None,
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::V3, Ablation::None, Script::Exit, false),
        },
        Variant {
            name: "direct-handover",
            summary: "no TRANSIT in either direction, fork scene",
            expect: expect![NO_LIVELOCK => Violated],
            sweep: Some(
                expect![NO_LIVELOCK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::DirectHandover, Ablation::None, Script::Fork, false),
        },
        Variant {
            name: "direct-handover-exit",
            summary: "no TRANSIT in either direction, exit scene",
            expect: expect![DATA_RACE => Violated],
            sweep: None,
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::DirectHandover, Ablation::None, Script::Exit, false),
        },
        Variant {
            name: "thrs-recompute",
            summary: "Mathieu's question: fork/exit recompute pcpu_thrs before comparing (as the \
                      affinity path does), exit scene",
            expect: expect![SWITCH_BACK => Violated],
            sweep: Some(
                expect![NO_LIVELOCK => Violated, NO_TRANSIT_LEFT => Violated, SWITCH_BACK => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::ThrsRecompute, Ablation::None, Script::Exit, false),
        },
        Variant {
            name: "v6.19.0-exit",
            summary: "v6.19.0 (mainline before two later fixes: mm_drop_cid_on_cpu() without the \
                      ONCPU test, CPU->task walk without the UNSET test), exit scene",
            expect: expect![CIDMASK_IN_BOUNDS => Violated, DATA_RACE => Violated],
            sweep: Some(
                expect![CIDMASK_IN_BOUNDS => Violated, NO_LIVELOCK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::V6190, Ablation::None, Script::Exit, false),
        },
        Variant {
            name: "mainline-execfail",
            summary: "mainline, failed-execve scene (2 CPUs): the last thread's execve() fails \
                      after its process left per-CPU mode through the last-user path, then it \
                      creates a thread: mm_get_cid() spins forever (finding, README)",
            expect: expect![NO_LIVELOCK => Violated],
            sweep: None,
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::Mainline, Ablation::None, Script::Exit, true),
        },
        Variant {
            name: "no-schedout-drop",
            summary: "ablation of mainline, exit scene: mm_cid_schedout() ignores TRANSIT CIDs",
            expect: expect![NO_CID_LEAK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
            sweep: Some(
                expect![NO_LIVELOCK => Violated, NO_CID_LEAK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(
                Design::Mainline,
                Ablation::NoSchedoutDrop,
                Script::Exit,
                false,
            ),
        },
        Variant {
            name: "mainline-alloc",
            summary: "mainline, alloc scene: per-CPU mode, T2 and T3 scheduled in at once on CPU2 \
                      and CPU3, both must allocate beyond max_cids",
            expect: expect![DATA_RACE => Violated],
            sweep: None,
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(Design::Mainline, Ablation::None, Script::Alloc, false),
        },
        Variant {
            name: "nonatomic-get-cid",
            summary: "ablation of mainline, alloc scene: __mm_get_cid() claims with test_bit() + \
                      __set_bit() instead of test_and_set_bit()",
            expect: expect![CID_UNIQUE => Violated, DATA_RACE => Violated],
            sweep: Some(
                expect![CID_UNIQUE => Violated, NO_LIVELOCK => Violated, NO_CID_LEAK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(
                Design::Mainline,
                Ablation::NonatomicGetCid,
                Script::Alloc,
                false,
            ),
        },
        Variant {
            name: "get-cid-no-retry",
            summary: "ablation of mainline, alloc scene: mm_get_cid() returns UNSET instead of \
                      retrying over all num_possible_cpus() CIDs",
            expect: expect![CID_IN_RANGE => Violated, NO_CID_LEAK => Violated, DATA_RACE => Violated],
            sweep: Some(
                expect![CID_IN_RANGE => Violated, CIDMASK_IN_BOUNDS => Violated, NO_LIVELOCK => Violated, NO_CID_LEAK => Violated, NO_TRANSIT_LEFT => Violated, DATA_RACE => Violated],
            ),
            engines: Engines::All,
            min_pct_schedules: None,
            design: &setup(
                Design::Mainline,
                Ablation::GetCidNoRetry,
                Script::Alloc,
                false,
            ),
        },
    ],
    param_verdicts: &[],
    source: &[
        include_str!("mod.rs"),
        include_str!("cid.rs"),
        include_str!("mode.rs"),
        include_str!("hooks.rs"),
        include_str!("scene.rs"),
        include_str!("space.rs"),
        include_str!("sys.rs"),
    ],
    scenario,
    scenes: Some(&MmcidScenes),
    port: kmodel_harness::port_file!("port.toml"),
};
