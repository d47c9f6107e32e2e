//! The designs of the May 2026 discussion and how each one's procfs readers pin the mm.

use kmodel_harness::prelude::*;

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
    /// Ablation of (a): smaps `m_start()` takes `mmget()` instead of `mmget_not_zero()`
    /// (why must a procfs reader never revive a dead `mm_users`?).
    SmapsMmget,
}

impl Design {
    /// `exit_mmap()` holds `mmap_write_lock` from start to end (Linus, May 16).
    pub fn write_locked_teardown(self) -> bool {
        matches!(self, Design::WriteLockedTeardown | Design::WriteLockedGup)
    }

    /// How a read of `kind` pins the mm under this design. (d)'s rule (open-time mm_count +
    /// `mmap_read_lock`) is for page-table walkers; GUP readers keep `mm_users` except in the
    /// two variants that apply the rule to them.
    pub fn read_mode(self, kind: ReadKind) -> ReadMode {
        use Design::*;
        match (kind, self) {
            (ReadKind::Smaps, WriteLockedTeardown | CountOnlyGup | WriteLockedGup) => {
                ReadMode::SmapsCountOnly
            }
            (ReadKind::Smaps, SmapsMmget) => ReadMode::SmapsMmget,
            (ReadKind::Smaps, _) => ReadMode::Smaps,
            (ReadKind::Mem, CountOnlyGup) => ReadMode::MemCountOnly,
            (ReadKind::Mem, _) => ReadMode::Mem,
            (ReadKind::Cmdline, WriteLockedGup) => ReadMode::CmdlineReadLocked,
            (ReadKind::Cmdline, _) => ReadMode::Cmdline,
        }
    }

    /// The procfs file the scripted scene's reader reads under this design.
    pub fn scripted_read(self) -> ReadKind {
        match self {
            Design::CountOnlyGup => ReadKind::Mem,
            Design::WriteLockedGup => ReadKind::Cmdline,
            _ => ReadKind::Smaps,
        }
    }
}

/// Which procfs file a reader reads (the scene's choice).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ReadKind {
    /// `/proc/V/smaps`: a page-table walker.
    Smaps,
    /// `/proc/V/mem`: GUP (`access_remote_vm()`), can fault pages in.
    Mem,
    /// `/proc/V/cmdline`: `get_task_mm()` + `access_remote_vm()`.
    Cmdline,
}

impl ReadKind {
    pub fn file(self) -> &'static str {
        match self {
            ReadKind::Smaps => "smaps",
            ReadKind::Mem => "/proc/pid/mem",
            ReadKind::Cmdline => "cmdline",
        }
    }
}

/// How one read pins the mm (the design's version of the reader's code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// `/proc/V/smaps` today: `m_start()` takes `mmget_not_zero()`, `m_stop()` does `mmput()`.
    Smaps,
    /// Ablation: `m_start()` with `mmget()` (no zero test).
    SmapsMmget,
    /// `/proc/V/smaps` under (d): open-time mm_count + `mmap_read_lock`, never mm_users.
    SmapsCountOnly,
    /// `/proc/V/mem` today: `mem_rw()` takes `mmget_not_zero()` around `access_remote_vm()`.
    Mem,
    /// `/proc/V/mem` with only the open-time mm_count: `access_remote_vm()` faults pages in.
    MemCountOnly,
    /// `/proc/V/cmdline` today: `get_task_mm()` (mm_users) around `access_remote_vm()`; no
    /// open-time reference.
    Cmdline,
    /// (d''): the open-time mm_count, `mmap_read_lock` held across `access_remote_vm()`.
    CmdlineReadLocked,
}

impl ReadMode {
    /// The file holds an mm_count reference from `open()` (`proc_mem_open()`).
    pub fn open_time_ref(self) -> bool {
        self != ReadMode::Cmdline
    }
}

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
