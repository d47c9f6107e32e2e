//! Harness overhead: the same small model written directly against loom / shuttle and through
//! kmodel's primitives (engine-neutral atomics and locks, per-execution context, event and
//! property checks), explored with the same settings. `kmodel bench` prints the ratios.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

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
            PropertyId::new("sum"),
            a.load(Ordering::Relaxed) == (THREADS * OPS) as u32,
            || "lost update".into(),
        );
    })
}

/// One engine's overhead measurement: median wall time over `repeats` alternating runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Overhead {
    pub engine: String,
    pub executions: u64,
    pub raw_secs: f64,
    pub kmodel_secs: f64,
}

impl Overhead {
    pub fn ratio(&self) -> f64 {
        self.kmodel_secs / self.raw_secs.max(f64::MIN_POSITIVE)
    }
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Measures loom (preemption bound 3) and shuttle PCT (`schedules`, one worker), raw against
/// kmodel, alternating the two `repeats` times so machine noise hits both alike.
pub fn measure(repeats: usize, schedules: u64) -> Vec<Overhead> {
    let loom_spec = EngineSpec::Loom {
        preemption_bound: Some(3),
    };
    let pct_spec = EngineSpec::ShuttlePct {
        seed: 0,
        schedules,
        depth: 3,
    };
    let one = || Options {
        jobs: 1,
        ..Options::default()
    };
    let (mut raw, mut ours, mut executions) = (vec![], vec![], 0);
    for _ in 0..repeats.max(1) {
        raw.push(timed(|| {
            let mut b = loom::model::Builder::new();
            b.preemption_bound = Some(3);
            b.check(raw_loom);
        }));
        ours.push(timed(|| {
            let x = engine::explore(&loom_spec, &kmodel_scenario(), one()).expect("explores");
            executions = x.executions;
        }));
    }
    let loom_row = Overhead {
        engine: "loom k=3".into(),
        executions,
        raw_secs: median(raw),
        kmodel_secs: median(ours),
    };
    let (mut raw, mut ours) = (vec![], vec![]);
    for _ in 0..repeats.max(1) {
        raw.push(timed(|| {
            let s = shuttle::scheduler::PctScheduler::new_from_seed(0, 3, schedules as usize);
            shuttle::Runner::new(s, shuttle::Config::new()).run(raw_shuttle);
        }));
        ours.push(timed(|| {
            engine::explore(&pct_spec, &kmodel_scenario(), one()).expect("explores");
        }));
    }
    let pct_row = Overhead {
        engine: "shuttle-pct".into(),
        executions: schedules,
        raw_secs: median(raw),
        kmodel_secs: median(ours),
    };
    vec![loom_row, pct_row]
}
