//! The [`ev!`](crate::ev) macro: labelled steps of the current actor, recorded only when the
//! execution records (replays); on explorations they only count as progress.

use std::sync::Arc;

use super::actor::current_actor;
use super::exec::{with_current, ExecCtx};
use super::record::Event;

/// Sink for one event when the execution records events; `None` on the fast path.
/// Use the [`ev!`](crate::ev) macro rather than calling this.
#[doc(hidden)]
#[inline]
pub fn event_sink() -> Option<EventSink> {
    with_current(|c| {
        let cx = c?;
        cx.note_progress_of(current_actor);
        cx.recording.then(|| EventSink(cx.clone(), current_actor()))
    })
}

#[doc(hidden)]
pub struct EventSink(Arc<ExecCtx>, usize);

impl EventSink {
    pub fn push(self, func: &str, text: String) {
        self.0
            .state()
            .events
            .push(Event::step(self.1, func, text, false));
    }
}

/// Records a labelled step of the current actor: `ev!("exit_mm", "task->mm = NULL")`.
/// The text is only formatted when the execution records events (replays do; explorations don't).
#[macro_export]
macro_rules! ev {
    ($func:expr, $($fmt:tt)+) => {
        if let Some(sink) = $crate::rt::event_sink() {
            sink.push($func, format!($($fmt)+));
        }
    };
}
