//! fork / exit / execve hooks and the deferred mode switch: kernel/sched/core.c
//! `sched_mm_cid_add_user()` .. `mm_cid_work_fn()`.

use kmodel_harness::prelude::*;

use super::cid::{
    cid_from_transit_cid, cid_on_cpu, fmt_cid, mm_drop_cid_on_cpu, mm_get_cid,
    mm_unset_cid_on_task, read_mode,
};
use super::mode::{
    mm_cid_fixup_cpus_to_tasks, mm_cid_fixup_tasks_to_cpus, mm_cid_transit_to_cpu,
    mm_cid_transit_to_task, mm_update_max_cids,
};
use super::sys::{MmLocked, Sys};

/// `sched_mm_cid_add_user()`: caller holds `mutex` and `lock`. Sets `active` and
/// `hlist_add_head()`s the task on `user_list` (V3 / v6.19.0 had no list: harmless there).
pub fn sched_mm_cid_add_user(sys: &Sys, mc: &mut MmLocked, t: usize) -> bool {
    sys.tasks[t].active.store(1, Ordering::Relaxed);
    sys.user_list().insert(0, t);
    let users = sys.mm_cid.users.load(Ordering::Relaxed) + 1;
    sys.mm_cid.users.store(users, Ordering::Relaxed);
    ev!(
        "sched_mm_cid_add_user",
        "{} active, users -> {users}",
        sys.tasks[t].name
    );
    mm_update_max_cids(sys, mc)
}

/// `sched_mm_cid_fork()`: `current` (running on `this_cpu`) adds `t` as a CID user of its mm.
/// Mainline calls it from `sched_post_fork()`, V3 from `copy_mm()`; in both the child cannot
/// run before it returns, and its UNSET CID makes the task walk skip it, so both are the same here.
pub fn sched_mm_cid_fork(sys: &Sys, this_cpu: usize, current: usize, t: usize) {
    let m = &sys.mm_cid;
    let _mutex = m.mutex.lock();
    ev!(
        "sched_mm_cid_fork",
        "mutex_lock(mm_cid.mutex) for {}",
        sys.tasks[t].name
    );
    let percpu;
    {
        let mut mc = m.lock.lock();
        if m.users.load(Ordering::Relaxed) == 0 {
            // First user (new process / execve)
            sched_mm_cid_add_user(sys, &mut mc, t);
            let cid = mm_get_cid(sys);
            sys.tasks[t].cid.store(cid, Ordering::Relaxed);
            m.pcpu[this_cpu].store(cid, Ordering::Relaxed);
            ev!(
                "sched_mm_cid_fork",
                "first user {} gets {}",
                sys.tasks[t].name,
                fmt_cid(cid)
            );
            return;
        }
        if !sched_mm_cid_add_user(sys, &mut mc, t) {
            if !cid_on_cpu(read_mode(sys)) {
                let cid = mm_get_cid(sys);
                sys.tasks[t].cid.store(cid, Ordering::Relaxed);
                ev!(
                    "sched_mm_cid_fork",
                    "{} gets {}",
                    sys.tasks[t].name,
                    fmt_cid(cid)
                );
            }
            return;
        }
        // The mode changed: the forker hands its own CID over first.
        percpu = cid_on_cpu(read_mode(sys));
        if !percpu {
            mm_cid_transit_to_task(sys, current, this_cpu);
        } else {
            mm_cid_transit_to_cpu(sys, current, this_cpu);
        }
    }
    if percpu {
        mm_cid_fixup_tasks_to_cpus(sys, current);
    } else {
        mm_cid_fixup_cpus_to_tasks(sys);
        let cid = mm_get_cid(sys);
        sys.tasks[t].cid.store(cid, Ordering::Relaxed);
        ev!(
            "sched_mm_cid_fork",
            "{} gets {}",
            sys.tasks[t].name,
            fmt_cid(cid)
        );
    }
}

/// `sched_mm_cid_remove_user()`: caller holds `mutex` and `lock`. Clears `active`, drops the
/// task's CID and takes it off `user_list` (`hlist_del_init()`).
pub fn sched_mm_cid_remove_user(sys: &Sys, mc: &mut MmLocked, t: usize) -> bool {
    let task = &sys.tasks[t];
    task.active.store(0, Ordering::Relaxed);
    // Clear the transition bit
    let c = task.cid.load(Ordering::Relaxed);
    task.cid.store(cid_from_transit_cid(c), Ordering::Relaxed);
    mm_unset_cid_on_task(sys, t);
    sys.user_list().retain(|&u| u != t); // hlist_del_init()
    let users = sys.mm_cid.users.load(Ordering::Relaxed) - 1;
    sys.mm_cid.users.store(users, Ordering::Relaxed);
    ev!(
        "sched_mm_cid_remove_user",
        "{} inactive, users -> {users}",
        task.name
    );
    mm_update_max_cids(sys, mc)
}

/// `__sched_mm_cid_exit()`: remove the user; true if that flipped the mode to per-task.
#[allow(non_snake_case)]
pub fn __sched_mm_cid_exit(sys: &Sys, mc: &mut MmLocked, t: usize) -> bool {
    if !sched_mm_cid_remove_user(sys, mc, t) {
        return false;
    }
    // An exit can only switch back to per-task mode (WARN_ON_ONCE in the kernel)
    !cid_on_cpu(read_mode(sys))
}

/// `sched_mm_cid_exit()`: `t == current` running on `this_cpu` (exit, execve).
pub fn sched_mm_cid_exit(sys: &Sys, this_cpu: usize, t: usize) {
    let m = &sys.mm_cid;
    let task = &sys.tasks[t];
    if !task.mm.load(Ordering::Relaxed) || task.active.load(Ordering::Relaxed) == 0 {
        return;
    }
    {
        let _mutex = m.mutex.lock();
        ev!(
            "sched_mm_cid_exit",
            "mutex_lock(mm_cid.mutex) for {}",
            task.name
        );
        if m.users.load(Ordering::Relaxed) > 1 {
            {
                let mut mc = m.lock.lock();
                if !__sched_mm_cid_exit(sys, &mut mc, t) {
                    return;
                }
                match sys.design {
                    // As posted in V3: hand the CPU's CID to current in transit mode
                    super::design::Design::V3 => mm_cid_transit_to_task(sys, t, this_cpu),
                    _ => mm_drop_cid_on_cpu(sys, this_cpu),
                }
            }
            mm_cid_fixup_cpus_to_tasks(sys);
            return;
        }
        // Last user
        let mut mc = m.lock.lock();
        mm_cid_transit_to_task(sys, t, this_cpu);
        // Ignore mode change. There is nothing to do.
        sched_mm_cid_remove_user(sys, &mut mc, t);
    }
    // irq_work_sync(); cancel_work_sync(): no deferred work may outlive the last user
    m.work_queued.store(false, Ordering::Relaxed);
}

/// `sched_mm_cid_before_execve()`.
pub fn sched_mm_cid_before_execve(sys: &Sys, this_cpu: usize, t: usize) {
    sched_mm_cid_exit(sys, this_cpu, t);
}

/// `sched_mm_cid_after_execve()`: `if (current->mm) sched_mm_cid_fork(current)` (V3 called the
/// fork hook unconditionally; only kernel threads without an mm tell the two apart, which this
/// model does not have). Only the failed-execve case (back on the same mm) is modelled.
pub fn sched_mm_cid_after_execve(sys: &Sys, this_cpu: usize, t: usize) {
    if sys.tasks[t].mm.load(Ordering::Relaxed) {
        sched_mm_cid_fork(sys, this_cpu, t, t);
    }
}

/// `mm_cid_work_fn()`: the deferred switch back queued by `mm_update_cpus_allowed()`.
pub fn mm_cid_work_fn(sys: &Sys) {
    let m = &sys.mm_cid;
    let _mutex = m.mutex.lock();
    if m.users.load(Ordering::Relaxed) == 0 {
        return;
    }
    {
        let mut mc = m.lock.lock();
        if !mc.update_deferred {
            return;
        }
        if !mm_update_max_cids(sys, &mut mc) {
            return;
        }
        if cid_on_cpu(read_mode(sys)) {
            return;
        }
    }
    mm_cid_fixup_cpus_to_tasks(sys);
}
