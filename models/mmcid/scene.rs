//! mmcid's scene language: a system size, a sequential set-up, and a script per concurrent CPU
//! built from the kernel events the model ports; the scripted scenes are members of it. The
//! space of scenes (generation, enumeration, validation) is in `space.rs`.

use std::collections::BTreeSet;

use kmodel_harness::prelude::*;
use serde::{Deserialize, Serialize};

use super::cpu::{boot, quiesce_and_check, run_cpu, Op};
use super::design::{Ablation, Design, Knobs};
use super::sys::{Sys, RQ_LOCK_NAMES, TASK_NAMES};

/// `num_possible_cpus()` the scene language goes up to (CPU masks are one word here).
pub const MAX_CPUS: u32 = 8;
// Every possible CPU has its named rq lock.
const _: () = assert!(RQ_LOCK_NAMES.len() == MAX_CPUS as usize);

/// One step of the sequential set-up.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Step {
    pub cpu: usize,
    pub op: Op,
}

/// One concurrent actor: a CPU and its script.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub cpu: usize,
    pub ops: Vec<Op>,
    /// Column title in timelines (default `CPU<n>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A scene: T0 boots on CPU0 as the mm's first user; the set-up runs in order; then the actors
/// race; once quiet every CPU goes idle, the deferred work runs, and the properties are checked.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scene {
    pub num_possible_cpus: u32,
    /// Weight of the mm's allowed mask at boot (CPUs `0..nr_cpus_allowed`).
    pub nr_cpus_allowed: u32,
    /// Task records T0.. (T0 plus one per fork).
    pub tasks: usize,
    pub setup: Vec<Step>,
    pub actors: Vec<Actor>,
}

impl Op {
    pub(crate) fn describe(&self) -> String {
        match *self {
            Op::Switch(None) => "schedule() -> idle".into(),
            Op::Switch(Some(t)) => format!("schedule() -> {}", TASK_NAMES[t]),
            Op::Migrate(t) => format!("pull {} here", TASK_NAMES[t]),
            Op::Fork(c, on) => format!("fork {} onto CPU{on}", TASK_NAMES[c]),
            Op::Exit => "exit()".into(),
            Op::ExecFail => "execve() fails".into(),
            Op::Exec => "execve() succeeds".into(),
            Op::SetAffinity(m) => format!("sched_setaffinity({m:#x})"),
            Op::Work => "mm_cid_work_fn()".into(),
        }
    }
}

impl Scene {
    /// The scripted fork scene: per-task -> per-CPU while T1 runs on CPU1, is migrated and
    /// scheduled in on CPU2.
    pub fn fork(k: &Knobs) -> Scene {
        let n = k.fork_num_possible_cpus;
        let cpu2 = 2.min(n as usize - 1);
        let mut cpu1 = vec![Op::Switch(Some(1)), Op::Switch(None)];
        for _ in 0..k.extra_switches {
            cpu1.extend([Op::Switch(Some(1)), Op::Switch(None)]);
        }
        let mut cpu2_ops = vec![Op::Migrate(1), Op::Switch(Some(1))];
        if k.affinity_widen {
            cpu2_ops.push(Op::SetAffinity(u64::MAX >> (64 - n)));
        }
        Scene {
            // 3 users in per-task mode own CIDs 0..2 (N = A = 3: max_cids = 3, bitmap full);
            // T1 sleeps on CPU1, T2 sleeps on CPU2, T0 runs on CPU0.
            num_possible_cpus: n,
            nr_cpus_allowed: n,
            tasks: 4,
            setup: vec![
                Step {
                    cpu: 0,
                    op: Op::Fork(1, 1),
                },
                Step {
                    cpu: 0,
                    op: Op::Fork(2, cpu2),
                },
            ],
            actors: vec![
                actor(0, vec![Op::Fork(3, 0)], Some("CPU0 T0 fork(T3)")),
                actor(1, cpu1, None),
                actor(cpu2, cpu2_ops, None),
            ],
        }
    }

    /// The scripted exit scene: T0 forks T1 (CPU1) and T2 (queued on CPU1) -> per-CPU mode
    /// (N 4, A 2: users 3 > max_cids 2, pcpu_thrs 2); then T0 exits on CPU0 while T1 exits on
    /// CPU1, which then schedules T2 in, out and in. The second exit (users 1 < 2) switches
    /// back to per-task mode and walks the CPUs.
    ///
    /// Until the scene language checked placements, T2 ran on CPU2, outside the mm's allowed
    /// CPUs {0, 1}: impossible in the kernel (README, "Generated scenes").
    pub fn exit(k: &Knobs) -> Scene {
        let mut setup = vec![
            step(0, Op::Fork(1, 1)),
            step(1, Op::Switch(Some(1))),
            step(0, Op::Fork(2, 1)),
            step(0, Op::Switch(None)),
            step(0, Op::Switch(Some(0))),
        ];
        if k.exit_settle {
            setup.extend([step(1, Op::Switch(None)), step(1, Op::Switch(Some(1)))]);
        }
        let mut cpu1 = vec![
            Op::Exit,
            Op::Switch(Some(2)),
            Op::Switch(None),
            Op::Switch(Some(2)),
        ];
        for _ in 0..k.extra_switches {
            cpu1.extend([Op::Switch(None), Op::Switch(Some(2))]);
        }
        Scene {
            num_possible_cpus: k.exit_num_possible_cpus,
            nr_cpus_allowed: k.exit_nr_cpus_allowed,
            tasks: 3,
            setup,
            actors: vec![
                actor(0, vec![Op::Exit], Some("CPU0 T0 exit()")),
                actor(1, cpu1, Some("CPU1 T1 exit(), T2")),
            ],
        }
    }

    /// The scripted failed-execve scene (found by the sweep, README "Generated scenes"): on a
    /// 2-CPU system a 3-thread process enters per-CPU mode, CPU1 keeps a CID after its thread
    /// exits, the last thread's execve() fails (the last-user path leaves the mode TRANSIT and
    /// CPU1's CID set), and the thread it then creates needs a CID the bitmap no longer has.
    pub fn execfail(k: &Knobs) -> Scene {
        let mut setup = vec![
            step(0, Op::Fork(1, 1)),
            step(0, Op::Fork(2, 0)),
            step(1, Op::Switch(Some(1))),
            step(1, Op::Exit),
            step(0, Op::Switch(Some(2))),
            step(0, Op::Exit),
            step(0, Op::Switch(Some(0))),
        ];
        for _ in 0..k.extra_switches {
            setup.extend([step(0, Op::Switch(None)), step(0, Op::Switch(Some(0)))]);
        }
        Scene {
            num_possible_cpus: 2,
            nr_cpus_allowed: 2,
            tasks: 4,
            setup,
            actors: vec![actor(
                0,
                vec![Op::ExecFail, Op::Fork(3, 0)],
                Some("CPU0 T0 execve() fails, clone()"),
            )],
        }
    }

    /// The scripted alloc scene: N = A = 4, five threads (users 5 > max_cids 4: per-CPU mode),
    /// CPU0 and CPU1 own CIDs; T2 (CPU2) and T3 (CPU3) never ran and are scheduled in at once,
    /// both allocating from the two free CIDs.
    ///
    /// Until the scene language checked placements, A was 2 and T2/T3 ran on CPUs 2 and 3,
    /// outside the mm's allowed CPUs (README, "Generated scenes").
    pub fn alloc() -> Scene {
        Scene {
            num_possible_cpus: 4,
            nr_cpus_allowed: 4,
            tasks: 5,
            setup: vec![
                step(0, Op::Fork(1, 1)),
                step(1, Op::Switch(Some(1))),
                step(0, Op::Fork(2, 2)),
                step(0, Op::Fork(3, 3)),
                step(0, Op::Fork(4, 0)),
                step(0, Op::Switch(None)),
                step(0, Op::Switch(Some(0))),
                step(1, Op::Switch(None)),
                step(1, Op::Switch(Some(1))),
            ],
            actors: vec![
                actor(2, vec![Op::Switch(Some(2))], Some("CPU2 T2")),
                actor(3, vec![Op::Switch(Some(3))], Some("CPU3 T3")),
            ],
        }
    }

    /// Runs the scene under `design` and `ablation`: one execution's body.
    pub fn run(&self, design: Design, ablation: Ablation) {
        self.observe(design, ablation, None);
    }

    /// [`Scene::run`], reporting the state after the set-up and once the actors joined to
    /// `sink` (set-up exploration; the key is in `state.rs`).
    pub(crate) fn observe(&self, design: Design, ablation: Ablation, sink: Option<&StateSink>) {
        let sys = Arc::new(Sys::new(
            design,
            ablation,
            self.num_possible_cpus,
            self.tasks,
        ));
        boot(&sys, self.nr_cpus_allowed);
        for s in &self.setup {
            run_cpu(&sys, s.cpu, &[s.op]);
        }
        // A set-up alone is a scene too: it goes quiet and is checked (a race of nothing).
        let race = sink.is_none_or(|k| execution_spent() || k.after_setup(|| sys.state_key()));
        let handles: Vec<_> = (self.actors.iter())
            .filter(|_| race)
            .map(|a| {
                let (s, ops, cpu) = (sys.clone(), a.ops.clone(), a.cpu);
                let name = a.label.clone().unwrap_or_else(|| format!("CPU{cpu}"));
                spawn(name, move || run_cpu(&s, cpu, &ops))
            })
            .collect();
        for h in handles {
            h.join();
        }
        if let Some(k) = sink.filter(|_| race) {
            k.after_race(sys.state_key());
        }
        quiesce_and_check(&sys);
    }

    /// Renumbers a generated scene into a valid one: CPUs and tasks modulo the system's
    /// sizes, fork children T1, T2, ... in order, one actor per CPU, masks within the
    /// possible CPUs, at most `max_ops` operations in the race.
    pub(crate) fn normalize(
        mut self,
        max_actors: usize,
        max_ops: usize,
        max_setup: usize,
    ) -> Scene {
        self.setup.truncate(max_setup);
        self.actors.truncate(max_actors);
        let n = self.num_possible_cpus.clamp(1, MAX_CPUS);
        self.num_possible_cpus = n;
        self.nr_cpus_allowed = self.nr_cpus_allowed.clamp(1, n);
        let all = (1u64 << n) - 1;
        let mut seen = BTreeSet::new();
        self.actors.retain_mut(|a| {
            a.cpu %= n as usize;
            seen.insert(a.cpu)
        });
        let mut left = max_ops;
        for a in &mut self.actors {
            a.ops.truncate(left);
            left -= a.ops.len();
        }
        self.actors.retain(|a| !a.ops.is_empty());
        let mut next_child = 1;
        let ops = self
            .setup
            .iter_mut()
            .map(|s| {
                s.cpu %= n as usize;
                &mut s.op
            })
            .chain(self.actors.iter_mut().flat_map(|a| a.ops.iter_mut()));
        let mut forks = 0;
        for op in ops {
            match op {
                Op::Fork(c, on) if next_child < TASK_NAMES.len() => {
                    *c = next_child;
                    *on %= n as usize;
                    next_child += 1;
                    forks += 1;
                }
                Op::Fork(..) => *op = Op::Switch(None),
                Op::SetAffinity(m) => *m = (*m & all).max(1),
                _ => {}
            }
        }
        self.tasks = 1 + forks;
        let t = self.tasks;
        let fix = |op: &mut Op| match op {
            Op::Switch(Some(x)) | Op::Migrate(x) => *x %= t,
            _ => {}
        };
        self.setup.iter_mut().for_each(|s| fix(&mut s.op));
        self.actors
            .iter_mut()
            .for_each(|a| a.ops.iter_mut().for_each(fix));
        self
    }
}

pub(crate) fn step(cpu: usize, op: Op) -> Step {
    Step { cpu, op }
}

pub(crate) fn actor(cpu: usize, ops: Vec<Op>, label: Option<&str>) -> Actor {
    Actor {
        cpu,
        ops,
        label: label.map(Into::into),
    }
}
