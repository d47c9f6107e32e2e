//! Engine sanity litmus tests: each engine must find (or rule out) the classic outcomes, so the
//! barrier mapping every model relies on is itself checked.

use kmodel_harness::engine::{self, EngineSpec, Exploration, Options};
use kmodel_harness::prelude::*;

const BOTH_ZERO: &str = "sb-not-both-zero";

/// SB (store buffering): `x = 1; [smp_mb();] r0 = y` || `y = 1; [smp_mb();] r1 = x`.
fn store_buffering(with_mb: bool) -> Scenario {
    Arc::new(move || {
        let x = Arc::new(AtomicU32::new(0));
        let y = Arc::new(AtomicU32::new(0));
        let (x1, y1) = (x.clone(), y.clone());
        let t0 = spawn("CPU0", move || {
            x1.store(1, Ordering::Relaxed);
            ev!("WRITE_ONCE", "x = 1");
            if with_mb {
                smp_mb();
            }
            let r0 = y1.load(Ordering::Relaxed);
            ev!("READ_ONCE", "r0 = y = {r0}");
            r0
        });
        let t1 = spawn("CPU1", move || {
            y.store(1, Ordering::Relaxed);
            ev!("WRITE_ONCE", "y = 1");
            if with_mb {
                smp_mb();
            }
            let r1 = x.load(Ordering::Relaxed);
            ev!("READ_ONCE", "r1 = x = {r1}");
            r1
        });
        let (r0, r1) = (t0.join(), t1.join());
        check(BOTH_ZERO, !(r0 == 0 && r1 == 0), || {
            "r0 == 0 && r1 == 0".into()
        });
    })
}

/// ABBA lock order: deadlocks under some schedules.
fn abba() -> Scenario {
    Arc::new(|| {
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let (a1, b1) = (a.clone(), b.clone());
        let t = spawn("CPU0", move || {
            let _ga = a1.lock();
            let _gb = b1.lock();
        });
        {
            let _gb = b.lock();
            let _ga = a.lock();
        }
        t.join();
    })
}

/// A spinner waiting for a flag nobody sets.
fn hopeless_spin() -> Scenario {
    Arc::new(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let t = spawn("CPU0", move || spin_until(&f, "wait_for_flag"));
        let u = spawn("CPU1", move || {
            ev!("other", "does some work");
        });
        t.join();
        u.join();
    })
}

/// A spinner that is eventually relieved: must not be reported.
fn relieved_spin() -> Scenario {
    Arc::new(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let t = spawn("CPU0", move || spin_until(&f, "wait_for_flag"));
        flag.store(true, Ordering::Release);
        t.join();
    })
}

/// Spins until `flag` is set; returns false if the harness declared a livelock.
fn spin_until(flag: &AtomicBool, what: &'static str) -> bool {
    let mut s = Spinner::new(what);
    while !flag.load(Ordering::Acquire) {
        if !s.relax() {
            return false;
        }
    }
    true
}

/// Two spinners and the actor that relieves them after a few silent steps. An unfair schedule
/// that alternates the spinners must not starve the reliever into a false livelock.
fn two_spinners_one_reliever() -> Scenario {
    Arc::new(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let scratch = Arc::new(AtomicU32::new(0));
        let spinners: Vec<_> = (0..2)
            .map(|i| {
                let f = flag.clone();
                spawn(format!("CPU{i} waiter"), move || {
                    spin_until(&f, "wait_for_flag")
                })
            })
            .collect();
        let (f, x) = (flag.clone(), scratch.clone());
        let reliever = spawn("CPU2 reliever", move || {
            for _ in 0..3 {
                x.fetch_add(1, Ordering::Relaxed);
            }
            f.store(true, Ordering::Release);
        });
        for s in spinners {
            s.join();
        }
        reliever.join();
    })
}

/// A spinner holding the lock its reliever needs (cf. a CID allocator spinning under the
/// runqueue lock): a real livelock.
fn spinner_holds_relievers_lock() -> Scenario {
    Arc::new(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let lock = Arc::new(Mutex::new(()));
        let (f, l) = (flag.clone(), lock.clone());
        let spinner = spawn("CPU0 spinner", move || {
            let _g = l.lock();
            spin_until(&f, "spin_under_lock");
        });
        let reliever = spawn("CPU1 reliever", move || {
            let _g = lock.lock();
            flag.store(true, Ordering::Release);
        });
        spinner.join();
        reliever.join();
    })
}

#[test]
fn spinners_never_starve_their_reliever() {
    // Three spinning actors: bounded loom and capped DFS keep this test short.
    let mut specs = engines();
    specs[0] = EngineSpec::Loom {
        preemption_bound: Some(2),
    };
    specs[3] = EngineSpec::ShuttleDfs {
        max_schedules: Some(20_000),
    };
    for spec in specs {
        let x = run(&spec, &two_spinners_one_reliever());
        assert!(
            x.found.is_empty(),
            "{spec}: {:?}",
            x.found.values().next().map(|f| &f.violation)
        );
    }
}

#[test]
fn spinning_under_the_relievers_lock_is_a_livelock() {
    for spec in engines() {
        let sc = spinner_holds_relievers_lock();
        let x = run(&spec, &sc);
        let f = x
            .found
            .get(NO_LIVELOCK)
            .unwrap_or_else(|| panic!("{spec}: {:?}", x.found.keys()));
        let (_, r) = engine::counterexample(&spec, &sc, f).expect("replay");
        assert!(r.violation_of(NO_LIVELOCK).is_some(), "{spec}");
    }
}

/// Two claims that break in the same executions, the second only after the first.
fn two_claims() -> Scenario {
    Arc::new(|| {
        let x = Arc::new(AtomicU32::new(0));
        let x1 = x.clone();
        let t = spawn("CPU0", move || x1.store(1, Ordering::Relaxed));
        let seen = x.load(Ordering::Relaxed);
        check("first", seen == 0, || "saw x = 1".into());
        check("second", seen == 0, || "still saw x = 1".into());
        t.join();
    })
}

#[test]
fn one_violation_never_hides_another() {
    for spec in engines() {
        let x = run(&spec, &two_claims());
        assert!(
            x.found.contains_key("first") && x.found.contains_key("second"),
            "{spec}"
        );
        let (_, r) =
            engine::counterexample(&spec, &two_claims(), &x.found["second"]).expect("replay");
        assert!(
            r.violation_of("first").is_some() && r.violation_of("second").is_some(),
            "{spec}"
        );
    }
}

fn engines() -> Vec<EngineSpec> {
    vec![
        EngineSpec::Loom {
            preemption_bound: None,
        },
        EngineSpec::ShuttlePct {
            seed: 1,
            schedules: 2000,
            depth: 3,
        },
        EngineSpec::ShuttleRandom {
            seed: 1,
            schedules: 2000,
        },
        EngineSpec::ShuttleDfs {
            max_schedules: None,
        },
    ]
}

fn run(spec: &EngineSpec, sc: &Scenario) -> Exploration {
    engine::explore(
        spec,
        sc,
        Options {
            jobs: 2,
            ..Options::default()
        },
    )
    .expect("explore")
}

#[test]
fn sb_without_barrier_is_a_weak_memory_outcome() {
    for spec in engines() {
        let x = run(&spec, &store_buffering(false));
        assert_eq!(
            x.found.contains_key(BOTH_ZERO),
            spec.weak_memory(),
            "{spec}"
        );
    }
}

#[test]
fn sb_with_smp_mb_never_both_zero() {
    for spec in engines() {
        let x = run(&spec, &store_buffering(true));
        assert!(x.found.is_empty(), "{spec}: {:?}", x.found.keys());
        assert!(x.executions > 1, "{spec}");
    }
}

#[test]
fn abba_deadlock_is_a_verdict_with_a_replayable_trace() {
    for spec in engines() {
        let sc = abba();
        let x = run(&spec, &sc);
        let f = x
            .found
            .get(NO_DEADLOCK)
            .unwrap_or_else(|| panic!("{spec}: no deadlock found"));
        let (_, replayed) = engine::counterexample(&spec, &sc, f).expect("replay");
        let v = replayed
            .violation_of(NO_DEADLOCK)
            .expect("replayed deadlock");
        assert_eq!(
            v.message,
            "deadlock: main waits for a lock, CPU0 waits for a lock; nothing else can run",
            "{spec}"
        );
        assert!(
            replayed.events.last().is_some_and(|e| e.violation),
            "{spec}"
        );
    }
}

#[test]
fn hopeless_spin_is_a_livelock_not_a_hang() {
    for spec in engines() {
        let sc = hopeless_spin();
        let x = run(&spec, &sc);
        let f = x
            .found
            .get(NO_LIVELOCK)
            .unwrap_or_else(|| panic!("{spec}: no livelock found"));
        let (_, replayed) = engine::counterexample(&spec, &sc, f).expect("replay");
        assert!(replayed.violation_of(NO_LIVELOCK).is_some(), "{spec}");
        assert!(!replayed.events.is_empty());
    }
}

#[test]
fn relieved_spin_is_not_a_livelock() {
    for spec in engines() {
        let x = run(&spec, &relieved_spin());
        assert!(x.found.is_empty(), "{spec}: {:?}", x.found.values().next());
    }
}

#[test]
fn stress_runs_on_os_threads() {
    let spec = EngineSpec::Stress { iterations: 50 };
    let x = run(&spec, &store_buffering(true));
    assert_eq!(x.executions, 50);
    assert!(x.found.is_empty());
}

// ---- end to end: a litmus "model" through check, trace file, replay and rendering ----

use kmodel_harness::check::{check_variant, replay_trace, Agreement, ReplayError};
use kmodel_harness::render;
use kmodel_harness::trace::Trace;

const SB_PROPS: &[Property] = &[Property {
    id: BOTH_ZERO,
    claim: "SB: at least one CPU sees the other's store",
}];

static SB: Model = Model {
    name: "sb",
    question: "Can both CPUs miss each other's store (store buffering)?",
    references: &["tools/memory-model/litmus-tests/SB+fencembonceonces.litmus"],
    params: &[],
    param_check: None,
    properties: SB_PROPS,
    variants: &[
        Variant {
            name: "no-mb",
            summary: "no barrier between the store and the load",
            expect: &[(BOTH_ZERO, ViolatedWeakMemory)],
            engines: Engines::All,
            min_pct_schedules: None,
            design: &false,
            sweep: None,
        },
        Variant {
            name: "mb",
            summary: "smp_mb() between the store and the load",
            expect: &[(BOTH_ZERO, Holds)],
            engines: Engines::All,
            min_pct_schedules: None,
            design: &true,
            sweep: None,
        },
    ],
    param_verdicts: &[],
    source: &[include_str!("litmus.rs")],
    scenario: |v, _| store_buffering(*v.design::<bool>()),
    scenes: None,
    port: None,
};

fn sb_trace(spec: &EngineSpec) -> Trace {
    let v = SB.variant("no-mb").unwrap();
    let params = SB.params(&Default::default()).unwrap();
    let report = check_variant(&SB, v, spec, &params, Options::default());
    assert!(report.as_expected(), "{report:?}");
    report.properties[0].trace.clone().expect("a trace")
}

#[test]
fn declared_verdicts_hold_per_engine() {
    SB.validate().unwrap();
    let params = SB.params(&Default::default()).unwrap();
    for spec in engines() {
        for v in SB.variants {
            let r = check_variant(&SB, v, &spec, &params, Options::default());
            assert!(r.as_expected(), "{spec} {}: {r:?}", v.name);
            assert!(r
                .properties
                .iter()
                .all(|p| p.agreement == Agreement::AsExpected));
        }
    }
}

#[test]
fn loom_trace_round_trips_and_replays() {
    let t = sb_trace(&EngineSpec::Loom {
        preemption_bound: Some(2),
    });
    let parsed = Trace::parse("t.json", &t.to_json()).expect("parses");
    assert_eq!(parsed, t);
    let r = replay_trace(&[&SB], &parsed).expect("replays");
    assert_eq!(r.events, t.events);
    assert!(t.schedule.preemptions.is_some());
}

#[test]
fn stale_and_bad_traces_are_input_errors() {
    let mut t = sb_trace(&EngineSpec::Loom {
        preemption_bound: Some(2),
    });
    t.source_hash = "0000".into();
    let e = replay_trace(&[&SB], &t).unwrap_err();
    assert!(
        matches!(e, ReplayError::Stale { .. }) && e.is_input_error(),
        "{e}"
    );
    t.model = "nope".into();
    assert!(matches!(
        replay_trace(&[&SB], &t).unwrap_err(),
        ReplayError::Unknown(_)
    ));

    let json = sb_trace(&EngineSpec::Loom {
        preemption_bound: Some(2),
    })
    .to_json();
    let truncated = &json[..json.len() / 2];
    assert!(Trace::parse("t", truncated)
        .unwrap_err()
        .to_string()
        .contains("truncated"));
    let newer = json.replace("\"version\": 1", "\"version\": 99");
    assert!(Trace::parse("t", &newer)
        .unwrap_err()
        .to_string()
        .contains("version 99"));
    assert!(Trace::parse("t", "{\"a\": 1}")
        .unwrap_err()
        .to_string()
        .contains("not a kmodel trace"));
}

#[test]
fn renderings_are_stable() {
    let t = sb_trace(&EngineSpec::Loom {
        preemption_bound: Some(2),
    });
    insta::assert_snapshot!(
        "sb_timeline",
        render::timeline(&t, Some("traces/sb/no-mb.json"))
    );
    insta::assert_snapshot!("sb_mermaid", render::mermaid(&t));
}
