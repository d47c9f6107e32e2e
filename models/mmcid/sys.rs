//! The system of one execution: runqueues, the mm's CID state, tasks and ghost state (the CPUs
//! that run kernel events on it are in `cpu.rs`).

use kmodel_harness::prelude::*;

use super::design::{Ablation, Design};

/// `struct rq`, the part the model needs: `rq->curr` (None = the idle task).
#[derive(Debug)]
pub struct Rq {
    pub curr: Option<usize>,
}

/// Fields of `struct mm_mm_cid` written under `mm->mm_cid.lock`.
#[derive(Debug)]
pub struct MmLocked {
    pub nr_cpus_allowed: u32,
    /// `mm_cpus_allowed(mm)`: growth-only union of the threads' affinity masks.
    pub cpus_allowed: u64,
    pub pcpu_thrs: u32,
    pub update_deferred: bool,
}

/// `struct mm_mm_cid` plus the per-CPU `struct mm_cid_pcpu` slots.
pub struct MmMmCid {
    /// `mm->mm_cid.pcpu[cpu].cid`.
    pub pcpu: Vec<AtomicU32>,
    /// Mainline `mode` (0, TRANSIT, ONCPU, ONCPU|TRANSIT).
    pub mode: AtomicU32,
    /// V3 only: `percpu` and `transit` words.
    pub percpu: AtomicU32,
    pub transit: AtomicU32,
    pub max_cids: AtomicU32,
    /// Written holding `mutex` and `lock`, read under either (and racily).
    pub users: AtomicU32,
    /// `mm->mm_cid.lock` (raw spinlock), named so in timelines.
    pub lock: Mutex<MmLocked>,
    /// `mm->mm_cid.mutex`, named so in timelines.
    pub mutex: Mutex<()>,
    /// `mm->mm_cid.user_list` (mainline since the March 2026 fixes): the CID users, newest
    /// first (`hlist_add_head()`). Changed with `mutex` and `lock` held, walked with `mutex`
    /// held; every access happens under the harness `mutex`, so a plain std container adds
    /// no schedule points and no ordering of its own.
    pub user_list: std::sync::Mutex<Vec<usize>>,
    /// `irq_work` / `work` queued.
    pub work_queued: AtomicBool,
}

/// `task_struct`, the part the model needs.
pub struct Task {
    pub name: &'static str,
    /// `t->mm == mm` (false before fork, after exit_mm / a successful execve).
    pub mm: AtomicBool,
    /// `t->mm_cid.active`.
    pub active: AtomicU32,
    /// `t->mm_cid.cid`.
    pub cid: AtomicU32,
    /// `task_cpu(t)`.
    pub cpu: AtomicUsize,
    /// `wake_up_new_task()` done: the scheduler may pick it (after the fork hook returned).
    pub started: AtomicBool,
}

#[derive(Default)]
pub(crate) struct Ghost {
    /// CID exposed to user space by each CPU's current task.
    pub(crate) exposed: Vec<Option<(usize, u32)>>,
    /// Switch-back threshold recorded at the per-CPU switch (changelog contract).
    pub(crate) recorded_thrs: u32,
    /// `mm_cpus_allowed(mm)` as the scheduler sees it: the union of the threads' affinity
    /// masks. A thread is only ever placed on (forked onto, migrated to) a CPU in it.
    pub(crate) allowed: u64,
}

/// The whole system of one execution.
pub struct Sys {
    pub design: Design,
    pub ablation: Ablation,
    /// `num_possible_cpus()`.
    pub nr_possible: u32,
    pub mm_cid: MmMmCid,
    /// `mm_cidmask(mm)`: num_possible_cpus() bits.
    pub cidmask: Bitmap,
    pub tasks: Vec<Task>,
    /// `cpu_rq(cpu)->__lock` with what it protects here, named [`RQ_LOCK_NAMES`].
    pub rq: Vec<Mutex<Rq>>,
    /// RCU (V3 and v6.19.0 walked the thread list under `rcu_read_lock()`).
    pub rcu: Rcu,
    pub(crate) ghost: kmodel_harness::sync::Ghost<Ghost>,
}

pub const TASK_NAMES: [&str; 6] = ["T0", "T1", "T2", "T3", "T4", "T5"];

/// The runqueue locks by their kernel name (`raw_spinlock_t rq->__lock` of `cpu_rq(cpu)`), one
/// per possible CPU of the largest scene (8), so a timeline says which rq blocks.
pub const RQ_LOCK_NAMES: [&str; 8] = [
    "cpu_rq(0)->__lock",
    "cpu_rq(1)->__lock",
    "cpu_rq(2)->__lock",
    "cpu_rq(3)->__lock",
    "cpu_rq(4)->__lock",
    "cpu_rq(5)->__lock",
    "cpu_rq(6)->__lock",
    "cpu_rq(7)->__lock",
];

impl Sys {
    pub(crate) fn ghost(&self) -> kmodel_harness::sync::GhostGuard<'_, Ghost> {
        self.ghost.lock()
    }

    /// `mm->mm_cid.user_list` (caller holds the harness `mutex`; see [`MmMmCid::user_list`]).
    pub fn user_list(&self) -> std::sync::MutexGuard<'_, Vec<usize>> {
        self.mm_cid
            .user_list
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn ghost_record_thrs(&self, thrs: u32) {
        self.ghost().recorded_thrs = thrs;
    }
}
