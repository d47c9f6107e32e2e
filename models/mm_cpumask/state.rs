//! Set-up exploration for mm-cpumask: the canonical key of a system's state (T2 and T3, which
//! the scene treats alike, sorted by what they hold; T1, the thread whose status file is read,
//! stays itself), and the set-up steps and races of the scene language.

use kmodel_harness::prelude::*;
use kmodel_harness::setup::SetupStates;

use super::scene::{Actor, Checks, Op, Scene, Step, MAX_CPUS, MAX_THREADS};
use super::space::{alphabet, MmCpumaskScenes, SPREAD, SPREAD_NR};
use super::tlb::{Curr, System};

/// One thread: its fields and every reference to it (the CPUs it is current on).
#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct ThreadState {
    cpus_mask: Vec<u64>,
    on_cpu: bool,
    task_cpu: usize,
    alive: bool,
    allowed: u128,
    curr_on: Vec<usize>,
}

/// The kernel-visible state and the ghost state (the mask's history once the set-up is over is
/// summarised by the mask itself: a read checks only modifications made while it runs).
#[derive(Serialize)]
struct Canonical {
    cpumask: Vec<u64>,
    next_trim_cpumask: u64,
    jiffies: u64,
    /// Per modelled CPU: `loaded_mm`, `is_lazy`, current (0 another process, 1 the kthread,
    /// 2 a thread), the kthread's mm.
    cpus: Vec<(usize, bool, u8, bool)>,
    running: u128,
    ran: u128,
    unexplained_change: Option<String>,
    leader: ThreadState,
    others: Vec<ThreadState>,
}

impl System {
    /// The state's canonical key.
    pub(crate) fn state_key(&self) -> StateKey {
        let words = bits_to_longs(self.nr_cpu_ids);
        let g = self.ghost.lock();
        let mut threads = (self.threads.iter().enumerate()).map(|(t, th)| ThreadState {
            cpus_mask: (0..words).map(|w| th.cpus_mask.read_word(w)).collect(),
            on_cpu: th.on_cpu.load(Ordering::Relaxed),
            task_cpu: g.task_cpu[t],
            alive: g.alive[t],
            allowed: g.allowed[t],
            curr_on: (0..g.curr.len())
                .filter(|&c| g.curr[c] == Curr::Thread(t))
                .collect(),
        });
        let leader = threads.next().expect("T1 exists");
        let mut others: Vec<ThreadState> = threads.collect();
        others.sort();
        let cpus = (self.cpus.iter().enumerate())
            .map(|(i, c)| {
                let curr = match g.curr[i] {
                    Curr::Other => 0,
                    Curr::Kthread => 1,
                    Curr::Thread(_) => 2,
                };
                (
                    c.loaded_mm.load(Ordering::Relaxed),
                    c.is_lazy.load(Ordering::Relaxed),
                    curr,
                    g.kthread_mm[i],
                )
            })
            .collect();
        StateKey::of(&Canonical {
            cpumask: (0..words).map(|w| self.cpumask.read_word(w)).collect(),
            next_trim_cpumask: self.next_trim_cpumask.load(Ordering::Relaxed),
            jiffies: self.jiffies.load(Ordering::Relaxed),
            cpus,
            running: g.running,
            ran: g.ran,
            unexplained_change: g.unexplained_change.clone(),
            leader,
            others,
        })
    }
}

impl SetupStates for MmCpumaskScenes {
    /// Two modelled CPUs (both layouts: dense and spread over 100 CPU ids), up to three
    /// threads, set-ups of two steps; races of two CPUs' operations and a reader. (Four
    /// steps: 2,030 states, 27,492 races, about 3 CPU minutes per variant.)
    const SETUP: SceneBounds = SceneBounds {
        cpus: 2,
        actors: 3,
        ops: 3,
        setup: 2,
    };

    fn roots(&self, b: &SceneBounds) -> Vec<Scene> {
        let mut out = vec![];
        for k in 1..=(b.cpus as usize).clamp(1, MAX_CPUS) {
            for (nr, ids) in [(k, (0..k).collect()), (SPREAD_NR, SPREAD[..k].to_vec())] {
                for threads in 1..=MAX_THREADS {
                    out.push(Scene {
                        nr_cpu_ids: nr,
                        cpus: ids.clone(),
                        threads,
                        setup: vec![],
                        actors: vec![],
                        checks: Checks::default(),
                    });
                }
            }
        }
        out
    }

    fn successors(&self, prefix: &Scene) -> Vec<Scene> {
        let k = prefix.cpus.len();
        let mut out = vec![];
        for cpu in 0..k {
            for op in alphabet(k, prefix.threads) {
                let mut s = prefix.clone();
                s.setup.push(Step { cpu, op });
                if MmCpumaskScenes.validate(&s).is_ok() {
                    out.push(s);
                }
            }
        }
        out
    }

    /// The moves' CPUs race a reader of T1's status file (the claims the model checks are
    /// about what a reader sees); one CPU's steps alone are a longer set-up, which set-up
    /// exploration ran and checked once quiet, so a race needs the reader or two CPUs.
    fn race(&self, prefix: &Scene, moves: &[&Scene]) -> Option<Scene> {
        let mut actors: Vec<Actor> = vec![];
        for m in moves {
            let last = m.setup.last()?;
            match actors.iter_mut().find(|a| a.cpu == Some(last.cpu)) {
                Some(a) => a.ops.push(last.op),
                None => actors.push(Actor {
                    cpu: Some(last.cpu),
                    ops: vec![last.op],
                    label: None,
                }),
            }
        }
        actors.sort_by_key(|a| a.cpu);
        actors.push(Actor {
            cpu: None,
            ops: vec![Op::Read],
            label: None,
        });
        let scene = Scene {
            actors,
            ..prefix.clone()
        };
        MmCpumaskScenes.validate(&scene).ok().map(|()| scene)
    }
}
