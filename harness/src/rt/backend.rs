//! The backend (std, loom, shuttle or kmodel's native runtime) that primitives constructed on
//! this OS thread use.

use std::cell::Cell;

/// Which implementation primitives constructed on this OS thread use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Std,
    Loom,
    Shuttle,
    /// kmodel's own runtime (`crate::native`), for the `dpor` engine.
    Native,
}

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Std) };
}

pub(crate) fn backend() -> Backend {
    BACKEND.with(Cell::get)
}

/// Installs `b` for this OS thread until the guard drops.
pub(crate) fn use_backend(b: Backend) -> BackendGuard {
    let prev = BACKEND.with(|c| c.replace(b));
    BackendGuard(prev)
}

pub(crate) struct BackendGuard(Backend);

impl Drop for BackendGuard {
    fn drop(&mut self) {
        BACKEND.with(|c| c.set(self.0));
    }
}
