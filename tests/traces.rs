//! Every committed trace replays to the same violation and events, and every expected violation
//! of every variant has a committed trace. The cases come from `kmodel::testing`, the same
//! function users' crates call.

use std::path::Path;

fn main() {
    let traces = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    kmodel::testing::run(kmodel::testing::trace_trials(
        kmodel_models::REGISTRY,
        &traces,
    ));
}
