//! The victim's exit (kernel/exit.c), the parent's `wait()`, and the kill (kernel/signal.c).

use kmodel_harness::prelude::*;

use super::design::Design;
use super::kernel::{mmdrop, mmgrab, mmput, Ctx, Sys};

// ---------------------------------------------------------------------------------------------
// kernel/exit.c: the victim

/// The victim thread sleeps interruptibly (`pause()`: `set_current_state(TASK_INTERRUPTIBLE)`,
/// `schedule()`) until SIGKILL is pending, then `get_signal()` → `do_group_exit()`.
/// `signal_pending()` (a lockless test of `TIF_SIGPENDING`) is read under `siglock` here.
pub fn wait_for_sigkill(sys: &Sys) {
    loop {
        set_current_state(TASK_INTERRUPTIBLE);
        if sys.task.siglock.lock().kill {
            break;
        }
        schedule();
    }
    __set_current_state(TASK_RUNNING);
    ev!("get_signal", "SIGKILL: do_group_exit() -> do_exit()");
}

/// `signal_wake_up(t, 1)` of every thread (`complete_signal()` of SIGKILL,
/// `zap_other_threads()`): `wake_up_state(t, TASK_INTERRUPTIBLE)` (`TASK_WAKEKILL`,
/// `TIF_SIGPENDING` and `kick_process()` not modelled). Called under `siglock`.
fn signal_wake_up_all(sys: &Sys) {
    for t in &sys.task.tasks {
        wake_up_state(t, TASK_INTERRUPTIBLE);
    }
}

/// `exit_group()` called by the thread itself: `do_group_exit()` sets `SIGNAL_GROUP_EXIT` and
/// SIGKILLs the other threads (`zap_other_threads()`), then `do_exit()`.
pub fn exit_group(sys: &Sys, tid: usize) {
    {
        let mut sig = sys.task.siglock.lock();
        sig.kill = true;
        plain_write(&sys.task.group_exit, true);
        signal_wake_up_all(sys);
        drop(sig);
    }
    ev!(
        "do_group_exit",
        "exit_group(): SIGNAL_GROUP_EXIT, zap_other_threads()"
    );
    do_exit(sys, tid);
}

/// `do_exit()` of thread `tid`: `exit_signals()` (PF_EXITING), `exit_mm()`, ...,
/// `exit_notify()`. A non-leader thread is released at once (`release_task()` of a thread);
/// the leader stays a zombie until the parent reaps it, or, if the parent ignores SIGCHLD
/// (`autoreap`), the last thread out releases it.
pub fn do_exit(sys: &Sys, tid: usize) {
    if tid == 0 {
        // exit_signals(): `tsk->flags |= PF_EXITING` (the leader's is the one read)
        plain_write(&sys.task.pf_exiting, true);
    }
    ev!("exit_signals", "T{}: PF_EXITING", tid + 1);
    exit_mm(sys, tid);
    let last = {
        let mut sig = sys.task.siglock.lock();
        sig.live -= 1;
        sig.live == 0
    };
    if last {
        // do_notify_parent() -> __wake_up_parent(): the group is gone, the parent's wait()
        // may reap the leader.
        wake_up(&sys.task.wait_chldexit);
    }
    if tid != 0 {
        ev!("exit_notify", "non-leader thread: released at once");
        // __unhash_process(): list_del_rcu(&p->thread_node)
        write_once(&sys.task.listed[tid], false);
        free_task(sys, tid, Ctx::Victim);
    } else {
        ev!("exit_notify", "group leader: zombie");
    }
    if last && sys.cfg.autoreap {
        ev!(
            "exit_notify",
            "last thread, parent ignores SIGCHLD: the leader is released now"
        );
        release_task(sys, Ctx::Victim);
    }
    if tid != 0 {
        // put_task_struct_rcu_user(): call_rcu(delayed_put_task_struct), invoked on this CPU
        // after a grace period (RCU_SOFTIRQ once the dead task is switched out).
        if synchronize_rcu(&sys.rcu) {
            sys.task.structs[tid].kfree();
            ev!(
                "delayed_put_task_struct",
                "T{}'s task_struct freed after a grace period",
                tid + 1
            );
        }
    }
}

/// `exit_mm()`: `mmap_read_lock()`; under `task_lock()`, `smp_mb__after_spinlock()` then
/// `current->mm = NULL` (design (c) first does `mmgrab()` + `current->exit_mm = mm`); unlock;
/// `mm_update_next_owner()` (not modelled); `mmput()`. The lazy-TLB mm_count of the CPU
/// (`mmgrab_lazy_tlb()`), irq disabling and `exit_oom_victim()` are not modelled.
pub fn exit_mm(sys: &Sys, tid: usize) {
    let mm = &sys.mm;
    ev!("exit_mm", "mmap_read_lock(mm)");
    mm.mmap_lock.down_read();
    {
        let mut t = sys.task.threads[tid].lock();
        // membarrier: a full barrier before clearing current->mm
        smp_mb__after_spinlock();
        if sys.cfg.design == Design::ExitMmPointer {
            mmgrab(sys, Ctx::Victim);
            t.exit_mm = true;
            ev!("exit_mm", "task_lock: current->exit_mm = mm");
        }
        t.mm = false;
        ev!(
            "exit_mm",
            "task_lock: current->mm = NULL (stops pinning mm)"
        );
    }
    mm.mmap_lock.up_read();
    ev!("exit_mm", "mmap_read_unlock(mm)");
    mmput(sys, Ctx::Victim);
}

/// The parent's `wait()` (`do_wait()`): on `signal->wait_chldexit`, `TASK_INTERRUPTIBLE`,
/// sleeps until the whole thread group has passed `exit_notify()` (`delay_group_leader()`),
/// then reaps the zombie leader. `add_wait_queue()` / `remove_wait_queue()` around the loop
/// are `prepare_to_wait()` / `finish_wait()` here; the zombie test reads under `siglock`.
pub fn wait_for_child(sys: &Sys) {
    let wq = &sys.task.wait_chldexit;
    let wait = WaitQueueEntry::new();
    loop {
        prepare_to_wait(wq, &wait, TASK_INTERRUPTIBLE);
        if sys.task.siglock.lock().live == 0 {
            break;
        }
        schedule();
    }
    finish_wait(wq, &wait);
    ev!("wait_task_zombie", "the victim is a zombie: reap it");
    release_task(sys, Ctx::Parent);
}

/// `release_task()` → `put_task_struct()` → `free_task()`: the pidfd no longer resolves;
/// design (c) drops `task->exit_mm` (`mmdrop_async()` in the patch); the zombie's reference to
/// the task_struct goes (the last one frees `signal_struct` and its `oom_mm`).
pub fn release_task(sys: &Sys, who: Ctx) {
    // __unhash_process() -> detach_pid(): hlist_del_rcu() of the pid's task link
    write_once(&sys.task.released, true);
    ev!(
        "release_task",
        "parent reaped the zombie: pidfd_get_task() now fails"
    );
    free_task(sys, 0, who);
    put_task_struct(sys, who);
}

/// `free_task()` of thread `tid`: design (c) drops its `exit_mm` reference.
fn free_task(sys: &Sys, tid: usize, who: Ctx) {
    let had = {
        let mut t = sys.task.threads[tid].lock();
        std::mem::replace(&mut t.exit_mm, false)
    };
    if had {
        ev!("free_task", "mmdrop(task->exit_mm)");
        mmdrop(sys, who);
    }
}

/// `put_task_struct()` of the leader; the last reference frees the `signal_struct`
/// (`free_signal_struct()`: `mmdrop(sig->oom_mm)`). Only scenes with an OOM kill count these
/// references (nothing else takes one that outlives its syscall).
pub fn put_task_struct(sys: &Sys, who: Ctx) {
    if !sys.cfg.oom {
        return;
    }
    let drop_oom_mm = {
        let mut o = sys.task.oom.lock();
        o.task_refs -= 1;
        o.task_refs == 0 && std::mem::replace(&mut o.oom_mm, false)
    };
    if drop_oom_mm {
        ev!("free_signal_struct", "mmdrop(signal->oom_mm)");
        mmdrop(sys, who);
    }
}

// ---------------------------------------------------------------------------------------------
// kernel/signal.c: the kill

/// `pidfd_send_signal(pidfd, SIGKILL)` → `group_send_sig_info()`: `SIGNAL_GROUP_EXIT`, wake.
pub fn send_sigkill(sys: &Sys) {
    let mut sig = sys.task.siglock.lock();
    sig.kill = true;
    plain_write(&sys.task.group_exit, true);
    signal_wake_up_all(sys);
    drop(sig);
    ev!("pidfd_send_signal", "SIGKILL delivered, SIGNAL_GROUP_EXIT");
}
