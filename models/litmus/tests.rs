//! Every litmus test exhaustively: loom without a preemption bound (C11) and shuttle's DFS over
//! every SC schedule. The verdict suite (`tests/verdicts.rs`) runs the CLI's defaults.

use kmodel_harness::check::check_variant;
use kmodel_harness::engine::{EngineSpec, Options};
use kmodel_harness::verdict::Agreement;

use super::*;

/// The tests too big to run unbounded in every `cargo test` (measured; set
/// `KMODEL_LITMUS_UNBOUNDED=1` to run them): IRIW+fencembonceonces+OnceOnce, 234,936 loom
/// executions, ~50 s; RCU+2rscs+1gp (three CPUs, a grace-period wait), 241,284, ~45 s. They run
/// at 3 preemptions instead (19,315 and 12,776 executions).
const BIG: &[&str] = &["IRIW+fencembonceonces+OnceOnce", "RCU+2rscs+1gp"];

fn agrees(spec: impl Fn(&VariantCard) -> EngineSpec) {
    let params = MODEL.resolve(&Default::default()).unwrap();
    let mut wrong = vec![];
    for v in MODEL.variants() {
        let spec = spec(v);
        let r = check_variant(&MODEL, v, &spec, &params, Options::default());
        assert!(r.error.is_none(), "{}: {:?}", v.name, r.error);
        for p in &r.properties {
            if p.agreement != Agreement::AsExpected {
                wrong.push(format!(
                    "{} under {}: declared {:?}, violated={} ({})",
                    v.name, spec, p.expected, p.violated, r.explored
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn loom_unbounded_agrees_with_every_declaration() {
    let all = std::env::var_os("KMODEL_LITMUS_UNBOUNDED").is_some();
    agrees(|v| EngineSpec::Loom {
        preemption_bound: (BIG.contains(&v.name) && !all).then_some(3),
    });
}

/// Under SC no weak outcome may ever appear: DFS over SC schedules (capped: the 4-thread and
/// lock tests have more than 100,000).
#[test]
fn shuttle_dfs_never_sees_a_weak_outcome() {
    agrees(|_| EngineSpec::ShuttleDfs {
        max_schedules: Some(20_000),
    });
}

#[test]
fn table_is_consistent() {
    for t in TESTS {
        let e = t.expect.of(EXISTS);
        match t.lkmm {
            // A Never test may only be declared Violated where the mapping is weaker (said so).
            Lkmm::Never => assert!(
                e == Holds
                    || t.why.starts_with("mapping weaker")
                    || t.why.starts_with("engine weaker"),
                "{}",
                t.name
            ),
            Lkmm::Sometimes => assert!(e != Holds, "{}: Sometimes declared Holds", t.name),
        }
        if e == BeyondEngine {
            assert!(
                !t.why.is_empty(),
                "{}: beyond this engine without a reason",
                t.name
            );
        }
    }
    let tree = TESTS
        .iter()
        .filter(|t| {
            t.source.starts_with("tools/memory-model/litmus-tests")
                || t.source.starts_with("Documentation/")
        })
        .count();
    let explanation = TESTS
        .iter()
        .filter(|t| t.source.contains("explanation.txt"))
        .count();
    assert!(tree >= 46, "{tree} tests from the kernel tree");
    assert!(
        explanation >= 11,
        "{explanation} tests from explanation.txt"
    );
    assert!(TESTS.len() >= 64, "{} litmus tests", TESTS.len());
}
