//! Spinlocks: `spin_lock()` / `spin_unlock()` on the harness [`Mutex`], and [`SpinLock`] for
//! `spin_is_locked()`.

use crate::sync::{
    AtomicBool, Mutex, MutexGuard,
    Ordering::{Relaxed, Release},
};

/// `spin_lock(l)`: the harness [`Mutex`] is the kernel spinlock. Acquire, plus LKMM's lock
/// ordering (`po-unlock-lock-po`: `sync::barrier::after_spin_lock`).
#[inline]
pub fn spin_lock<T>(l: &Mutex<T>) -> MutexGuard<'_, T> {
    l.lock()
}

/// `spin_unlock(l)` → release (drops the guard). Exact.
#[inline]
pub fn spin_unlock<T>(g: MutexGuard<'_, T>) {
    drop(g)
}

/// A spinlock whose lock word can be read, for `spin_is_locked()`: the harness [`Mutex`] plus a
/// `locked` word written `Relaxed` right after the lock is taken and released with the unlock
/// (`queued_spin_lock()`'s acquiring RMW writes it, `queued_spin_unlock()` releases it).
pub struct SpinLock {
    lock: Mutex<()>,
    locked: AtomicBool,
}

/// A held [`SpinLock`]; dropping it is `spin_unlock()`.
pub struct SpinGuard<'a> {
    owner: &'a SpinLock,
    _g: MutexGuard<'a, ()>,
}

impl Default for SpinLock {
    fn default() -> Self {
        Self::new()
    }
}

impl SpinLock {
    pub fn new() -> Self {
        SpinLock {
            lock: Mutex::new(()),
            locked: AtomicBool::new(false),
        }
    }

    /// `spin_lock()`.
    pub fn lock(&self) -> SpinGuard<'_> {
        let g = self.lock.lock();
        self.locked.store(true, Relaxed);
        SpinGuard { owner: self, _g: g }
    }

    /// `spin_is_locked()` → `Relaxed` load of the lock word (LKMM: an unordered read of the lock).
    pub fn is_locked(&self) -> bool {
        self.locked.load(Relaxed)
    }
}

impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        self.owner.locked.store(false, Release);
    }
}
