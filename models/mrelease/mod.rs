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
mod properties;
mod reaper;
pub mod scene;
mod space;
#[cfg(test)]
mod tests;

use kmodel_harness::prelude::*;

pub use design::{Design, Knobs};
pub use properties::{
    CHECK_MM_RSS, KILLER_NOT_BLOCKED_BY_READER, MMPUT_MM_USERS, NO_SPURIOUS_ESRCH,
    NO_USE_AFTER_PUT, PROPERTIES, REAPED_ON_SUCCESS, TEARDOWN_NOT_IN_READER,
};
pub use scene::Scene;
pub use space::MreleaseScenes;

/// One variant per design; `count-only-gup` (/proc/pid/mem) and `write-locked-gup` (cmdline) apply
/// the (d) walker rule to GUP readers, the cases §5.4 of the notes flags.
const VARIANTS: &[Variant<Design>] = &[
    Variant::new(
        "today",
        "(a) mainline: pidfd_send_signal(SIGKILL) then process_mrelease(pidfd, 0); \
         smaps m_start() holds mm_users across the walk",
        Design::Today,
    )
    .expect(expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated])
    .sweep(expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated, DATA_RACE => Violated]),
    Variant::new(
        "reap-kill-v3",
        "(b) v3: process_mrelease(pidfd, PROCESS_MRELEASE_REAP_KILL): find_lock_task_mm \
         + mmgrab, kill_all_shared_mm(), then reap",
        Design::ReapKillV3,
    )
    .expect(expect![TEARDOWN_NOT_IN_READER => Violated])
    .sweep(expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated, DATA_RACE => Violated]),
    Variant::new(
        "exit-mm-pointer",
        "(c) Jann Horn: exit_mm() publishes task->exit_mm (mm_count) before clearing \
         task->mm; process_mrelease falls back to it",
        Design::ExitMmPointer,
    )
    .expect(expect![TEARDOWN_NOT_IN_READER => Violated])
    .sweep(expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated, DATA_RACE => Violated]),
    Variant::new(
        "write-locked-teardown",
        "(d) Linus: exit_mmap() holds mmap_write_lock for the whole teardown; smaps \
         walkers hold the open-time mm_count + mmap_read_lock, never mm_users",
        Design::WriteLockedTeardown,
    )
    .expect(expect![KILLER_NOT_BLOCKED_BY_READER => Violated])
    .sweep(expect![
        NO_SPURIOUS_ESRCH => Violated,
        TEARDOWN_NOT_IN_READER => Violated,
        KILLER_NOT_BLOCKED_BY_READER => Violated, DATA_RACE => Violated]),
    Variant::new(
        "expedite-signal",
        "(e) Minchan: pidfd_send_signal(SIGKILL, EXPEDITE) pins the mm, delivers the \
         kill and reaps in one syscall",
        Design::ExpediteSignal,
    )
    .expect(expect![TEARDOWN_NOT_IN_READER => Violated])
    .sweep(expect![
        REAPED_ON_SUCCESS => Violated,
        NO_SPURIOUS_ESRCH => Violated,
        TEARDOWN_NOT_IN_READER => Violated,
    ]),
    Variant::new(
        "count-only-gup",
        "(d') walkers keep only the open-time mm_count, applied to a GUP reader \
         (/proc/pid/mem mem_rw without mmget_not_zero) while exit_mmap() still unmaps \
         under the read lock",
        Design::CountOnlyGup,
    )
    .expect(expect![
        REAPED_ON_SUCCESS => Violated,
        NO_USE_AFTER_PUT => Violated,
        KILLER_NOT_BLOCKED_BY_READER => Violated,
        CHECK_MM_RSS => Violated,
    ])
    .sweep(expect![
        REAPED_ON_SUCCESS => Violated,
        NO_SPURIOUS_ESRCH => Violated,
        TEARDOWN_NOT_IN_READER => Violated,
        NO_USE_AFTER_PUT => Violated,
        KILLER_NOT_BLOCKED_BY_READER => Violated,
        CHECK_MM_RSS => Violated, DATA_RACE => Violated]),
    Variant::new(
        "write-locked-gup",
        "(d'') (d) with get_cmdline() holding the walker's mmap_read_lock across \
         access_remote_vm(), which read-locks again; LMKD only kills and relies on \
         the victim's own exit_mmap()",
        Design::WriteLockedGup,
    )
    .expect(expect![NO_DEADLOCK => Violated])
    .sweep(expect![TEARDOWN_NOT_IN_READER => Violated, NO_DEADLOCK => Violated]),
    Variant::new(
        "smaps-mmget",
        "ablation of (a): smaps m_start() takes mmget() instead of mmget_not_zero(), \
         so a reader can revive mm_users after the victim's last mmput()",
        Design::SmapsMmget,
    )
    .expect(expect![
        NO_SPURIOUS_ESRCH => Violated,
        TEARDOWN_NOT_IN_READER => Violated,
        NO_USE_AFTER_PUT => Violated,
        MMPUT_MM_USERS => Violated,
    ])
    .sweep(expect![
        NO_SPURIOUS_ESRCH => Violated,
        TEARDOWN_NOT_IN_READER => Violated,
        NO_USE_AFTER_PUT => Violated,
        MMPUT_MM_USERS => Violated, DATA_RACE => Violated]),
];

/// The model, as the registry holds it (`&MODEL`).
pub struct Mrelease;
pub static MODEL: Mrelease = Mrelease;

impl KernelModel for Mrelease {
    type Design = Design;
    type Params = Knobs;
    type Scenes = MreleaseScenes;

    const CARD: &'static ModelCard = &ModelCard {
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
        properties: PROPERTIES,
        source: sources!["mod.rs", "properties.rs", "design.rs", "kernel.rs", "exit.rs", "oom.rs", "procfs.rs", "reaper.rs", "scene.rs", "space.rs"],
        port: kmodel_harness::port_file!("port.toml"),
    };
    const VARIANTS: &'static [Variant<Design>] = VARIANTS;
    // README (c): once an autoreaping parent releases the zombie leader, pidfd_get_task()
    // fails while the reader still pins the memory (the notes' [D] residual window).
    const PARAM_VERDICTS: &'static [ParamVerdicts<Knobs>] = &[ParamVerdicts {
        variant: "exit-mm-pointer",
        params: Knobs {
            parent_reaps: true,
            ..Knobs::DEFAULT
        },
        expect: expect![NO_SPURIOUS_ESRCH => Violated, TEARDOWN_NOT_IN_READER => Violated],
    }];
    const SCENES: Option<&'static MreleaseScenes> = Some(&MreleaseScenes);

    fn scenario(design: &Design, params: &Knobs) -> Scenario {
        scenario(design, params)
    }
}

/// Builds one execution of the variant's scripted scene: a member of the scene space, run by
/// the same code as generated scenes.
fn scenario(design: &Design, params: &Knobs) -> Scenario {
    let design = *design;
    let scene = Scene::scripted(design, params);
    Arc::new(move || scene.run(design))
}
