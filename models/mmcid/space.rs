//! mmcid's scene space as the harness sees it ([`MmcidScenes`]): random scenes (generic ones and
//! the scripted scenes with random edits), every scene within bounds, validation and scripts.

use std::collections::BTreeSet;
use std::fmt::Write;

use kmodel_harness::prelude::*;
use kmodel_harness::scene::{programs, sequences};
use proptest::prelude::*;

use super::cpu::Op;
use super::design::{Knobs, Setup};
use super::scene::{actor, step, Scene, MAX_CPUS};
use super::sys::TASK_NAMES;

/// The generator's operations (fork children and masks are renumbered by `normalize`), with
/// weights: the set-up mostly forks (to reach per-CPU mode), the race mostly switches and
/// exits (to race the mode switches).
fn any_op(fork: u32, exit: u32) -> impl Strategy<Value = Op> {
    let t = TASK_NAMES.len();
    prop_oneof![
        4 => proptest::option::of(0..t).prop_map(Op::Switch),
        2 => (0..t).prop_map(Op::Migrate),
        fork => (0..MAX_CPUS as usize).prop_map(|on| Op::Fork(0, on)),
        exit => Just(Op::Exit),
        1 => Just(Op::ExecFail),
        1 => Just(Op::Exec),
        1 => (1u64..256).prop_map(Op::SetAffinity),
        1 => Just(Op::Work),
    ]
}

/// One edit of a scripted scene (positions are taken modulo the scene's lengths).
#[derive(Clone, Debug)]
enum Edit {
    /// Insert an operation into an actor's script.
    Insert(usize, usize, Op),
    /// Delete one operation of an actor's script.
    Delete(usize, usize),
    /// Insert a set-up step.
    Step(usize, usize, Op),
    /// Delete a set-up step.
    Unstep(usize),
    /// A new actor on a CPU with one operation.
    Actor(usize, Op),
    /// Another number of possible CPUs (and as many allowed).
    Cpus(u32),
}

impl Edit {
    fn apply(&self, s: &mut Scene) {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
        match self.clone() {
            Edit::Insert(a, i, op) if !s.actors.is_empty() => {
                let n = s.actors.len();
                let ops = &mut s.actors[a % n].ops;
                ops.insert(at(i, ops.len()), op);
            }
            Edit::Delete(a, i) if !s.actors.is_empty() => {
                let n = s.actors.len();
                let ops = &mut s.actors[a % n].ops;
                if !ops.is_empty() {
                    let len = ops.len();
                    ops.remove(i % len);
                }
            }
            Edit::Step(cpu, i, op) => {
                let i = at(i, s.setup.len());
                s.setup.insert(i, step(cpu, op));
            }
            Edit::Unstep(i) if !s.setup.is_empty() => {
                let len = s.setup.len();
                s.setup.remove(i % len);
            }
            Edit::Actor(cpu, op) => s.actors.push(actor(cpu, vec![op], None)),
            Edit::Cpus(n) => {
                s.num_possible_cpus = n;
                s.nr_cpus_allowed = n;
            }
            _ => {}
        }
    }
}

fn any_edit(cpus: u32) -> impl Strategy<Value = Edit> {
    let c = cpus as usize;
    prop_oneof![
        3 => (0..4usize, 0..8usize, any_op(2, 2)).prop_map(|(a, i, op)| Edit::Insert(a, i, op)),
        2 => (0..4usize, 0..8usize).prop_map(|(a, i)| Edit::Delete(a, i)),
        2 => (0..c, 0..8usize, any_op(3, 1)).prop_map(|(cpu, i, op)| Edit::Step(cpu, i, op)),
        1 => (0..8usize).prop_map(Edit::Unstep),
        1 => (0..c, any_op(2, 2)).prop_map(|(cpu, op)| Edit::Actor(cpu, op)),
        1 => (1..=cpus).prop_map(Edit::Cpus),
    ]
}

/// Every operation of a system with `n` CPUs and `t` task records.
pub(super) fn alphabet(n: usize, t: usize) -> Vec<Op> {
    let mut ops = vec![Op::Switch(None)];
    ops.extend((0..t).map(|x| Op::Switch(Some(x))));
    ops.extend((0..t).map(Op::Migrate));
    ops.extend((0..n).map(|on| Op::Fork(0, on)));
    ops.extend([Op::Exit, Op::ExecFail, Op::Exec, Op::Work]);
    ops.extend((1..(1u64 << n)).map(Op::SetAffinity));
    ops
}

/// The scene language as the harness sees it.
pub struct MmcidScenes;

impl Scenes for MmcidScenes {
    type Scene = Scene;
    type Design = Setup;

    const EXHAUSTIVE: SceneBounds = SceneBounds {
        cpus: 2,
        actors: 2,
        ops: 2,
        setup: 1,
    };
    const RANDOM: SceneBounds = SceneBounds {
        cpus: 4,
        actors: 3,
        ops: 6,
        setup: 5,
    };

    fn generated(&self, b: &SceneBounds) -> BoxedStrategy<Scene> {
        let cpus = b.cpus.clamp(1, MAX_CPUS);
        let (max_actors, max_ops, max_setup) =
            (b.actors as usize, b.ops as usize, b.setup as usize);
        let actor = (
            0..cpus as usize,
            prop::collection::vec(any_op(2, 3), 1..=max_ops.max(1)),
        )
            .prop_map(|(cpu, ops)| actor(cpu, ops, None));
        // Half the scenes allow every CPU; the rest a random prefix (A < N is rarer).
        let allowed = prop_oneof![Just(u32::MAX), 1..=cpus];
        (
            1..=cpus,
            allowed,
            prop::collection::vec((0..cpus as usize, any_op(6, 1)), 0..=b.setup as usize),
            prop::collection::vec(actor, 0..=b.actors as usize),
        )
            .prop_map(move |(n, allowed, setup, actors)| {
                Scene {
                    num_possible_cpus: n,
                    nr_cpus_allowed: allowed,
                    tasks: 1,
                    setup: setup.into_iter().map(|(cpu, op)| step(cpu, op)).collect(),
                    actors,
                }
                .normalize(max_actors, max_ops, max_setup)
            })
            .boxed()
    }

    fn scripted(&self) -> Vec<(&'static str, Scene)> {
        vec![
            ("fork", Scene::fork(&Knobs::default())),
            ("exit", Scene::exit(&Knobs::default())),
            ("execfail", Scene::execfail(&Knobs::default())),
            ("alloc", Scene::alloc()),
        ]
    }

    fn strategy(&self, b: &SceneBounds) -> BoxedStrategy<Scene> {
        let cpus = b.cpus.clamp(1, MAX_CPUS);
        let (max_actors, max_ops, max_setup) =
            (b.actors as usize, b.ops as usize, b.setup as usize);
        // Half the scenes are the scripted ones with up to three random edits: the bug "one
        // actor, CPU or operation away from the script".
        let scripted: Vec<Scene> = (self.scripted().into_iter())
            .map(|(_, s)| s)
            .filter(|s| MmcidScenes.size(s).within(b))
            .collect();
        let generic = self.generated(b);
        if scripted.is_empty() {
            return generic;
        }
        let near = (
            0..scripted.len(),
            prop::collection::vec(any_edit(cpus), 0..=3),
        )
            .prop_map(move |(i, edits)| {
                let mut s = scripted[i].clone();
                for e in &edits {
                    e.apply(&mut s);
                }
                if !edits.is_empty() {
                    s.actors.iter_mut().for_each(|a| a.label = None);
                }
                s.normalize(max_actors, max_ops, max_setup)
            });
        prop_oneof![generic, near].boxed()
    }

    fn enumerate(&self, b: &SceneBounds) -> Vec<Scene> {
        let mut out = vec![];
        let mut seen = BTreeSet::new();
        let (ops, setup) = (b.ops as usize, b.setup as usize);
        for n in 1..=b.cpus.clamp(1, MAX_CPUS) {
            let abc = alphabet(n as usize, 1 + ops + setup);
            let setups = sequences(&abc, setup);
            for allowed in 1..=n {
                for actors in 1..=(b.actors.min(n) as usize) {
                    for progs in programs(&abc, actors, ops) {
                        for s in &setups {
                            let scene = Scene {
                                num_possible_cpus: n,
                                nr_cpus_allowed: allowed,
                                tasks: 1,
                                setup: s.iter().map(|&op| step(0, op)).collect(),
                                actors: progs
                                    .iter()
                                    .enumerate()
                                    .map(|(cpu, p)| actor(cpu, p.clone(), None))
                                    .collect(),
                            };
                            // Drop scenes that name tasks no fork creates.
                            let norm = scene.clone().normalize(b.actors as usize, ops, setup);
                            if norm == scene.clone().renumbered_only() && seen.insert(norm.clone())
                            {
                                out.push(norm);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn validate(&self, s: &Scene) -> Result<(), String> {
        let n = s.num_possible_cpus;
        if !(1..=MAX_CPUS).contains(&n) {
            return Err(format!("num_possible_cpus {n} outside 1..={MAX_CPUS}"));
        }
        if !(1..=n).contains(&s.nr_cpus_allowed) {
            return Err(format!(
                "nr_cpus_allowed {} outside 1..={n}",
                s.nr_cpus_allowed
            ));
        }
        if !(1..=TASK_NAMES.len()).contains(&s.tasks) {
            return Err(format!(
                "{} tasks outside 1..={}",
                s.tasks,
                TASK_NAMES.len()
            ));
        }
        let mut cpus = BTreeSet::new();
        for a in &s.actors {
            if !cpus.insert(a.cpu) {
                return Err(format!("two actors on CPU{}", a.cpu));
            }
        }
        let mut children = BTreeSet::new();
        let steps = s.setup.iter().map(|st| (st.cpu, &st.op));
        let racing = s
            .actors
            .iter()
            .flat_map(|a| a.ops.iter().map(|o| (a.cpu, o)));
        for (cpu, op) in steps.chain(racing) {
            if cpu >= n as usize {
                return Err(format!("CPU{cpu} is not possible (num_possible_cpus {n})"));
            }
            match *op {
                Op::Switch(Some(t)) | Op::Migrate(t) if t >= s.tasks => {
                    return Err(format!("task {t} does not exist ({} tasks)", s.tasks))
                }
                Op::Fork(c, on) => {
                    if c == 0 || c >= s.tasks || !children.insert(c) {
                        return Err(format!("fork child {c} is not a fresh task"));
                    }
                    if on >= n as usize {
                        return Err(format!("fork onto CPU{on}, not possible"));
                    }
                }
                Op::SetAffinity(m) if m == 0 || m >> n != 0 => {
                    return Err(format!("affinity mask {m:#x} outside the possible CPUs"))
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn size(&self, s: &Scene) -> SceneSize {
        SceneSize {
            cpus: s.num_possible_cpus,
            actors: s.actors.len() as u32,
            ops: s.actors.iter().map(|a| a.ops.len() as u32).sum(),
            setup: s.setup.len() as u32,
        }
    }

    fn scenario(&self, setup: &Setup, scene: &Scene) -> Scenario {
        let setup = *setup;
        let scene = scene.clone();
        Arc::new(move || scene.run(setup.design, setup.ablation))
    }

    fn observe(&self, setup: &Setup, scene: &Scene, sink: StateSink) -> Scenario {
        let setup = *setup;
        let scene = scene.clone();
        Arc::new(move || scene.observe(setup.design, setup.ablation, Some(&sink)))
    }

    fn script(&self, s: &Scene) -> String {
        let mut out = format!(
            "{} possible CPUs, mm allowed on CPUs 0-{}, T0 runs on CPU0\n",
            s.num_possible_cpus,
            s.nr_cpus_allowed - 1
        );
        for st in &s.setup {
            let _ = writeln!(out, "set-up  CPU{}: {}", st.cpu, st.op.describe());
        }
        for a in &s.actors {
            let ops: Vec<String> = a.ops.iter().map(Op::describe).collect();
            let _ = writeln!(out, "race    CPU{}: {}", a.cpu, ops.join("; "));
        }
        out
    }
}

impl Scene {
    /// `normalize` minus the renumbering of fork children: equal to the normalized scene
    /// exactly when the enumerated scene was already canonical.
    fn renumbered_only(self) -> Scene {
        let mut s = self;
        let mut next = 1;
        let forks = s
            .setup
            .iter_mut()
            .map(|st| &mut st.op)
            .chain(s.actors.iter_mut().flat_map(|a| a.ops.iter_mut()));
        for op in forks {
            if let Op::Fork(c, _) = op {
                *c = next;
                next += 1;
            }
        }
        s.tasks = next;
        s
    }
}
