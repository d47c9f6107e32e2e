//! Scene-language tests: validation, scripted scenes as members, small sweeps per swept variant.

use std::collections::{BTreeMap, BTreeSet};

use kmodel_harness::engine::EngineSpec;
use kmodel_harness::scene::{SceneBounds, Scenes};
use kmodel_harness::sweep::{sweep, SweepMode, SweepOptions};
use kmodel_harness::verdict::Agreement;
use kmodel_harness::{Expect, Model};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use super::scene::{Actor, Checks, Next, Op, Scene, Step};
use super::{Knobs, MmCpumaskScenes, MODEL};

#[test]
fn model_validates() {
    MODEL.validate().unwrap();
}

fn base() -> Scene {
    Scene::migration(&Knobs::from(&MODEL.resolve(&BTreeMap::new()).unwrap()))
}

#[test]
fn scripted_scenes_are_members() {
    let s = MmCpumaskScenes;
    let p = MODEL.resolve(&BTreeMap::new()).unwrap();
    let k = Knobs::from(&p);
    s.validate(&Scene::migration(&k)).unwrap();
    s.validate(&Scene::lazy_return(&k)).unwrap();
    for (name, v) in [("lazy_tlb", 1), ("trim_due", 0), ("nr_cpu_ids", 100)] {
        let mut ov = BTreeMap::new();
        ov.insert(name.to_string(), v);
        if name == "nr_cpu_ids" {
            ov.insert("to_cpu".to_string(), 70);
        }
        let k = Knobs::from(&MODEL.resolve(&ov).unwrap());
        s.validate(&Scene::migration(&k)).unwrap();
    }
    // Within the random bounds (so a random sweep could have produced its shape).
    let size = s.size(&base());
    assert!(size.within(&<MmCpumaskScenes as Scenes>::RANDOM), "{size}");
}

/// An edit that breaks a valid scene.
type Edit = Box<dyn Fn(&mut Scene)>;

#[test]
fn validate_refuses_malformed_scenes() {
    let s = MmCpumaskScenes;
    let bad: Vec<(&str, Edit)> = vec![
        ("nr_cpu_ids 0", Box::new(|x| x.nr_cpu_ids = 0)),
        ("nr_cpu_ids 129", Box::new(|x| x.nr_cpu_ids = 129)),
        ("CPU beyond nr_cpu_ids", Box::new(|x| x.cpus[1] = 48)),
        ("duplicate CPU", Box::new(|x| x.cpus[1] = x.cpus[0])),
        ("no CPU", Box::new(|x| x.cpus.clear())),
        ("no thread", Box::new(|x| x.threads = 0)),
        ("4 threads", Box::new(|x| x.threads = 4)),
        (
            "unknown thread",
            Box::new(|x| x.actors[1].ops[0] = Op::Pull(1)),
        ),
        (
            "reader that switches",
            Box::new(|x| x.actors[2].ops.push(Op::Switch(Next::Other))),
        ),
        (
            "two actors on one CPU",
            Box::new(|x| x.actors[1].cpu = Some(0)),
        ),
        ("empty actor", Box::new(|x| x.actors[2].ops.clear())),
        (
            "CPU index beyond the modelled CPUs",
            Box::new(|x| {
                x.setup.push(Step {
                    cpu: 2,
                    op: Op::Read,
                })
            }),
        ),
        (
            "empty affinity",
            Box::new(|x| x.actors[0].ops[0] = Op::Affinity(0)),
        ),
        (
            "affinity beyond the modelled CPUs",
            Box::new(|x| x.actors[0].ops[0] = Op::Affinity(0b100)),
        ),
        (
            "affinity excluding its CPU, no switch away",
            Box::new(|x| x.actors[0].ops[1] = Op::Munmap(false)),
        ),
        (
            "affinity excluding its CPU at the end of the set-up",
            Box::new(|x| {
                x.setup.push(Step {
                    cpu: 0,
                    op: Op::Affinity(0b10),
                })
            }),
        ),
    ];
    for (what, f) in bad {
        let mut x = base();
        f(&mut x);
        assert!(s.validate(&x).is_err(), "accepted: {what}");
    }
}

/// Generated scenes are valid, within their bounds, and cover the layouts' edges.
#[test]
fn generated_scenes_are_valid() {
    let s = MmCpumaskScenes;
    let b = <MmCpumaskScenes as Scenes>::RANDOM;
    let strat = s.strategy(&b);
    let mut runner = TestRunner::deterministic();
    let mut nrs = BTreeSet::new();
    for _ in 0..500 {
        let x = strat.new_tree(&mut runner).unwrap().current();
        s.validate(&x).unwrap_or_else(|e| panic!("{e}: {x:?}"));
        assert!(s.size(&x).within(&b), "{x:?}");
        nrs.insert(x.nr_cpu_ids);
    }
    assert!(nrs.contains(&1) || nrs.iter().any(|&n| n <= 4));
    assert!(nrs.iter().any(|&n| n > 64));
    let ex = s.enumerate(&SceneBounds {
        cpus: 1,
        actors: 2,
        ops: 2,
        setup: 0,
    });
    assert!(!ex.is_empty());
    for x in &ex {
        s.validate(x).unwrap();
    }
    let _ = Actor {
        cpu: None,
        ops: vec![Op::Read],
        label: None,
    };
    let _ = Checks::default();
}

/// Properties the small sweeps below need not reach (declared Violated, found by larger
/// sweeps: see the README's "Generated scenes").
const NOT_REACHED_BY_SMALL_SWEEPS: &[kmodel_harness::PropertyId] =
    &[super::LINE_IS_A_SNAPSHOT, super::WARN_LAZY_CPU_SET];

/// A small fixed-seed random sweep (shuttle-pct) and a small exhaustive sweep (loom k=2) of
/// every swept variant: no verdict differs from the declared one, and every declared violation
/// is found by one of the two (except the ones listed above).
#[test]
fn small_sweeps_reach_declared_verdicts() {
    let opts = |engine, bounds, mode| SweepOptions {
        shrink_runs: 0,
        record: false,
        ..SweepOptions::new(engine, bounds, mode)
    };
    let random = opts(
        EngineSpec::ShuttlePct {
            seed: 0,
            schedules: 100,
            depth: 3,
        },
        <MmCpumaskScenes as Scenes>::RANDOM,
        SweepMode::Random {
            seed: 0,
            scenes: 150,
        },
    );
    let exhaustive = opts(
        EngineSpec::Loom {
            preemption_bound: Some(2),
        },
        SceneBounds {
            cpus: 2,
            actors: 2,
            ops: 2,
            setup: 0,
        },
        SweepMode::Exhaustive,
    );
    let mut failures = vec![];
    for v in MODEL.variants().into_iter().filter(|v| v.sweep.is_some()) {
        let mut found = BTreeSet::new();
        for o in [&random, &exhaustive] {
            let r = sweep(&MODEL, v, o);
            if let Some(e) = &r.error {
                failures.push(format!("{}: {e}", v.name));
            }
            for p in &r.properties {
                if p.agreement == Agreement::Unexpected {
                    let msg = p
                        .finding
                        .as_ref()
                        .map(|f| format!("{}\n{}", f.script, f.message));
                    failures.push(format!(
                        "{} {:?}: {} declared {:?}, violated {} {msg:?}",
                        v.name, r.mode, p.property, p.expected, p.violated
                    ));
                }
                if p.violated {
                    found.insert(p.property);
                }
            }
        }
        for (p, e) in v.sweep.unwrap() {
            if e == Expect::Violated
                && !found.contains(&p)
                && !NOT_REACHED_BY_SMALL_SWEEPS.contains(&p)
            {
                failures.push(format!("{}: {p} declared Violated, not reached", v.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Counts the exhaustive scenes (`B=cpus,actors,ops,setup` overrides the default bounds).
#[test]
#[ignore]
fn count_scenes() {
    let s = MmCpumaskScenes;
    let mut b = <MmCpumaskScenes as Scenes>::EXHAUSTIVE;
    if let Ok(v) = std::env::var("B") {
        let v: Vec<u32> = v.split(',').map(|x| x.parse().unwrap()).collect();
        b = SceneBounds {
            cpus: v[0],
            actors: v[1],
            ops: v[2],
            setup: v[3],
        };
    }
    println!("{} scenes within {b}", s.enumerate(&b).len());
}

kmodel_harness::declared_verdicts_test!(super::MODEL);
