//! The engine-neutral [`Condvar`], used to build [`crate::RwSem`] and wait queues.

use std::fmt;
use std::sync::PoisonError;

use super::mutex::{GuardInner, MutexGuard};
use super::Ordering;
use crate::rt::{self, backend, note_op, Backend, OpKind};

/// Engine-neutral condition variable (used to build [`crate::RwSem`] and wait queues).
pub struct Condvar {
    inner: CondvarInner,
    /// Harness bookkeeping: actors waiting, marked runnable again by any notify.
    waiters: std::sync::atomic::AtomicU64,
}

enum CondvarInner {
    Std(std::sync::Condvar),
    Loom(loom::sync::Condvar),
    Shuttle(shuttle::sync::Condvar),
}

impl Default for Condvar {
    fn default() -> Self {
        Self::new()
    }
}

impl Condvar {
    pub fn new() -> Self {
        Condvar {
            inner: construct!(CondvarInner, sync::Condvar()),
            waiters: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        note_op(OpKind::Wait);
        let me = rt::block_current();
        self.waiters.fetch_or(me, Ordering::Relaxed);
        let state = guard.state;
        let inner = guard.inner.take().expect("live guard");
        drop(guard);
        rt::before_blocking();
        let inner = match (&self.inner, inner) {
            (CondvarInner::Std(c), GuardInner::Std(g)) => {
                GuardInner::Std(c.wait(g).unwrap_or_else(PoisonError::into_inner))
            }
            (CondvarInner::Loom(c), GuardInner::Loom(g)) => {
                GuardInner::Loom(c.wait(g).unwrap_or_else(PoisonError::into_inner))
            }
            (CondvarInner::Shuttle(c), GuardInner::Shuttle(g)) => {
                GuardInner::Shuttle(c.wait(g).unwrap_or_else(PoisonError::into_inner))
            }
            _ => unreachable!("condvar and mutex built under different engines"),
        };
        super::barrier::after_spin_lock();
        self.waiters.fetch_and(!me, Ordering::Relaxed);
        rt::unblock(me);
        state.held.store(true, Ordering::Relaxed);
        rt::note_progress();
        MutexGuard {
            inner: Some(inner),
            state,
        }
    }

    /// Wakes one waiter. Every waiter is marked runnable: the harness cannot know which one the
    /// engine picks, and over-approximating keeps livelock verdicts sound.
    pub fn notify_one(&self) {
        note_op(OpKind::Run);
        rt::unblock(self.waiters.load(Ordering::Relaxed));
        dispatch!(&self.inner, CondvarInner, c => c.notify_one())
    }

    pub fn notify_all(&self) {
        note_op(OpKind::Run);
        rt::unblock(self.waiters.load(Ordering::Relaxed));
        dispatch!(&self.inner, CondvarInner, c => c.notify_all())
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar")
    }
}
