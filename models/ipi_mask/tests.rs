//! Unit tests: declarations, the scene language, and small sweeps of each swept variant.

use std::time::Duration;

use kmodel_harness::check::{defaults, Agreement};
use kmodel_harness::engine::{EngineSpec, Shard};
use kmodel_harness::scene::SceneBounds;
use kmodel_harness::sweep::{sweep, SweepMode, SweepOptions};

use super::scene::{Actor, Call, Kind, Mask, Op, Scene, Step};
use super::space::validate;
use super::*;

#[test]
fn declarations_valid() {
    MODEL.validate().unwrap();
}

fn scene() -> Scene {
    scripted(Which::TaskLocalMask, 1)
}

#[test]
fn scripted_scenes_are_members() {
    for v in MODEL.variants {
        let which = *v.design::<Which>();
        for b in 1..=4 {
            let s = scripted(which, b);
            validate(&s).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            let json = serde_json::to_value(&s).unwrap();
            assert!(IpiScenes.check(&json).is_ok(), "{}", v.name);
            assert!(IpiScenes.script(&json).unwrap().lines().count() <= 10);
        }
    }
}

#[test]
fn validate_refuses_malformed_scenes() {
    let bad: Vec<(&str, Box<dyn Fn(&mut Scene)>)> = vec![
        ("no CPUs", Box::new(|s| s.nr_cpu_ids = 0)),
        ("5 CPUs", Box::new(|s| s.nr_cpu_ids = 5)),
        ("NR_CPUS", Box::new(|s| s.nr_cpus = 96)),
        ("CPU0 booting", Box::new(|s| s.booting = Some(0))),
        ("task on a booting CPU", Box::new(|s| s.booting = Some(1))),
        ("task beyond nr_cpu_ids", Box::new(|s| s.tasks[0].cpu = 4)),
        (
            "empty mask",
            Box::new(|s| s.tasks[0].ops = vec![Op::Call(Call::new(Mask::Cpus(0), true))]),
        ),
        (
            "mask beyond CPUs",
            Box::new(|s| s.tasks[0].ops = vec![Op::Call(Call::new(Mask::Cpus(0x30), true))]),
        ),
        (
            "migration without wait",
            Box::new(|s| {
                s.tasks[0].ops = vec![Op::Call(Call {
                    migrate: Some(1),
                    ..Call::new(Mask::Cpus(2), false)
                })]
            }),
        ),
        (
            "migration to offline",
            Box::new(|s| {
                s.booting = Some(3);
                s.tasks[1].ops = vec![Op::Migrate(3)];
            }),
        ),
        (
            "init_task off CPU0",
            Box::new(|s| {
                s.tasks[1].kind = Kind::InitTask;
                s.tasks[1].cpu = 1;
            }),
        ),
        (
            "two init_tasks",
            Box::new(|s| {
                s.tasks[0].kind = Kind::InitTask;
                s.tasks[1].kind = Kind::InitTask;
            }),
        ),
        (
            "init_task Migrate op",
            Box::new(|s| {
                s.tasks[1].kind = Kind::InitTask;
                s.tasks[1].ops = vec![Op::Migrate(1)];
            }),
        ),
        (
            "bring-up on an online CPU",
            Box::new(|s| {
                s.tasks[1].kind = Kind::Booting;
            }),
        ),
        (
            "waiting set-up call",
            Box::new(|s| {
                s.setup = vec![Step {
                    cpu: 0,
                    op: Op::Call(Call::new(Mask::Cpus(2), true)),
                }]
            }),
        ),
        (
            "two set-up calls from one CPU",
            Box::new(|s| {
                s.setup = vec![
                    Step {
                        cpu: 0,
                        op: Op::Call(Call::new(Mask::Cpus(2), false))
                    };
                    2
                ]
            }),
        ),
        ("no handler", Box::new(|s| s.handler_actors = 0)),
        ("no task", Box::new(|s| s.tasks.clear())),
    ];
    assert!(validate(&scene()).is_ok());
    for (what, f) in bad {
        let mut s = scene();
        f(&mut s);
        assert!(validate(&s).is_err(), "accepted: {what}");
    }
}

#[test]
fn generated_scenes_are_valid_and_bounded() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let b = <IpiScenes as Scenes>::RANDOM;
    let strat = <IpiScenes as Scenes>::strategy(&IpiScenes, &b);
    let mut runner = TestRunner::deterministic();
    for _ in 0..500 {
        let s = strat.new_tree(&mut runner).unwrap().current();
        validate(&s).unwrap_or_else(|e| panic!("{e}: {s:?}"));
        assert!(IpiScenes.size(&s).within(&b), "{s:?}");
    }
    for s in <IpiScenes as Scenes>::enumerate(&IpiScenes, &<IpiScenes as Scenes>::EXHAUSTIVE) {
        validate(&s).unwrap_or_else(|e| panic!("{e}: {s:?}"));
    }
}

/// A one-CPU system has nobody to send IPIs to: no handler actor, local calls only.
#[test]
fn one_cpu_scene() {
    let s = Scene {
        nr_cpu_ids: 1,
        nr_cpus: 64,
        booting: None,
        mm: 1,
        setup: vec![],
        tasks: vec![Actor {
            cpu: 0,
            kind: Kind::Task,
            ops: vec![Op::Call(Call {
                local: true,
                ..Call::new(Mask::Cpus(1), true)
            })],
            label: None,
        }],
        handler_actors: 0,
    };
    validate(&s).unwrap();
    assert!(s.handler_groups().is_empty());
}

fn swept() -> impl Iterator<Item = &'static Variant> {
    MODEL.variants.iter().filter(|v| v.sweep.is_some())
}

fn assert_as_declared(r: &kmodel_harness::sweep::SweepReport) {
    assert!(r.error.is_none(), "{}: {:?}", r.variant, r.error);
    for p in &r.properties {
        assert_eq!(
            p.agreement,
            Agreement::AsExpected,
            "{}/{}: expected {:?}, violated {} ({})",
            r.variant,
            p.property,
            p.expected,
            p.violated,
            r.covered
        );
    }
}

fn opts(engine: EngineSpec, bounds: SceneBounds, mode: SweepMode) -> SweepOptions {
    SweepOptions {
        engine,
        bounds,
        mode,
        budget: Some(Duration::from_secs(60)),
        shrink_runs: 0,
        shard: Shard::default(),
        jobs: 1,
        record: false,
        progress: None,
    }
}

/// A small fixed-seed random sweep (shuttle-pct) reaches every swept variant's verdicts.
#[test]
fn small_random_sweeps_reach_declared_verdicts() {
    let engine = EngineSpec::ShuttlePct {
        schedules: 100,
        depth: defaults::PCT_DEPTH,
        seed: 0,
    };
    for v in swept() {
        let o = opts(
            engine.clone(),
            <IpiScenes as Scenes>::RANDOM,
            SweepMode::Random {
                seed: 0,
                scenes: 60,
            },
        );
        assert_as_declared(&sweep(&MODEL, v, &o));
    }
}

/// A small exhaustive sweep (loom, k = 1) of 1..2 CPUs, one call per task.
#[test]
fn small_exhaustive_sweeps_reach_declared_verdicts() {
    let engine = EngineSpec::Loom {
        preemption_bound: Some(1),
    };
    let bounds = SceneBounds {
        cpus: 2,
        actors: 3,
        ops: 2,
        setup: 0,
    };
    for v in swept() {
        let o = opts(engine.clone(), bounds, SweepMode::Exhaustive);
        let r = sweep(&MODEL, v, &o);
        assert!(r.error.is_none(), "{}: {:?}", v.name, r.error);
        // Weak-memory-only and deadlock verdicts need the full bound / more scenes: only
        // check that nothing declared Holds is violated.
        for p in &r.properties {
            assert!(
                p.agreement != Agreement::Unexpected || p.expected != Expect::Holds,
                "{}/{}: violated ({})",
                v.name,
                p.property,
                r.covered
            );
        }
    }
}
