//! Determinism: a counterexample replays to the same events every time, and one verdict case
//! run twice with the same seed explores the same number of executions and finds each
//! violation at the same execution. Without this a trace in a patch review proves nothing.
//!
//! Traces are recorded by this build (committed ones may be stale on a branch; those that are
//! current are replayed too, stale ones are skipped with the reason printed).

use std::path::Path;

use kmodel_harness::check::check_variant;
use kmodel_harness::engine::{EngineSpec, Options};
use kmodel_harness::model::lookup;
use kmodel_harness::replay::{replay_trace, validate};
use kmodel_harness::results::is_results_file;
use kmodel_harness::trace::Trace;
use kmodel_harness::verdict::{Error, VariantReport};
use kmodel_models::REGISTRY;

const REPLAYS: usize = 3;

fn check(target: &str, spec: &EngineSpec, jobs: usize) -> VariantReport {
    let (m, v) = lookup(REGISTRY, target).expect("known target");
    let v = v.expect("a variant");
    let params = m.resolve(&Default::default()).expect("defaults");
    let opts = Options {
        jobs,
        ..Options::default()
    };
    check_variant(m, v, spec, &params, opts)
}

fn loom() -> EngineSpec {
    EngineSpec::Loom {
        preemption_bound: Some(2),
    }
}

fn pct() -> EngineSpec {
    EngineSpec::ShuttlePct {
        seed: 0,
        schedules: 2000,
        depth: 3,
    }
}

fn traces(r: &VariantReport) -> Vec<Trace> {
    r.properties
        .iter()
        .filter_map(|p| p.trace.clone())
        .collect()
}

fn replays_identically(t: &Trace) {
    let what = format!("{}/{} [{}] {}", t.model, t.variant, t.property, t.engine);
    let mut seen = vec![];
    for _ in 0..REPLAYS {
        let r = replay_trace(REGISTRY, t).unwrap_or_else(|e| panic!("{what}: {e}"));
        seen.push(r.events);
    }
    for events in &seen[1..] {
        assert_eq!(events, &seen[0], "{what}: replays differ");
    }
    assert!(
        seen[0].starts_with(&t.events),
        "{what}: replay differs from the recorded events"
    );
}

#[test]
fn fresh_counterexamples_replay_to_the_same_events() {
    let mut n = 0;
    for (target, spec) in [
        ("mrelease/today", loom()),
        ("mrelease/today", pct()),
        ("mrelease/write-locked-gup", loom()),
        ("mmcid/v3", loom()),
        ("ipi-mask/ablation-put-cpu-only-if-remote", loom()),
    ] {
        let r = check(target, &spec, 2);
        assert!(r.as_expected(), "{target} {spec}: {r:?}");
        for t in traces(&r) {
            replays_identically(&t);
            n += 1;
        }
    }
    assert!(n >= 5, "only {n} traces");
}

#[test]
fn committed_counterexamples_that_are_current_replay_to_the_same_events() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let mut files = vec![];
    for m in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let mut per_model: Vec<_> = std::fs::read_dir(m.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json") && !is_results_file(p))
            .collect();
        per_model.sort();
        files.extend(per_model.into_iter().take(3));
    }
    for f in files {
        let t = Trace::load(&f).expect("committed trace loads");
        match validate(REGISTRY, &t) {
            Ok(_) => replays_identically(&t),
            Err(e @ Error::Stale { .. }) => {
                println!("skipped {}: {e}", f.display());
            }
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
}

/// (executions, per property: where it was first found).
fn fingerprint(r: &VariantReport) -> (u64, Vec<(kmodel_harness::PropertyId, Option<u64>)>) {
    (
        r.executions,
        r.properties
            .iter()
            .map(|p| (p.property, p.found_at.map(|f| f.execution)))
            .collect(),
    )
}

#[test]
fn one_verdict_case_twice_with_the_same_seed_gives_the_same_counts() {
    for spec in [
        pct(),
        EngineSpec::ShuttleRandom {
            seed: 7,
            schedules: 2000,
        },
        loom(),
    ] {
        let a = check("mrelease/today", &spec, 2);
        let b = check("mrelease/today", &spec, 2);
        assert_eq!(fingerprint(&a), fingerprint(&b), "{spec}");
        // Shuttle's lanes make the search independent of the number of worker threads too.
        let c = check("mrelease/today", &spec, 1);
        assert_eq!(fingerprint(&a), fingerprint(&c), "{spec}, one worker");
        let events =
            |r: &VariantReport| -> Vec<_> { traces(r).into_iter().map(|t| t.events).collect() };
        assert_eq!(events(&a), events(&b), "{spec}: counterexamples differ");
    }
}
