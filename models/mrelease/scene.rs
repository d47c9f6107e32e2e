//! mrelease's scene language: the victim's size (VMAs, threads), a sequential set-up, and a
//! program per concurrent actor (victim threads, any other process: LMKD, procfs readers, the
//! parent, an allocating task that triggers the OOM killer, and the oom_reaper kthread). The
//! design is the variant; the scripted scene of each variant is a member of the space.

use kmodel_harness::prelude::*;
use kmodel_harness::rt::set_actor_local;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::design::Knobs;
use super::design::{Design, ReadKind};
use super::exit::release_task;
use super::exit::{do_exit, exit_group, send_sigkill, wait_for_child, wait_for_sigkill};
use super::kernel::Ctx;
use super::kernel::{Config, Sys};
use super::oom::lmkd_kill;
use super::procfs::procfs_read;
use super::properties::NO_USE_AFTER_PUT;
use super::reaper::oom_reaper_once_quiet;
use super::reaper::{oom_kill, oom_reaper};

pub const MAX_VMAS: usize = 4;
pub const MAX_THREADS: usize = 3;
/// Most VMA-walk steps of one read under one lock hold.
pub const MAX_STALL: u32 = 3;

/// One operation of a process other than the victim (performed in program order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// LMKD: the design's kill-and-reap syscalls ((a) `pidfd_send_signal(SIGKILL)` +
    /// `process_mrelease(pidfd, 0)`, (b) `process_mrelease(pidfd, REAP_KILL)`, (e)
    /// `pidfd_send_signal(SIGKILL, EXPEDITE)`, (d'') the kill alone); properties 1 and 2
    /// judge its result.
    Lmkd,
    /// `pidfd_send_signal(pidfd, SIGKILL)` alone (`kill -9`, another killer).
    Kill,
    /// An allocation fails and the kernel OOM killer picks the victim (`__oom_kill_process()`
    /// in this task's context, queueing the oom_reaper).
    OomKill,
    /// One `read()` of an already opened /proc/V file, `stall` VMA-walk steps under one lock
    /// hold, then `close()`.
    Read { file: ReadKind, stall: u32 },
    /// The parent's `wait()`: sleeps until the victim is a zombie, reaps it. Last op only.
    Wait,
}

/// How a victim thread exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exit {
    /// Sleeps until SIGKILL arrives, then `do_exit()`.
    Killed,
    /// Calls `exit_group()` itself (SIGKILLs the other threads), racing the killers.
    ExitGroup,
}

/// One step of the sequential set-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Kill,
    OomKill,
    /// Thread `T(n+1)` exits on its own (`pthread_exit()`) before the race.
    ThreadExit(usize),
}

/// One concurrent actor.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "kebab-case")]
pub enum Actor {
    /// Victim thread `T(tid+1)` (T1 is the group leader the pidfd names).
    Thread { tid: usize, exit: Exit },
    /// Any other process: LMKD, a procfs reader, the parent, an allocating task.
    Task { ops: Vec<Op> },
    /// The `oom_reaper` kthread.
    OomReaper,
}

/// A scene: a victim with `threads` threads and `nr_vmas` one-page VMAs, every reader's file
/// already open; the set-up runs in order; the actors race; once quiet the oom_reaper's timer
/// fires (if a victim is still queued), the parent reaps the zombie, and every reference and
/// page must be gone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scene {
    pub nr_vmas: usize,
    pub threads: usize,
    /// The parent ignores SIGCHLD: the last thread's `exit_notify()` releases the leader.
    #[serde(default)]
    pub autoreap: bool,
    /// New readers may pass a waiting writer on `mmap_lock` (kernel rwsems do not).
    #[serde(default)]
    pub reader_stealing: bool,
    /// Property 6's budget in reader steps (the scripted scene's measuring knob).
    #[serde(default)]
    pub killer_wait_budget: u32,
    pub setup: Vec<Step>,
    pub actors: Vec<Actor>,
}

impl Op {
    pub fn describe(&self) -> String {
        match *self {
            Op::Lmkd => "LMKD kill + reap (the design's syscalls)".into(),
            Op::Kill => "pidfd_send_signal(SIGKILL)".into(),
            Op::OomKill => "allocation fails: the OOM killer picks the victim".into(),
            Op::Read { file, stall } => format!("read {} ({stall} stall steps)", file.file()),
            Op::Wait => "wait(): reap the zombie".into(),
        }
    }
}

impl Actor {
    /// Column title in timelines.
    pub fn label(&self, cpu: usize) -> String {
        let role = match self {
            Actor::Thread { tid, .. } => format!("victim T{}", tid + 1),
            Actor::OomReaper => "oom_reaper".into(),
            Actor::Task { ops } => {
                let reads: Vec<ReadKind> = ops
                    .iter()
                    .filter_map(|o| match o {
                        Op::Read { file, .. } => Some(*file),
                        _ => None,
                    })
                    .collect();
                if ops.contains(&Op::Lmkd) {
                    "killer (LMKD)".into()
                } else if reads.len() == ops.len() && reads.iter().all(|&f| f == reads[0]) {
                    format!("procfs reader ({})", reads[0].file())
                } else if reads.len() == ops.len() {
                    "procfs reader".into()
                } else if ops == &[Op::Wait] {
                    "parent".into()
                } else if ops.contains(&Op::OomKill) {
                    "allocating task".into()
                } else {
                    "task".into()
                }
            }
        };
        format!("CPU{cpu} {role}")
    }

    pub(super) fn ops(&self) -> usize {
        match self {
            Actor::Task { ops } => ops.len(),
            _ => 1,
        }
    }
}

impl Scene {
    /// The scripted scene of a variant: LMKD, the victim's leader, one reader of the file the
    /// design's question is about (smaps; /proc/pid/mem for (d'), cmdline for (d'')), and a
    /// second victim thread with `victim_threads=2`.
    pub fn scripted(design: Design, k: &Knobs) -> Scene {
        let mut actors = vec![
            Actor::Task {
                ops: vec![Op::Lmkd],
            },
            Actor::Thread {
                tid: 0,
                exit: Exit::Killed,
            },
            Actor::Task {
                ops: vec![Op::Read {
                    file: design.scripted_read(),
                    stall: k.reader_stall,
                }],
            },
        ];
        if k.victim_threads > 1 {
            actors.push(Actor::Thread {
                tid: 1,
                exit: Exit::Killed,
            });
        }
        Scene {
            nr_vmas: k.nr_vmas,
            threads: k.victim_threads,
            autoreap: k.parent_reaps,
            reader_stealing: k.reader_stealing,
            killer_wait_budget: k.killer_wait_budget,
            setup: vec![],
            actors,
        }
    }

    fn task_ops(&self) -> impl Iterator<Item = &Op> {
        self.actors.iter().flat_map(|a| match a {
            Actor::Task { ops } => ops.as_slice(),
            _ => &[],
        })
    }

    /// The configuration of one execution of this scene under `design`.
    fn config(&self, design: Design) -> Config {
        let reads = self
            .task_ops()
            .filter_map(|o| match *o {
                Op::Read { file, stall } => Some((file, stall)),
                _ => None,
            })
            .collect();
        let oom_kills = self.task_ops().filter(|&&o| o == Op::OomKill).count() as u32;
        Config {
            design,
            nr_vmas: self.nr_vmas,
            threads: self.threads,
            reader_stealing: self.reader_stealing,
            autoreap: self.autoreap,
            killer_wait_budget: self.killer_wait_budget,
            reads,
            oom_kills,
            oom: oom_kills > 0 || self.setup.contains(&Step::OomKill),
        }
    }

    /// Runs the scene under `design`: one execution's body.
    pub fn run(&self, design: Design) {
        let sys = Arc::new(Sys::new(self.config(design)));
        for step in &self.setup {
            match *step {
                Step::Kill => send_sigkill(&sys),
                Step::OomKill => oom_kill(&sys, false),
                Step::ThreadExit(t) => do_exit(&sys, t),
            }
        }
        let mut slot = 0;
        let handles: Vec<_> = self
            .actors
            .iter()
            .enumerate()
            .map(|(cpu, a)| {
                let s = sys.clone();
                let name = a.label(cpu);
                match a.clone() {
                    Actor::Thread { tid, exit } => spawn(name, move || {
                        // The thread runs as its task (`current`), which signals wake.
                        set_actor_local(s.task.tasks[tid].clone());
                        match exit {
                            Exit::Killed => {
                                wait_for_sigkill(&s);
                                do_exit(&s, tid);
                            }
                            Exit::ExitGroup => exit_group(&s, tid),
                        }
                    }),
                    Actor::OomReaper => spawn(name, move || oom_reaper(&s)),
                    Actor::Task { ops } => {
                        let first = slot;
                        slot += ops.iter().filter(|o| matches!(o, Op::Read { .. })).count();
                        spawn(name, move || run_task(&s, &ops, first))
                    }
                }
            })
            .collect();
        for h in handles {
            h.join();
        }
        once_quiet(&sys);
    }

    /// Turns a generated scene into a valid one within `b` (see `MreleaseScenes::validate`).
    pub(super) fn normalize(mut self, b: &SceneBounds, exits: &[Exit], reaper: bool) -> Scene {
        let cap = b.actors.min(b.cpus).max(1) as usize;
        let mut ops_left = b.ops as usize;
        self.nr_vmas = self.nr_vmas.clamp(1, MAX_VMAS);
        self.threads = self.threads.clamp(1, MAX_THREADS);
        self.setup.truncate(b.setup as usize);
        // Each thread exits once; at least one thread is left for the race if the set-up
        // cannot hold the rest.
        let remaining = |s: &Scene| {
            (0..s.threads)
                .filter(|t| !s.setup.contains(&Step::ThreadExit(*t)))
                .count()
        };
        loop {
            let n = self.threads;
            let mut seen = vec![];
            self.setup.retain(|st| match *st {
                Step::ThreadExit(t) if t >= n || seen.contains(&t) => false,
                Step::ThreadExit(t) => {
                    seen.push(t);
                    true
                }
                _ => true,
            });
            if self.threads == 1 || remaining(&self) <= cap.min(ops_left) {
                break;
            }
            self.threads -= 1;
        }
        let tasks: Vec<Vec<Op>> = self
            .actors
            .drain(..)
            .filter_map(|a| match a {
                Actor::Task { ops } => Some(ops),
                _ => None,
            })
            .collect();
        let mut actors = vec![];
        for t in 0..self.threads {
            if !self.setup.contains(&Step::ThreadExit(t)) {
                let exit = exits.get(t).copied().unwrap_or(Exit::Killed);
                actors.push(Actor::Thread { tid: t, exit });
                ops_left = ops_left.saturating_sub(1);
            }
        }
        let reaper_slot = usize::from(reaper);
        let mut waited = self.autoreap;
        for mut ops in tasks {
            if actors.len() + reaper_slot >= cap || ops_left == 0 {
                break;
            }
            let had_wait = ops.contains(&Op::Wait);
            ops.retain(|o| *o != Op::Wait);
            if had_wait && !waited {
                ops.push(Op::Wait);
                waited = true;
            }
            for o in &mut ops {
                if let Op::Read { stall, .. } = o {
                    *stall = (*stall).min(MAX_STALL);
                }
            }
            if ops.len() > ops_left {
                // Keep the Wait last when truncating.
                let wait = ops.last() == Some(&Op::Wait);
                ops.truncate(ops_left);
                if wait && ops.last() != Some(&Op::Wait) {
                    waited = false;
                }
            }
            ops_left -= ops.len();
            if !ops.is_empty() {
                actors.push(Actor::Task { ops });
            }
        }
        let oom = self.setup.contains(&Step::OomKill)
            || actors
                .iter()
                .any(|a| matches!(a, Actor::Task { ops } if ops.contains(&Op::OomKill)));
        if reaper && oom && actors.len() < cap && ops_left > 0 {
            actors.push(Actor::OomReaper);
        }
        self.actors = actors;
        if !self.has_kill_source() {
            for a in &mut self.actors {
                if let Actor::Thread { exit, .. } = a {
                    *exit = Exit::ExitGroup;
                    break;
                }
            }
        }
        self
    }

    /// Something in the scene sends SIGKILL (a waiting victim thread is released).
    pub(super) fn has_kill_source(&self) -> bool {
        self.setup
            .iter()
            .any(|s| matches!(s, Step::Kill | Step::OomKill))
            || self
                .task_ops()
                .any(|o| matches!(o, Op::Lmkd | Op::Kill | Op::OomKill))
            || self.actors.iter().any(|a| {
                matches!(
                    a,
                    Actor::Thread {
                        exit: Exit::ExitGroup,
                        ..
                    }
                )
            })
    }
}

/// A process's program, in order; its reads use reader slots `first..`.
fn run_task(sys: &Sys, ops: &[Op], first: usize) {
    let mut slot = first;
    for op in ops {
        match *op {
            Op::Lmkd => lmkd_kill(sys),
            Op::Kill => send_sigkill(sys),
            Op::OomKill => oom_kill(sys, true),
            Op::Read { .. } => {
                procfs_read(sys, slot);
                slot += 1;
            }
            Op::Wait => wait_for_child(sys),
        }
    }
}

pub(super) fn any_op() -> impl Strategy<Value = Op> {
    let file = prop_oneof![
        Just(ReadKind::Smaps),
        Just(ReadKind::Mem),
        Just(ReadKind::Cmdline)
    ];
    prop_oneof![
        3 => Just(Op::Lmkd),
        1 => Just(Op::Kill),
        1 => Just(Op::OomKill),
        4 => (file, 0..=MAX_STALL).prop_map(|(file, stall)| Op::Read { file, stall }),
        1 => Just(Op::Wait),
    ]
}

pub(super) fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Kill),
        Just(Step::OomKill),
        (0..MAX_THREADS).prop_map(Step::ThreadExit),
    ]
}

/// The operations of the exhaustive sweep: reads stall one step (random sweeps: 0-3).
pub(super) fn alphabet() -> Vec<Op> {
    let mut ops = vec![Op::Lmkd, Op::Kill, Op::OomKill, Op::Wait];
    for file in [ReadKind::Smaps, ReadKind::Mem, ReadKind::Cmdline] {
        ops.push(Op::Read { file, stall: 1 });
    }
    ops
}

/// After every actor finished: a victim still queued for the oom_reaper is reaped (its timer
/// fires), the parent reaps the zombie (if it has not already), then every reference must be
/// gone and every page freed.
pub(crate) fn once_quiet(sys: &Sys) {
    if execution_spent() {
        return;
    }
    oom_reaper_once_quiet(sys);
    if !read_once(&sys.task.released) {
        release_task(sys, Ctx::Parent);
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
