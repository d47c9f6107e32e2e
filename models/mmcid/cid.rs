//! CID encodings, the per-task / per-CPU / per-mm state, the CID bitmap, allocation and the
//! context-switch side: include/linux/rseq_types.h and the CONFIG_SCHED_MM_CID block of
//! kernel/sched/sched.h.

use kmodel_harness::prelude::*;

use super::design::{Ablation, Design};
use super::sys::Sys;

/// `MM_CID_UNSET`: no CID.
pub const MM_CID_UNSET: u32 = 1 << 31;
/// `MM_CID_ONCPU`: the value is owned by the CPU; a task holding it only borrows it.
pub const MM_CID_ONCPU: u32 = 1 << 30;
/// `MM_CID_TRANSIT`: temporarily owned by a running task during a mode transition.
pub const MM_CID_TRANSIT: u32 = 1 << 29;

/// `cid_on_cpu()`.
pub fn cid_on_cpu(cid: u32) -> bool {
    cid & MM_CID_ONCPU != 0
}
/// `cid_in_transit()`.
pub fn cid_in_transit(cid: u32) -> bool {
    cid & MM_CID_TRANSIT != 0
}
/// `cpu_cid_to_cid()`: clear ONCPU only.
pub fn cpu_cid_to_cid(cid: u32) -> u32 {
    cid & !MM_CID_ONCPU
}
/// `cid_to_cpu_cid()`: set ONCPU.
pub fn cid_to_cpu_cid(cid: u32) -> u32 {
    cid | MM_CID_ONCPU
}
/// `cid_to_transit_cid()`: set TRANSIT.
pub fn cid_to_transit_cid(cid: u32) -> u32 {
    cid | MM_CID_TRANSIT
}
/// `cid_from_transit_cid()`: clear TRANSIT only.
pub fn cid_from_transit_cid(cid: u32) -> u32 {
    cid & !MM_CID_TRANSIT
}
/// `cid_on_task()`: none of ONCPU, TRANSIT, UNSET set.
pub fn cid_on_task(cid: u32) -> bool {
    cid < MM_CID_TRANSIT
}
/// `task_mm_cid()`: the value user space sees through rseq (ONCPU and TRANSIT masked off).
pub fn task_cid(cid: u32) -> u32 {
    cid & !(MM_CID_ONCPU | MM_CID_TRANSIT)
}

/// Human-readable encoded CID for timelines: `3`, `3|ONCPU`, `3|TRANSIT`, `UNSET`.
pub fn fmt_cid(cid: u32) -> String {
    if cid == MM_CID_UNSET {
        return "UNSET".into();
    }
    let mut s = format!("{}", cid & !(MM_CID_UNSET | MM_CID_ONCPU | MM_CID_TRANSIT));
    if cid & MM_CID_UNSET != 0 {
        s.push_str("|UNSET");
    }
    if cid_on_cpu(cid) {
        s.push_str("|ONCPU");
    }
    if cid_in_transit(cid) {
        s.push_str("|TRANSIT");
    }
    s
}

/// `mm->mm_cid.mode` decoded for timelines.
pub fn fmt_mode(mode: u32) -> &'static str {
    match (cid_on_cpu(mode), cid_in_transit(mode)) {
        (false, false) => "per-task",
        (false, true) => "TRANSIT (per-CPU -> per-task)",
        (true, false) => "ONCPU (per-CPU)",
        (true, true) => "ONCPU|TRANSIT (per-task -> per-CPU)",
    }
}

/// `READ_ONCE(mm->mm_cid.mode)`. As posted in V3 the state was two words, `percpu` and
/// `transit`, read with two separate loads (no ordering between them).
pub fn read_mode(sys: &Sys) -> u32 {
    let mc = &sys.mm_cid;
    match sys.design {
        Design::V3 => {
            let percpu = mc.percpu.load(Ordering::Relaxed);
            let transit = mc.transit.load(Ordering::Relaxed);
            (if percpu != 0 { MM_CID_ONCPU } else { 0 }) | transit
        }
        _ => mc.mode.load(Ordering::Relaxed),
    }
}

/// `mm_drop_cid()`: `clear_bit(cid, mm_cidmask(mm))` with no range check of its own.
pub fn mm_drop_cid(sys: &Sys, cid: u32) {
    ev!("mm_drop_cid", "clear_bit({}, mm_cidmask)", fmt_cid(cid));
    sys.cidmask.clear_bit(cid as usize);
}

/// `mm_unset_cid_on_task()`: UNSET the task's CID, dropping it if the task owned it.
pub fn mm_unset_cid_on_task(sys: &Sys, t: usize) {
    let task = &sys.tasks[t];
    let cid = task.cid.load(Ordering::Relaxed);
    task.cid.store(MM_CID_UNSET, Ordering::Relaxed);
    ev!(
        "mm_unset_cid_on_task",
        "{}->mm_cid.cid {} -> UNSET",
        task.name,
        fmt_cid(cid)
    );
    if cid_on_task(cid) {
        mm_drop_cid(sys, cid);
    }
}

/// `mm_drop_cid_on_cpu()`: strip ONCPU in the slot and drop the number. Mainline tests ONCPU
/// first; V3 (and v6.19.0) did not.
pub fn mm_drop_cid_on_cpu(sys: &Sys, cpu: usize) {
    let pcp = &sys.mm_cid.pcpu[cpu];
    let c = pcp.load(Ordering::Relaxed);
    if matches!(sys.design, Design::V3 | Design::V6190) || cid_on_cpu(c) {
        let bare = cpu_cid_to_cid(c);
        pcp.store(bare, Ordering::Relaxed);
        ev!(
            "mm_drop_cid_on_cpu",
            "CPU{cpu} slot {} -> {}",
            fmt_cid(c),
            fmt_cid(bare)
        );
        mm_drop_cid(sys, bare);
    }
}

/// `__mm_get_cid()`: first zero bit below `max_cids`, claimed with `test_and_set_bit()`.
#[allow(non_snake_case)]
pub fn __mm_get_cid(sys: &Sys, max_cids: u32) -> u32 {
    let cid = sys.cidmask.find_first_zero_bit(max_cids as usize) as u32;
    if cid >= max_cids {
        return MM_CID_UNSET;
    }
    if sys.ablation == Ablation::NonatomicGetCid {
        // ablation: test_bit() + __set_bit(), "protected" by the caller's own rq lock
        if sys.cidmask.test_bit(cid as usize) {
            return MM_CID_UNSET;
        }
        sys.cidmask.__set_bit(cid as usize);
    } else if sys.cidmask.test_and_set_bit(cid as usize) {
        return MM_CID_UNSET;
    }
    ev!(
        "__mm_get_cid",
        "test_and_set_bit({cid}) won (limit {max_cids})"
    );
    cid
}

/// `mm_get_cid()`: one try below `max_cids`, then an unbounded `cpu_relax()` retry over
/// `num_possible_cpus()` — while the caller holds its rq lock (or the mm's mutex + lock).
/// A hopeless spin is reported as `no-livelock`; the model then returns UNSET and carries on.
pub fn mm_get_cid(sys: &Sys) -> u32 {
    let max = sys.mm_cid.max_cids.load(Ordering::Relaxed);
    let mut cid = __mm_get_cid(sys, max);
    if cid == MM_CID_UNSET && sys.ablation == Ablation::GetCidNoRetry {
        ev!(
            "mm_get_cid",
            "no free CID below max_cids={max}: give up (ablation)"
        );
        return MM_CID_UNSET;
    }
    if cid == MM_CID_UNSET {
        ev!(
            "mm_get_cid",
            "no free CID below max_cids={max}: spinning (cpu_relax)"
        );
        let mut s = Spinner::new("mm_get_cid");
        while cid == MM_CID_UNSET {
            if !s.relax() {
                return MM_CID_UNSET;
            }
            cid = __mm_get_cid(sys, sys.nr_possible);
        }
    }
    cid
}

/// `mm_cid_converge()`: move `orig_cid` below `max_cids` if a lower one is free.
pub fn mm_cid_converge(sys: &Sys, orig_cid: u32, max_cids: u32) -> u32 {
    let cid = cpu_cid_to_cid(orig_cid);
    if cid < max_cids {
        return orig_cid;
    }
    let new_cid = __mm_get_cid(sys, max_cids);
    if new_cid != MM_CID_UNSET {
        mm_drop_cid(sys, cid);
        ev!("mm_cid_converge", "{} -> {new_cid}", fmt_cid(orig_cid));
        return new_cid | (orig_cid & MM_CID_ONCPU);
    }
    orig_cid
}

/// `mm_cid_update_task_cid()`.
pub fn mm_cid_update_task_cid(sys: &Sys, t: usize, cid: u32) {
    let task = &sys.tasks[t];
    if task.cid.load(Ordering::Relaxed) != cid {
        task.cid.store(cid, Ordering::Relaxed);
        ev!(
            "mm_cid_update_task_cid",
            "{}->mm_cid.cid = {}",
            task.name,
            fmt_cid(cid)
        );
    }
}

/// `mm_cid_update_pcpu_cid()`: this CPU's slot (rq lock held).
pub fn mm_cid_update_pcpu_cid(sys: &Sys, cpu: usize, cid: u32) {
    sys.mm_cid.pcpu[cpu].store(cid, Ordering::Relaxed);
    ev!("mm_cid_update_pcpu_cid", "CPU{cpu} slot = {}", fmt_cid(cid));
}

/// `mm_cid_from_cpu()`: schedule-in in per-CPU mode (or task->CPU transition).
pub fn mm_cid_from_cpu(sys: &Sys, cpu: usize, t: usize, cpu_cid: u32, mode: u32) {
    let mut cpu_cid = cpu_cid;
    let max_cids = sys.mm_cid.max_cids.load(Ordering::Relaxed);
    let tcid = sys.tasks[t].cid.load(Ordering::Relaxed);
    ev!(
        "mm_cid_from_cpu",
        "task {} slot {} max_cids {max_cids}",
        fmt_cid(tcid),
        fmt_cid(cpu_cid)
    );
    if cid_on_cpu(cpu_cid & tcid) {
        if cpu_cid_to_cid(cpu_cid) < max_cids {
            mm_cid_update_task_cid(sys, t, cpu_cid);
            return;
        }
        cpu_cid = mm_cid_converge(sys, cpu_cid, max_cids);
    } else {
        // Hand over or drop the task owned CID
        if cid_on_task(tcid) {
            if cid_on_cpu(cpu_cid) {
                mm_unset_cid_on_task(sys, t);
            } else {
                cpu_cid = cid_to_cpu_cid(tcid);
            }
        }
        // Still nothing, allocate a new one
        if !cid_on_cpu(cpu_cid) {
            cpu_cid = cid_to_cpu_cid(mm_get_cid(sys));
        }
        // Handle the transition mode flag if required (mainline only)
        if sys.design != Design::V3 && mode & MM_CID_TRANSIT != 0 {
            cpu_cid = cpu_cid_to_cid(cpu_cid) | MM_CID_TRANSIT;
        }
    }
    mm_cid_update_pcpu_cid(sys, cpu, cpu_cid);
    mm_cid_update_task_cid(sys, t, cpu_cid);
}

/// `mm_cid_from_task()`: schedule-in in per-task mode (or CPU->task transition).
pub fn mm_cid_from_task(sys: &Sys, cpu: usize, t: usize, cpu_cid: u32, mode: u32) {
    let max_cids = sys.mm_cid.max_cids.load(Ordering::Relaxed);
    let mut tcid = sys.tasks[t].cid.load(Ordering::Relaxed);
    ev!(
        "mm_cid_from_task",
        "task {} slot {} max_cids {max_cids}",
        fmt_cid(tcid),
        fmt_cid(cpu_cid)
    );
    if cid_on_task(tcid | cpu_cid) {
        if tcid < max_cids {
            mm_cid_update_pcpu_cid(sys, cpu, tcid);
            return;
        }
        tcid = mm_cid_converge(sys, tcid, max_cids);
    } else {
        // Hand over or drop the CPU owned CID
        if cid_on_cpu(cpu_cid) {
            if cid_on_task(tcid) {
                mm_drop_cid_on_cpu(sys, cpu);
            } else {
                tcid = cpu_cid_to_cid(cpu_cid);
            }
        }
        // Still nothing, allocate a new one
        if !cid_on_task(tcid) {
            tcid = mm_get_cid(sys);
        }
        // Set the transition mode flag if required
        tcid |= mode & MM_CID_TRANSIT;
    }
    mm_cid_update_pcpu_cid(sys, cpu, tcid);
    mm_cid_update_task_cid(sys, t, tcid);
}

/// `mm_cid_schedin()`.
pub fn mm_cid_schedin(sys: &Sys, cpu: usize, next: usize) {
    let task = &sys.tasks[next];
    if task.active.load(Ordering::Relaxed) == 0 {
        return;
    }
    let cpu_cid = sys.mm_cid.pcpu[cpu].load(Ordering::Relaxed);
    let mode = read_mode(sys);
    ev!(
        "mm_cid_schedin",
        "{} in, mode {}",
        task.name,
        fmt_mode(mode)
    );
    if !cid_on_cpu(mode) {
        mm_cid_from_task(sys, cpu, next, cpu_cid, mode);
    } else {
        mm_cid_from_cpu(sys, cpu, next, cpu_cid, mode);
    }
}

/// `mm_cid_schedout()`: only acts on a TRANSIT CID. Mainline keeps it (as the CPU's or the
/// task's) once the transition is over and it is below max_cids; V3 always dropped it.
pub fn mm_cid_schedout(sys: &Sys, cpu: usize, prev: usize) {
    let task = &sys.tasks[prev];
    let pcid = task.cid.load(Ordering::Relaxed);
    if !cid_in_transit(pcid) || sys.ablation == Ablation::NoSchedoutDrop {
        return;
    }
    if sys.design == Design::V3 {
        ev!(
            "mm_cid_schedout",
            "{} out with {}: drop",
            task.name,
            fmt_cid(pcid)
        );
        mm_drop_cid(sys, cid_from_transit_cid(pcid));
        task.cid.store(MM_CID_UNSET, Ordering::Relaxed);
        return;
    }
    let mode = read_mode(sys);
    let mut cid = cid_from_transit_cid(pcid);
    if !cid_in_transit(mode) && cid < sys.mm_cid.max_cids.load(Ordering::Relaxed) {
        if cid_on_cpu(mode) {
            cid = cid_to_cpu_cid(cid);
        }
        ev!(
            "mm_cid_schedout",
            "{} out, transition over: keep {}",
            task.name,
            fmt_cid(cid)
        );
        mm_cid_update_pcpu_cid(sys, cpu, cid);
        task.cid.store(cid, Ordering::Relaxed);
    } else {
        ev!(
            "mm_cid_schedout",
            "{} out with {}: drop",
            task.name,
            fmt_cid(pcid)
        );
        mm_drop_cid(sys, cid);
        task.cid.store(MM_CID_UNSET, Ordering::Relaxed);
    }
}

/// `mm_cid_switch_to()`: called from `context_switch()` with this CPU's rq lock held.
pub fn mm_cid_switch_to(sys: &Sys, cpu: usize, prev: Option<usize>, next: Option<usize>) {
    if let Some(p) = prev {
        if sys.tasks[p].mm.load(Ordering::Relaxed) {
            mm_cid_schedout(sys, cpu, p);
        }
    }
    if let Some(n) = next {
        if sys.tasks[n].mm.load(Ordering::Relaxed) {
            mm_cid_schedin(sys, cpu, n);
        }
    }
}
