//! mrelease's scene space as the harness sees it: generation, enumeration, validation, size
//! and script of [`Scene`]s.

use std::fmt::Write;

use kmodel_harness::prelude::*;
use kmodel_harness::scene::{programs, sequences};
use proptest::prelude::*;

use super::design::Design;
use super::scene::{
    alphabet, any_op, any_step, Actor, Exit, Op, Scene, Step, MAX_STALL, MAX_THREADS, MAX_VMAS,
};

/// The scene language of mrelease.
pub struct MreleaseScenes;

impl Scenes for MreleaseScenes {
    type Scene = Scene;
    type Design = Design;

    /// Every actor runs on its own CPU, so `cpus` = `actors`.
    const EXHAUSTIVE: SceneBounds = SceneBounds {
        cpus: 3,
        actors: 3,
        ops: 3,
        setup: 0,
    };
    const RANDOM: SceneBounds = SceneBounds {
        cpus: 5,
        actors: 5,
        ops: 7,
        setup: 2,
    };

    fn strategy(&self, b: &SceneBounds) -> BoxedStrategy<Scene> {
        let b = *b;
        let exit = prop_oneof![3 => Just(Exit::Killed), 1 => Just(Exit::ExitGroup)];
        (
            (1..=MAX_VMAS, 1..=MAX_THREADS, any::<bool>()),
            prop::collection::vec(any_step(), 0..=b.setup as usize),
            prop::collection::vec(exit, MAX_THREADS),
            prop::collection::vec(
                prop::collection::vec(any_op(), 1..=(b.ops as usize).max(1)),
                0..=b.actors as usize,
            ),
            any::<bool>(),
        )
            .prop_map(
                move |((nr_vmas, threads, autoreap), setup, exits, tasks, reaper)| {
                    Scene {
                        nr_vmas,
                        threads,
                        // Shrinks toward false; a parent that waits is the common case.
                        autoreap,
                        reader_stealing: false,
                        killer_wait_budget: 0,
                        setup,
                        actors: tasks.into_iter().map(|ops| Actor::Task { ops }).collect(),
                    }
                    .normalize(&b, &exits, reaper)
                },
            )
            .boxed()
    }

    fn enumerate(&self, b: &SceneBounds) -> Vec<Scene> {
        let cap = b.actors.min(b.cpus) as usize;
        let ops = b.ops as usize;
        let abc = alphabet();
        let mut out = vec![];
        for threads in 1..=2 {
            let mut steps = vec![Step::Kill, Step::OomKill];
            steps.extend((0..threads).map(Step::ThreadExit));
            for setup in sequences(&steps, b.setup as usize) {
                let left: Vec<usize> = (0..threads)
                    .filter(|t| !setup.contains(&Step::ThreadExit(*t)))
                    .collect();
                if left.len() > cap.min(ops) {
                    continue;
                }
                for exits in 0..(1usize << left.len()) {
                    let victims: Vec<Actor> = left
                        .iter()
                        .enumerate()
                        .map(|(i, &tid)| Actor::Thread {
                            tid,
                            exit: if exits >> i & 1 == 0 {
                                Exit::Killed
                            } else {
                                Exit::ExitGroup
                            },
                        })
                        .collect();
                    for reaper in [false, true] {
                        let used = victims.len() + usize::from(reaper);
                        if used > cap || used > ops {
                            continue;
                        }
                        for n in 0..=(cap - used) {
                            for progs in programs(&abc, n, ops - used) {
                                // Processes are interchangeable: one order per multiset.
                                if progs.windows(2).any(|w| w[0] > w[1]) {
                                    continue;
                                }
                                for autoreap in [false, true] {
                                    let mut actors: Vec<Actor> = progs
                                        .iter()
                                        .map(|p| Actor::Task { ops: p.clone() })
                                        .collect();
                                    actors.extend(victims.iter().cloned());
                                    if reaper {
                                        actors.push(Actor::OomReaper);
                                    }
                                    let scene = Scene {
                                        nr_vmas: 1,
                                        threads,
                                        autoreap,
                                        reader_stealing: false,
                                        killer_wait_budget: 0,
                                        setup: setup.clone(),
                                        actors,
                                    };
                                    if self.validate(&scene).is_ok() {
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
        if !(1..=MAX_VMAS).contains(&s.nr_vmas) {
            return Err(format!("nr_vmas {} outside 1..={MAX_VMAS}", s.nr_vmas));
        }
        if !(1..=MAX_THREADS).contains(&s.threads) {
            return Err(format!("threads {} outside 1..={MAX_THREADS}", s.threads));
        }
        if s.killer_wait_budget > 16 {
            return Err(format!(
                "killer_wait_budget {} outside 0..=16",
                s.killer_wait_budget
            ));
        }
        // Every thread exits exactly once: in the set-up or as a racing actor.
        let mut exits = vec![0; s.threads];
        for st in &s.setup {
            if let Step::ThreadExit(t) = *st {
                *exits
                    .get_mut(t)
                    .ok_or_else(|| format!("set-up exits T{}, which does not exist", t + 1))? += 1;
            }
        }
        let (mut waits, mut reapers) = (0, 0);
        for a in &s.actors {
            match a {
                Actor::Thread { tid, .. } => {
                    *exits
                        .get_mut(*tid)
                        .ok_or_else(|| format!("actor T{} does not exist", tid + 1))? += 1
                }
                Actor::OomReaper => reapers += 1,
                Actor::Task { ops } => {
                    if ops.is_empty() {
                        return Err("a process with an empty program".into());
                    }
                    for (i, op) in ops.iter().enumerate() {
                        match *op {
                            Op::Read { stall, .. } if stall > MAX_STALL => {
                                return Err(format!("read stall {stall} above {MAX_STALL}"))
                            }
                            Op::Wait if i + 1 != ops.len() => {
                                return Err("wait() must be its process's last operation \
                                            (a parent that waits before it kills hangs)"
                                    .into())
                            }
                            Op::Wait => waits += 1,
                            _ => {}
                        }
                    }
                }
            }
        }
        if let Some(t) = exits.iter().position(|&n| n != 1) {
            return Err(format!(
                "T{} exits {} times (every thread exits exactly once)",
                t + 1,
                exits[t]
            ));
        }
        if waits > 1 {
            return Err("two wait()s: the victim has one parent".into());
        }
        if waits == 1 && s.autoreap {
            return Err("wait() by a parent that ignores SIGCHLD (autoreap) reaps nothing".into());
        }
        if reapers > 1 {
            return Err("two oom_reaper threads".into());
        }
        let oom = s.setup.contains(&Step::OomKill)
            || s.actors
                .iter()
                .any(|a| matches!(a, Actor::Task { ops } if ops.contains(&Op::OomKill)));
        if reapers == 1 && !oom {
            return Err("an oom_reaper with no OOM kill to queue it".into());
        }
        let waiting = s.actors.iter().any(|a| {
            matches!(
                a,
                Actor::Thread {
                    exit: Exit::Killed,
                    ..
                }
            )
        });
        if waiting && !s.has_kill_source() {
            return Err("a victim thread waits for a SIGKILL nobody sends".into());
        }
        Ok(())
    }

    fn size(&self, s: &Scene) -> SceneSize {
        let actors = s.actors.len() as u32;
        SceneSize {
            cpus: actors.max(1),
            actors,
            ops: s.actors.iter().map(|a| a.ops() as u32).sum(),
            setup: s.setup.len() as u32,
        }
    }

    fn scenario(&self, design: &Design, scene: &Scene) -> Scenario {
        let design = *design;
        let scene = scene.clone();
        Arc::new(move || scene.run(design))
    }

    fn script(&self, s: &Scene) -> String {
        let mut out = format!(
            "victim: {} thread(s), {} one-page VMA(s); readers' files already open{}{}\n",
            s.threads,
            s.nr_vmas,
            if s.autoreap {
                "; parent ignores SIGCHLD"
            } else {
                ""
            },
            if s.reader_stealing {
                "; readers steal mmap_lock"
            } else {
                ""
            }
        );
        for st in &s.setup {
            let what = match st {
                Step::Kill => "pidfd_send_signal(SIGKILL)".to_string(),
                Step::OomKill => "the OOM killer picks the victim".to_string(),
                Step::ThreadExit(t) => format!("T{} exits (pthread_exit)", t + 1),
            };
            let _ = writeln!(out, "set-up: {what}");
        }
        for (cpu, a) in s.actors.iter().enumerate() {
            let what = match a {
                Actor::Thread { exit, .. } => match exit {
                    Exit::Killed => "waits for SIGKILL, do_exit()".to_string(),
                    Exit::ExitGroup => "exit_group()".to_string(),
                },
                Actor::OomReaper => "oom_reap_task() once queued".to_string(),
                Actor::Task { ops } => ops.iter().map(Op::describe).collect::<Vec<_>>().join("; "),
            };
            let _ = writeln!(out, "race {}: {what}", a.label(cpu));
        }
        out
    }
}
