//! `cargo test --release`: every declared verdict under loom and shuttle-pct, the small sweeps
//! of the scene language, every committed trace replayed, every expected violation with a trace.

kmodel::test_main!(sleepwake_model::REGISTRY);
