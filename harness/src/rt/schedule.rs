//! Schedule statistics of a recorded execution (steps and preemptions), counted at harness
//! operations.

use serde::{Deserialize, Serialize};

/// What an operation means for the schedule statistics of a recorded execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// The actor could continue after it: a switch away is a preemption.
    Run,
    /// The actor may block (lock held by another, condvar wait, join), yields, or is done: a
    /// switch away is not a preemption.
    Wait,
}

/// Scheduling statistics of a recorded execution, counted at harness operations.
#[derive(Default)]
pub(crate) struct OpLog {
    last: Option<(usize, OpKind)>,
    pub steps: u64,
    pub preemptions: u32,
}

impl OpLog {
    /// Logs one operation of `actor`; returns the actor it preempted, if any.
    pub(crate) fn note(&mut self, actor: usize, kind: OpKind) -> Option<usize> {
        let mut preempted = None;
        if let Some((prev, OpKind::Run)) = self.last {
            if prev != actor {
                self.preemptions += 1;
                preempted = Some(prev);
            }
        }
        self.steps += 1;
        self.last = Some((actor, kind));
        preempted
    }
}

/// Counterexample statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Schedule {
    /// Scheduling decisions in the execution.
    pub steps: u64,
    /// Context switches away from an actor that could have continued.
    pub preemptions: Option<u32>,
}
