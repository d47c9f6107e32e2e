//! Shuttle's random and PCT lanes run in parallel; once every property is violated the search
//! stops early. The first counterexample must still be the same whatever the worker count and
//! the lanes' relative speed: the smallest execution index over all lanes.

use kmodel_harness::engine::{self, EngineSpec, Options};
use kmodel_harness::prelude::*;

/// Two CPUs do `x = READ_ONCE(x) + 1`: an update can be lost.
fn lost_update() -> Scenario {
    Arc::new(|| {
        let x = Arc::new(AtomicU32::new(0));
        let cpus: Vec<_> = (0..2)
            .map(|i| {
                let x = x.clone();
                spawn(format!("CPU{i}"), move || {
                    let v = read_once(&*x);
                    write_once(&*x, v + 1);
                })
            })
            .collect();
        for c in cpus {
            c.join();
        }
        let v = read_once(&*x);
        check(PropertyId::new("no-lost-update"), v == 2, || {
            format!("x = {v}")
        });
    })
}

#[test]
fn first_counterexample_does_not_depend_on_workers() {
    let sc = lost_update();
    let first = |spec: &EngineSpec, jobs: usize| {
        let x = engine::explore(
            spec,
            &sc,
            Options {
                jobs,
                properties: 1,
                ..Options::default()
            },
        )
        .expect("explore");
        let f = &x.found["no-lost-update"];
        (f.execution, f.violation.message.clone())
    };
    for spec in [
        EngineSpec::ShuttlePct {
            seed: 0,
            schedules: 2000,
            depth: 3,
        },
        EngineSpec::ShuttleRandom {
            seed: 0,
            schedules: 2000,
        },
    ] {
        let one = first(&spec, 1);
        for round in 0..5 {
            assert_eq!(first(&spec, 2), one, "{spec:?}, round {round}");
            assert_eq!(first(&spec, 8), one, "{spec:?}, round {round}");
        }
    }
}
