//! Unit tests: kernel helpers, the scene language, and small sweeps of every swept variant.

use super::kernel::*;
use super::*;
use proptest::prelude::*;

#[test]
fn model_declaration_is_valid() {
    MODEL.validate().unwrap();
}

proptest! {
    #[test]
    fn no_reap_is_success_only_when_work_done(skip in any::<bool>()) {
        prop_assert_eq!(no_reap_ret(skip) == 0, skip);
        prop_assert!(no_reap_ret(skip) == 0 || no_reap_ret(skip) == -EINVAL);
    }

    #[test]
    fn will_free_mem_needs_dying_and_no_oom_skip(g in any::<bool>(), x in any::<bool>(), s in any::<bool>()) {
        prop_assert_eq!(will_free_mem(g, x, s), (g || x) && !s);
    }

    #[test]
    fn errno_names_are_kernel_spelling(e in 0i32..200) {
        let n = errno_name(-e);
        prop_assert!(n == "0" || n.starts_with('-'));
    }
}

#[test]
fn esrch_is_spelled() {
    assert_eq!(errno_name(-ESRCH), "-ESRCH");
    assert_eq!(errno_name(0), "0");
}

// ---------------------------------------------------------------------------------------------
// The scene language

use super::design::ReadKind;
use super::scene::{Actor, Exit, Op, Step};
use kmodel_harness::engine::EngineSpec;
use kmodel_harness::sweep::{sweep, SweepMode, SweepOptions};
use kmodel_harness::verdict::Agreement;

fn base() -> Scene {
    Scene {
        nr_vmas: 1,
        threads: 1,
        autoreap: false,
        reader_stealing: false,
        killer_wait_budget: 0,
        setup: vec![],
        actors: vec![
            Actor::Task {
                ops: vec![Op::Lmkd],
            },
            Actor::Thread {
                tid: 0,
                exit: Exit::Killed,
            },
        ],
    }
}

#[test]
fn validate_refuses_malformed_scenes() {
    let sp = MreleaseScenes;
    assert!(sp.validate(&base()).is_ok());
    type Mutation = Box<dyn Fn(&mut Scene)>;
    let bad: Vec<(&str, Mutation)> = vec![
        ("no VMA", Box::new(|s| s.nr_vmas = 0)),
        ("too many threads", Box::new(|s| s.threads = 9)),
        ("thread never exits", Box::new(|s| s.threads = 2)),
        (
            "thread exits twice",
            Box::new(|s| s.setup.push(Step::ThreadExit(0))),
        ),
        (
            "unknown thread",
            Box::new(|s| s.setup.push(Step::ThreadExit(3))),
        ),
        (
            "nobody kills",
            Box::new(|s| {
                s.actors[0] = Actor::Task {
                    ops: vec![Op::Wait],
                }
            }),
        ),
        (
            "wait before kill",
            Box::new(|s| {
                s.actors[0] = Actor::Task {
                    ops: vec![Op::Wait, Op::Lmkd],
                }
            }),
        ),
        (
            "two parents",
            Box::new(|s| {
                s.actors.push(Actor::Task {
                    ops: vec![Op::Wait],
                });
                s.actors.push(Actor::Task {
                    ops: vec![Op::Wait],
                });
            }),
        ),
        (
            "wait with autoreap",
            Box::new(|s| {
                s.autoreap = true;
                s.actors.push(Actor::Task {
                    ops: vec![Op::Wait],
                });
            }),
        ),
        (
            "reaper without OOM kill",
            Box::new(|s| s.actors.push(Actor::OomReaper)),
        ),
        (
            "empty program",
            Box::new(|s| s.actors.push(Actor::Task { ops: vec![] })),
        ),
        (
            "stall too long",
            Box::new(|s| {
                s.actors.push(Actor::Task {
                    ops: vec![Op::Read {
                        file: ReadKind::Smaps,
                        stall: 99,
                    }],
                })
            }),
        ),
    ];
    for (what, f) in bad {
        let mut s = base();
        f(&mut s);
        assert!(sp.validate(&s).is_err(), "accepted a scene with {what}");
    }
}

#[test]
fn scripted_scenes_are_valid_members() {
    let sp = MreleaseScenes;
    for v in Mrelease::VARIANTS {
        for (k, val) in [
            ("victim_threads", 1),
            ("victim_threads", 2),
            ("parent_reaps", 1),
        ] {
            let mut ov = std::collections::BTreeMap::new();
            ov.insert(k.to_string(), val);
            let p = MODEL.resolve(&ov).unwrap();
            let s = Scene::scripted(v.design, &Knobs::from(&p));
            sp.validate(&s).unwrap();
            assert!(
                sp.size(&s).actors <= 4,
                "{}: scripted scene fits loom",
                v.card.name
            );
        }
    }
    // With the defaults, the scripted scene is inside the exhaustive space (nr_vmas aside).
    let p = MODEL.resolve(&Default::default()).unwrap();
    let mut s = Scene::scripted(Design::Today, &Knobs::from(&p));
    assert!(sp.size(&s).within(&MreleaseScenes::EXHAUSTIVE));
    s.nr_vmas = 1;
    if let Actor::Task { ops } = &mut s.actors[2] {
        ops[0] = Op::Read {
            file: ReadKind::Smaps,
            stall: 1,
        };
    }
    let all = Scenes::enumerate(&sp, &MreleaseScenes::EXHAUSTIVE);
    let mut sorted = s.actors.clone();
    sorted.sort();
    assert!(all.iter().any(|e| {
        let mut a = e.actors.clone();
        a.sort();
        a == sorted && !e.autoreap && e.threads == 1
    }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn generated_scenes_are_valid(s in Scenes::strategy(&MreleaseScenes, &MreleaseScenes::RANDOM)) {
        let sp = MreleaseScenes;
        prop_assert!(sp.validate(&s).is_ok(), "{:?}: {:?}", s, sp.validate(&s));
        prop_assert!(sp.size(&s).within(&MreleaseScenes::RANDOM));
    }
}

fn sweep_as_declared(engine: EngineSpec, bounds: SceneBounds, mode: SweepMode) {
    for v in MODEL.variants().into_iter().filter(|v| v.sweep.is_some()) {
        let opts = SweepOptions {
            shrink_runs: 0,
            record: false,
            ..SweepOptions::new(engine.clone(), bounds, mode)
        };
        let r = sweep(&MODEL, v, &opts);
        assert!(r.error.is_none(), "{}: {:?}", v.name, r.error);
        for p in &r.properties {
            assert_eq!(
                p.agreement,
                Agreement::AsExpected,
                "{} {}: declared {:?}, violated {} ({})",
                v.name,
                p.property,
                p.expected,
                p.violated,
                r.covered
            );
        }
    }
}

#[test]
fn small_random_sweeps_reach_declared_verdicts() {
    sweep_as_declared(
        EngineSpec::ShuttlePct {
            seed: 0,
            schedules: 100,
            depth: 3,
        },
        MreleaseScenes::RANDOM,
        SweepMode::Random {
            seed: 0,
            scenes: 300,
        },
    );
}

#[test]
fn small_exhaustive_sweeps_reach_declared_verdicts() {
    // Every scene of the exhaustive space, each under 100 PCT schedules (loom k=2 over the
    // same scenes is `kmodel explore mrelease --exhaustive`, minutes).
    sweep_as_declared(
        EngineSpec::ShuttlePct {
            seed: 0,
            schedules: 100,
            depth: 3,
        },
        MreleaseScenes::EXHAUSTIVE,
        SweepMode::Exhaustive,
    );
}

kmodel_harness::declared_verdicts_test!(super::MODEL);
