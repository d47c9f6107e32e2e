//! Every variant of every model, under loom and shuttle-pct with the CLI's defaults, must reach
//! exactly its declared verdict per property. A verdict change fails the test, like a litmus
//! test's `Result:` line; a counterexample that differs from the committed trace fails too.
//!
//! `KMODEL_PREEMPTIONS=K` and `KMODEL_SCHEDULES=N` deepen the search (the CI's long job does).
//! The cases come from `kmodel::testing`, the same function users' crates call.

use std::path::Path;

fn main() {
    let traces = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    kmodel::testing::run(kmodel::testing::verdict_trials(
        kmodel_models::REGISTRY,
        &traces,
    ));
}
