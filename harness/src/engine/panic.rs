//! Engine panics: the payload that ends an exploration early, deadlock reports the harness turns
//! into verdicts, and the quiet panic hook that keeps both off the terminal.

use std::cell::RefCell;
use std::panic;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use super::EngineKind;

/// A panic payload that only ends an exploration early; never reported.
pub(crate) struct StopExploration;

/// Whether unexpected panics (model bugs) are printed by the hook, with their location and
/// backtrace (`RUST_BACKTRACE`). The harness reports each one as an error anyway; the CLI turns
/// printing off unless it runs verbose.
static PRINT_PANICS: AtomicBool = AtomicBool::new(true);

thread_local! {
    /// The source file of the last panic raised on this OS thread (loom and shuttle run every
    /// task of an execution on the thread that drives it).
    static LAST_PANIC_FILE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Whether a panic message is an engine reporting every actor blocked.
pub(super) fn is_deadlock(msg: &str) -> bool {
    EngineKind::ALL.iter().any(|k| k.reports_deadlock(msg))
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

/// Where the last panic on this thread was raised (a source file path), if the hook saw it.
pub(super) fn last_panic_file() -> Option<String> {
    LAST_PANIC_FILE.with(|f| f.borrow().clone())
}

/// Whether the panic hook prints unexpected panics (default: yes). Expected ones (deadlock
/// reports, early stops) are never printed.
pub fn set_panic_output(print: bool) {
    PRINT_PANICS.store(print, Ordering::Relaxed);
}

/// Installs the harness's panic hook now (engines install it on first use): it silences the
/// panics the harness expects (deadlock reports it turns into verdicts, early stops), remembers
/// where each panic was raised, and prints real model panics unless [`set_panic_output`] turned
/// that off. Shuttle's own hook (which also filters its teardown panics) only sees panics raised
/// inside a shuttle run; others go to the default hook.
pub fn install_panic_hook() {
    install_quiet_panic_hook()
}

pub(super) fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        // Let shuttle install its hook now, so it never wraps ours.
        super::shuttle::init_shuttle_hook();
        let shuttle = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file().to_string());
            // The hook may run while the thread-local is being torn down: ignore that.
            let _ = LAST_PANIC_FILE.try_with(|f| {
                if let Ok(mut f) = f.try_borrow_mut() {
                    *f = file;
                }
            });
            let p = info.payload();
            let expected =
                |s: &str| is_deadlock(s) || EngineKind::ALL.iter().any(|k| k.expected_panic(s));
            // The unwinding of a stuck execution (`rt::stuck`): poisoned engine locks panic.
            let quiet = (crate::rt::bailing() && std::env::var_os("KMODEL_DEBUG_STUCK").is_none())
                || p.is::<StopExploration>()
                || crate::rt::probing_races()
                || p.downcast_ref::<String>().is_some_and(|s| expected(s))
                || p.downcast_ref::<&str>().is_some_and(|s| expected(s));
            if quiet || !PRINT_PANICS.load(Ordering::Relaxed) {
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
