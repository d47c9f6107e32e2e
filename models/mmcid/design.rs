//! What a variant runs: the design, an ablation of it, the scripted scene ([`Setup`]), and the
//! scripted scenes' knobs.

use kmodel_harness::prelude::*;

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
pub(crate) enum Script {
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
    pub(crate) script: Script,
    pub(crate) execfail: bool,
}

pub(crate) const fn setup(
    design: Design,
    ablation: Ablation,
    script: Script,
    execfail: bool,
) -> Setup {
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
pub(crate) fn check_knobs(k: &Knobs) -> Result<(), String> {
    if k.exit_nr_cpus_allowed > k.exit_num_possible_cpus {
        return Err(format!(
            "exit_nr_cpus_allowed={} exceeds exit_num_possible_cpus={}",
            k.exit_nr_cpus_allowed, k.exit_num_possible_cpus
        ));
    }
    Ok(())
}
