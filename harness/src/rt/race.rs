//! Data races (LKMM's and KCSAN's rule): the built-in [`DATA_RACE`] property, the one call an
//! engine's race detector reports through ([`data_race`]), and the flag that keeps a backend's
//! own race panics (loom's causality checks, probed by `sync::Plain`) off the terminal.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use super::actor::current_actor;
use super::backend::{backend, Backend};
use super::exec::with_ctx;
use super::id::PropertyId;

/// Property id of the built-in data-race check: two conflicting accesses to one location (at
/// least one a write, at least one plain), by different actors, not ordered by happens-before
/// (locks, barriers, release/acquire, RCU grace periods), as LKMM defines a data race and
/// KCSAN reports one. Engines that see happens-before check it (loom); the SC engines cannot.
pub const DATA_RACE: PropertyId = PropertyId::new("data-race");

thread_local! {
    /// Set while a backend's race detector is probed: its panic is expected and caught.
    static PROBING: Cell<bool> = const { Cell::new(false) };
    static STD_CPU: Cell<Option<usize>> = const { Cell::new(None) };
}
loom::thread_local! {
    static LOOM_CPU: Cell<Option<usize>> = Cell::new(None);
}
shuttle::thread_local! {
    static SHUTTLE_CPU: Cell<Option<usize>> = Cell::new(None);
}

/// Declares the running actor a task on CPU `cpu` from now on (`None`: its own context, the
/// default, e.g. an interrupt handler). Two tasks of one CPU never run at once: a context
/// switch (a full barrier and the runqueue lock in `__schedule()`) separates their accesses,
/// so the data-race check does not pair them. A model whose tasks share CPUs declares it
/// (and again after a migration).
pub fn task_on_cpu(cpu: Option<usize>) {
    match backend() {
        Backend::Std => STD_CPU.with(|c| c.set(cpu)),
        Backend::Loom => LOOM_CPU.with(|c| c.set(cpu)),
        Backend::Shuttle => SHUTTLE_CPU.with(|c| c.set(cpu)),
        Backend::Native => native_cpu().store(cpu.map_or(usize::MAX, |c| c), Relaxed),
    }
}

/// The CPU the running actor declared itself a task of ([`task_on_cpu`]).
pub fn current_task_cpu() -> Option<usize> {
    match backend() {
        Backend::Std => STD_CPU.with(Cell::get),
        Backend::Loom => LOOM_CPU.with(Cell::get),
        Backend::Shuttle => SHUTTLE_CPU.with(Cell::get),
        Backend::Native => Some(native_cpu().load(Relaxed)).filter(|&c| c != usize::MAX),
    }
}

/// The native runtime's actors share one OS thread: their CPU is an actor-local value
/// (`usize::MAX`: none).
fn native_cpu() -> Arc<AtomicUsize> {
    super::local::actor_local(|| AtomicUsize::new(usize::MAX))
}

/// Records a data race on `location` (a kernel expression, e.g. `sig->flags`) found by the
/// running actor's access: a violation of [`DATA_RACE`], not fatal (KCSAN reports and the
/// kernel carries on), first one per execution kept. Every engine's detector reports here.
pub fn data_race(location: &str, message: String) {
    let message = format!("`{location}`: {message}");
    let recorded = with_ctx(|cx| cx.violate(current_actor(), DATA_RACE, message.clone(), false));
    if recorded.is_none() {
        panic!("property {DATA_RACE} violated: {message}");
    }
}

/// The name of actor `i` in the current execution (for race reports), if it has one.
pub(crate) fn actor_name(i: usize) -> Option<String> {
    with_ctx(|cx| cx.state().actors.get(i).cloned()).flatten()
}

/// Runs `probe` with the expected-panic flag set; returns whether it panicked.
pub(crate) fn probe_for_race(probe: impl FnOnce()) -> bool {
    let prev = PROBING.with(|p| p.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(probe));
    PROBING.with(|p| p.set(prev));
    r.is_err()
}

/// Whether a panic now is a probed race report (the panic hook keeps it quiet).
pub fn probing_races() -> bool {
    PROBING.try_with(Cell::get).unwrap_or(false)
}
