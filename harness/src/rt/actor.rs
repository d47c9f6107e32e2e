//! The identity of the running actor, kept in the current backend's own thread-local (a loom
//! or shuttle thread-local follows the engine's threads; a std one follows OS threads).

use std::cell::Cell;

use super::backend::{backend, Backend};

loom::thread_local! {
    static LOOM_ACTOR: Cell<usize> = Cell::new(0);
}
shuttle::thread_local! {
    static SHUTTLE_ACTOR: Cell<usize> = Cell::new(0);
}
thread_local! {
    /// The native runtime runs every actor on one OS thread and sets this as it switches.
    static NATIVE_ACTOR: Cell<usize> = const { Cell::new(0) };
    static STD_ACTOR: Cell<usize> = const { Cell::new(0) };
}

/// Index of the running actor in its execution (0 is the scenario's main thread).
#[inline]
pub fn current_actor() -> usize {
    match backend() {
        Backend::Std => STD_ACTOR.with(Cell::get),
        Backend::Loom => LOOM_ACTOR.with(Cell::get),
        Backend::Shuttle => SHUTTLE_ACTOR.with(Cell::get),
        Backend::Native => NATIVE_ACTOR.with(Cell::get),
    }
}

pub(crate) fn set_current_actor(id: usize) {
    match backend() {
        Backend::Std => STD_ACTOR.with(|c| c.set(id)),
        Backend::Loom => LOOM_ACTOR.with(|c| c.set(id)),
        Backend::Shuttle => SHUTTLE_ACTOR.with(|c| c.set(id)),
        Backend::Native => NATIVE_ACTOR.with(|c| c.set(id)),
    }
}
