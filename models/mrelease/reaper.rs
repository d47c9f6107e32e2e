//! The kernel OOM killer's kill and the `oom_reaper` kthread (mm/oom_kill.c:
//! `__oom_kill_process()`, `mark_oom_victim()`, `queue_oom_reaper()`, `oom_reaper()`,
//! `oom_reap_task()`, `oom_reap_task_mm()`).

use kmodel_harness::prelude::*;

use super::exit::{put_task_struct, send_sigkill};
use super::kernel::{mmgrab, Ctx, Sys, MMF_OOM_SKIP};
use super::oom::{__oom_reap_task_mm, find_lock_task_mm};

/// `MAX_OOM_REAP_RETRIES` is 10 attempts 100 ms apart. The model has no clock and a stalled
/// reader may hold its lock for any time, so two attempts (try, sleep, try, give up) already
/// reach every outcome of the real loop; ten would only multiply interleavings.
pub const OOM_REAP_ATTEMPTS: u32 = 2;

/// `__oom_kill_process()` in an allocating task's context (the OOM killer chose the victim):
/// under `find_lock_task_mm()`'s task_lock, SIGKILL the group and `mark_oom_victim()`
/// (`signal->oom_mm = mm` with an mm_count reference), then `queue_oom_reaper()`.
/// `select_bad_process()` never picks a task that is gone, has no mm, has `MMF_OOM_SKIP` set
/// (`oom_badness()`), or is already an OOM victim (`oom_evaluate_task()` waits for it).
pub fn oom_kill(sys: &Sys, in_race: bool) {
    oom_kill_process(sys);
    if in_race {
        let mut o = sys.task.oom.lock();
        o.kills_left -= 1;
        drop(o);
        // Instrumentation: the oom_reaper's wait ends once every OOM kill of the scene ran.
        wake_up(&sys.task.oom_reaper_wait);
    }
}

fn oom_kill_process(sys: &Sys) {
    // select_bad_process(): for_each_process() under rcu_read_lock()
    rcu_read_lock(&sys.rcu);
    let gone = rcu_dereference(&sys.task.released);
    rcu_read_unlock(&sys.rcu);
    if gone {
        ev!("select_bad_process", "the victim is gone: nothing to kill");
        return;
    }
    let Some(t) = find_lock_task_mm(sys) else {
        ev!(
            "select_bad_process",
            "no thread has an mm: not eligible (already exiting)"
        );
        return;
    };
    if !sys.mm_deref(Ctx::Killer, "oom_badness") {
        return;
    }
    if sys.mm.mm_flags_test(MMF_OOM_SKIP) {
        drop(t);
        ev!("oom_badness", "MMF_OOM_SKIP: not eligible");
        return;
    }
    let mut o = sys.task.oom.lock();
    if o.oom_mm {
        drop(o);
        drop(t);
        ev!(
            "oom_evaluate_task",
            "already an OOM victim: abort, wait for it"
        );
        return;
    }
    send_sigkill(sys);
    ev!("__oom_kill_process", "do_send_sig_info(SIGKILL)");
    o.oom_mm = true;
    mmgrab(sys, Ctx::Killer);
    ev!("mark_oom_victim", "signal->oom_mm = mm (mmgrab)");
    drop(t);
    o.queued = true;
    o.task_refs += 1;
    drop(o);
    // wake_oom_reaper(): the victim on oom_reaper_list, then wake_up(&oom_reaper_wait).
    wake_up(&sys.task.oom_reaper_wait);
    ev!(
        "queue_oom_reaper",
        "MMF_OOM_REAP_QUEUED, get_task_struct(victim), wake the oom_reaper"
    );
}

/// The `oom_reaper` kthread: `wait_event_freezable(oom_reaper_wait, oom_reaper_list != NULL)`
/// (or, instrumentation, until every OOM kill of the scene has run without queueing one), then
/// takes the victim under `oom_reaper_lock` and `oom_reap_task()`. `___wait_event()` with
/// `TASK_INTERRUPTIBLE` (freezing not modelled); the list is read under `oom_reaper_lock`.
pub fn oom_reaper(sys: &Sys) {
    let wq = &sys.task.oom_reaper_wait;
    let ready = || {
        let o = sys.task.oom.lock();
        o.queued || o.kills_left == 0
    };
    if !ready() {
        let wait = WaitQueueEntry::new();
        loop {
            prepare_to_wait_event(wq, &wait, TASK_INTERRUPTIBLE);
            if ready() {
                break;
            }
            schedule();
        }
        finish_wait(wq, &wait);
    }
    let queued = {
        let mut o = sys.task.oom.lock();
        o.queued && !std::mem::replace(&mut o.reaped, true)
    };
    if queued {
        oom_reap_task(sys);
    } else {
        ev!("oom_reaper", "nothing queued: stays asleep");
    }
}

/// `oom_reap_task()`: retry `oom_reap_task_mm()` (a `mmap_read_trylock()`) a few times, then
/// hide the mm from the OOM killer either way: `set_bit(MMF_OOM_SKIP)`, and drop the
/// task_struct reference `queue_oom_reaper()` took.
pub fn oom_reap_task(sys: &Sys) {
    let mut reaped = false;
    for attempt in 1..=OOM_REAP_ATTEMPTS {
        if oom_reap_task_mm(sys) {
            reaped = true;
            break;
        }
        if attempt < OOM_REAP_ATTEMPTS {
            ev!("oom_reap_task", "schedule_timeout_idle(HZ/10), retry");
            yield_now();
        }
    }
    if !reaped && !sys.mm.mm_flags_test(MMF_OOM_SKIP) {
        ev!(
            "oom_reap_task",
            "oom_reaper: unable to reap pid (mmap_lock contended)"
        );
    }
    sys.set_oom_skip(if reaped {
        "the oom_reaper (oom_reap_task() after reaping or finding MMF_OOM_SKIP)"
    } else {
        "the oom_reaper giving up (mmap_read_trylock() failed on every attempt)"
    });
    ev!(
        "oom_reap_task",
        "set MMF_OOM_SKIP (reaped, or somebody can't call mmap_write_unlock)"
    );
    put_task_struct(sys, Ctx::Reaper);
}

/// `oom_reap_task_mm()`: `mmap_read_trylock()`; skip if `MMF_OOM_SKIP` (exit_mmap() got
/// there first: tested under the lock against its write-lock cycle); else
/// `__oom_reap_task_mm()`.
fn oom_reap_task_mm(sys: &Sys) -> bool {
    sys.mm_deref(Ctx::Reaper, "oom_reap_task_mm");
    if !sys.mm.mmap_lock.down_read_trylock() {
        ev!("oom_reap_task_mm", "mmap_read_trylock() failed");
        return false;
    }
    if sys.mm.mm_flags_test(MMF_OOM_SKIP) {
        ev!("oom_reap_task_mm", "MMF_OOM_SKIP: exit_mmap() owns the mm");
    } else {
        ev!("oom_reap_task_mm", "start reaping");
        __oom_reap_task_mm(sys);
    }
    sys.mm.mmap_lock.up_read();
    ev!("oom_reap_task_mm", "mmap_read_unlock(mm)");
    true
}

/// Once quiet: a queued victim the oom_reaper has not handled yet is handled now (its
/// `OOM_REAPER_DELAY` timer fires after the race).
pub fn oom_reaper_once_quiet(sys: &Sys) {
    if !sys.cfg.oom {
        return;
    }
    let pending = {
        let mut o = sys.task.oom.lock();
        o.queued && !std::mem::replace(&mut o.reaped, true)
    };
    if pending {
        oom_reap_task(sys);
    }
}
