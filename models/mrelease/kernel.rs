//! The kernel code under test, ported function for function: `do_exit()` → `exit_mm()` → `mmput()`
//! → `__mmput()` → `exit_mmap()` (kernel/exit.c, kernel/fork.c, mm/mmap.c), `process_mrelease()`
//! and `__oom_reap_task_mm()` (mm/oom_kill.c), the smaps seq_file walk `m_start()`/`m_stop()`
//! (fs/proc/task_mmu.c) and `get_cmdline()`/`access_remote_vm()` (mm/util.c, mm/memory.c), with
//! the five designs of the May 2026 discussion switched by [`Design`].
//!
//! One victim process with one thread (its group leader), one `mm_struct`, `nr_vmas` private
//! anonymous VMAs of one page each. Pointers to the single mm become booleans.

use kmodel_harness::prelude::*;

/// Ghost state (what the properties read as ground truth): plain std atomics, which no engine
/// schedules around or reorders. Loom and shuttle run an execution's actors on one OS thread,
/// so these are exactly the state of the interleaving being explored.
type GhostU32 = std::sync::atomic::AtomicU32;
type GhostBool = std::sync::atomic::AtomicBool;

use super::{
    KILLER_NOT_BLOCKED_BY_READER, NO_SPURIOUS_ESRCH, NO_USE_AFTER_PUT, REAPED_ON_SUCCESS,
    TEARDOWN_NOT_IN_READER,
};

/// include/linux/mm_types.h: `MMF_OOM_SKIP` ("mm is of no interest for the OOM killer").
pub const MMF_OOM_SKIP: u32 = 21;
/// include/linux/mm_types.h: `MMF_UNSTABLE` ("mm is unstable for copy_from_user").
pub const MMF_UNSTABLE: u32 = 22;

pub const ESRCH: i32 = 3;
pub const EINTR: i32 = 4;
pub const EAGAIN: i32 = 11;
pub const EBUSY: i32 = 16;
pub const EINVAL: i32 = 22;

/// include/uapi/linux/mman.h in Minchan's v3: `PROCESS_MRELEASE_REAP_KILL`.
pub const PROCESS_MRELEASE_REAP_KILL: u32 = 1 << 0;

/// Kernel spelling of a syscall return value, for events and messages.
pub fn errno_name(ret: i32) -> String {
    match -ret {
        0 => "0".into(),
        ESRCH => "-ESRCH".into(),
        EINTR => "-EINTR".into(),
        EAGAIN => "-EAGAIN".into(),
        EBUSY => "-EBUSY".into(),
        EINVAL => "-EINVAL".into(),
        e => format!("-{e}"),
    }
}

/// `__task_will_free_mem()` + the `MMF_OOM_SKIP` test of `task_will_free_mem()`, for a victim
/// that shares its mm with nobody (so the `mm_users <= 1` / other-sharers loop always passes).
pub fn will_free_mem(
    signal_group_exit: bool,
    pf_exiting_single_thread: bool,
    oom_skip: bool,
) -> bool {
    (signal_group_exit || pf_exiting_single_thread) && !oom_skip
}

/// `process_mrelease()`'s result when it decides not to reap: "error only if the work has not
/// been done already".
pub fn no_reap_ret(oom_skip: bool) -> i32 {
    if oom_skip {
        0
    } else {
        -EINVAL
    }
}

/// The designs of the 2026 discussion (one per variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// (a) mainline: kill, then `process_mrelease(pidfd, 0)`.
    Today,
    /// (b) v3: `process_mrelease(pidfd, PROCESS_MRELEASE_REAP_KILL)` pins, kills, reaps.
    ReapKillV3,
    /// (c) Jann Horn: `exit_mm()` keeps an mm_count ref in `task->exit_mm`; process_mrelease
    /// falls back to it (Suren).
    ExitMmPointer,
    /// (d) Linus: `exit_mmap()` write-locks the whole teardown; walkers hold mm_count + read lock.
    WriteLockedTeardown,
    /// (e) Minchan: `pidfd_send_signal(..., EXPEDITE)` pins, kills and reaps.
    ExpediteSignal,
    /// (d') Linus's "walkers keep only the open-time mm_count" rule applied to a GUP reader,
    /// `/proc/pid/mem`'s `mem_rw()` (its `mmget_not_zero()` removed), while `exit_mmap()`
    /// still unmaps under the read lock (the (d) reader change without the (d) teardown).
    CountOnlyGup,
    /// (d'') (d) with `get_cmdline` converted naively: the "walker" read lock is held across
    /// `access_remote_vm()`, which takes `mmap_read_lock` again; LMKD only kills (no
    /// process_mrelease), relying on the victim's own teardown as Linus argued on May 22.
    WriteLockedGup,
}

impl Design {
    /// `exit_mmap()` holds `mmap_write_lock` from start to end (Linus, May 16).
    fn write_locked_teardown(self) -> bool {
        matches!(self, Design::WriteLockedTeardown | Design::WriteLockedGup)
    }

    pub fn reader(self) -> ReaderKind {
        match self {
            Design::Today | Design::ReapKillV3 | Design::ExitMmPointer | Design::ExpediteSignal => {
                ReaderKind::Smaps
            }
            Design::WriteLockedTeardown => ReaderKind::SmapsCountOnly,
            Design::CountOnlyGup => ReaderKind::MemCountOnly,
            Design::WriteLockedGup => ReaderKind::CmdlineReadLocked,
        }
    }
}

/// Which procfs reader the low-priority actor runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReaderKind {
    /// `/proc/V/smaps` today: `m_start()` takes `mmget_not_zero()`, `m_stop()` does `mmput()`.
    Smaps,
    /// `/proc/V/smaps` under (d): open-time mm_count + `mmap_read_lock`, never mm_users.
    SmapsCountOnly,
    /// `/proc/V/mem` with only the open-time mm_count: `access_remote_vm()` faults pages in.
    MemCountOnly,
    /// As above, but holding `mmap_read_lock` across `access_remote_vm()`.
    CmdlineReadLocked,
}

/// Scenario configuration resolved from the variant and parameters.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub design: Design,
    pub nr_vmas: usize,
    pub reader_stall: u32,
    pub reader_stealing: bool,
    pub parent_reaps: bool,
    pub victim_threads: usize,
    pub killer_wait_budget: u32,
}

/// Who is running a shared function (`mmput()` runs `__mmput()` in the caller's context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    Killer,
    Victim,
    Reader,
    /// The scenario's "once quiet" epilogue (the parent reaping the zombie).
    Parent,
}

impl Ctx {
    fn name(self) -> &'static str {
        match self {
            Ctx::Killer => "the killer (LMKD)",
            Ctx::Victim => "the victim",
            Ctx::Reader => "the low-priority procfs reader",
            Ctx::Parent => "the victim's parent",
        }
    }
}

/// `struct mm_struct`, reduced to what the race touches.
pub struct MmStruct {
    pub mm_users: AtomicU32,
    pub mm_count: AtomicU32,
    pub mmap_lock: RwSem,
    /// `mm->flags` (`MMF_*` bits).
    pub flags: AtomicU32,
    /// Resident pages per VMA (one page per VMA to start with): the PTEs themselves, each
    /// update atomic as under the VMA's page-table lock. Ghost, so checks read the truth.
    pub rss: Vec<GhostU32>,
    /// The page-table lock (split PTLs folded into one): zaps and faults on a VMA's PTEs
    /// serialise on it, which is what orders `MMF_UNSTABLE` against a racing fault.
    pub ptl: Mutex<()>,
    /// How many VMAs `exit_mmap()`'s `unmap_vmas()` has passed (model observable).
    pub unmapped: AtomicU32,
    /// Page tables present (cleared by `free_pgtables()`).
    pub pgtables: AtomicBool,
    /// The VMA tree holds the VMAs (cleared by `__mt_destroy()`).
    pub vmas: AtomicBool,
    /// `__mmdrop()` ran: pgd and struct freed.
    pub freed: AtomicBool,
}

impl MmStruct {
    fn test_flag(&self, bit: u32) -> bool {
        self.flags.load(Ordering::Relaxed) & (1 << bit) != 0
    }

    fn set_flag(&self, bit: u32) {
        self.flags.fetch_or(1 << bit, Ordering::Relaxed);
    }

    /// `get_mm_rss()`-style sum over the VMAs; read `SeqCst` because properties use it.
    pub fn resident(&self) -> u32 {
        self.rss.iter().map(|r| r.load(Ordering::SeqCst)).sum()
    }
}

/// The fields of `struct task_struct` that `task_lock()` (`alloc_lock`) protects.
pub struct TaskLocked {
    /// `task->mm != NULL`.
    pub mm: bool,
    /// `task->exit_mm != NULL` (design (c) only).
    pub exit_mm: bool,
}

/// The victim process: its threads (`[0]` is the group leader the pidfd and /proc/pid name)
/// and their shared `signal_struct`.
pub struct TaskStruct {
    /// Per thread, `task_lock()` and what it protects.
    pub threads: Vec<Mutex<TaskLocked>>,
    /// `sighand->siglock` with "SIGKILL pending".
    pub siglock: Mutex<bool>,
    pub sig_wake: Condvar,
    /// `signal->flags & SIGNAL_GROUP_EXIT`.
    pub group_exit: AtomicBool,
    /// The leader's `PF_EXITING`.
    pub pf_exiting: AtomicBool,
    /// `release_task()` ran: the zombie was reaped, `pidfd_get_task()` fails.
    pub released: AtomicBool,
}

/// What the properties observe about the reader (ghost state; the kernel has no such variables).
pub struct Obs {
    /// The reader holds an `mm_users` reference (between `mmget_not_zero()` and `mmput()`).
    pub reader_holds_users: GhostBool,
    /// The reader holds `mmap_read_lock`.
    pub reader_locked: AtomicBool,
    /// VMA-walk steps the reader has done (its progress while it is "stalled").
    pub reader_steps: GhostU32,
}

/// Everything one execution shares.
pub struct Sys {
    pub cfg: Config,
    pub mm: MmStruct,
    pub task: TaskStruct,
    pub obs: Obs,
}

impl Sys {
    /// A live single-threaded victim whose smaps/cmdline file the reader has open:
    /// `mm_users` = 1 (the thread), `mm_count` = 1 (all users) + 1 (`proc_mem_open()`'s mmgrab).
    pub fn new(cfg: Config) -> Sys {
        Sys {
            cfg,
            mm: MmStruct {
                mm_users: AtomicU32::new(cfg.victim_threads as u32),
                mm_count: AtomicU32::new(2),
                mmap_lock: RwSem::new(cfg.reader_stealing),
                flags: AtomicU32::new(0),
                rss: (0..cfg.nr_vmas).map(|_| GhostU32::new(1)).collect(),
                ptl: Mutex::new(()),
                unmapped: AtomicU32::new(0),
                pgtables: AtomicBool::new(true),
                vmas: AtomicBool::new(true),
                freed: AtomicBool::new(false),
            },
            task: TaskStruct {
                threads: (0..cfg.victim_threads)
                    .map(|_| {
                        Mutex::new(TaskLocked {
                            mm: true,
                            exit_mm: false,
                        })
                    })
                    .collect(),
                siglock: Mutex::new(false),
                sig_wake: Condvar::new(),
                group_exit: AtomicBool::new(false),
                pf_exiting: AtomicBool::new(false),
                released: AtomicBool::new(false),
            },
            obs: Obs {
                reader_holds_users: GhostBool::new(false),
                reader_locked: AtomicBool::new(false),
                reader_steps: GhostU32::new(0),
            },
        }
    }

    /// Property 4 at every dereference of the mm_struct.
    fn mm_deref(&self, who: Ctx, site: &str) -> bool {
        let freed = self.mm.freed.load(Ordering::Relaxed);
        check(NO_USE_AFTER_PUT, !freed, || {
            format!(
                "{site}: {} dereferences the mm_struct after __mmdrop() freed it (mm_count hit 0)",
                who.name()
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------
// kernel/fork.c, include/linux/sched/mm.h: reference counting

/// `mmgrab()`: `atomic_inc(&mm->mm_count)`.
pub fn mmgrab(sys: &Sys, who: Ctx) {
    sys.mm_deref(who, "mmgrab");
    let c = sys.mm.mm_count.fetch_add(1, Ordering::Relaxed);
    ev!("mmgrab", "mm_count {} -> {}", c, c + 1);
}

/// `mmdrop()`: `atomic_dec_and_test(&mm->mm_count)` (fully ordered), `__mmdrop()` on zero.
pub fn mmdrop(sys: &Sys, who: Ctx) {
    let c = full_rmw(|| sys.mm.mm_count.fetch_sub(1, Ordering::Relaxed));
    ev!("mmdrop", "mm_count {} -> {}", c, c.wrapping_sub(1));
    if c == 1 {
        __mmdrop(sys, who);
    }
}

/// `__mmdrop()`: frees the pgd and the struct. Checks nobody still sees page tables.
fn __mmdrop(sys: &Sys, who: Ctx) {
    let was = sys.mm.freed.swap(true, Ordering::Relaxed);
    check(NO_USE_AFTER_PUT, !was, || {
        format!("__mmdrop in {}: mm_struct freed twice", who.name())
    });
    ev!("__mmdrop", "mm_count reached 0: pgd and mm_struct freed");
}

/// `mmget_not_zero()`: `atomic_inc_not_zero(&mm->mm_users)`.
pub fn mmget_not_zero(sys: &Sys, who: Ctx) -> bool {
    if !sys.mm_deref(who, "mmget_not_zero") {
        return false;
    }
    let mut cur = sys.mm.mm_users.load(Ordering::Relaxed);
    loop {
        if cur == 0 {
            ev!("mmget_not_zero", "mm_users == 0: fails");
            return false;
        }
        match sys
            .mm
            .mm_users
            .compare_exchange(cur, cur + 1, Ordering::SeqCst, Ordering::Relaxed)
        {
            Ok(_) => {
                ev!("mmget_not_zero", "mm_users {} -> {}", cur, cur + 1);
                return true;
            }
            Err(now) => cur = now,
        }
    }
}

/// `mmput()`: `atomic_dec_and_test(&mm->mm_users)`; the last user runs `__mmput()` **here**.
pub fn mmput(sys: &Sys, who: Ctx) {
    let u = full_rmw(|| sys.mm.mm_users.fetch_sub(1, Ordering::Relaxed));
    ev!("mmput", "mm_users {} -> {}", u, u.wrapping_sub(1));
    if u == 1 {
        __mmput(sys, who);
    }
}

/// `__mmput()`: `exit_aio()` (not modelled), `exit_mmap()`, ..., `mmdrop()`.
fn __mmput(sys: &Sys, who: Ctx) {
    ev!(
        "__mmput",
        "last mm_users reference: address space teardown runs here"
    );
    exit_mmap(sys, who);
    mmdrop(sys, who);
}

// ---------------------------------------------------------------------------------------------
// mm/mmap.c: exit_mmap()

/// `exit_mmap()`. Today (since bf3980c85212): `unmap_vmas()` under `mmap_read_lock`, drop it,
/// set `MMF_OOM_SKIP`, then `mmap_write_lock` for `free_pgtables()` and `remove_vma()`.
/// Design (d): `mmap_write_lock` for the whole teardown, `MMF_OOM_SKIP` set under it after the
/// unmap. `mmu_notifier_release()`, arch hooks and accounting are not modelled.
pub fn exit_mmap(sys: &Sys, who: Ctx) {
    check(TEARDOWN_NOT_IN_READER, who != Ctx::Reader, || {
        format!(
            "exit_mmap() runs in {}'s context: its m_stop()/mmput() dropped the last mm_users \
             reference, so the whole address-space teardown runs at the reader's priority",
            who.name()
        )
    });
    sys.mm_deref(who, "exit_mmap");
    let mm = &sys.mm;
    if sys.cfg.design.write_locked_teardown() {
        ev!("exit_mmap", "mmap_write_lock(mm) for the whole teardown");
        mm.mmap_lock.down_write();
        unmap_vmas(sys);
        mm.set_flag(MMF_OOM_SKIP);
        ev!("exit_mmap", "set MMF_OOM_SKIP (under mmap_write_lock)");
        free_pgtables(sys);
        remove_vmas(sys);
        mm.mmap_lock.up_write();
        ev!("exit_mmap", "mmap_write_unlock(mm)");
    } else {
        ev!("exit_mmap", "mmap_read_lock(mm)");
        mm.mmap_lock.down_read();
        unmap_vmas(sys);
        mm.mmap_lock.up_read();
        ev!("exit_mmap", "mmap_read_unlock(mm)");
        mm.set_flag(MMF_OOM_SKIP);
        ev!("exit_mmap", "set MMF_OOM_SKIP");
        ev!("exit_mmap", "mmap_write_lock(mm): waits for every reader");
        mm.mmap_lock.down_write();
        free_pgtables(sys);
        remove_vmas(sys);
        mm.mmap_lock.up_write();
        ev!("exit_mmap", "mmap_write_unlock(mm)");
    }
}

/// `unmap_vmas()` over the whole tree, forward, into an mmu_gather (pages freed per VMA).
fn unmap_vmas(sys: &Sys) {
    for (i, r) in sys.mm.rss.iter().enumerate() {
        let ptl = sys.mm.ptl.lock();
        let n = r.swap(0, Ordering::SeqCst);
        drop(ptl);
        sys.mm.unmapped.store(i as u32 + 1, Ordering::Relaxed);
        ev!("unmap_vmas", "VMA{}: {} page(s) unmapped and freed", i, n);
    }
}

/// `free_pgtables()`: frees the page tables. Property 4: no page may still be mapped by them.
fn free_pgtables(sys: &Sys) {
    let left = sys.mm.resident();
    check(NO_USE_AFTER_PUT, left == 0, || {
        format!(
            "free_pgtables(): frees page tables that still map {left} page(s) faulted in by \
             the procfs reader's GUP after unmap_vmas() had passed the VMA: the reader \
             touched the address space with no mm_users reference, the page is leaked"
        )
    });
    sys.mm.pgtables.store(false, Ordering::Relaxed);
    ev!("free_pgtables", "page tables freed");
}

/// `remove_vma()` for each VMA, then `__mt_destroy()`.
fn remove_vmas(sys: &Sys) {
    sys.mm.vmas.store(false, Ordering::Relaxed);
    ev!(
        "exit_mmap",
        "remove_vma() x{}, VMA tree destroyed",
        sys.cfg.nr_vmas
    );
}

// ---------------------------------------------------------------------------------------------
// kernel/exit.c: the victim

/// `get_signal()` → `do_group_exit()`: the victim sleeps until SIGKILL is pending.
pub fn wait_for_sigkill(sys: &Sys) {
    let mut pending = sys.task.siglock.lock();
    while !*pending {
        pending = sys.task.sig_wake.wait(pending);
    }
    drop(pending);
    ev!("get_signal", "SIGKILL: do_group_exit() -> do_exit()");
}

/// `do_exit()` of thread `tid`: `exit_signals()` (PF_EXITING), `exit_mm()`, ...,
/// `exit_notify()`. A non-leader thread is released at once (`release_task()` of a thread);
/// the leader stays a zombie unless `parent_reaps`.
pub fn do_exit(sys: &Sys, tid: usize) {
    if tid == 0 {
        sys.task.pf_exiting.store(true, Ordering::Relaxed);
    }
    ev!("exit_signals", "PF_EXITING");
    exit_mm(sys, tid);
    if tid != 0 {
        ev!("exit_notify", "non-leader thread: released at once");
        free_task(sys, tid, Ctx::Victim);
    } else {
        ev!("exit_notify", "group leader: zombie");
        if sys.cfg.parent_reaps {
            release_task(sys, Ctx::Victim);
        }
    }
}

/// `exit_mm()`: `mmap_read_lock()`; under `task_lock()` `current->mm = NULL` (design (c) first
/// does `mmgrab()` + `current->exit_mm = mm`); unlock; `mm_update_next_owner()` (not
/// modelled); `mmput()`. The lazy-TLB mm_count of the CPU is not modelled.
pub fn exit_mm(sys: &Sys, tid: usize) {
    let mm = &sys.mm;
    ev!("exit_mm", "mmap_read_lock(mm)");
    mm.mmap_lock.down_read();
    {
        let mut t = sys.task.threads[tid].lock();
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

/// `release_task()` → `put_task_struct()` → `free_task()`: the pidfd no longer resolves;
/// design (c) drops `task->exit_mm` (`mmdrop_async()` in the patch).
pub fn release_task(sys: &Sys, who: Ctx) {
    sys.task.released.store(true, Ordering::Release);
    ev!(
        "release_task",
        "parent reaped the zombie: pidfd_get_task() now fails"
    );
    free_task(sys, 0, who);
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

// ---------------------------------------------------------------------------------------------
// kernel/signal.c: the kill

/// `pidfd_send_signal(pidfd, SIGKILL)` → `group_send_sig_info()`: `SIGNAL_GROUP_EXIT`, wake.
pub fn send_sigkill(sys: &Sys) {
    let mut pending = sys.task.siglock.lock();
    *pending = true;
    sys.task.group_exit.store(true, Ordering::Relaxed);
    sys.task.sig_wake.notify_all();
    drop(pending);
    ev!("pidfd_send_signal", "SIGKILL delivered, SIGNAL_GROUP_EXIT");
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
// mm/oom_kill.c: the killer's reaping

/// `find_lock_task_mm()`: the first thread of the group whose `->mm` is set, returned with its
/// `task_lock()` held.
fn find_lock_task_mm(sys: &Sys) -> Option<MutexGuard<'_, TaskLocked>> {
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
/// as trylock-then-sleep so property 6 can see *why* it would sleep: the stalled reader holds
/// the read lock and a writer queued behind it blocks the killer (writer-preferring rwsem).
/// The wait is measured in the reader's remaining VMA-walk steps.
fn mmap_read_lock_killable(sys: &Sys) {
    if sys.mm.mmap_lock.down_read_trylock() {
        ev!("mmap_read_lock_killable", "got mmap_read_lock(mm)");
        return;
    }
    let reader = sys.obs.reader_locked.load(Ordering::SeqCst);
    let done = sys.obs.reader_steps.load(Ordering::SeqCst);
    let left = sys.cfg.reader_stall.saturating_sub(done);
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
    let waited = sys.obs.reader_steps.load(Ordering::SeqCst) - done;
    ev!(
        "mmap_read_lock_killable",
        "got mmap_read_lock(mm) after sleeping through {waited} reader step(s)"
    );
}

/// `__oom_reap_task_mm()` (caller holds `mmap_read_lock`): set `MMF_UNSTABLE`, zap every
/// private VMA in reverse order (since 2025, to meet `exit_mmap()` in the middle).
fn __oom_reap_task_mm(sys: &Sys) -> bool {
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

// ---------------------------------------------------------------------------------------------
// fs/proc/task_mmu.c, fs/proc/base.c, mm/memory.c: the low-priority reader

/// The reader's whole `read()`: dispatches on the design's reader kind. The file was opened
/// before the scenario (`proc_mem_open()`: mm_count only); `proc_map_release()` drops it.
pub fn procfs_read(sys: &Sys) {
    match sys.cfg.design.reader() {
        ReaderKind::Smaps => {
            if m_start(sys) {
                show_smaps(sys);
                m_stop(sys);
            }
        }
        ReaderKind::SmapsCountOnly => {
            if m_start_count_only(sys) {
                show_smaps(sys);
                sys.obs.reader_locked.store(false, Ordering::SeqCst);
                sys.mm.mmap_lock.up_read();
                ev!(
                    "m_stop",
                    "mmap_read_unlock(mm) (no mmput: never held mm_users)"
                );
            }
        }
        ReaderKind::MemCountOnly => mem_rw(sys),
        ReaderKind::CmdlineReadLocked => get_cmdline(sys),
    }
    ev!("proc_map_release", "close(): mmdrop(open-time mm)");
    mmdrop(sys, Ctx::Reader);
}

/// `m_start()` today: `get_proc_task()`, `mmget_not_zero()`, `mmap_read_lock_killable()`.
fn m_start(sys: &Sys) -> bool {
    if sys.task.released.load(Ordering::Acquire) {
        ev!("m_start", "get_proc_task(): gone");
        return false;
    }
    if !mmget_not_zero(sys, Ctx::Reader) {
        return false;
    }
    sys.obs.reader_holds_users.store(true, Ordering::SeqCst);
    ev!("m_start", "holds mm_users; mmap_read_lock_killable(mm)");
    sys.mm.mmap_lock.down_read();
    sys.obs.reader_locked.store(true, Ordering::SeqCst);
    true
}

/// `m_stop()` today: `mmap_read_unlock()`, `mmput()` (maybe the last one).
fn m_stop(sys: &Sys) {
    sys.obs.reader_locked.store(false, Ordering::SeqCst);
    sys.mm.mmap_lock.up_read();
    ev!("m_stop", "mmap_read_unlock(mm); mmput(mm)");
    sys.obs.reader_holds_users.store(false, Ordering::SeqCst);
    mmput(sys, Ctx::Reader);
}

/// `m_start()` under Linus's rule: no `mmget_not_zero()`; bail out if `task->mm` is NULL;
/// then `mmap_read_lock_killable()` on the open-time mm (held by mm_count only).
fn m_start_count_only(sys: &Sys) -> bool {
    if sys.task.released.load(Ordering::Acquire) {
        ev!("m_start", "get_proc_task(): gone");
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
    sys.obs.reader_locked.store(true, Ordering::SeqCst);
    true
}

/// `show_smap()` + `m_next()` for `reader_stall` VMAs per lock hold (one seq buffer): each
/// VMA is one step the low-priority reader can be preempted at (the stall).
fn show_smaps(sys: &Sys) {
    for s in 0..sys.cfg.reader_stall {
        let i = s as usize % sys.cfg.nr_vmas;
        // The low-priority reader loses the CPU here (the stall); the step counts once it
        // gets the CPU back.
        yield_now();
        sys.obs.reader_steps.fetch_add(1, Ordering::SeqCst);
        if !sys.mm.vmas.load(Ordering::Relaxed) {
            ev!("m_next", "VMA tree empty (exit_mmap finished): end");
            return;
        }
        let pt = sys.mm.pgtables.load(Ordering::Relaxed);
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

/// `mem_rw()` (`/proc/pid/mem` read) with its per-call `mmget_not_zero()` removed: only the
/// open-time mm_count pins the mm, so nothing tells the reader the address space is being
/// torn down; `access_remote_vm()` takes `mmap_read_lock` and GUP faults pages in.
fn mem_rw(sys: &Sys) {
    if !sys.mm_deref(Ctx::Reader, "mem_rw") {
        return;
    }
    ev!("mem_rw", "open-time mm (mm_count only, no mmget_not_zero)");
    access_remote_vm(sys);
}

/// `get_cmdline()` converted naively to (d)'s rule: instead of `get_task_mm()` it holds the
/// open-time mm_count and takes `mmap_read_lock` as the walker protection, checks `task->mm`,
/// then calls `access_remote_vm()`, which takes `mmap_read_lock` a second time.
fn get_cmdline(sys: &Sys) {
    if sys.task.released.load(Ordering::Acquire) {
        ev!("get_cmdline", "get_proc_task(): gone");
        return;
    }
    ev!(
        "get_cmdline",
        "mm_count only; mmap_read_lock(mm) to pin the VMAs"
    );
    sys.mm.mmap_lock.down_read();
    sys.obs.reader_locked.store(true, Ordering::SeqCst);
    let has_mm = sys.task.threads[0].lock().mm;
    if !has_mm {
        ev!("get_cmdline", "task->mm == NULL: nothing to read");
    } else if sys.mm_deref(Ctx::Reader, "get_cmdline") {
        access_remote_vm(sys);
        // access_remote_vm() dropped its own hold; the walker's is still held.
        sys.obs.reader_locked.store(true, Ordering::SeqCst);
    }
    sys.obs.reader_locked.store(false, Ordering::SeqCst);
    sys.mm.mmap_lock.up_read();
    ev!("get_cmdline", "mmap_read_unlock(mm)");
}

/// `access_remote_vm()` → `__access_remote_vm()`: `mmap_read_lock_killable()`, then per page
/// `get_user_pages_remote()` (faulting a missing page in, refused once `MMF_UNSTABLE`),
/// `mmap_read_unlock()`.
fn access_remote_vm(sys: &Sys) {
    ev!("access_remote_vm", "mmap_read_lock_killable(mm)");
    sys.mm.mmap_lock.down_read();
    sys.obs.reader_locked.store(true, Ordering::SeqCst);
    for s in 0..sys.cfg.reader_stall {
        let i = s as usize % sys.cfg.nr_vmas;
        // The low-priority reader loses the CPU here (the stall).
        yield_now();
        sys.obs.reader_steps.fetch_add(1, Ordering::SeqCst);
        if !sys.mm.vmas.load(Ordering::Relaxed) {
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
        if sys.mm.test_flag(MMF_UNSTABLE) {
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
    sys.obs.reader_locked.store(false, Ordering::SeqCst);
    sys.mm.mmap_lock.up_read();
    ev!("access_remote_vm", "mmap_read_unlock(mm)");
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
                 resident (MMF_OOM_SKIP was set by exit_mmap() while a page was mapped)"
            )
        });
    } else if ret == -ESRCH {
        let reader = sys.obs.reader_holds_users.load(Ordering::SeqCst);
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
