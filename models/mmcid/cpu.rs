//! The CPUs: the kernel events a CPU's script performs on the system (`run_cpu()`: context
//! switch, migration, fork, exit, execve, affinity, deferred work), `boot()` and the once-quiet
//! checks.

use kmodel_harness::prelude::*;
use serde::{Deserialize, Serialize};

use super::cid::{
    cid_in_transit, cid_on_cpu, fmt_cid, fmt_mode, mm_cid_switch_to, read_mode, task_cid,
    MM_CID_UNSET,
};
use super::design::{Ablation, Design};
use super::hooks::{
    mm_cid_work_fn, sched_mm_cid_after_execve, sched_mm_cid_before_execve, sched_mm_cid_exit,
    sched_mm_cid_fork,
};
use super::mode::mm_update_cpus_allowed;
use super::properties::{
    CIDMASK_IN_BOUNDS, CID_IN_RANGE, CID_UNIQUE, NO_CID_LEAK, NO_TRANSIT_LEFT, SWITCH_BACK,
};
use super::sys::{Ghost, MmLocked, MmMmCid, Rq, Sys, Task, RQ_LOCK_NAMES, TASK_NAMES};

/// One kernel event, performed by the CPU whose script holds it, on its current task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// `__schedule()`: switch from the current task to `next` (None: idle); a task that is not
    /// queued here (running elsewhere, exited, not yet woken) is not picked.
    Switch(Option<usize>),
    /// Pull a task that is not running to this CPU (`set_task_cpu()` under both rq locks).
    Migrate(usize),
    /// current forks `child` (CLONE_VM thread), child placed on CPU `on`.
    Fork(usize, usize),
    /// current exits: `sched_mm_cid_exit()`, `exit_mm()`, final `schedule()`.
    Exit,
    /// current runs a failing execve: before_execve + after_execve on the same mm.
    ExecFail,
    /// current runs a successful execve: `sched_mm_cid_before_execve()`, then `exec_mmap()`
    /// moves it to a new mm (it keeps running, no longer a user of this one).
    Exec,
    /// `sched_setaffinity(current, mask)`: `mm_update_cpus_allowed()` under the rq lock.
    SetAffinity(u64),
    /// The deferred `mm_cid_work_fn()` runs on this CPU (if it was queued).
    Work,
}

/// A CPU executing its script; `curr` mirrors `rq->curr` (only this CPU changes it).
pub(crate) fn run_cpu(sys: &Sys, cpu: usize, ops: &[Op]) {
    let mut curr = sys.rq[cpu].lock().curr;
    for &op in ops {
        match op {
            Op::Switch(next) => {
                let mut rq = sys.rq[cpu].lock();
                if let Some(n) = next {
                    // pick_next_task() can only pick a live task queued here and not running
                    if sys.tasks[n].cpu.load(Ordering::Relaxed) != cpu
                        || !sys.tasks[n].mm.load(Ordering::Relaxed)
                        || !sys.tasks[n].started.load(Ordering::Relaxed)
                    {
                        ev!(
                            "__schedule",
                            "{} is not on this runqueue: stay",
                            sys.tasks[n].name
                        );
                        continue;
                    }
                }
                sys.ghost().exposed[cpu] = None;
                ev!(
                    "__schedule",
                    "context_switch {} -> {}",
                    curr.map_or("idle", |t| sys.tasks[t].name),
                    next.map_or("idle", |t| sys.tasks[t].name)
                );
                rq.curr = next;
                mm_cid_switch_to(sys, cpu, curr, next);
                curr = next;
                drop(rq);
                sys.expose(cpu, curr);
            }
            Op::Migrate(t) => {
                if sys.ghost().allowed & (1 << cpu) == 0 {
                    ev!(
                        "move_queued_task",
                        "CPU{cpu} is not in mm_cpus_allowed: {} not migrated",
                        sys.tasks[t].name
                    );
                    continue;
                }
                let from = sys.tasks[t].cpu.load(Ordering::Relaxed);
                if from >= sys.rq.len()
                    || !sys.tasks[t].mm.load(Ordering::Relaxed)
                    || !sys.tasks[t].started.load(Ordering::Relaxed)
                {
                    continue; // exited, or not yet woken up by its fork
                }
                // double_rq_lock(): the kernel publishes the new CPU under both rq locks
                // (move_queued_task() enqueues under the destination lock; ttwu holds
                // p->pi_lock), so whoever next locks the destination rq sees every store the
                // source CPU made before the migration. Locking only the source let a walker
                // read a stale task CID (found by the split loom search, README).
                let (lo, hi) = (from.min(cpu), from.max(cpu));
                let g1 = sys.rq[lo].lock();
                let g2 = (hi != lo).then(|| sys.rq[hi].lock());
                let rq: &Rq = match &g2 {
                    Some(g) if from == hi => g,
                    _ => &g1,
                };
                if rq.curr == Some(t) || sys.tasks[t].cpu.load(Ordering::Relaxed) != from {
                    ev!(
                        "move_queued_task",
                        "{} is running on CPU{from}: not migrated",
                        sys.tasks[t].name
                    );
                } else {
                    sys.tasks[t].cpu.store(cpu, Ordering::Relaxed);
                    ev!(
                        "set_task_cpu",
                        "{} CPU{from} -> CPU{cpu}",
                        sys.tasks[t].name
                    );
                }
                drop(g2);
                drop(g1);
            }
            Op::Fork(child, on) => {
                let Some(cur) = curr else { continue };
                if !sys.tasks[cur].mm.load(Ordering::Relaxed) {
                    // After a successful execve() current runs another mm: its child is not
                    // a thread of this one.
                    continue;
                }
                sys.ghost().exposed[cpu] = None; // syscall entry: not in user space
                ev!(
                    "copy_process",
                    "{} forks {}",
                    sys.tasks[cur].name,
                    sys.tasks[child].name
                );
                // select_task_rq(): the child inherits the parent's affinity, so it can only be
                // placed on a CPU of mm_cpus_allowed(mm); otherwise it starts on this CPU.
                let on = if sys.ghost().allowed & (1 << on) != 0 {
                    on
                } else {
                    cpu
                };
                let c = &sys.tasks[child];
                c.cpu.store(on, Ordering::Relaxed);
                c.mm.store(true, Ordering::Relaxed);
                sched_mm_cid_fork(sys, cpu, cur, child);
                // wake_up_new_task(): activate_task() under the child's rq lock, so the CPU
                // that picks the child sees everything the fork wrote.
                let rq = sys.rq[on].lock();
                c.started.store(true, Ordering::Relaxed);
                drop(rq);
                sys.expose(cpu, curr);
            }
            Op::Exit => {
                let Some(cur) = curr else { continue };
                sys.ghost().exposed[cpu] = None; // syscall entry: never returns to user
                ev!("do_exit", "{} exits", sys.tasks[cur].name);
                sched_mm_cid_exit(sys, cpu, cur);
                sys.tasks[cur].mm.store(false, Ordering::Relaxed); // exit_mm()
                let mut rq = sys.rq[cpu].lock();
                rq.curr = None;
                mm_cid_switch_to(sys, cpu, Some(cur), None);
                curr = None;
                sys.tasks[cur].cpu.store(usize::MAX >> 1, Ordering::Relaxed);
            }
            Op::ExecFail => {
                let Some(cur) = curr else { continue };
                sys.ghost().exposed[cpu] = None; // syscall entry: not in user space
                ev!("bprm_execve", "{} execve() fails", sys.tasks[cur].name);
                sched_mm_cid_before_execve(sys, cpu, cur);
                sched_mm_cid_after_execve(sys, cpu, cur);
                sys.expose(cpu, curr);
            }
            Op::Exec => {
                let Some(cur) = curr else { continue };
                sys.ghost().exposed[cpu] = None; // syscall entry: not in user space
                ev!(
                    "bprm_execve",
                    "{} execve() succeeds: exec_mmap() moves it to a new mm",
                    sys.tasks[cur].name
                );
                sched_mm_cid_before_execve(sys, cpu, cur);
                sys.tasks[cur].mm.store(false, Ordering::Relaxed);
            }
            Op::Work => {
                if sys.mm_cid.work_queued.swap(false, Ordering::Relaxed) {
                    ev!("mm_cid_work_fn", "deferred mode update runs");
                    mm_cid_work_fn(sys);
                }
            }
            Op::SetAffinity(mask) => {
                let Some(cur) = curr else { continue };
                if !sys.tasks[cur].mm.load(Ordering::Relaxed) {
                    continue; // current runs another mm since its execve()
                }
                let _rq = sys.rq[cpu].lock();
                ev!(
                    "__do_set_cpus_allowed",
                    "{} cpus_mask {mask:#x}",
                    sys.tasks[cur].name
                );
                mm_update_cpus_allowed(sys, mask);
                // Only now may the scheduler place a thread on the new CPUs.
                sys.ghost().allowed |= mask;
            }
        }
    }
}

/// `mm_init_cid()` + the first user: `t0` runs on CPU0 with the whole mm to itself.
pub(crate) fn boot(sys: &Sys, nr_cpus_allowed: u32) {
    {
        let mut mc = sys.mm_cid.lock.lock();
        mc.nr_cpus_allowed = nr_cpus_allowed;
        mc.cpus_allowed = (1u64 << nr_cpus_allowed) - 1;
    }
    sys.ghost().allowed = (1u64 << nr_cpus_allowed) - 1;
    sys.tasks[0].mm.store(true, Ordering::Relaxed);
    sys.rq[0].lock().curr = Some(0);
    sched_mm_cid_fork(sys, 0, 0, 0);
    sys.expose(0, Some(0));
}

/// The final check once every actor has joined: all CPUs go idle, the deferred work runs,
/// then bitmap, owners and mode must agree.
pub(crate) fn quiesce_and_check(sys: &Sys) {
    if execution_spent() {
        return;
    }
    for cpu in 0..sys.nr_possible as usize {
        run_cpu(sys, cpu, &[Op::Switch(None)]);
    }
    if sys.mm_cid.work_queued.swap(false, Ordering::Relaxed) {
        mm_cid_work_fn(sys);
    }
    let n = sys.nr_possible as usize;
    let mode = read_mode(sys);
    // Owners of each CID number
    let mut owners: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut add = |c: u32, who: String| {
        let b = task_cid(c) as usize;
        if b < n {
            owners[b].push(who);
        } else {
            check(NO_CID_LEAK, false, || {
                format!("{who} holds CID {} outside the bitmap", fmt_cid(c))
            });
        }
    };
    for (t, task) in sys.tasks.iter().enumerate() {
        let c = task.cid.load(Ordering::Relaxed);
        let live = task.mm.load(Ordering::Relaxed) && task.active.load(Ordering::Relaxed) != 0;
        if c == MM_CID_UNSET || cid_on_cpu(c) {
            continue;
        }
        if !live {
            check(NO_CID_LEAK, false, || {
                format!(
                    "{} is no CID user any more but still holds {}",
                    TASK_NAMES[t],
                    fmt_cid(c)
                )
            });
            continue;
        }
        if cid_in_transit(c) {
            check(NO_TRANSIT_LEFT, false, || {
                format!(
                    "{} is not running but still holds {}",
                    TASK_NAMES[t],
                    fmt_cid(c)
                )
            });
        }
        if cid_on_cpu(mode) {
            check(NO_TRANSIT_LEFT, false, || {
                format!(
                    "per-CPU mode, but {} still owns task CID {}",
                    TASK_NAMES[t],
                    fmt_cid(c)
                )
            });
        }
        add(c, format!("task {}", TASK_NAMES[t]));
    }
    for cpu in 0..n {
        let c = sys.mm_cid.pcpu[cpu].load(Ordering::Relaxed);
        if cid_on_cpu(c) {
            if !cid_on_cpu(mode) {
                check(NO_TRANSIT_LEFT, false, || {
                    format!("per-task mode, but CPU{cpu} still owns {}", fmt_cid(c))
                });
            }
            add(c, format!("CPU{cpu}"));
        }
    }
    check(NO_TRANSIT_LEFT, !cid_in_transit(mode), || {
        format!("quiet, but mode is still {}", fmt_mode(mode))
    });
    for (c, o) in owners.iter().enumerate() {
        let bit = sys.cidmask.test_bit(c);
        if o.len() > 1 {
            check(CID_UNIQUE, false, || {
                format!(
                    "CID {c} is owned by {}: both would run with it",
                    o.join(" and ")
                )
            });
            continue;
        }
        check(NO_CID_LEAK, bit != o.is_empty(), || {
            if bit {
                format!("CID {c} is set in mm_cidmask but nobody owns it (leaked)")
            } else {
                format!("{} owns CID {c} but its bit is clear in mm_cidmask", o[0])
            }
        });
    }
    let users = sys.mm_cid.users.load(Ordering::Relaxed);
    let thrs = sys.ghost().recorded_thrs;
    check(
        SWITCH_BACK,
        !(cid_on_cpu(mode) && users > 0 && users < thrs),
        || {
            format!(
                "still in per-CPU mode with {users} users, below the switch-back threshold {thrs} \
                 recorded at the per-CPU switch"
            )
        },
    );
}

/// Building the system, and what its CPUs publish to user space.
impl Sys {
    pub(crate) fn new(design: Design, ablation: Ablation, n: u32, nr_tasks: usize) -> Self {
        // The slots come from alloc_percpu() (zero fill): since the rewrite mm_init_cid() does
        // not write them, so a CPU the mm never ran on holds plain 0. V3 (not re-read) keeps
        // MM_CID_UNSET as modelled before.
        let slot0 = if design == Design::V3 {
            MM_CID_UNSET
        } else {
            0
        };
        Sys {
            design,
            ablation,
            nr_possible: n,
            mm_cid: MmMmCid {
                pcpu: (0..n).map(|_| AtomicU32::new(slot0)).collect(),
                mode: AtomicU32::new(0),
                percpu: AtomicU32::new(0),
                transit: AtomicU32::new(0),
                max_cids: AtomicU32::new(0),
                users: AtomicU32::new(0),
                lock: Mutex::named(
                    "mm->mm_cid.lock",
                    MmLocked {
                        nr_cpus_allowed: 0,
                        cpus_allowed: 0,
                        pcpu_thrs: 0,
                        update_deferred: false,
                    },
                ),
                mutex: Mutex::named("mm->mm_cid.mutex", ()),
                user_list: std::sync::Mutex::new(Vec::new()),
                work_queued: AtomicBool::new(false),
            },
            rcu: Rcu::new(),
            cidmask: Bitmap::new("mm_cidmask(mm)", n as usize, CIDMASK_IN_BOUNDS),
            tasks: (0..nr_tasks)
                .map(|i| Task {
                    name: TASK_NAMES[i],
                    mm: AtomicBool::new(false),
                    active: AtomicU32::new(0),
                    cid: AtomicU32::new(MM_CID_UNSET),
                    cpu: AtomicUsize::new(0),
                    started: AtomicBool::new(i == 0),
                })
                .collect(),
            rq: (0..n as usize)
                .map(|cpu| Mutex::named(RQ_LOCK_NAMES[cpu], Rq { curr: None }))
                .collect(),
            ghost: kmodel_harness::sync::Ghost::new(Ghost {
                exposed: vec![None; n as usize],
                recorded_thrs: 0,
                allowed: 0,
            }),
        }
    }

    /// Return to user space on `cpu` of `t` (or of nothing): rseq publishes `task_cid()`.
    pub(crate) fn expose(&self, cpu: usize, t: Option<usize>) {
        let val = t.and_then(|t| {
            let task = &self.tasks[t];
            if !task.mm.load(Ordering::Relaxed) || task.active.load(Ordering::Relaxed) == 0 {
                return None;
            }
            let c = task.cid.load(Ordering::Relaxed);
            // Failed-execve window: active, running, UNSET: nothing published (see README).
            (c != MM_CID_UNSET).then_some((t, task_cid(c)))
        });
        let mut g = self.ghost();
        g.exposed[cpu] = None;
        if let Some((t, c)) = val {
            ev!(
                "rseq_update",
                "{} returns to user space with mm_cid {c}",
                self.tasks[t].name
            );
            let n = self.nr_possible;
            if !check(CID_IN_RANGE, c < n, || {
                format!(
                    "{} exposes mm_cid {c} >= num_possible_cpus() = {n}",
                    self.tasks[t].name
                )
            }) {
                return;
            }
            for (other, e) in g.exposed.iter().enumerate() {
                if let Some((u, uc)) = *e {
                    if uc == c {
                        let (a, b) = (self.tasks[t].name, self.tasks[u].name);
                        check(CID_UNIQUE, false, || {
                            format!(
                                "{a} on CPU{cpu} and {b} on CPU{other} both run with mm_cid {c}"
                            )
                        });
                        return;
                    }
                }
            }
            g.exposed[cpu] = Some((t, c));
        }
    }
}
