//! The killer: process_mrelease(), the expedited kill, LMKD's sequence (mm/oom_kill.c).

use kmodel_harness::prelude::*;

use super::design::Design;
use super::exit::send_sigkill;
use super::kernel::{
    errno_name, mmdrop, mmgrab, no_reap_ret, will_free_mem, Ctx, Sys, TaskLocked, EAGAIN, ESRCH,
    MMF_OOM_SKIP, MMF_UNSTABLE, PROCESS_MRELEASE_REAP_KILL,
};
use super::properties::{
    KILLER_NOT_BLOCKED_BY_READER, NO_SPURIOUS_ESRCH, NO_USE_AFTER_PUT, REAPED_ON_SUCCESS,
};

// ---------------------------------------------------------------------------------------------
// MMF_OOM_SKIP and who set it (ghost record for the reaped-on-success message)

impl Sys {
    /// `mm_flags_set(MMF_OOM_SKIP, mm)` by `by`; the ghost records the first setter and the
    /// pages still resident at that moment.
    pub fn set_oom_skip(&self, by: &str) {
        self.mm.mm_flags_set(MMF_OOM_SKIP);
        let left = self.mm.resident();
        let mut g = self.oom_skip_by.lock();
        if g.is_none() {
            *g = Some((by.to_string(), left));
        }
    }

    /// Who set `MMF_OOM_SKIP` first (ghost) and how the resident pages changed since, or
    /// that nobody has set it.
    pub fn oom_skip_setter(&self) -> String {
        let g = self.oom_skip_by.lock();
        let now = self.mm.resident();
        match g.clone() {
            None => "MMF_OOM_SKIP is not set".into(),
            Some((by, then)) if now > then => format!(
                "MMF_OOM_SKIP was set by {by} with {then} page(s) resident; {} page(s) were \
                 faulted back in after that",
                now - then
            ),
            Some((by, then)) => {
                format!("MMF_OOM_SKIP was set by {by} with {then} page(s) still resident")
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// mm/oom_kill.c: the killer's reaping

/// `find_lock_task_mm()`: under `rcu_read_lock()`, `for_each_thread()` (the threads still on
/// the thread list), the first whose `->mm` is set, returned with its `task_lock()` held.
pub fn find_lock_task_mm(sys: &Sys) -> Option<MutexGuard<'_, TaskLocked>> {
    rcu_read_lock(&sys.rcu);
    let mut found = None;
    for (tid, t) in sys.task.threads.iter().enumerate() {
        // list_for_each_entry_rcu(): the next thread_node, read with rcu_dereference()
        if !rcu_dereference(&sys.task.listed[tid]) {
            continue;
        }
        let g = t.lock();
        if !sys.task.structs[tid].deref(&format!("find_lock_task_mm(): task_lock(T{})", tid + 1)) {
            continue;
        }
        if g.mm {
            ev!(
                "find_lock_task_mm",
                "T{}: task->mm != NULL (task_lock held)",
                tid + 1
            );
            found = Some(g);
            break;
        }
    }
    rcu_read_unlock(&sys.rcu);
    found
}

/// `pidfd_get_task()` / `get_pid_task()`: under `rcu_read_lock()`, the pid's task (NULL once the
/// zombie was reaped: `hlist_del_rcu()` in `detach_pid()`), and a reference to it.
pub fn pidfd_get_task(sys: &Sys) -> bool {
    rcu_read_lock(&sys.rcu);
    let gone = rcu_dereference(&sys.task.released);
    rcu_read_unlock(&sys.rcu);
    !gone
}

/// How a killer's syscall reached its return value (ghost, for messages).
pub type Why = &'static str;

/// `process_mrelease(pidfd, flags)`. Mainline: `mmgrab()` under `find_lock_task_mm()`'s
/// task_lock, then `reap = task_will_free_mem(p)`, else 0 if `MMF_OOM_SKIP` is set, -EINVAL
/// otherwise. `flags` may be `PROCESS_MRELEASE_REAP_KILL` (design (b), v3: `reap = reap_kill ||
/// task_will_free_mem(p)`, `mmgrab()` only when reaping, then `kill_all_shared_mm()`). Design
/// (c) falls back to `task->exit_mm` when no thread has an mm. Returns the value and how it
/// was reached.
pub fn process_mrelease(sys: &Sys, flags: u32) -> (i32, Why) {
    let reap_kill = flags & PROCESS_MRELEASE_REAP_KILL != 0;
    if !pidfd_get_task(sys) {
        ev!(
            "process_mrelease",
            "pidfd_get_task(): task already reaped: -ESRCH"
        );
        return (-ESRCH, "pidfd_get_task() failed");
    }
    let (t, via_exit_mm) = match find_lock_task_mm(sys) {
        Some(t) => (t, false),
        None => {
            // Design (c): the pidfd's task (the leader) kept its mm in task->exit_mm.
            let leader = sys.task.threads[0].lock();
            if sys.cfg.design == Design::ExitMmPointer && leader.exit_mm {
                ev!(
                    "process_mrelease",
                    "find_lock_task_mm(): NULL; falls back to task->exit_mm"
                );
                (leader, true)
            } else {
                drop(leader);
                ev!(
                    "process_mrelease",
                    "find_lock_task_mm(): no thread has an mm: -ESRCH"
                );
                return (-ESRCH, "find_lock_task_mm() found no thread with an mm");
            }
        }
    };
    if !sys.mm_deref(Ctx::Killer, "process_mrelease") {
        return (-ESRCH, "the mm_struct was already freed");
    }
    if !reap_kill {
        // mainline: mmgrab(mm) before deciding whether to reap
        mmgrab(sys, Ctx::Killer);
    }
    let oom_skip = sys.mm.mm_flags_test(MMF_OOM_SKIP);
    // task_will_free_mem(p); for the exit_mm fallback the task is plainly exiting [D].
    let dying =
        plain_read(&sys.task.group_exit) || (via_exit_mm && plain_read(&sys.task.pf_exiting));
    let reap = reap_kill || will_free_mem(dying, false, oom_skip);
    if !reap {
        drop(t);
        let ret = no_reap_ret(oom_skip);
        ev!(
            "process_mrelease",
            "task_will_free_mem() false: {}",
            errno_name(ret)
        );
        // drop_mm: (only reached without REAP_KILL, which always reaps)
        mmdrop(sys, Ctx::Killer);
        return (
            ret,
            "task_will_free_mem() was false and MMF_OOM_SKIP was already set (\"the work has \
             been done already\"): nothing reaped",
        );
    }
    if reap_kill {
        mmgrab(sys, Ctx::Killer);
    }
    drop(t);
    ev!("process_mrelease", "task_unlock(p)");
    if reap_kill {
        // kill_all_shared_mm(): the victim is the only process sharing the mm.
        ev!(
            "kill_all_shared_mm",
            "victim shares mm: do_pidfd_send_signal_pidns(SIGKILL)"
        );
        send_sigkill(sys);
    }
    mmap_read_lock_killable(sys);
    let (mut ret, mut why) = (
        0,
        "__oom_reap_task_mm() zapped every VMA under mmap_read_lock",
    );
    if sys.mm.mm_flags_test(MMF_OOM_SKIP) {
        why = "MMF_OOM_SKIP was set when tested under mmap_read_lock: nothing reaped";
        ev!(
            "process_mrelease",
            "MMF_OOM_SKIP set under mmap_lock: exit_mmap() did the work"
        );
    } else if !__oom_reap_task_mm(sys) {
        (ret, why) = (-EAGAIN, "__oom_reap_task_mm() failed");
    }
    sys.mm.mmap_lock.up_read();
    ev!("process_mrelease", "mmap_read_unlock(mm)");
    mmdrop(sys, Ctx::Killer);
    (ret, why)
}

/// `mmap_read_lock_killable()` for the killer (never killed itself, so never -EINTR), written
/// as trylock-then-sleep so property 6 can see *why* it would sleep: a stalled reader holds
/// the read lock and a writer queued behind it blocks the killer (writer-preferring rwsem).
/// The wait is measured in the stalled readers' remaining VMA-walk steps.
fn mmap_read_lock_killable(sys: &Sys) {
    if sys.mm.mmap_lock.down_read_trylock() {
        ev!("mmap_read_lock_killable", "got mmap_read_lock(mm)");
        return;
    }
    let mut reader = false;
    let mut left = 0;
    for r in &sys.readers {
        if r.locked.load(Ordering::SeqCst) {
            reader = true;
            left = left.max(r.stall.saturating_sub(r.steps.load(Ordering::SeqCst)));
        }
    }
    let done: u32 = sys
        .readers
        .iter()
        .map(|r| r.steps.load(Ordering::SeqCst))
        .sum();
    ev!(
        "mmap_read_lock_killable",
        "mmap_lock contended: killer sleeps (reader holds read lock: {reader}, {left} reader step(s) left)"
    );
    if reader {
        let budget = sys.cfg.killer_wait_budget;
        check(KILLER_NOT_BLOCKED_BY_READER, left <= budget, || {
            format!(
                "process_mrelease(): mmap_read_lock_killable() sleeps behind the exit_mmap() \
                 writer queued on the stalled procfs reader's mmap_read_lock: the killer waits \
                 for {left} more reader step(s) (budget {budget}) plus the whole teardown"
            )
        });
    }
    sys.mm.mmap_lock.down_read();
    let now: u32 = sys
        .readers
        .iter()
        .map(|r| r.steps.load(Ordering::SeqCst))
        .sum();
    ev!(
        "mmap_read_lock_killable",
        "got mmap_read_lock(mm) after sleeping through {} reader step(s)",
        now - done
    );
}

/// `__oom_reap_task_mm()` (caller holds `mmap_read_lock`): set `MMF_UNSTABLE`, zap every
/// private VMA in reverse order (`mas_for_each_rev()` over `mm->mm_mt`, since v6.17, to meet
/// `exit_mmap()` in the middle). Once `exit_mmap()` destroyed the tree (`__mt_destroy()`) the
/// walk finds no VMA. `zap_vma_for_reaping()` never fails here (no mmu notifiers).
pub fn __oom_reap_task_mm(sys: &Sys) -> bool {
    sys.mm.mm_flags_set(MMF_UNSTABLE);
    ev!("__oom_reap_task_mm", "set MMF_UNSTABLE");
    for i in (0..sys.cfg.nr_vmas).rev() {
        if !read_once(&sys.mm.vmas) {
            ev!("__oom_reap_task_mm", "mas_for_each_rev(): VMA tree empty");
            return true;
        }
        let pt = read_once(&sys.mm.pgtables);
        if !check(NO_USE_AFTER_PUT, pt, || {
            format!("__oom_reap_task_mm: zaps VMA{i} whose page tables free_pgtables() freed")
        }) {
            return true;
        }
        let ptl = sys.mm.ptl.lock();
        let n = sys.mm.rss[i].swap(0, Ordering::SeqCst);
        drop(ptl);
        ev!("__oom_reap_task_mm", "VMA{}: {} page(s) zapped", i, n);
    }
    true
}

/// Minchan's proposal (e): `pidfd_send_signal(pidfd, SIGKILL, NULL, EXPEDITE)`: pin the mm
/// under `task_lock()` **before** delivering the signal (so the victim cannot pass
/// `exit_mm()` first), deliver, then run the oom-reaper zap in the same syscall.
pub fn pidfd_send_signal_expedite(sys: &Sys) -> (i32, Why) {
    if !pidfd_get_task(sys) {
        ev!("pidfd_send_signal", "task gone: -ESRCH");
        return (-ESRCH, "pidfd_get_task() failed");
    }
    let pinned = {
        let t = find_lock_task_mm(sys);
        if t.is_some() {
            mmgrab(sys, Ctx::Killer);
            ev!(
                "pidfd_send_signal",
                "EXPEDITE: find_lock_task_mm() + mmgrab before the kill"
            );
        }
        t.is_some()
    };
    send_sigkill(sys);
    if !pinned {
        return (
            0,
            "find_lock_task_mm() found no thread with an mm: the signal was delivered, \
             nothing pinned or reaped",
        );
    }
    mmap_read_lock_killable(sys);
    let (mut ret, mut why) = (
        0,
        "__oom_reap_task_mm() zapped every VMA under mmap_read_lock",
    );
    if sys.mm.mm_flags_test(MMF_OOM_SKIP) {
        why = "MMF_OOM_SKIP was set when tested under mmap_read_lock: nothing reaped";
    } else if !__oom_reap_task_mm(sys) {
        (ret, why) = (-EAGAIN, "__oom_reap_task_mm() failed");
    }
    sys.mm.mmap_lock.up_read();
    ev!("pidfd_send_signal", "mmap_read_unlock(mm)");
    mmdrop(sys, Ctx::Killer);
    (ret, why)
}

// ---------------------------------------------------------------------------------------------
// The killer's two syscalls and the checks on their result

/// The killer (LMKD): the design's kill-and-reap sequence, then properties 1 and 2 on the
/// result. Under (d'') LMKD only kills: Linus's position that the victim frees its own memory
/// once no reader holds mm_users, so -ESRCH from process_mrelease() does not matter.
pub fn lmkd_kill(sys: &Sys) {
    if sys.cfg.design == Design::WriteLockedGup {
        send_sigkill(sys);
        ev!(
            "lmkd",
            "kill only: the victim's own exit_mmap() frees the memory"
        );
        return;
    }
    let (call, (ret, why)) = match sys.cfg.design {
        Design::ReapKillV3 => (
            "process_mrelease(pidfd, PROCESS_MRELEASE_REAP_KILL)",
            process_mrelease(sys, PROCESS_MRELEASE_REAP_KILL),
        ),
        Design::ExpediteSignal => (
            "pidfd_send_signal(pidfd, SIGKILL, EXPEDITE)",
            pidfd_send_signal_expedite(sys),
        ),
        _ => {
            send_sigkill(sys);
            ("process_mrelease(pidfd, 0)", process_mrelease(sys, 0))
        }
    };
    ev!("lmkd", "{call} returns {}", errno_name(ret));
    if ret == 0 {
        let left = sys.mm.resident();
        check(REAPED_ON_SUCCESS, left == 0, || {
            format!(
                "{call} returned 0 but {left} page(s) of the victim are still resident; it \
                 returned 0 because {why}; {}",
                sys.oom_skip_setter()
            )
        });
    } else if ret == -ESRCH {
        let reader = sys.reader_holds_users();
        let left = sys.mm.resident();
        check(NO_SPURIOUS_ESRCH, !(reader && left > 0), || {
            format!(
                "killer got -ESRCH with {left} page(s) still resident: the victim already \
                 cleared task->mm in exit_mm() and the stalled procfs reader holds an mm_users \
                 reference, so the victim's mmput() is not the last one and nobody frees the \
                 memory until the reader's m_stop() -> mmput()"
            )
        });
    }
}
