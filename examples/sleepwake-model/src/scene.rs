//! The scene language: a few CPUs, each running a short program of waits, condition sets and
//! other events on the one wait queue. `kmodel explore sleepwake` sweeps every design over it.

use kmodel_harness::prelude::proptest::prelude::*;
use kmodel_harness::prelude::proptest::strategy::BoxedStrategy;
use kmodel_harness::prelude::*;

use crate::sleepwake::{other_event, set_cond, wait_for_cond, Design, Shared, Wait};

/// One step of a CPU's program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(crate = "kmodel_harness::prelude::serde", rename_all = "kebab-case")]
pub enum Op {
    /// Wait until `cond` is set (the design's waiter side).
    Wait,
    /// Set `cond` and wake the queue (the design's waker side).
    Set,
    /// `wake_up()` for another event, without setting `cond`.
    OtherEvent,
}

/// A scene: one program per CPU. Every wait can be satisfied: another CPU sets `cond`, or the
/// waiting CPU set it earlier (else the waiter would rightly wait for ever in every design).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(crate = "kmodel_harness::prelude::serde")]
pub struct Scene {
    pub programs: Vec<Vec<Op>>,
}

impl Scene {
    /// A variant's hand-written scene: CPU0 waits, CPU1 sets `cond`, and for the design that
    /// does not re-test the condition, CPU2 wakes the queue for another event.
    pub fn scripted(d: Design) -> Scene {
        let mut programs = vec![vec![Op::Wait], vec![Op::Set]];
        if d.wait == Wait::NoRecheck {
            programs.push(vec![Op::OtherEvent]);
        }
        Scene { programs }
    }

    /// CPU `cpu`'s timeline name, after what it does first.
    pub fn actor_name(&self, cpu: usize) -> String {
        let role = match self.programs[cpu].first() {
            Some(Op::Wait) => "waiter",
            Some(Op::Set) => "waker",
            Some(Op::OtherEvent) | None => "other event",
        };
        format!("CPU{cpu} {role}")
    }
}

/// The scene language (`KernelModel::Scenes`).
pub struct SleepWakeScenes;

const OPS: [Op; 3] = [Op::Wait, Op::Set, Op::OtherEvent];

impl Scenes for SleepWakeScenes {
    type Scene = Scene;
    type Design = Design;

    const EXHAUSTIVE: SceneBounds = SceneBounds {
        cpus: 3,
        actors: 3,
        ops: 3,
        setup: 0,
    };
    const RANDOM: SceneBounds = SceneBounds {
        cpus: 4,
        actors: 4,
        ops: 6,
        setup: 0,
    };

    fn strategy(&self, b: &SceneBounds) -> BoxedStrategy<Scene> {
        let actors = b.actors.clamp(1, b.cpus.max(1)) as usize;
        let ops = (b.ops as usize).max(1);
        prop::collection::vec(
            prop::collection::vec(prop::sample::select(OPS.to_vec()), 1..=2),
            1..=actors,
        )
        .prop_filter("at most the op bound", move |p| {
            p.iter().map(Vec::len).sum::<usize>() <= ops
        })
        .prop_map(|programs| Scene { programs })
        .prop_filter("every wait can be satisfied", |s| {
            SleepWakeScenes.validate(s).is_ok()
        })
        .boxed()
    }

    fn enumerate(&self, b: &SceneBounds) -> Vec<Scene> {
        let actors = b.actors.min(b.cpus) as usize;
        let mut out = vec![];
        for n in 1..=actors {
            for programs in programs(&OPS, n, b.ops as usize) {
                let scene = Scene { programs };
                if self.validate(&scene).is_ok() {
                    out.push(scene);
                }
            }
        }
        out
    }

    fn validate(&self, scene: &Scene) -> Result<(), String> {
        if scene.programs.is_empty() || scene.programs.len() > 4 {
            return Err(format!("{} CPUs (1 to 4)", scene.programs.len()));
        }
        if scene.programs.iter().any(Vec::is_empty) {
            return Err("a CPU with an empty program".into());
        }
        // Every wait can be satisfied: some other CPU sets cond, or this one did before.
        for (c, p) in scene.programs.iter().enumerate() {
            let others = scene
                .programs
                .iter()
                .enumerate()
                .any(|(d, q)| d != c && q.contains(&Op::Set));
            if let Some(i) = p.iter().position(|op| *op == Op::Wait) {
                if !others && !p[..i].contains(&Op::Set) {
                    return Err(format!(
                        "CPU{c} waits for cond, which only it sets later: it would rightly \
                         wait for ever"
                    ));
                }
            }
        }
        Ok(())
    }

    fn size(&self, scene: &Scene) -> SceneSize {
        let n = scene.programs.len() as u32;
        SceneSize {
            cpus: n,
            actors: n,
            ops: scene.programs.iter().map(Vec::len).sum::<usize>() as u32,
            setup: 0,
        }
    }

    fn scenario(&self, design: &Design, scene: &Scene) -> Scenario {
        let (d, scene) = (*design, scene.clone());
        Arc::new(move || run_scene(&scene, d))
    }

    fn script(&self, scene: &Scene) -> String {
        scene
            .programs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let ops: Vec<&str> = p
                    .iter()
                    .map(|op| match op {
                        Op::Wait => "wait",
                        Op::Set => "set",
                        Op::OtherEvent => "other-event",
                    })
                    .collect();
                format!("{}: {}", self.actor_label(scene, i), ops.join(", "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl SleepWakeScenes {
    fn actor_label(&self, scene: &Scene, cpu: usize) -> String {
        scene.actor_name(cpu)
    }
}

/// Runs `scene` under design `d`: one actor per program, each op in order.
pub fn run_scene(scene: &Scene, d: Design) {
    let s = Arc::new(Shared {
        cond: AtomicU32::new(0),
        wq: WaitQueueHead::new("wq"),
    });
    let actors: Vec<_> = scene
        .programs
        .iter()
        .enumerate()
        .map(|(cpu, program)| {
            let (s, program) = (s.clone(), program.clone());
            spawn(scene.actor_name(cpu), move || {
                for op in program {
                    match op {
                        Op::Wait => wait_for_cond(&s, d),
                        Op::Set => set_cond(&s, d),
                        Op::OtherEvent => other_event(&s),
                    }
                }
            })
        })
        .collect();
    for a in actors {
        a.join();
    }
}
