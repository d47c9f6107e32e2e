//! Harness overhead: the same small model written directly against loom / shuttle and through
//! kmodel's primitives. Run: `cargo run --release -p kmodel-harness --example overhead`.

use std::time::Instant;

use kmodel_harness::engine::{self, EngineSpec, Options};
use kmodel_harness::prelude::*;

const THREADS: usize = 3;
const OPS: usize = 3;

fn raw_loom() {
    use loom::sync::atomic::AtomicU32;
    use loom::sync::Mutex;
    use std::sync::Arc;
    let a = Arc::new(AtomicU32::new(0));
    let m = Arc::new(Mutex::new(0u32));
    let hs: Vec<_> = (0..THREADS)
        .map(|_| {
            let (a, m) = (a.clone(), m.clone());
            loom::thread::spawn(move || {
                for _ in 0..OPS {
                    a.fetch_add(1, Ordering::AcqRel);
                }
                *m.lock().unwrap() += 1;
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(a.load(Ordering::Relaxed), (THREADS * OPS) as u32);
}

fn raw_shuttle() {
    use shuttle::sync::atomic::AtomicU32;
    use shuttle::sync::Mutex;
    use std::sync::Arc;
    let a = Arc::new(AtomicU32::new(0));
    let m = Arc::new(Mutex::new(0u32));
    let hs: Vec<_> = (0..THREADS)
        .map(|_| {
            let (a, m) = (a.clone(), m.clone());
            shuttle::thread::spawn(move || {
                for _ in 0..OPS {
                    a.fetch_add(1, Ordering::AcqRel);
                }
                *m.lock().unwrap() += 1;
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(a.load(Ordering::Relaxed), (THREADS * OPS) as u32);
}

fn kmodel_scenario() -> Scenario {
    Arc::new(|| {
        let a = Arc::new(AtomicU32::new(0));
        let m = Arc::new(Mutex::new(0u32));
        let hs: Vec<_> = (0..THREADS)
            .map(|i| {
                let (a, m) = (a.clone(), m.clone());
                spawn(format!("CPU{i}"), move || {
                    for _ in 0..OPS {
                        a.fetch_add(1, Ordering::AcqRel);
                        ev!("inc", "a += 1");
                    }
                    *m.lock() += 1;
                })
            })
            .collect();
        for h in hs {
            h.join();
        }
        check(
            "sum",
            a.load(Ordering::Relaxed) == (THREADS * OPS) as u32,
            || "lost update".into(),
        );
    })
}

fn main() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    let t = Instant::now();
    let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let n2 = n.clone();
    b.check(move || {
        n2.fetch_add(1, Ordering::Relaxed);
        raw_loom()
    });
    let raw = t.elapsed();
    let execs = n.load(Ordering::Relaxed);
    let spec = EngineSpec::Loom {
        preemption_bound: Some(2),
    };
    let t = Instant::now();
    let x = engine::explore(&spec, &kmodel_scenario(), Options::default()).unwrap();
    let ours = t.elapsed();
    assert_eq!(x.executions, execs);
    println!(
        "loom k=2: {execs} executions; raw {raw:?}, kmodel {ours:?}: ratio {:.2}",
        ours.as_secs_f64() / raw.as_secs_f64()
    );

    let schedules = 20_000;
    let t = Instant::now();
    shuttle::Runner::new(
        shuttle::scheduler::PctScheduler::new_from_seed(0, 3, schedules),
        shuttle::Config::new(),
    )
    .run(raw_shuttle);
    let raw = t.elapsed();
    let spec = EngineSpec::ShuttlePct {
        seed: 0,
        schedules: schedules as u64,
        depth: 3,
    };
    let t = Instant::now();
    let x = engine::explore(
        &spec,
        &kmodel_scenario(),
        Options {
            jobs: 1,
            ..Options::default()
        },
    )
    .unwrap();
    let ours = t.elapsed();
    println!(
        "shuttle-pct, 1 job: {} schedules; raw {raw:?}, kmodel {ours:?}: ratio {:.2}",
        x.executions,
        ours.as_secs_f64() / raw.as_secs_f64()
    );
}
