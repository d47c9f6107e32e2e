//! What an execution records: labelled events and each property's first violation.

use serde::{Deserialize, Serialize};

/// One labelled step of one actor, e.g. `exit_mm: task->mm = NULL`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Event {
    pub actor: usize,
    /// The kernel function the step belongs to.
    pub func: String,
    pub text: String,
    /// Set on the event that records a property violation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub violation: bool,
}

/// A property's first violation in an execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub property: String,
    pub message: String,
    pub actor: usize,
    /// Number of events recorded up to and including this violation's (recorded runs only).
    #[serde(skip)]
    pub events: usize,
}
