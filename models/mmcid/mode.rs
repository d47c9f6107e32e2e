//! Sizing, mode switch and the two fixup walks: kernel/sched/core.c `__mm_update_max_cids()`
//! .. `mm_cid_fixup_tasks_to_cpus()`.

use kmodel_harness::prelude::*;

use super::cid::{
    cid_in_transit, cid_on_cpu, cid_on_task, cid_to_cpu_cid, cid_to_transit_cid, cpu_cid_to_cid,
    fmt_cid, fmt_mode, mm_drop_cid_on_cpu, mm_unset_cid_on_task, read_mode, MM_CID_ONCPU,
    MM_CID_TRANSIT, MM_CID_UNSET,
};
use super::design::Design;
use super::sys::{MmLocked, Sys};

/// `__mm_update_max_cids()` formula: `opt = min(A, U)`; `min(opt + opt/4, N)`.
pub fn calc_max_cids(nr_cpus_allowed: u32, users: u32, n: u32) -> u32 {
    let opt = nr_cpus_allowed.min(users);
    (opt + opt / 4).min(n)
}

/// `mm_cid_calc_pcpu_thrs()` formula: `max(min(opt - opt/4, N/2), 1)`; as posted in V3 (and
/// V5) without the `max(.., 1)` clamp.
pub fn calc_pcpu_thrs(nr_cpus_allowed: u32, users: u32, n: u32, clamp: bool) -> u32 {
    let opt = nr_cpus_allowed.min(users);
    let t = (opt - opt / 4).min(n / 2);
    if clamp {
        t.max(1)
    } else {
        t
    }
}

/// `__mm_update_max_cids()`: caller holds `mm->mm_cid.lock`.
#[allow(non_snake_case)]
pub fn __mm_update_max_cids(sys: &Sys, mc: &MmLocked) {
    let users = sys.mm_cid.users.load(Ordering::Relaxed);
    let max = calc_max_cids(mc.nr_cpus_allowed, users, sys.nr_possible);
    sys.mm_cid.max_cids.store(max, Ordering::Relaxed);
    ev!(
        "__mm_update_max_cids",
        "users {users} nr_cpus_allowed {} -> WRITE_ONCE(max_cids, {max})",
        mc.nr_cpus_allowed
    );
}

/// `mm_cid_calc_pcpu_thrs()`.
pub fn mm_cid_calc_pcpu_thrs(sys: &Sys, mc: &MmLocked) -> u32 {
    let users = sys.mm_cid.users.load(Ordering::Relaxed);
    calc_pcpu_thrs(
        mc.nr_cpus_allowed,
        users,
        sys.nr_possible,
        sys.design != Design::V3,
    )
}

/// `mm_update_max_cids()`: caller holds `lock`; returns true when the mode flipped.
/// `Design::ThrsRecompute` is the alternative behind Mathieu's question: recompute
/// `pcpu_thrs` before comparing, as `mm_update_cpus_allowed()` does.
pub fn mm_update_max_cids(sys: &Sys, mc: &mut MmLocked) -> bool {
    let m = &sys.mm_cid;
    let mode = read_mode(sys);
    let percpu = cid_on_cpu(mode);
    mc.update_deferred = false;
    __mm_update_max_cids(sys, mc);
    let users = m.users.load(Ordering::Relaxed);
    let max_cids = m.max_cids.load(Ordering::Relaxed);
    if !percpu {
        if users > max_cids {
            mc.pcpu_thrs = mm_cid_calc_pcpu_thrs(sys, mc);
        }
    } else {
        if sys.design == Design::ThrsRecompute {
            mc.pcpu_thrs = mm_cid_calc_pcpu_thrs(sys, mc);
            ev!(
                "mm_update_max_cids",
                "recompute pcpu_thrs = {}",
                mc.pcpu_thrs
            );
        }
        if users < mc.pcpu_thrs {
            mc.pcpu_thrs = 0;
        }
    }
    if percpu == (mc.pcpu_thrs != 0) {
        return false;
    }
    if !percpu {
        // Ghost: the switch-back threshold the changelog says is recorded at this switch.
        sys.ghost_record_thrs(calc_pcpu_thrs(
            mc.nr_cpus_allowed,
            users,
            sys.nr_possible,
            true,
        ));
    }
    match sys.design {
        Design::V3 => {
            // As posted: transit only set when switching back to per task, no barriers.
            if percpu {
                m.transit.store(MM_CID_TRANSIT, Ordering::Relaxed);
            }
            m.percpu.store(u32::from(!percpu), Ordering::Relaxed);
        }
        Design::DirectHandover => {
            m.mode.store(mode ^ MM_CID_ONCPU, Ordering::Relaxed);
            smp_mb();
        }
        _ => {
            m.mode
                .store(mode ^ (MM_CID_TRANSIT | MM_CID_ONCPU), Ordering::Relaxed);
            smp_mb();
        }
    }
    ev!(
        "mm_update_max_cids",
        "users {users} max_cids {max_cids} pcpu_thrs {}: flip mode -> {}",
        mc.pcpu_thrs,
        if percpu { "per-task" } else { "per-CPU" }
    );
    true
}

/// `mm_update_cpus_allowed()`: affinity change, called with the task's rq lock held.
pub fn mm_update_cpus_allowed(sys: &Sys, new_mask: u64) {
    let m = &sys.mm_cid;
    if m.users.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut mc = m.lock.lock();
    mc.cpus_allowed |= new_mask;
    let weight = mc.cpus_allowed.count_ones();
    if weight == mc.nr_cpus_allowed {
        return;
    }
    mc.nr_cpus_allowed = weight;
    ev!(
        "mm_update_cpus_allowed",
        "mm_cpus_allowed weight -> {weight}"
    );
    __mm_update_max_cids(sys, &mc);
    if !cid_on_cpu(read_mode(sys)) {
        return;
    }
    // Adjust the threshold to the wider set
    mc.pcpu_thrs = mm_cid_calc_pcpu_thrs(sys, &mc);
    sys.ghost_record_thrs(calc_pcpu_thrs(
        mc.nr_cpus_allowed,
        m.users.load(Ordering::Relaxed),
        sys.nr_possible,
        true,
    ));
    if m.users.load(Ordering::Relaxed) >= mc.pcpu_thrs {
        return;
    }
    if mc.update_deferred {
        return;
    }
    mc.update_deferred = true;
    // irq_work_queue(&mm->mm_cid.irq_work) -> schedule_work(): run later by a kworker
    m.work_queued.store(true, Ordering::Relaxed);
    ev!(
        "mm_update_cpus_allowed",
        "queue deferred switch back (irq_work)"
    );
}

/// `mm_cid_complete_transit()`: `smp_mb(); WRITE_ONCE(mode, final)`. V3: `transit = 0` with
/// no barrier, and only at the end of the CPU->task walk.
pub fn mm_cid_complete_transit(sys: &Sys, mode: u32) {
    let m = &sys.mm_cid;
    match sys.design {
        Design::V3 => {
            if mode == 0 {
                m.transit.store(0, Ordering::Relaxed);
                ev!("mm_cid_fixup_cpus_to_tasks", "WRITE_ONCE(transit, 0)");
            }
        }
        _ => {
            smp_mb();
            m.mode.store(mode, Ordering::Relaxed);
            ev!(
                "mm_cid_complete_transit",
                "smp_mb(); mode = {}",
                fmt_mode(mode)
            );
        }
    }
}

/// `mm_cid_transit_to_task()`: a CPU-owned CID the task borrows becomes `bare|TRANSIT`.
/// direct-handover: becomes the task's plain CID at once.
pub fn mm_cid_transit_to_task(sys: &Sys, t: usize, cpu: usize) {
    let task = &sys.tasks[t];
    let c = task.cid.load(Ordering::Relaxed);
    if cid_on_cpu(c) {
        let mut cid = cpu_cid_to_cid(c);
        if sys.design != Design::DirectHandover {
            cid = cid_to_transit_cid(cid);
        }
        task.cid.store(cid, Ordering::Relaxed);
        sys.mm_cid.pcpu[cpu].store(cid, Ordering::Relaxed);
        ev!(
            "mm_cid_transit_to_task",
            "{} {} -> {} (CPU{cpu} slot too)",
            task.name,
            fmt_cid(c),
            fmt_cid(cid)
        );
    }
}

/// `mm_cid_transit_to_cpu()` (mainline): a task-owned CID becomes `c|TRANSIT`.
/// V3 / direct-handover: `mm_cid_transfer_to_cpu()`, the CID becomes the CPU's (`c|ONCPU`).
pub fn mm_cid_transit_to_cpu(sys: &Sys, t: usize, cpu: usize) {
    let task = &sys.tasks[t];
    let c = task.cid.load(Ordering::Relaxed);
    if cid_on_task(c) {
        let cid = match sys.design {
            Design::V3 | Design::DirectHandover => cid_to_cpu_cid(c),
            _ => cid_to_transit_cid(c),
        };
        task.cid.store(cid, Ordering::Relaxed);
        sys.mm_cid.pcpu[cpu].store(cid, Ordering::Relaxed);
        ev!(
            "mm_cid_transit_to_cpu",
            "{} {} -> {} (CPU{cpu} slot too)",
            task.name,
            fmt_cid(c),
            fmt_cid(cid)
        );
    }
}

/// `mm_cid_fixup_cpus_to_tasks()`: walk every possible CPU under its rq lock; caller holds
/// `mutex`.
pub fn mm_cid_fixup_cpus_to_tasks(sys: &Sys) {
    for cpu in 0..sys.nr_possible as usize {
        let rq = sys.rq[cpu].lock();
        let pcp = &sys.mm_cid.pcpu[cpu];
        let c = pcp.load(Ordering::Relaxed);
        let cur = rq.curr.filter(|&t| {
            sys.tasks[t].mm.load(Ordering::Relaxed)
                && sys.tasks[t].active.load(Ordering::Relaxed) != 0
        });
        ev!(
            "mm_cid_fixup_cpus_to_tasks",
            "CPU{cpu}: slot {}",
            fmt_cid(c)
        );
        if cid_on_cpu(c) {
            match cur {
                Some(t) => mm_cid_transit_to_task(sys, t, cpu),
                None => mm_drop_cid_on_cpu(sys, cpu),
            }
        } else if let Some(t) = cur {
            let task = &sys.tasks[t];
            let cid = task.cid.load(Ordering::Relaxed);
            // Mainline also skips UNSET; V3 tested TRANSIT only. direct-handover: nothing to mark.
            let mark = match sys.design {
                Design::V3 | Design::V6190 => !cid_in_transit(cid),
                Design::DirectHandover => false,
                _ => cid != MM_CID_UNSET && !cid_in_transit(cid),
            };
            if mark {
                let cid = cid_to_transit_cid(cid);
                task.cid.store(cid, Ordering::Relaxed);
                pcp.store(cid, Ordering::Relaxed);
                ev!(
                    "mm_cid_fixup_cpus_to_tasks",
                    "{} running: mark {}",
                    task.name,
                    fmt_cid(cid)
                );
            }
        }
        drop(rq);
    }
    mm_cid_complete_transit(sys, 0);
}

/// `task_rq_lock()`: lock the rq the task is on, retrying if it migrated meanwhile.
pub fn task_rq_lock(sys: &Sys, t: usize) -> (usize, MutexGuard<'_, super::sys::Rq>) {
    loop {
        let cpu = sys.tasks[t].cpu.load(Ordering::Relaxed);
        let rq = sys.rq[cpu].lock();
        if sys.tasks[t].cpu.load(Ordering::Relaxed) == cpu {
            return (cpu, rq);
        }
    }
}

/// `mm_cid_fixup_task_to_cpu()`: under `task_rq_lock()`, a running task's CID becomes
/// `c|TRANSIT` (V3 / direct-handover: the CPU's), a sleeping task's is dropped. Mainline tests
/// nothing else: it is only called for `user_list` members. As posted in V3 it returned early
/// for `t->mm != mm`, in v6.19.0 for `!t->mm_cid.active` (both walked the thread list).
pub fn mm_cid_fixup_task_to_cpu(sys: &Sys, t: usize) {
    let task = &sys.tasks[t];
    ev!("mm_cid_fixup_task_to_cpu", "task_rq_lock({})", task.name);
    let (cpu, rq) = task_rq_lock(sys, t);
    let skip = match sys.design {
        Design::V3 => !task.mm.load(Ordering::Relaxed),
        Design::V6190 => task.active.load(Ordering::Relaxed) == 0,
        _ => false,
    };
    if skip {
        return;
    }
    if cid_on_task(task.cid.load(Ordering::Relaxed)) {
        if rq.curr == Some(t) {
            mm_cid_transit_to_cpu(sys, t, cpu);
        } else {
            mm_unset_cid_on_task(sys, t);
        }
    }
}

/// `mm_cid_fixup_tasks_to_cpus()`: caller holds `mutex`. Mainline walks `user_list` (newest
/// user first) skipping `current`; V3 and v6.19.0 walked the thread list under
/// `guard(rcu)()` (`for_other_threads()`; here: every task of the mm in creation order) and
/// filtered in [`mm_cid_fixup_task_to_cpu`]. Then completes.
pub fn mm_cid_fixup_tasks_to_cpus(sys: &Sys, current: usize) {
    let thread_list = matches!(sys.design, Design::V3 | Design::V6190);
    if thread_list {
        rcu_read_lock(&sys.rcu);
    }
    let walk: Vec<usize> = if thread_list {
        (0..sys.tasks.len())
            .filter(|&t| sys.tasks[t].mm.load(Ordering::Relaxed))
            .collect()
    } else {
        sys.user_list().clone()
    };
    for t in walk {
        if t != current {
            mm_cid_fixup_task_to_cpu(sys, t);
        }
    }
    if thread_list {
        rcu_read_unlock(&sys.rcu);
    }
    mm_cid_complete_transit(sys, MM_CID_ONCPU);
}
