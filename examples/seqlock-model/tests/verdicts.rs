//! `cargo test --release`: every declared verdict under loom and shuttle-pct, every trace
//! committed under `traces/` replayed, every expected violation with a trace.

kmodel::test_main!(seqlock_model::REGISTRY);
