//! exit_mm() vs process_mrelease(): can a userspace OOM killer (LMKD) reliably free a killed
//! victim's memory while a low-priority procfs reader pins it? All designs of the May 2026
//! linux-mm discussion (seed 001, `../shared/reference/mrelease.md`).
//!
//! Actors: the killer (LMKD: kill, then reap), the victim's only thread (`do_exit()` →
//! `exit_mm()` → `mmput()`), and a low-priority procfs reader (smaps or cmdline) whose VMA walk
//! can stall for `reader_stall` steps. The reader's file was opened before the scenario, so it
//! holds an mm_count reference (`proc_mem_open()`).

mod design;
mod exit;
mod kernel;
mod oom;
mod procfs;
mod reaper;
pub mod scene;
mod space;
#[cfg(test)]
mod tests;

use kmodel_harness::prelude::*;

use kernel::{Design, Sys};
pub use scene::Scene;
pub use space::MreleaseScenes;

pub const REAPED_ON_SUCCESS: &str = "reaped-on-success";
pub const NO_SPURIOUS_ESRCH: &str = "no-spurious-esrch";
pub const TEARDOWN_NOT_IN_READER: &str = "teardown-not-in-reader";
pub const NO_USE_AFTER_PUT: &str = "no-use-after-put";
pub const KILLER_NOT_BLOCKED_BY_READER: &str = "killer-not-blocked-by-reader";
/// `VM_BUG_ON(atomic_read(&mm->mm_users))` in `__mmput()` (kernel/fork.c).
pub const MMPUT_MM_USERS: &str = "mmput-vm-bug-on-mm-users";
/// `check_mm()` in `__mmdrop()` (kernel/fork.c): "BUG: Bad rss-counter state".
pub const CHECK_MM_RSS: &str = "mmdrop-check-mm-rss-counter";

const PROPERTIES: &[Property] = &[
    Property {
        id: REAPED_ON_SUCCESS,
        claim: "when process_mrelease() (or the expedited kill) returns 0, none of the victim's \
                private pages is still resident",
    },
    Property {
        id: NO_SPURIOUS_ESRCH,
        claim: "the killer never gets -ESRCH while the victim's memory is resident and the last \
                mm_users reference belongs to the procfs reader rather than an exiting victim thread",
    },
    Property {
        id: TEARDOWN_NOT_IN_READER,
        claim: "exit_mmap() never runs in the low-priority procfs reader's context",
    },
    Property {
        id: NO_USE_AFTER_PUT,
        claim: "nobody touches the mm_struct, its page tables or its pages after the reference \
                that protects them is gone (no access after __mmdrop(), no page faulted in after \
                exit_mmap() unmapped it, no free_pgtables() under a live mapping, no leaks; \
                no thread's task_struct after its RCU-delayed free)",
    },
    Property {
        id: NO_DEADLOCK,
        claim: "every actor finishes: no cycle through mmap_lock, task_lock and the wait for SIGKILL",
    },
    Property {
        id: KILLER_NOT_BLOCKED_BY_READER,
        claim: "the killer's mmap_read_lock never sleeps while the stalled reader holds \
                mmap_lock with more than killer_wait_budget (default 0) VMA-walk steps left",
    },
    Property {
        id: MMPUT_MM_USERS,
        claim: "kernel assertion VM_BUG_ON(atomic_read(&mm->mm_users)) in __mmput(): nobody \
                revives mm_users once the last user's teardown starts",
    },
    Property {
        id: CHECK_MM_RSS,
        claim: "kernel assertion in __mmdrop() -> check_mm(): no \"BUG: Bad rss-counter state\" \
                (no page is still accounted to an mm_struct when it is freed)",
    },
    Property {
        id: DATA_RACE,
        claim: "no data race (LKMM, KCSAN): no two conflicting accesses, at least one plain, \
                unordered by happens-before",
    },
];

params! {
    /// The scene's knobs, with the ranges the model accepts.
    pub struct Knobs {
        nr_vmas: usize = 2, 1..=8,
            "private anonymous VMAs of one page each in the victim's mm";
        reader_stall: u32 = 2, 0..=16,
            "VMA-walk steps the reader does under one mmap_read_lock hold (its stall)";
        reader_stealing: bool = false, 0..=1,
            "1: new readers may take mmap_lock past a waiting writer (0: writer-preferring)";
        parent_reaps: bool = false, 0..=1,
            "1: the parent ignores SIGCHLD: the last thread's exit_notify() releases the \
             leader at once (pidfd_get_task fails)";
        victim_threads: usize = 1, 1..=2,
            "threads in the victim's thread group (2 spawns a fourth actor)";
        killer_wait_budget: u32 = 0, 0..=16,
            "reader steps the killer may wait behind the reader before property 6 fails; \
             the smallest budget that holds is the measured worst-case wait";
    }
}

/// One variant per design; `count-only-gup` (/proc/pid/mem) and `write-locked-gup` (cmdline) apply
/// the (d) walker rule to GUP readers, the cases §5.4 of the notes flags.
const VARIANTS: &[Variant] = &[
    Variant {
        name: "today",
        summary: "(a) mainline: pidfd_send_signal(SIGKILL) then process_mrelease(pidfd, 0); \
                  smaps m_start() holds mm_users across the walk",
        expect: expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated],
        sweep: Some(
            expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design::Today,
    },
    Variant {
        name: "reap-kill-v3",
        summary: "(b) v3: process_mrelease(pidfd, PROCESS_MRELEASE_REAP_KILL): find_lock_task_mm \
                  + mmgrab, kill_all_shared_mm(), then reap",
        expect: expect![TEARDOWN_NOT_IN_READER => Violated],
        sweep: Some(
            expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design::ReapKillV3,
    },
    Variant {
        name: "exit-mm-pointer",
        summary: "(c) Jann Horn: exit_mm() publishes task->exit_mm (mm_count) before clearing \
                  task->mm; process_mrelease falls back to it",
        expect: expect![TEARDOWN_NOT_IN_READER => Violated],
        sweep: Some(
            expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design::ExitMmPointer,
    },
    Variant {
        name: "write-locked-teardown",
        summary: "(d) Linus: exit_mmap() holds mmap_write_lock for the whole teardown; smaps \
                  walkers hold the open-time mm_count + mmap_read_lock, never mm_users",
        expect: expect![KILLER_NOT_BLOCKED_BY_READER => Violated],
        sweep: Some(
            expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated, KILLER_NOT_BLOCKED_BY_READER => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design::WriteLockedTeardown,
    },
    Variant {
        name: "expedite-signal",
        summary: "(e) Minchan: pidfd_send_signal(SIGKILL, EXPEDITE) pins the mm, delivers the \
                  kill and reaps in one syscall",
        expect: expect![TEARDOWN_NOT_IN_READER => Violated],
        sweep: Some(
            expect![REAPED_ON_SUCCESS => Violated, NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design::ExpediteSignal,
    },
    Variant {
        name: "count-only-gup",
        summary: "(d') walkers keep only the open-time mm_count, applied to a GUP reader \
                  (/proc/pid/mem mem_rw without mmget_not_zero) while exit_mmap() still unmaps \
                  under the read lock",
        expect: expect![REAPED_ON_SUCCESS => Violated, NO_USE_AFTER_PUT => Violated, KILLER_NOT_BLOCKED_BY_READER => Violated, CHECK_MM_RSS => Violated],
        sweep: Some(
            expect![REAPED_ON_SUCCESS => Violated, NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated, NO_USE_AFTER_PUT => Violated, KILLER_NOT_BLOCKED_BY_READER => Violated, CHECK_MM_RSS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design::CountOnlyGup,
    },
    Variant {
        name: "write-locked-gup",
        summary: "(d'') (d) with get_cmdline() holding the walker's mmap_read_lock across \
                  access_remote_vm(), which read-locks again; LMKD only kills and relies on \
                  the victim's own exit_mmap()",
        expect: expect![NO_DEADLOCK => Violated],
        sweep: Some(expect![TEARDOWN_NOT_IN_READER => Violated, NO_DEADLOCK => Violated]),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design::WriteLockedGup,
    },
    Variant {
        name: "smaps-mmget",
        summary: "ablation of (a): smaps m_start() takes mmget() instead of mmget_not_zero(), \
                  so a reader can revive mm_users after the victim's last mmput()",
        expect: expect![
            NO_SPURIOUS_ESRCH => Violated,
            TEARDOWN_NOT_IN_READER => Violated,
            NO_USE_AFTER_PUT => Violated,
            MMPUT_MM_USERS => Violated
        ],
        sweep: Some(
            expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated, NO_USE_AFTER_PUT => Violated, MMPUT_MM_USERS => Violated, DATA_RACE => Violated],
        ),
        engines: Engines::All,
        min_pct_schedules: None,
        design: &Design::SmapsMmget,
    },
];

pub static MODEL: Model = Model {
    name: "mrelease",
    question: "Can LMKD's kill + process_mrelease() reliably free a victim's memory while a \
               stalled procfs reader pins it, under each of the five 2026 designs?",
    references: &[
        "kernel/exit.c: do_exit(), exit_mm()",
        "kernel/fork.c: mmput(), __mmput(), mmget_not_zero(), mmgrab()/mmdrop()",
        "mm/mmap.c: exit_mmap() (read-then-write since bf3980c85212)",
        "mm/oom_kill.c: process_mrelease(), find_lock_task_mm(), task_will_free_mem(), \
         __oom_reap_task_mm()",
        "fs/proc/task_mmu.c: m_start(), m_stop(); fs/proc/base.c: proc_mem_open(), get_cmdline()",
        "Message-ID: <20260511214226.937793-1-minchan@kernel.org> (PROCESS_MRELEASE_REAP_KILL v3)",
        "Seed 001: Minchan Kim to Linus Torvalds, 19 May 2026, Re: [PATCH v3] mm: \
         process_mrelease: introduce PROCESS_MRELEASE_REAP_KILL flag",
        "Jann Horn: ptrace: keep task's mm around in separate exit_mm field post-exit \
         (20201016024019.1882062-*, reposted 16 May 2026)",
    ],
    params: Knobs::PARAMS,
    param_check: None,
    properties: PROPERTIES,
    variants: VARIANTS,
    // README (c): once an autoreaping parent releases the zombie leader, pidfd_get_task()
    // fails while the reader still pins the memory (the notes' [D] residual window).
    param_verdicts: &[ParamVerdicts {
        variant: "exit-mm-pointer",
        params: &[("parent_reaps", 1)],
        expect: expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated],
    }],
    source: &[
        include_str!("mod.rs"),
        include_str!("kernel.rs"),
        include_str!("design.rs"),
        include_str!("exit.rs"),
        include_str!("oom.rs"),
        include_str!("procfs.rs"),
        include_str!("reaper.rs"),
        include_str!("scene.rs"),
        include_str!("space.rs"),
    ],
    scenario,
    scenes: Some(&MreleaseScenes),
    port: kmodel_harness::port_file!("port.toml"),
};

/// Builds one execution of the variant's scripted scene: a member of the scene space, run by
/// the same code as generated scenes.
fn scenario(variant: &Variant, params: &Params) -> Scenario {
    let design = *variant.design::<Design>();
    let scene = Scene::scripted(design, &Knobs::from(params));
    Arc::new(move || scene.run(design))
}

/// After every actor finished: a victim still queued for the oom_reaper is reaped (its timer
/// fires), the parent reaps the zombie (if it has not already), then every reference must be
/// gone and every page freed.
fn once_quiet(sys: &Sys) {
    if execution_spent() {
        return;
    }
    reaper::oom_reaper_once_quiet(sys);
    if !read_once(&sys.task.released) {
        exit::release_task(sys, kernel::Ctx::Parent);
    }
    let users = sys.mm.mm_users.load(Ordering::Relaxed);
    let count = sys.mm.mm_count.load(Ordering::Relaxed);
    let left = sys.mm.resident();
    let freed = sys.mm.freed.load(Ordering::Relaxed);
    check(
        NO_USE_AFTER_PUT,
        users == 0 && count == 0 && freed && left == 0,
        || {
            format!(
                "once quiet: mm_users {users}, mm_count {count}, mm_struct freed {freed}, \
                 {left} page(s) still resident: a reference or page leaked"
            )
        },
    );
}
