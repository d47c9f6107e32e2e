//! The scene space as the harness sees it: generation (proptest, shrinking toward fewer CPUs,
//! actors, operations, set-up steps and a smaller `nr_cpu_ids`), enumeration, validation.

use std::collections::BTreeSet;
use std::fmt::Write;

use kmodel_harness::prelude::*;
use kmodel_harness::scene::{programs, sequences};
use proptest::prelude::*;

use super::design::Setup;
use super::scene::{
    excludes_self, switches_away, Actor, Checks, Next, Op, Scene, Step, MAX_CPUS, MAX_NR_CPU_IDS,
    MAX_THREADS,
};

/// The CPU numbers of the enumerated "spread" layout (`nr_cpu_ids = 100`): CPU1 and CPU70 sit in
/// different 32-bit hex chunks and different 64-bit words.
const SPREAD: [usize; MAX_CPUS] = [1, 70, 33, 99];
const SPREAD_NR: usize = 100;

/// The generator's operations (thread numbers and masks are reduced by `normalize`).
fn any_op() -> impl Strategy<Value = Op> {
    let t = MAX_THREADS;
    prop_oneof![
        4 => prop_oneof![
            (0..t).prop_map(Next::Thread),
            Just(Next::Other),
            Just(Next::Kthread),
        ]
        .prop_map(Op::Switch),
        2 => (0..t).prop_map(Op::Pull),
        1 => (1u32..16).prop_map(Op::Affinity),
        1 => Just(Op::UseMm),
        1 => Just(Op::UnuseMm),
        1 => Just(Op::Exit),
        3 => any::<bool>().prop_map(Op::Munmap),
        4 => Just(Op::Read),
    ]
}

/// A generated fragment: one operation, or a thread brought here and run (pull + switch).
fn any_fragment() -> impl Strategy<Value = Vec<Op>> {
    prop_oneof![
        3 => any_op().prop_map(|o| vec![o]),
        1 => (0..MAX_THREADS).prop_map(|t| vec![Op::Pull(t), Op::Switch(Next::Thread(t))]),
    ]
}

/// Enforces the `Affinity` rule on one CPU's sequence of operations within `budget`: an
/// `Affinity` that excludes its own CPU is followed by a switch away (the stopper, a kernel
/// thread, unless the program already switches away), or dropped if there is no room.
fn push_rule(ops: Vec<(usize, Op)>, budget: usize) -> Vec<(usize, Op)> {
    let mut out: Vec<(usize, Op)> = vec![];
    let mut it = ops.into_iter().peekable();
    while let Some((cpu, op)) = it.next() {
        if out.len() >= budget {
            break;
        }
        if let Op::Affinity(m) = op {
            if excludes_self(m, cpu) {
                if out.len() + 2 > budget {
                    continue;
                }
                let next = it.peek().filter(|(c, _)| *c == cpu).map(|(_, o)| o);
                let away = match next {
                    Some(&o) if switches_away(Some(&o)) => o,
                    _ => Op::Switch(Next::Kthread),
                };
                if switches_away(next) {
                    it.next();
                }
                out.push((cpu, op));
                out.push((cpu, away));
                continue;
            }
        }
        out.push((cpu, op));
    }
    out
}

impl Scene {
    /// Turns a generated value into a valid scene: CPU numbers distinct and below
    /// `nr_cpu_ids`, indices within the system, one actor per CPU, readers only read, the
    /// `Affinity` rule, at most `max_ops` racing operations and `max_setup` set-up steps.
    fn normalize(mut self, max_ops: usize, max_setup: usize) -> Scene {
        let k = self.cpus.len().clamp(1, MAX_CPUS);
        self.cpus.resize(k, 0);
        self.nr_cpu_ids = self.nr_cpu_ids.clamp(k, MAX_NR_CPU_IDS);
        let nr = self.nr_cpu_ids;
        let mut used = BTreeSet::new();
        for id in &mut self.cpus {
            *id %= nr;
            while !used.insert(*id) {
                *id = (*id + 1) % nr;
            }
        }
        self.threads = self.threads.clamp(1, MAX_THREADS);
        let (t, all) = (self.threads, (1u32 << k) - 1);
        let fix = |op: Op| match op {
            Op::Switch(Next::Thread(x)) => Op::Switch(Next::Thread(x % t)),
            Op::Pull(x) => Op::Pull(x % t),
            Op::Affinity(m) if m & all == 0 => Op::Affinity(all),
            Op::Affinity(m) => Op::Affinity(m & all),
            op => op,
        };
        let steps = self.setup.iter().map(|s| (s.cpu % k, fix(s.op))).collect();
        self.setup = push_rule(steps, max_setup)
            .into_iter()
            .map(|(cpu, op)| Step { cpu, op })
            .collect();
        let mut seen = BTreeSet::new();
        let mut left = max_ops;
        let mut actors = vec![];
        for mut a in std::mem::take(&mut self.actors) {
            match a.cpu {
                Some(c) => {
                    let c = c % k;
                    if !seen.insert(c) {
                        continue;
                    }
                    a.cpu = Some(c);
                    let ops = a.ops.iter().map(|&o| (c, fix(o))).collect();
                    a.ops = push_rule(ops, left).into_iter().map(|(_, o)| o).collect();
                }
                None => {
                    a.ops.retain(|&o| o == Op::Read);
                    a.ops.truncate(left);
                }
            }
            left -= a.ops.len();
            if !a.ops.is_empty() {
                actors.push(a);
            }
        }
        self.actors = actors;
        self
    }
}

/// Whether every operation of the scene can take effect in some execution (a conservative
/// per-CPU approximation: only a CPU's own operations change what it runs). Enumeration keeps
/// only such scenes: an operation that is a no-op in every execution makes a scene equal to the
/// smaller one without it.
fn all_ops_live(s: &Scene) -> bool {
    let k = s.cpus.len();
    let moves = s
        .all_ops()
        .any(|(_, o)| matches!(o, Op::Pull(_) | Op::Affinity(_)));
    for i in 0..k {
        // Possible rq->curr: bit t = thread t, bit 3 = other, bit 4 = kthread.
        const OTHER: u8 = 1 << 3;
        const KTHREAD: u8 = 1 << 4;
        const THREADS: u8 = 0b111;
        let mut curr: u8 = if i == 0 { 1 } else { OTHER };
        // Possible kthread_mm values: bit 0 = false, bit 1 = true.
        let mut kmm: u8 = 1;
        let mine = s
            .setup
            .iter()
            .filter(|st| st.cpu == i)
            .map(|st| st.op)
            .chain(
                s.actors
                    .iter()
                    .filter(|a| a.cpu == Some(i))
                    .flat_map(|a| a.ops.iter().copied()),
            );
        for op in mine {
            let live = match op {
                Op::Switch(n) => {
                    let want = match n {
                        Next::Thread(t) => 1 << t,
                        Next::Other => OTHER,
                        Next::Kthread => KTHREAD,
                    };
                    let reachable = match n {
                        Next::Thread(_) => i == 0 || moves,
                        _ => true,
                    };
                    let live = curr != want && reachable;
                    curr = match n {
                        Next::Thread(_) => curr | want,
                        _ => want,
                    };
                    live
                }
                Op::Exit => {
                    let live = curr & THREADS & !1 != 0;
                    curr |= KTHREAD;
                    live
                }
                Op::Affinity(_) | Op::Munmap(_) => curr & THREADS != 0,
                Op::UseMm => {
                    let live = curr & KTHREAD != 0 && kmm & 1 != 0;
                    kmm |= 2;
                    live
                }
                Op::UnuseMm => {
                    let live = curr & KTHREAD != 0 && kmm & 2 != 0;
                    kmm |= 1;
                    live
                }
                Op::Pull(_) | Op::Read => true,
            };
            if !live {
                return false;
            }
        }
    }
    true
}

/// Every CPU operation of a system with `k` CPUs and `t` threads (reads are reader actors).
fn alphabet(k: usize, t: usize) -> Vec<Op> {
    let mut ops: Vec<Op> = (0..t).map(|x| Op::Switch(Next::Thread(x))).collect();
    ops.extend([Op::Switch(Next::Other), Op::Switch(Next::Kthread)]);
    ops.extend((0..t).map(Op::Pull));
    ops.extend((1..(1u32 << k)).map(Op::Affinity));
    ops.extend([Op::UseMm, Op::UnuseMm, Op::Munmap(false), Op::Munmap(true)]);
    if t > 1 {
        ops.push(Op::Exit);
    }
    ops
}

/// The scene language as the harness sees it.
pub struct MmCpumaskScenes;

impl Scenes for MmCpumaskScenes {
    type Scene = Scene;
    type Design = Setup;

    const EXHAUSTIVE: SceneBounds = SceneBounds {
        cpus: 2,
        actors: 3,
        ops: 3,
        setup: 0,
    };
    const RANDOM: SceneBounds = SceneBounds {
        cpus: 3,
        actors: 4,
        ops: 8,
        setup: 4,
    };

    fn strategy(&self, b: &SceneBounds) -> BoxedStrategy<Scene> {
        let cpus = (b.cpus as usize).clamp(1, MAX_CPUS);
        let (max_ops, max_setup) = (b.ops as usize, b.setup as usize);
        let actor = (
            prop::option::weighted(0.75, 0..cpus),
            prop::collection::vec(any_fragment(), 1..=max_ops.max(1)),
        )
            .prop_map(|(cpu, ops)| Actor {
                cpu,
                ops: ops.concat(),
                label: None,
            });
        (
            prop::collection::vec(0..MAX_NR_CPU_IDS, 1..=cpus),
            // Any size, weighted toward the layouts' edges: two hex chunks (33, 48), two
            // words (65, 100), the maximum.
            prop_oneof![
                2 => 1..=MAX_NR_CPU_IDS,
                1 => prop::sample::select(vec![33, 48, 64, 65, 100, 128]),
            ],
            1..=MAX_THREADS,
            prop::collection::vec((0..cpus, any_fragment()), 0..=max_setup),
            prop::collection::vec(actor, 0..=b.actors as usize),
        )
            .prop_map(move |(ids, nr, threads, setup, actors)| {
                Scene {
                    nr_cpu_ids: nr,
                    cpus: ids,
                    threads,
                    setup: setup
                        .into_iter()
                        .flat_map(|(cpu, ops)| ops.into_iter().map(move |op| Step { cpu, op }))
                        .collect(),
                    actors,
                    checks: Checks::default(),
                }
                .normalize(max_ops, max_setup)
            })
            .boxed()
    }

    fn enumerate(&self, b: &SceneBounds) -> Vec<Scene> {
        let mut out = vec![];
        let mut seen = BTreeSet::new();
        let (max_ops, max_setup) = (b.ops as usize, b.setup as usize);
        for k in 1..=(b.cpus as usize).clamp(1, MAX_CPUS) {
            let layouts = [
                (k, (0..k).collect::<Vec<_>>()),
                (SPREAD_NR, SPREAD[..k].to_vec()),
            ];
            for t in 1..=2.min(MAX_THREADS) {
                let abc = alphabet(k, t);
                let steps: Vec<(usize, Op)> = (0..k)
                    .flat_map(|c| abc.iter().map(move |&o| (c, o)))
                    .collect();
                let setups = sequences(&steps, max_setup);
                let cpu_sets: Vec<Vec<usize>> = (1u32..(1 << k))
                    .map(|m| (0..k).filter(|i| m & (1 << i) != 0).collect())
                    .collect();
                for readers in 0..=1usize {
                    for set in &cpu_sets {
                        let nactors = set.len() + readers;
                        if nactors > b.actors as usize || set.len() + readers > max_ops {
                            continue;
                        }
                        for progs in programs(&abc, set.len(), max_ops - readers) {
                            for s in &setups {
                                let mut actors: Vec<Actor> = set
                                    .iter()
                                    .zip(&progs)
                                    .map(|(&c, p)| Actor {
                                        cpu: Some(c),
                                        ops: p.clone(),
                                        label: None,
                                    })
                                    .collect();
                                if readers == 1 {
                                    actors.push(Actor {
                                        cpu: None,
                                        ops: vec![Op::Read],
                                        label: None,
                                    });
                                }
                                for (nr, ids) in &layouts {
                                    let scene = Scene {
                                        nr_cpu_ids: *nr,
                                        cpus: ids.clone(),
                                        threads: t,
                                        setup: s
                                            .iter()
                                            .map(|&(cpu, op)| Step { cpu, op })
                                            .collect(),
                                        actors: actors.clone(),
                                        checks: Checks::default(),
                                    };
                                    let uses_t2 = scene.all_ops().any(|(_, o)| {
                                        matches!(
                                            o,
                                            Op::Pull(1) | Op::Switch(Next::Thread(1)) | Op::Exit
                                        )
                                    });
                                    if (t == 1 || uses_t2)
                                        && self.validate(&scene).is_ok()
                                        && all_ops_live(&scene)
                                        && seen.insert(scene.clone())
                                    {
                                        out.push(scene);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn validate(&self, s: &Scene) -> Result<(), String> {
        let k = s.cpus.len();
        if !(1..=MAX_CPUS).contains(&k) {
            return Err(format!("{k} modelled CPUs outside 1..={MAX_CPUS}"));
        }
        if !(1..=MAX_NR_CPU_IDS).contains(&s.nr_cpu_ids) {
            return Err(format!(
                "nr_cpu_ids {} outside 1..={MAX_NR_CPU_IDS}",
                s.nr_cpu_ids
            ));
        }
        let mut ids = BTreeSet::new();
        for &c in &s.cpus {
            if c >= s.nr_cpu_ids || !ids.insert(c) {
                return Err(format!(
                    "CPU{c} is not a distinct CPU below nr_cpu_ids {}",
                    s.nr_cpu_ids
                ));
            }
        }
        if !(1..=MAX_THREADS).contains(&s.threads) {
            return Err(format!("{} threads outside 1..={MAX_THREADS}", s.threads));
        }
        let mut cpus = BTreeSet::new();
        for a in &s.actors {
            if a.ops.is_empty() {
                return Err("an actor without operations".into());
            }
            match a.cpu {
                Some(c) if !cpus.insert(c) => return Err(format!("two actors on CPU index {c}")),
                None if a.ops.iter().any(|&o| o != Op::Read) => {
                    return Err("a reader actor (no CPU) may only read".into())
                }
                _ => {}
            }
        }
        for (cpu, op) in s.all_ops() {
            if cpu.is_some_and(|c| c >= k) {
                return Err(format!("CPU index {cpu:?} beyond the {k} modelled CPUs"));
            }
            match *op {
                Op::Switch(Next::Thread(t)) | Op::Pull(t) if t >= s.threads => {
                    return Err(format!("thread {t} does not exist ({} threads)", s.threads))
                }
                Op::Affinity(m) if m == 0 || m >> k != 0 => {
                    return Err(format!(
                        "affinity mask {m:#x} outside the {k} modelled CPUs"
                    ))
                }
                _ => {}
            }
        }
        // An Affinity that excludes its own CPU is followed on that CPU by a switch away.
        let seqs = s
            .actors
            .iter()
            .filter_map(|a| a.cpu.map(|c| a.ops.iter().map(|&o| (c, o)).collect()))
            .chain([s.setup.iter().map(|st| (st.cpu, st.op)).collect()]);
        for seq in seqs {
            let seq: Vec<(usize, Op)> = seq;
            for (j, &(c, op)) in seq.iter().enumerate() {
                if let Op::Affinity(m) = op {
                    let next = seq.get(j + 1).filter(|(c2, _)| *c2 == c).map(|(_, o)| o);
                    if excludes_self(m, c) && !switches_away(next) {
                        return Err(format!(
                            "sched_setaffinity() excluding CPU index {c} must be followed there \
                             by a switch away (the stopper pushes the thread off)"
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn size(&self, s: &Scene) -> SceneSize {
        SceneSize {
            cpus: s.cpus.len() as u32,
            actors: s.actors.len() as u32,
            ops: s.actors.iter().map(|a| a.ops.len() as u32).sum(),
            setup: s.setup.len() as u32,
        }
    }

    fn scenario(&self, setup: &Setup, scene: &Scene) -> Scenario {
        let setup = *setup;
        let scene = scene.clone();
        Arc::new(move || scene.run(setup))
    }

    fn script(&self, s: &Scene) -> String {
        let cpus: Vec<String> = s.cpus.iter().map(|c| format!("CPU{c}")).collect();
        let mut out = format!(
            "nr_cpu_ids {}, CPUs {}, {} thread(s); T1 runs on CPU{}, others run another \
             process{}\n",
            s.nr_cpu_ids,
            cpus.join(" "),
            s.threads,
            s.cpus[0],
            if s.threads > 1 {
                format!(", T2.. queued on CPU{}", s.cpus[0])
            } else {
                String::new()
            }
        );
        for st in &s.setup {
            let _ = writeln!(
                out,
                "set-up  CPU{}: {}",
                s.cpus[st.cpu],
                st.op.describe(&s.cpus)
            );
        }
        for a in &s.actors {
            let ops: Vec<String> = a.ops.iter().map(|o| o.describe(&s.cpus)).collect();
            let who = match a.cpu {
                Some(i) => format!("CPU{}", s.cpus[i]),
                None => "reader".into(),
            };
            let _ = writeln!(out, "race    {who}: {}", ops.join("; "));
        }
        out
    }
}
