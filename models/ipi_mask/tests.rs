//! Unit tests: declarations, the scene language, and small sweeps of each swept variant.

use kmodel_harness::engine::defaults;
use kmodel_harness::engine::EngineSpec;
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
    for v in IpiMask::VARIANTS {
        for b in 1..=4 {
            let s = scripted(v.design, b);
            validate(&s).unwrap_or_else(|e| panic!("{}: {e}", v.card.name));
            assert!(Scenes::script(&IpiScenes, &s).lines().count() <= 10);
        }
    }
}

/// A malformation applied to a valid scene.
type Edit = Box<dyn Fn(&mut Scene)>;

#[test]
fn validate_refuses_malformed_scenes() {
    let bad: Vec<(&str, Edit)> = vec![
        ("no CPUs", Box::new(|s| s.nr_cpu_ids = 0)),
        ("5 CPUs", Box::new(|s| s.nr_cpu_ids = 5)),
        ("NR_CPUS", Box::new(|s| s.nr_cpus = 96)),
        ("CPU0 booting", Box::new(|s| s.booting = Some(0))),
        (
            "task on a booting CPU",
            Box::new(|s| {
                s.booting = Some(1);
                s.tasks[1].cpu = 1;
            }),
        ),
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

fn swept() -> impl Iterator<Item = &'static VariantCard> {
    MODEL.variants().into_iter().filter(|v| v.sweep.is_some())
}

fn opts(engine: EngineSpec, bounds: SceneBounds, mode: SweepMode) -> SweepOptions {
    // No time budget: a sweep's result must not depend on the machine's speed.
    SweepOptions {
        shrink_runs: 0,
        record: false,
        ..SweepOptions::new(engine, bounds, mode)
    }
}

fn found(r: &kmodel_harness::sweep::SweepReport) -> Vec<PropertyId> {
    r.properties
        .iter()
        .filter(|p| p.violated)
        .map(|p| p.property)
        .collect()
}

/// A small fixed-seed random sweep (shuttle-pct) and a small exhaustive sweep (loom, k = 1,
/// <= 2 CPUs, one task making <= 2 calls or two tasks making one each) of each swept variant:
/// neither violates a property declared Holds, and together they find every declared
/// violation (weak-memory-only ones under loom).
#[test]
fn small_sweeps_reach_declared_verdicts() {
    let pct = EngineSpec::ShuttlePct {
        schedules: 50,
        depth: defaults::PCT_DEPTH,
        seed: 0,
    };
    let loom = EngineSpec::Loom {
        preemption_bound: Some(1),
    };
    let small = SceneBounds {
        cpus: 2,
        actors: 3,
        ops: 2,
        setup: 0,
    };
    for v in swept() {
        let random = SweepMode::Random {
            seed: 0,
            scenes: 150,
        };
        let r = sweep(
            &MODEL,
            v,
            &opts(pct.clone(), <IpiScenes as Scenes>::RANDOM, random),
        );
        let e = sweep(&MODEL, v, &opts(loom.clone(), small, SweepMode::Exhaustive));
        let mut seen = found(&r);
        seen.extend(found(&e));
        for rep in [&r, &e] {
            assert!(rep.error.is_none(), "{}: {:?}", v.name, rep.error);
            for p in &rep.properties {
                assert!(
                    !p.violated || p.expected.observable(),
                    "{}/{}: violated ({}): {:?}",
                    v.name,
                    p.property,
                    rep.covered,
                    p.finding.as_ref().map(|f| &f.script)
                );
            }
        }
        for (p, x) in v.sweep.unwrap() {
            assert!(
                !x.observable() || seen.contains(&p),
                "{}/{p}: declared {x:?}, not found by the small sweeps",
                v.name
            );
        }
    }
}

kmodel_harness::declared_verdicts_test!(super::MODEL);
