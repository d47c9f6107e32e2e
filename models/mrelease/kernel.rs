//! The victim's state (`struct mm_struct`, the task, the readers' ghost observations) and the
//! mm side of the port: reference counting (`mmgrab()` ... `__mmdrop()`, include/linux/sched/mm.h,
//! kernel/fork.c) and the teardown `exit_mmap()` (mm/mmap.c). The exit path is in `exit.rs`, the
//! killer in `oom.rs`, the oom_reaper in `reaper.rs`, the readers in `procfs.rs`; `port.toml`
//! lists every ported function and its simplifications.
//!
//! One victim process with 1-3 threads (T1 its group leader), one `mm_struct`, `nr_vmas` private
//! anonymous VMAs of one page each. Pointers to the single mm become booleans.

use kmodel_harness::prelude::*;

/// Ghost state (what the properties read as ground truth): the harness's ghost atomics, which no
/// engine schedules around or reorders, so they are exactly the state of the interleaving being
/// explored (the dpor engine records which steps touch them).
pub use kmodel_harness::sync::{GhostBool, GhostU32};

use super::design::Design;
use super::design::ReadKind;
use super::properties::{CHECK_MM_RSS, MMPUT_MM_USERS, NO_USE_AFTER_PUT, TEARDOWN_NOT_IN_READER};

/// include/linux/mm_types.h: `MMF_OOM_SKIP` ("mm is of no interest for the OOM killer").
pub const MMF_OOM_SKIP: usize = 21;
/// include/linux/mm_types.h: `MMF_UNSTABLE` ("mm is unstable for copy_from_user").
pub const MMF_UNSTABLE: usize = 22;
/// `NUM_MM_FLAG_BITS` (include/linux/mm_types.h, v6.18+).
pub const NUM_MM_FLAG_BITS: usize = 64;

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

/// Scenario configuration resolved from the variant and the scene.
#[derive(Clone, Debug)]
pub struct Config {
    pub design: Design,
    pub nr_vmas: usize,
    /// Threads of the victim's thread group (T1 is the leader the pidfd names).
    pub threads: usize,
    pub reader_stealing: bool,
    /// The parent ignores SIGCHLD: the last thread's `exit_notify()` releases the leader.
    pub autoreap: bool,
    pub killer_wait_budget: u32,
    /// Every read of the scene, in reader-slot order: (file, walk steps under one lock hold).
    pub reads: Vec<(ReadKind, u32)>,
    /// `OomKill` operations in the race (the oom_reaper waits until each ran).
    pub oom_kills: u32,
    /// Some `OomKill` anywhere in the scene (set-up or race).
    pub oom: bool,
}

/// Who is running a shared function (`mmput()` runs `__mmput()` in the caller's context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    Killer,
    Victim,
    Reader,
    /// The victim's parent (`wait()`, or the scene's "once quiet" epilogue).
    Parent,
    /// The `oom_reaper` kernel thread.
    Reaper,
}

impl Ctx {
    pub fn name(self) -> &'static str {
        match self {
            Ctx::Killer => "the killer (LMKD)",
            Ctx::Victim => "the victim",
            Ctx::Reader => "the low-priority procfs reader",
            Ctx::Parent => "the victim's parent",
            Ctx::Reaper => "the oom_reaper",
        }
    }
}

/// `struct mm_struct`, reduced to what the race touches.
pub struct MmStruct {
    pub mm_users: AtomicU32,
    pub mm_count: AtomicU32,
    pub mmap_lock: RwSem,
    /// `mm->flags`: since v6.18 a bitmap (`mm_flags_t`, `NUM_MM_FLAG_BITS` = 64) read and
    /// written with `mm_flags_test()` / `mm_flags_set()` (`test_bit()` / `set_bit()`).
    pub flags: Bitmap,
    /// Resident pages per VMA (one page per VMA to start with): the PTEs themselves, each
    /// update atomic as under the VMA's page-table lock. Ghost, so checks read the truth.
    pub rss: Vec<GhostU32>,
    /// The page-table lock (`ptl`, split PTLs folded into one): zaps and faults on a VMA's
    /// PTEs serialise on it, which is what orders `MMF_UNSTABLE` against a racing fault.
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
    /// `mm_flags_test(bit, mm)`: `test_bit()`, a plain (`READ_ONCE`) load.
    pub fn mm_flags_test(&self, bit: usize) -> bool {
        self.flags.test_bit(bit)
    }

    /// `mm_flags_set(bit, mm)`: `set_bit()`, an unordered atomic RMW.
    pub fn mm_flags_set(&self, bit: usize) {
        self.flags.set_bit(bit)
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

/// What `sighand->siglock` (and `tasklist_lock`, folded in) protects.
pub struct SigState {
    /// SIGKILL pending for the group.
    pub kill: bool,
    /// Threads that have not passed `exit_notify()` (the leader is reapable at 0).
    pub live: usize,
}

/// `signal->oom_mm`, `MMF_OOM_REAP_QUEUED` and the leader's task_struct references: the
/// oom_reaper's hand-off, under one model lock (`oom_reaper_lock` and friends folded in).
pub struct OomState {
    /// `signal->oom_mm` is set (it holds an mm_count reference until `free_signal_struct()`).
    pub oom_mm: bool,
    /// `queue_oom_reaper()` ran (`MMF_OOM_REAP_QUEUED`).
    pub queued: bool,
    /// `oom_reap_task()` finished.
    pub reaped: bool,
    /// `OomKill` operations of the race that have not run yet.
    pub kills_left: u32,
    /// References to the leader's task_struct (1 until `release_task()`, +1 while queued).
    pub task_refs: u32,
}

/// The victim process: its threads (`[0]` is the group leader the pidfd and /proc/pid name)
/// and their shared `signal_struct`.
pub struct TaskStruct {
    /// Per thread, the task the scheduler sleeps and wakes (the kernel prelude's: its state,
    /// `schedule()`, `wake_up_state()`); thread n's actor runs as it (`current`).
    pub tasks: Vec<Arc<Task>>,
    /// Per thread, `task_lock()` (`p->alloc_lock`) and what it protects.
    pub threads: Vec<Mutex<TaskLocked>>,
    /// Per thread, still on the group's thread list (`thread_node`; `list_del_rcu()` in
    /// `__unhash_process()`, walked with `for_each_thread()` under `rcu_read_lock()`).
    pub listed: Vec<AtomicBool>,
    /// Per thread, its `task_struct`: a released non-leader thread's is freed after a grace
    /// period (`put_task_struct_rcu_user()`); a walker's access after that is a use after
    /// free (property 4). The leader's is pinned by the pidfd users' references.
    pub structs: Vec<RcuObject>,
    pub siglock: Mutex<SigState>,
    /// The parent's `signal->wait_chldexit`: its `wait()` sleeps there until
    /// `do_notify_parent()` (`__wake_up_parent()`).
    pub wait_chldexit: WaitQueueHead,
    /// `signal->flags & SIGNAL_GROUP_EXIT`: written plainly under `siglock`
    /// (`complete_signal()`, `do_group_exit()`), read plainly without it
    /// (`__task_will_free_mem()`).
    pub group_exit: Plain<bool>,
    /// The leader's `task->flags & PF_EXITING`: set plainly by the task itself
    /// (`exit_signals()`), read plainly by `__task_will_free_mem()`.
    pub pf_exiting: Plain<bool>,
    /// `release_task()` ran: the zombie was reaped, `pidfd_get_task()` fails.
    pub released: AtomicBool,
    pub oom: Mutex<OomState>,
    /// `oom_reaper_wait`: the oom_reaper kthread's `wait_event_freezable()`.
    pub oom_reaper_wait: WaitQueueHead,
}

/// What the properties observe about one read (ghost state; the kernel has no such variables).
pub struct ReaderObs {
    /// The reader holds an `mm_users` reference (between `mmget_not_zero()` and `mmput()`).
    pub holds_users: GhostBool,
    /// The reader holds `mmap_read_lock`.
    pub locked: AtomicBool,
    /// VMA-walk steps the reader has done (its progress while it is "stalled").
    pub steps: GhostU32,
    /// Steps of this read under one lock hold.
    pub stall: u32,
}

/// Each victim thread's `comm` and its `task_lock()`'s name (at most three threads).
const THREADS: [(&str, &str); 3] = [
    ("T1", "T1->alloc_lock"),
    ("T2", "T2->alloc_lock"),
    ("T3", "T3->alloc_lock"),
];

/// Everything one execution shares.
pub struct Sys {
    pub cfg: Config,
    /// RCU (the thread and pid lists are walked under `rcu_read_lock()`).
    pub rcu: Rcu,
    pub mm: MmStruct,
    pub task: TaskStruct,
    /// One per read of the scene (reader slot).
    pub readers: Vec<ReaderObs>,
    /// Ghost: who set `MMF_OOM_SKIP` first and what was resident then (for messages).
    pub oom_skip_by: kmodel_harness::sync::Ghost<Option<(String, u32)>>,
}

impl Sys {
    /// A live victim whose procfs files the readers have open: `mm_users` = one per thread,
    /// `mm_count` = 1 (all users) + 1 per file whose `open()` did `proc_mem_open()`'s mmgrab.
    pub fn new(cfg: Config) -> Sys {
        let opened = cfg
            .reads
            .iter()
            .filter(|(k, _)| cfg.design.read_mode(*k).open_time_ref())
            .count() as u32;
        Sys {
            rcu: Rcu::new(),
            mm: MmStruct {
                mm_users: AtomicU32::new(cfg.threads as u32),
                mm_count: AtomicU32::new(1 + opened),
                mmap_lock: RwSem::new(cfg.reader_stealing),
                flags: Bitmap::new("mm->flags", NUM_MM_FLAG_BITS, NO_USE_AFTER_PUT),
                rss: (0..cfg.nr_vmas).map(|_| GhostU32::new(1)).collect(),
                ptl: Mutex::named("ptl", ()),
                unmapped: AtomicU32::new(0),
                pgtables: AtomicBool::new(true),
                vmas: AtomicBool::new(true),
                freed: AtomicBool::new(false),
            },
            task: TaskStruct {
                tasks: THREADS[..cfg.threads]
                    .iter()
                    .map(|&(comm, _)| Arc::new(Task::new(comm)))
                    .collect(),
                threads: THREADS[..cfg.threads]
                    .iter()
                    .map(|&(_, lock)| {
                        Mutex::named(
                            lock,
                            TaskLocked {
                                mm: true,
                                exit_mm: false,
                            },
                        )
                    })
                    .collect(),
                listed: (0..cfg.threads).map(|_| AtomicBool::new(true)).collect(),
                structs: (0..cfg.threads)
                    .map(|_| RcuObject::reported_as("the thread's task_struct", NO_USE_AFTER_PUT))
                    .collect(),
                siglock: Mutex::named(
                    "sighand->siglock",
                    SigState {
                        kill: false,
                        live: cfg.threads,
                    },
                ),
                wait_chldexit: WaitQueueHead::new("signal->wait_chldexit"),
                group_exit: Plain::new("signal->flags & SIGNAL_GROUP_EXIT", false),
                pf_exiting: Plain::new("task->flags & PF_EXITING", false),
                released: AtomicBool::new(false),
                oom: Mutex::named(
                    "oom_reaper_lock",
                    OomState {
                        oom_mm: false,
                        queued: false,
                        reaped: false,
                        kills_left: cfg.oom_kills,
                        task_refs: 1,
                    },
                ),
                oom_reaper_wait: WaitQueueHead::new("oom_reaper_wait"),
            },
            readers: cfg
                .reads
                .iter()
                .map(|&(_, stall)| ReaderObs {
                    holds_users: GhostBool::new(false),
                    locked: AtomicBool::new(false),
                    steps: GhostU32::new(0),
                    stall,
                })
                .collect(),
            oom_skip_by: kmodel_harness::sync::Ghost::new(None),
            cfg,
        }
    }

    /// Property 4 at every dereference of the mm_struct.
    pub fn mm_deref(&self, who: Ctx, site: &str) -> bool {
        let freed = self.mm.freed.load(Ordering::Relaxed);
        check(NO_USE_AFTER_PUT, !freed, || {
            format!(
                "{site}: {} dereferences the mm_struct after __mmdrop() freed it (mm_count hit 0)",
                who.name()
            )
        })
    }

    /// Some reader holds an `mm_users` reference (ghost).
    pub fn reader_holds_users(&self) -> bool {
        self.readers
            .iter()
            .any(|r| r.holds_users.load(Ordering::SeqCst))
    }
}

// ---------------------------------------------------------------------------------------------
// kernel/fork.c, include/linux/sched/mm.h: reference counting

/// `mmgrab()`: `atomic_inc(&mm->mm_count)` (unordered).
pub fn mmgrab(sys: &Sys, who: Ctx) {
    sys.mm_deref(who, "mmgrab");
    atomic_inc(&sys.mm.mm_count);
    ev!("mmgrab", "atomic_inc(&mm->mm_count)");
}

/// `mmdrop()`: `atomic_dec_and_test(&mm->mm_count)` (fully ordered), `__mmdrop()` on zero.
pub fn mmdrop(sys: &Sys, who: Ctx) {
    let last = atomic_dec_and_test(&sys.mm.mm_count);
    ev!("mmdrop", "atomic_dec_and_test(&mm->mm_count): {last}");
    if last {
        __mmdrop(sys, who);
    }
}

/// `__mmdrop()`: frees the pgd and the struct. `check_mm()` reports a non-zero rss counter
/// ("BUG: Bad rss-counter state"): a page still accounted to the mm being freed.
fn __mmdrop(sys: &Sys, who: Ctx) {
    let was = sys.mm.freed.swap(true, Ordering::Relaxed);
    check(NO_USE_AFTER_PUT, !was, || {
        format!("__mmdrop in {}: mm_struct freed twice", who.name())
    });
    let rss = sys.mm.resident();
    check(CHECK_MM_RSS, rss == 0, || {
        format!(
            "__mmdrop() in {}: check_mm(): BUG: Bad rss-counter state (type:MM_ANONPAGES \
             val:{rss}): a page faulted in after exit_mmap() unmapped the VMA is still accounted",
            who.name()
        )
    });
    ev!("__mmdrop", "mm_count reached 0: pgd and mm_struct freed");
}

/// `mmget()`: `atomic_inc(&mm->mm_users)` (unordered; callers must know mm_users is not zero).
pub fn mmget(sys: &Sys, who: Ctx) {
    sys.mm_deref(who, "mmget");
    atomic_inc(&sys.mm.mm_users);
    ev!("mmget", "atomic_inc(&mm->mm_users)");
}

/// `mmget_not_zero()`: `atomic_inc_not_zero(&mm->mm_users)`, i.e. `atomic_add_unless(v, 1, 0)`
/// (fully ordered if it increments, unordered if it fails).
pub fn mmget_not_zero(sys: &Sys, who: Ctx) -> bool {
    if !sys.mm_deref(who, "mmget_not_zero") {
        return false;
    }
    let got = atomic_add_unless(&sys.mm.mm_users, 1, 0);
    if got {
        ev!(
            "mmget_not_zero",
            "atomic_inc_not_zero(&mm->mm_users): got it"
        );
    } else {
        ev!("mmget_not_zero", "mm_users == 0: fails");
    }
    got
}

/// `mmput()`: `atomic_dec_and_test(&mm->mm_users)`; the last user runs `__mmput()` **here**.
pub fn mmput(sys: &Sys, who: Ctx) {
    let last = atomic_dec_and_test(&sys.mm.mm_users);
    ev!("mmput", "atomic_dec_and_test(&mm->mm_users): {last}");
    if last {
        __mmput(sys, who);
    }
}

/// `__mmput()`: `VM_BUG_ON(atomic_read(&mm->mm_users))`, `exit_aio()` (not modelled),
/// `exit_mmap()`, ..., `mmdrop()`.
fn __mmput(sys: &Sys, who: Ctx) {
    let users = atomic_read(&sys.mm.mm_users);
    check(MMPUT_MM_USERS, users == 0, || {
        format!(
            "__mmput() in {}: VM_BUG_ON(atomic_read(&mm->mm_users)): mm_users is {users} \
             while the last user's teardown starts (someone revived a dead mm_users)",
            who.name()
        )
    });
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
        sys.set_oom_skip(&format!(
            "exit_mmap() in {} under mmap_write_lock",
            who.name()
        ));
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
        sys.set_oom_skip(&format!("exit_mmap() in {} after unmap_vmas()", who.name()));
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
    write_once(&sys.mm.pgtables, false);
    ev!("free_pgtables", "page tables freed");
}

/// `remove_vma()` for each VMA, then `__mt_destroy()`.
fn remove_vmas(sys: &Sys) {
    write_once(&sys.mm.vmas, false);
    ev!(
        "exit_mmap",
        "remove_vma() x{}, VMA tree destroyed",
        sys.cfg.nr_vmas
    );
}
