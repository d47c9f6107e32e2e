//! State-guided set-up exploration: the kernel-visible states sequential set-ups reach,
//! explored breadth first and deduplicated by a canonical key, then raced from with small
//! concurrent programs.
//!
//! - `state.rs`: [`StateKey`] and [`StateSink`], what an execution reports (no harness deps).
//! - `space.rs`: [`SetupStates`], a model's set-up language, and its object view [`SetupSpace`].
//! - `graph.rs`: the breadth-first search over set-ups ([`SetupGraph`]).
//! - `race.rs`: the races from each state, every one or coverage-guided.
//! - `coverage.rs`: the numbers a sweep reports ([`SetupCoverage`], [`Closure`]).
//!
//! `state.rs` and `space.rs` sit beside the `scene` module (models and `scene.rs` use them);
//! the rest sits beside `sweep`, which drives it.

pub mod coverage;
pub mod graph;
pub mod race;
pub mod space;
pub mod state;

pub use coverage::{Closure, RaceChoice, SetupCoverage};
pub use graph::{explore, Node, SetupGraph};
pub use race::{race, Raced};
pub use space::{SetupSpace, SetupStates};
pub use state::{Observed, StateKey, StateSink};
