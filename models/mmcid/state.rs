//! Set-up exploration for mmcid: the canonical key of a system's state (tasks renamed by what
//! they hold, so two set-ups that differ only in which task record is `T1` meet), and the
//! set-up steps and races of the scene language.

use kmodel_harness::prelude::*;
use kmodel_harness::setup::SetupStates;

use super::cpu::Op;
use super::scene::{actor, step, Actor, Scene, MAX_CPUS};
use super::space::{alphabet, MmcidScenes};
use super::sys::Sys;

/// One created task as the state sees it: its fields and every reference to it (position in
/// `user_list`, the CPUs it is current on or exposed by), so equal entries are interchangeable.
#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct TaskState {
    mm: bool,
    active: u32,
    cid: u32,
    cpu: usize,
    user_pos: Option<usize>,
    curr_on: Vec<usize>,
    exposed_on: Vec<(usize, u32)>,
}

/// The kernel-visible state and the ghost state, tasks in canonical order.
#[derive(Serialize)]
struct Canonical {
    pcpu: Vec<u32>,
    mode: u32,
    percpu: u32,
    transit: u32,
    max_cids: u32,
    users: u32,
    locked: (u32, u64, u32, bool),
    work_queued: bool,
    cidmask: Vec<bool>,
    recorded_thrs: u32,
    allowed: u64,
    tasks: Vec<TaskState>,
}

impl Sys {
    /// The state's canonical key: tasks that were never forked are left out, the others
    /// sorted by what they hold and where they are referenced.
    pub(crate) fn state_key(&self) -> StateKey {
        let n = self.nr_possible as usize;
        let curr: Vec<Option<usize>> = self.rq.iter().map(|rq| rq.lock().curr).collect();
        let users = self.user_list().clone();
        let ghost = self.ghost();
        let mut tasks: Vec<TaskState> = (self.tasks.iter().enumerate())
            .filter(|(_, t)| t.started.load(Ordering::Relaxed))
            .map(|(i, t)| TaskState {
                mm: t.mm.load(Ordering::Relaxed),
                active: t.active.load(Ordering::Relaxed),
                cid: t.cid.load(Ordering::Relaxed),
                cpu: t.cpu.load(Ordering::Relaxed),
                user_pos: users.iter().position(|&u| u == i),
                curr_on: (0..n).filter(|&c| curr[c] == Some(i)).collect(),
                exposed_on: (ghost.exposed.iter().enumerate())
                    .filter_map(|(c, e)| e.filter(|(t, _)| *t == i).map(|(_, cid)| (c, cid)))
                    .collect(),
            })
            .collect();
        tasks.sort();
        let locked = {
            let l = self.mm_cid.lock.lock();
            (
                l.nr_cpus_allowed,
                l.cpus_allowed,
                l.pcpu_thrs,
                l.update_deferred,
            )
        };
        let m = &self.mm_cid;
        StateKey::of(&Canonical {
            pcpu: m.pcpu.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
            mode: m.mode.load(Ordering::Relaxed),
            percpu: m.percpu.load(Ordering::Relaxed),
            transit: m.transit.load(Ordering::Relaxed),
            max_cids: m.max_cids.load(Ordering::Relaxed),
            users: m.users.load(Ordering::Relaxed),
            locked,
            work_queued: m.work_queued.load(Ordering::Relaxed),
            cidmask: (0..n).map(|c| self.cidmask.test_bit(c)).collect(),
            recorded_thrs: ghost.recorded_thrs,
            allowed: ghost.allowed,
            tasks,
        })
    }
}

/// Task records a set-up creates at most (T0 and two forks): every mmcid finding so far needs
/// no more before its race, and each further thread multiplies the states (a race may still
/// fork).
pub const SETUP_TASKS: usize = 3;

impl SetupStates for MmcidScenes {
    /// Two CPUs (every mmcid finding so far needs no more), set-ups of five steps (1,135
    /// states; the no-cid-leak and two-execve livelock scenes need four), races of two
    /// operations.
    const SETUP: SceneBounds = SceneBounds {
        cpus: 2,
        actors: 2,
        ops: 2,
        setup: 5,
    };

    fn roots(&self, b: &SceneBounds) -> Vec<Scene> {
        let mut out = vec![];
        for n in 1..=b.cpus.clamp(1, MAX_CPUS) {
            for allowed in 1..=n {
                out.push(Scene {
                    num_possible_cpus: n,
                    nr_cpus_allowed: allowed,
                    tasks: 1,
                    setup: vec![],
                    actors: vec![],
                });
            }
        }
        out
    }

    fn successors(&self, prefix: &Scene) -> Vec<Scene> {
        let n = prefix.num_possible_cpus as usize;
        let mut out = vec![];
        for cpu in 0..n {
            for op in alphabet(n, prefix.tasks) {
                if matches!(op, Op::Fork(..)) && prefix.tasks >= SETUP_TASKS {
                    continue;
                }
                let mut s = prefix.clone();
                s.setup.push(step(cpu, op));
                // Forks take the next task record (none past the last: then a no-op).
                out.push(s.normalize(0, 0, usize::MAX));
            }
        }
        out
    }

    /// Races of two or more CPUs: one CPU's steps in a row are a longer set-up, which set-up
    /// exploration already ran and checked once quiet.
    fn race(&self, prefix: &Scene, moves: &[&Scene]) -> Option<Scene> {
        let mut actors: Vec<Actor> = vec![];
        for m in moves {
            let last = m.setup.last()?;
            match actors.iter_mut().find(|a| a.cpu == last.cpu) {
                Some(a) => a.ops.push(last.op),
                None => actors.push(actor(last.cpu, vec![last.op], None)),
            }
        }
        if actors.len() < 2 {
            return None;
        }
        actors.sort_by_key(|a| a.cpu);
        let scene = Scene {
            actors,
            ..prefix.clone()
        }
        .normalize(usize::MAX, usize::MAX, usize::MAX);
        MmcidScenes.validate(&scene).ok().map(|()| scene)
    }
}
