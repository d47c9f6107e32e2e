//! Proofs under sequential consistency: every variant of every model under the `dpor` engine,
//! with no preemption bound and no budget, reaches exactly its declared verdicts, and every
//! variant with a Holds property explores every interleaving of its scripted scene up to
//! equivalence (`kmodel::testing::proof_trials`). Each case is its own test
//! (`model/variant/dpor`), so nextest's `--partition` can spread them.
//!
//! The proofs in [`LONG`] take minutes each on two cores: they are ignored by default and run by
//! the nightly job (`cargo test --release --test proofs -- --include-ignored`).

/// `model/variant` prefixes of the proofs too long for the default suite (measured in the
/// README's dpor table: 1-5 million executions each).
const LONG: &[&str] = &[
    "mrelease/smaps-mmget",
    "ipi-mask/preemptible-percpu-mask",
    "ipi-mask/task-local-mask",
    "ipi-mask/task-local-inline",
    "ipi-mask/task-local-fallback",
    "ipi-mask/ablation-two-tasks-without-mask",
    "ipi-mask/ablation-unpinned-queueing",
    "ipi-mask/ablation-csd-unlock-relaxed",
    "ipi-mask/ablation-info-read-after-unlock",
    "mm-cpumask/x86-",
    "mm-cpumask/arm64-",
    "mm-cpumask/sparc64-",
];

fn main() {
    kmodel::testing::run(kmodel::testing::proof_trials(kmodel_models::REGISTRY, LONG));
}
