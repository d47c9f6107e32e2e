//! The property API models call ([`check`], [`violation`], [`fatal_violation`],
//! [`execution_spent`]) and the built-in properties [`NO_DEADLOCK`], [`NO_LIVELOCK`] and
//! [`HUNG_TASK`].

use std::sync::atomic::Ordering::Relaxed;

use super::actor::current_actor;
use super::exec::{with_ctx, ExecCtx};
use super::id::PropertyId;
use super::record::{Event, Violation};

/// Property id of the built-in deadlock check (engine-detected: every actor blocked).
pub const NO_DEADLOCK: PropertyId = PropertyId::new("no-deadlock");
/// Property id of the built-in livelock check (see `Spinner`).
pub const NO_LIVELOCK: PropertyId = PropertyId::new("no-livelock");
/// Property id of the built-in hung-task check: a task asleep in `schedule()` that nothing is
/// left to wake (the kernel's hung task detector: "task blocked for more than 120 seconds").
pub const HUNG_TASK: PropertyId = PropertyId::new("hung-task");

impl ExecCtx {
    /// The engine found every actor blocked: that is the execution's verdict, whatever an
    /// earlier check recorded.
    pub(crate) fn deadlocked(&self, message: String) {
        self.spent.store(false, Relaxed);
        if self.has_parked_spinner() {
            self.violate(0, NO_LIVELOCK, message, true);
        } else {
            let (property, actor, message) = self.stuck_verdict();
            self.violate(actor, property, message, true);
        }
    }

    /// The properties violated so far, in the order they were.
    pub(crate) fn violated(&self) -> Vec<PropertyId> {
        self.state().violations.iter().map(|v| v.property).collect()
    }

    /// Records `property`'s first violation in this execution. A `fatal` one ends checking.
    pub(crate) fn violate(&self, actor: usize, property: PropertyId, message: String, fatal: bool) {
        if self.spent.load(Relaxed) {
            return;
        }
        if fatal {
            self.spent.store(true, Relaxed);
        }
        let mut s = self.state();
        if s.violations.iter().any(|v| v.property == property) {
            return;
        }
        if self.recording {
            let text = format!("[{property}] {message}");
            s.events.push(Event::step(actor, "VIOLATION", text, true));
        }
        let events = s.events.len();
        s.violations.push(Violation {
            property,
            message,
            actor,
            events,
        });
    }
}

/// Records `property`'s violation by `actor` in the current execution (the native runtime's
/// deadlock and live-lock verdicts, made outside any actor).
pub(crate) fn violate_as(actor: usize, property: PropertyId, message: String, fatal: bool) {
    with_ctx(|cx| cx.violate(actor, property, message, fatal));
}

/// The names of `actors` in the current execution.
pub(crate) fn actor_names(actors: &[usize]) -> Vec<String> {
    with_ctx(|cx| {
        let s = cx.state();
        actors
            .iter()
            .map(|&i| {
                s.actors
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("actor {i}"))
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Checks a named property; on failure records the property's first violation in this execution
/// and returns false. The model carries on and every other property stays checked, so a
/// violation of one claim never hides another. Outside an execution a failed check panics, like
/// `assert!`.
#[inline]
pub fn check(property: PropertyId, cond: bool, message: impl FnOnce() -> String) -> bool {
    if !cond {
        violation(property, message());
    }
    cond
}

/// Records a violation of `property` by the current actor.
pub fn violation(property: PropertyId, message: String) {
    record(property, message, false);
}

/// Records a violation after which the model cannot continue faithfully (e.g. an out-of-bounds
/// access it had to skip): later checks in this execution are ignored, spinners bail out.
pub fn fatal_violation(property: PropertyId, message: String) {
    record(property, message, true);
}

fn record(property: PropertyId, message: String, fatal: bool) {
    let recorded = with_ctx(|cx| cx.violate(current_actor(), property, message.clone(), fatal));
    if recorded.is_none() {
        panic!("property {property} violated: {message}");
    }
}

/// True once the execution has had a fatal violation (livelock, deadlock, out-of-bounds
/// access); later checks are ignored, so the model may stop early.
pub fn execution_spent() -> bool {
    with_ctx(|cx| cx.spent.load(Relaxed)).unwrap_or(false)
}
