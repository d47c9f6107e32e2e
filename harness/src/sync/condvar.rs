//! The engine-neutral [`Condvar`], used to build `RwSem` and wait queues.

use std::fmt;
use std::sync::{Arc, PoisonError};

use super::mutex::{GuardInner, MutexGuard};
use super::Ordering;
use crate::native;
use crate::rt::{self, backend, marks, note_op, Backend, Mark, OpKind, Wait};

/// Engine-neutral condition variable (used to build `RwSem` and wait queues).
pub struct Condvar {
    /// Shared so that a stuck execution can wake its waiters (`rt::Wake`).
    inner: Arc<CondvarInner>,
    /// Harness bookkeeping: actors waiting, marked runnable again by any notify.
    waiters: std::sync::atomic::AtomicU64,
    /// What recorded executions mark about it.
    kind: Kind,
    /// What a waiter waits on, for deadlock reports (`rw_semaphore`).
    pub(super) name: Option<&'static str>,
}

/// What recorded executions mark about a condvar.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A model's wait queue: blocking, notifies and wake-ups are marked.
    Queue,
    /// An `RwSem`'s: the rwsem marks its blocking itself (with its holders).
    RwSem,
    /// The harness's own (parked spinners): nothing is marked.
    Internal,
}

enum CondvarInner {
    Std(std::sync::Condvar),
    Loom(loom::sync::Condvar),
    Shuttle(shuttle::sync::Condvar),
    Native(native::Condvar),
}

impl Default for Condvar {
    fn default() -> Self {
        Self::new()
    }
}

impl Condvar {
    #[track_caller]
    pub fn new() -> Self {
        Self::of(Kind::Queue)
    }

    #[track_caller]
    pub(super) fn of(kind: Kind) -> Self {
        Condvar {
            inner: Arc::new(match backend() {
                Backend::Native => CondvarInner::Native(native::Condvar::new()),
                _ => construct!(CondvarInner, sync::Condvar()),
            }),
            waiters: std::sync::atomic::AtomicU64::new(0),
            kind,
            name: None,
        }
    }

    /// Names what its waiters wait on, for deadlock reports.
    pub(super) fn named(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// The wait queue's identity for the recorder; `None` for the harness's own.
    fn marked(&self, rec: bool) -> Option<usize> {
        (rec && self.kind != Kind::Internal).then_some(self as *const Self as usize)
    }

    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.wait_as(guard, rt::Blocker::Queue(self.name))
    }

    /// [`Condvar::wait`], reported as `blocker` if the execution gets stuck (a task asleep in
    /// `schedule()`). Unwinds instead of returning when it did (`rt::stuck`).
    pub(crate) fn wait_as<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        blocker: rt::Blocker,
    ) -> MutexGuard<'a, T> {
        let rec = note_op(OpKind::Wait);
        if rec && self.kind == Kind::Queue {
            let name = match &blocker {
                rt::Blocker::Sleep { state, on, .. } => Some(match on {
                    Some(q) => format!("{q} ({state})"),
                    None => format!("nothing ({state})"),
                }),
                _ => None,
            };
            marks::note(|_| Mark::Blocked {
                on: Wait::Queue { name },
            });
        }
        let me = rt::block_current();
        self.waiters.fetch_or(me, Ordering::Relaxed);
        rt::waiting(blocker, Some(self.inner.clone()));
        let state = guard.state;
        let inner = guard.inner.take().expect("live guard");
        drop(guard);
        state.releasing();
        rt::before_blocking();
        let inner = match (&*self.inner, inner) {
            (CondvarInner::Std(c), GuardInner::Std(g)) => {
                GuardInner::Std(c.wait(g).unwrap_or_else(PoisonError::into_inner))
            }
            (CondvarInner::Loom(c), GuardInner::Loom(g)) => {
                GuardInner::Loom(c.wait(g).unwrap_or_else(PoisonError::into_inner))
            }
            (CondvarInner::Shuttle(c), GuardInner::Shuttle(g)) => {
                GuardInner::Shuttle(c.wait(g).unwrap_or_else(PoisonError::into_inner))
            }
            (CondvarInner::Native(c), GuardInner::Native(g)) => GuardInner::Native(c.wait(g)),
            _ => unreachable!("condvar and mutex built under different engines"),
        };
        state.acquired();
        if let Some(addr) = self.marked(rec) {
            marks::woken(addr);
        }
        if let Some(addr) = state.marked().filter(|_| rec) {
            marks::lock_taken(
                addr,
                false,
                state.waiters.load(Ordering::Relaxed),
                state.name,
            );
        }
        self.waiters.fetch_and(!me, Ordering::Relaxed);
        rt::unblock(me);
        rt::done_waiting();
        state.held.store(true, Ordering::Relaxed);
        rt::note_progress();
        let g = MutexGuard {
            inner: Some(inner),
            state,
        };
        if rt::must_bail() {
            drop(g);
            rt::bail();
        }
        g
    }

    /// Wakes one waiter. Every waiter is marked runnable: the harness cannot know which one the
    /// engine picks, and over-approximating keeps livelock verdicts sound.
    pub fn notify_one(&self) {
        if let Some(addr) = self.marked(note_op(OpKind::Run)) {
            marks::notified(addr);
        }
        rt::unblock(self.waiters.load(Ordering::Relaxed));
        self.inner.notify_one()
    }

    pub fn notify_all(&self) {
        if let Some(addr) = self.marked(note_op(OpKind::Run)) {
            marks::notified(addr);
        }
        rt::unblock(self.waiters.load(Ordering::Relaxed));
        self.inner.notify_all()
    }
}

impl CondvarInner {
    fn notify_one(&self) {
        match self {
            CondvarInner::Std(c) => c.notify_one(),
            CondvarInner::Loom(c) => c.notify_one(),
            CondvarInner::Shuttle(c) => c.notify_one(),
            CondvarInner::Native(c) => c.notify_one(),
        }
    }

    fn notify_all(&self) {
        match self {
            CondvarInner::Std(c) => c.notify_all(),
            CondvarInner::Loom(c) => c.notify_all(),
            CondvarInner::Shuttle(c) => c.notify_all(),
            CondvarInner::Native(c) => c.notify_all(),
        }
    }
}

impl rt::Wake for CondvarInner {
    fn wake(&self) {
        self.notify_all()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar")
    }
}
