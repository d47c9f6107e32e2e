//! Engine panics: the payload that ends an exploration early, deadlock reports the harness turns
//! into verdicts, and the quiet panic hook that keeps both off the terminal.

use std::panic;
use std::sync::Once;

/// A panic payload that only ends an exploration early; never reported.
pub(crate) struct StopExploration;

pub(super) fn is_deadlock(msg: &str) -> bool {
    msg.starts_with("deadlock")
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if p.is::<StopExploration>() {
        return "stop".into();
    }
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// Silences the panics the harness expects (deadlock reports it turns into verdicts, early stops)
/// while still printing real model panics. Shuttle's own hook (which also filters its teardown
/// panics) only sees panics raised inside a shuttle run; others go to the default hook.
pub(super) fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        // Let shuttle install its hook now, so it never wraps ours.
        super::shuttle::init_shuttle_hook();
        let shuttle = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let expected = |s: &str| is_deadlock(s) || super::shuttle::is_single_schedule(s);
            let quiet = p.is::<StopExploration>()
                || p.downcast_ref::<String>().is_some_and(|s| expected(s))
                || p.downcast_ref::<&str>().is_some_and(|s| expected(s));
            if quiet {
                return;
            }
            if super::shuttle::in_shuttle_run() {
                shuttle(info)
            } else {
                default(info)
            }
        }));
    });
}
