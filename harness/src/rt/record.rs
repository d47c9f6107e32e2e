//! What an execution records: labelled events (and the harness's marks between them) and each
//! property's first violation.

use serde::{Deserialize, Serialize};

use super::id::PropertyId;
use super::mark::Mark;

/// One labelled step of one actor, e.g. `exit_mm: task->mm = NULL`, or a fact the harness
/// noted at one of its operations (a [`Mark`]: then `func` and `text` are empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Event {
    pub actor: usize,
    /// The kernel function the step belongs to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub func: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Set on the event that records a property violation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub violation: bool,
    /// Set on a harness mark (preemption, blocking, hand-over, wake-up, reads-from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<Mark>,
}

impl Event {
    /// A labelled step.
    pub fn step(actor: usize, func: impl Into<String>, text: String, violation: bool) -> Event {
        Event {
            actor,
            func: func.into(),
            text,
            violation,
            mark: None,
        }
    }

    /// A harness mark.
    pub fn mark(actor: usize, mark: Mark) -> Event {
        Event {
            actor,
            func: String::new(),
            text: String::new(),
            violation: false,
            mark: Some(mark),
        }
    }
}

/// A property's first violation in an execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub property: PropertyId,
    pub message: String,
    pub actor: usize,
    /// Number of events recorded up to and including this violation's (recorded runs only).
    #[serde(skip)]
    pub events: usize,
}
