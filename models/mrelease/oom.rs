//! The killer: process_mrelease(), the expedited kill, LMKD's sequence (mm/oom_kill.c).

use kmodel_harness::prelude::*;

use super::exit::send_sigkill;
use super::kernel::*;
use super::{KILLER_NOT_BLOCKED_BY_READER, NO_SPURIOUS_ESRCH, NO_USE_AFTER_PUT, REAPED_ON_SUCCESS};

// ---------------------------------------------------------------------------------------------
// mm/oom_kill.c: the killer's reaping

/// `find_lock_task_mm()`: the first thread of the group whose `->mm` is set, returned with its
/// `task_lock()` held.
pub fn find_lock_task_mm(sys: &Sys) -> Option<MutexGuard<'_, TaskLocked>> {
    for (tid, t) in sys.task.threads.iter().enumerate() {
        let g = t.lock();
        if g.mm {
            ev!(
                "find_lock_task_mm",
                "T{}: task->mm != NULL (task_lock held)",
                tid + 1
            );
            return Some(g);
        }
    }
    None
}

/// `process_mrelease(pidfd, flags)`. `flags` may be `PROCESS_MRELEASE_REAP_KILL` (design (b),
/// v3: `reap = reap_kill || task_will_free_mem(p)`, `mmgrab()` only when reaping, then
/// `kill_all_shared_mm()`). Design (c) falls back to `task->exit_mm` when no thread has an mm.
pub fn process_mrelease(sys: &Sys, flags: u32) -> i32 {
    let reap_kill = flags & PROCESS_MRELEASE_REAP_KILL != 0;
    // pidfd_get_task()
    if sys.task.released.load(Ordering::Acquire) {
        ev!(
            "process_mrelease",
            "pidfd_get_task(): task already reaped: -ESRCH"
        );
        return -ESRCH;
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
                return -ESRCH;
            }
        }
    };
    if !sys.mm_deref(Ctx::Killer, "process_mrelease") {
        return -ESRCH;
    }
    let oom_skip = sys.mm.test_flag(MMF_OOM_SKIP);
    // task_will_free_mem(p); for the exit_mm fallback the task is plainly exiting [D].
    let dying = sys.task.group_exit.load(Ordering::Relaxed)
        || (via_exit_mm && sys.task.pf_exiting.load(Ordering::Relaxed));
    let reap = reap_kill || will_free_mem(dying, false, oom_skip);
    if !reap {
        drop(t);
        let ret = no_reap_ret(oom_skip);
        ev!(
            "process_mrelease",
            "task_will_free_mem() false: {}",
            errno_name(ret)
        );
        return ret;
    }
    mmgrab(sys, Ctx::Killer);
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
    let mut ret = 0;
    if sys.mm.test_flag(MMF_OOM_SKIP) {
        ev!(
            "process_mrelease",
            "MMF_OOM_SKIP set under mmap_lock: exit_mmap() did the work"
        );
    } else if !__oom_reap_task_mm(sys) {
        ret = -EAGAIN;
    }
    sys.mm.mmap_lock.up_read();
    ev!("process_mrelease", "mmap_read_unlock(mm)");
    mmdrop(sys, Ctx::Killer);
    ret
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
/// private VMA in reverse order (since 2025, to meet `exit_mmap()` in the middle).
pub fn __oom_reap_task_mm(sys: &Sys) -> bool {
    sys.mm.set_flag(MMF_UNSTABLE);
    ev!("__oom_reap_task_mm", "set MMF_UNSTABLE");
    for i in (0..sys.cfg.nr_vmas).rev() {
        let pt = sys.mm.pgtables.load(Ordering::Relaxed);
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
pub fn pidfd_send_signal_expedite(sys: &Sys) -> i32 {
    if sys.task.released.load(Ordering::Acquire) {
        ev!("pidfd_send_signal", "task gone: -ESRCH");
        return -ESRCH;
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
    let mut ret = 0;
    if pinned {
        mmap_read_lock_killable(sys);
        if !sys.mm.test_flag(MMF_OOM_SKIP) && !__oom_reap_task_mm(sys) {
            ret = -EAGAIN;
        }
        sys.mm.mmap_lock.up_read();
        ev!("pidfd_send_signal", "mmap_read_unlock(mm)");
        mmdrop(sys, Ctx::Killer);
    }
    ret
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
    let ret = match sys.cfg.design {
        Design::ReapKillV3 => process_mrelease(sys, PROCESS_MRELEASE_REAP_KILL),
        Design::ExpediteSignal => pidfd_send_signal_expedite(sys),
        _ => {
            send_sigkill(sys);
            process_mrelease(sys, 0)
        }
    };
    ev!("lmkd", "returns {}", errno_name(ret));
    if ret == 0 {
        let left = sys.mm.resident();
        check(REAPED_ON_SUCCESS, left == 0, || {
            format!(
                "process_mrelease() returned 0 but {left} page(s) of the victim are still \
                 resident (MMF_OOM_SKIP was set while a page was still mapped: by exit_mmap() \
                 after a GUP refault, or by an oom_reaper that gave up on a contended \
                 mmap_lock)"
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
