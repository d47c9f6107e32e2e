//! The low-priority procfs readers (fs/proc/task_mmu.c, fs/proc/base.c, mm/memory.c).

use kmodel_harness::prelude::*;

use super::design::ReadMode;
use super::kernel::{mmdrop, mmget, mmget_not_zero, mmput, Ctx, Sys, MMF_UNSTABLE};
use super::properties::NO_USE_AFTER_PUT;

/// One `read()` of the file in reader slot `r`, then its `close()`: dispatches on how the
/// design's version of the file pins the mm. Files with an open-time reference were opened
/// before the scene (`proc_mem_open()`: mm_count only); their release drops it.
pub fn procfs_read(sys: &Sys, r: usize) {
    let (kind, _) = sys.cfg.reads[r];
    let mode = sys.cfg.design.read_mode(kind);
    match mode {
        ReadMode::Smaps | ReadMode::SmapsMmget => {
            if m_start(sys, r, mode == ReadMode::SmapsMmget) {
                show_smaps(sys, r);
                m_stop(sys, r);
            }
        }
        ReadMode::SmapsCountOnly => {
            if m_start_count_only(sys, r) {
                show_smaps(sys, r);
                sys.readers[r].locked.store(false, Ordering::SeqCst);
                sys.mm.mmap_lock.up_read();
                ev!(
                    "m_stop",
                    "mmap_read_unlock(mm) (no mmput: never held mm_users)"
                );
            }
        }
        ReadMode::Mem => mem_rw(sys, r, true),
        ReadMode::MemCountOnly => mem_rw(sys, r, false),
        ReadMode::Cmdline => proc_pid_cmdline_read(sys, r),
        ReadMode::CmdlineReadLocked => get_cmdline_read_locked(sys, r),
    }
    if mode.open_time_ref() {
        ev!("proc_map_release", "close(): mmdrop(open-time mm)");
        mmdrop(sys, Ctx::Reader);
    }
}

/// `get_proc_task()` → `get_pid_task()`: the /proc/V inode's task, looked up under
/// `rcu_read_lock()`, gone once the zombie was reaped.
fn get_proc_task(sys: &Sys, site: &'static str) -> bool {
    if !super::oom::pidfd_get_task(sys) {
        ev!(site, "get_proc_task(): gone");
        return false;
    }
    true
}

/// `m_start()` today: `get_proc_task()`, `mmget_not_zero()` (the ablation: `mmget()`),
/// `mmap_read_lock_killable()`.
fn m_start(sys: &Sys, r: usize, plain_mmget: bool) -> bool {
    if !get_proc_task(sys, "m_start") {
        return false;
    }
    if plain_mmget {
        mmget(sys, Ctx::Reader);
    } else if !mmget_not_zero(sys, Ctx::Reader) {
        return false;
    }
    sys.readers[r].holds_users.store(true, Ordering::SeqCst);
    ev!("m_start", "holds mm_users; mmap_read_lock_killable(mm)");
    sys.mm.mmap_lock.down_read();
    sys.readers[r].locked.store(true, Ordering::SeqCst);
    true
}

/// `m_stop()` today: `mmap_read_unlock()`, `mmput()` (maybe the last one).
fn m_stop(sys: &Sys, r: usize) {
    sys.readers[r].locked.store(false, Ordering::SeqCst);
    sys.mm.mmap_lock.up_read();
    ev!("m_stop", "mmap_read_unlock(mm); mmput(mm)");
    sys.readers[r].holds_users.store(false, Ordering::SeqCst);
    mmput(sys, Ctx::Reader);
}

/// `m_start()` under Linus's rule: no `mmget_not_zero()`; bail out if `task->mm` is NULL;
/// then `mmap_read_lock_killable()` on the open-time mm (held by mm_count only).
fn m_start_count_only(sys: &Sys, r: usize) -> bool {
    if !get_proc_task(sys, "m_start") {
        return false;
    }
    let has_mm = sys.task.threads[0].lock().mm;
    if !has_mm {
        ev!("m_start", "task->mm == NULL: end of file");
        return false;
    }
    if !sys.mm_deref(Ctx::Reader, "m_start") {
        return false;
    }
    ev!("m_start", "mm_count only; mmap_read_lock_killable(mm)");
    sys.mm.mmap_lock.down_read();
    sys.readers[r].locked.store(true, Ordering::SeqCst);
    true
}

/// `show_smap()` + `m_next()` for `stall` VMAs per lock hold (one seq buffer): each VMA is
/// one step the low-priority reader can be preempted at (the stall).
fn show_smaps(sys: &Sys, r: usize) {
    for s in 0..sys.readers[r].stall {
        let i = s as usize % sys.cfg.nr_vmas;
        // The low-priority reader loses the CPU here (the stall); the step counts once it
        // gets the CPU back.
        yield_now();
        sys.readers[r].steps.fetch_add(1, Ordering::SeqCst);
        if !read_once(&sys.mm.vmas) {
            ev!("m_next", "VMA tree empty (exit_mmap finished): end");
            return;
        }
        let pt = read_once(&sys.mm.pgtables);
        if !check(NO_USE_AFTER_PUT, pt, || {
            format!("show_smap: walks VMA{i}'s page tables after free_pgtables() freed them")
        }) {
            return;
        }
        ev!(
            "show_smap",
            "walk VMA{} page tables (stall step {})",
            i,
            s + 1
        );
    }
}

/// `mem_rw()` (`/proc/pid/mem` read): `mmget_not_zero()` around `access_remote_vm()` today;
/// in (d') only the open-time mm_count pins the mm, so nothing tells the reader the address
/// space is being torn down.
fn mem_rw(sys: &Sys, r: usize, users: bool) {
    if !sys.mm_deref(Ctx::Reader, "mem_rw") {
        return;
    }
    if users {
        if !mmget_not_zero(sys, Ctx::Reader) {
            ev!("mem_rw", "mmget_not_zero() failed: read returns 0");
            return;
        }
        sys.readers[r].holds_users.store(true, Ordering::SeqCst);
        access_remote_vm(sys, r);
        sys.readers[r].holds_users.store(false, Ordering::SeqCst);
        ev!("mem_rw", "mmput(mm)");
        mmput(sys, Ctx::Reader);
    } else {
        ev!("mem_rw", "open-time mm (mm_count only, no mmget_not_zero)");
        access_remote_vm(sys, r);
    }
}

/// `proc_pid_cmdline_read()` today: `get_task_mm()` (under `task_lock()`, `mmget()` if the
/// leader still has `task->mm`), `get_mm_cmdline()` → `access_remote_vm()`, `mmput()`.
fn proc_pid_cmdline_read(sys: &Sys, r: usize) {
    if !get_proc_task(sys, "proc_pid_cmdline_read") {
        return;
    }
    {
        let t = sys.task.threads[0].lock();
        if !t.mm {
            drop(t);
            ev!("get_task_mm", "task->mm == NULL: read returns 0");
            return;
        }
        mmget(sys, Ctx::Reader);
        sys.readers[r].holds_users.store(true, Ordering::SeqCst);
    }
    ev!("get_task_mm", "task_lock: task->mm set, mmget(mm)");
    access_remote_vm(sys, r);
    sys.readers[r].holds_users.store(false, Ordering::SeqCst);
    ev!("proc_pid_cmdline_read", "mmput(mm)");
    mmput(sys, Ctx::Reader);
}

/// `get_cmdline()` converted naively to (d)'s rule: instead of `get_task_mm()` it holds the
/// open-time mm_count and takes `mmap_read_lock` as the walker protection, checks `task->mm`,
/// then calls `access_remote_vm()`, which takes `mmap_read_lock` a second time.
fn get_cmdline_read_locked(sys: &Sys, r: usize) {
    if !get_proc_task(sys, "get_cmdline") {
        return;
    }
    ev!(
        "get_cmdline",
        "mm_count only; mmap_read_lock(mm) to pin the VMAs"
    );
    sys.mm.mmap_lock.down_read();
    sys.readers[r].locked.store(true, Ordering::SeqCst);
    let has_mm = sys.task.threads[0].lock().mm;
    if !has_mm {
        ev!("get_cmdline", "task->mm == NULL: nothing to read");
    } else if sys.mm_deref(Ctx::Reader, "get_cmdline") {
        access_remote_vm(sys, r);
        // access_remote_vm() dropped its own hold; the walker's is still held.
        sys.readers[r].locked.store(true, Ordering::SeqCst);
    }
    sys.readers[r].locked.store(false, Ordering::SeqCst);
    sys.mm.mmap_lock.up_read();
    ev!("get_cmdline", "mmap_read_unlock(mm)");
}

/// `access_remote_vm()` → `__access_remote_vm()`: `mmap_read_lock_killable()`, then per page
/// `get_user_pages_remote()` (faulting a missing page in, refused once `MMF_UNSTABLE`),
/// `mmap_read_unlock()`.
fn access_remote_vm(sys: &Sys, r: usize) {
    ev!("access_remote_vm", "mmap_read_lock_killable(mm)");
    sys.mm.mmap_lock.down_read();
    sys.readers[r].locked.store(true, Ordering::SeqCst);
    for s in 0..sys.readers[r].stall {
        let i = s as usize % sys.cfg.nr_vmas;
        // The low-priority reader loses the CPU here (the stall).
        yield_now();
        sys.readers[r].steps.fetch_add(1, Ordering::SeqCst);
        if !read_once(&sys.mm.vmas) {
            ev!("get_user_pages_remote", "no VMA: -EFAULT");
            break;
        }
        let ptl = sys.mm.ptl.lock();
        if sys.mm.rss[i].load(Ordering::SeqCst) != 0 {
            drop(ptl);
            ev!(
                "get_user_pages_remote",
                "VMA{} page present (stall step {})",
                i,
                s + 1
            );
            continue;
        }
        // handle_mm_fault() → check_stable_address_space()
        if sys.mm.mm_flags_test(MMF_UNSTABLE) {
            drop(ptl);
            ev!("handle_mm_fault", "VMA{}: MMF_UNSTABLE: VM_FAULT_SIGBUS", i);
            break;
        }
        sys.mm.rss[i].fetch_add(1, Ordering::SeqCst);
        drop(ptl);
        let passed = sys.mm.unmapped.load(Ordering::Relaxed) as usize > i;
        ev!(
            "handle_mm_fault",
            "VMA{} page faulted back in (exit_mmap's unmap_vmas already passed it: {})",
            i,
            passed
        );
    }
    sys.readers[r].locked.store(false, Ordering::SeqCst);
    sys.mm.mmap_lock.up_read();
    ev!("access_remote_vm", "mmap_read_unlock(mm)");
}
