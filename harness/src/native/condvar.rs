//! A native wait queue: actors queued in order; a notify wakes the first (or all), and the woken
//! actor's next step (taking the lock again, once free) is enabled by that notify alone.

use std::collections::VecDeque;
use std::sync::PoisonError;

use super::access::{Obj, Op};
use super::exec::{current, new_obj, queue, record, schedule, wake_queued, Held};
use super::mutex::MutexGuard;

pub(crate) struct Condvar {
    obj: Obj,
    waiters: std::sync::Mutex<VecDeque<(usize, Held)>>,
}

impl Condvar {
    #[track_caller]
    pub(crate) fn new() -> Self {
        Condvar {
            obj: new_obj(),
            waiters: std::sync::Mutex::new(VecDeque::new()),
        }
    }

    fn waiters(&self) -> std::sync::MutexGuard<'_, VecDeque<(usize, Held)>> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Releases the lock and queues, in one step; once notified, takes the lock again.
    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let m = guard.m;
        std::mem::forget(guard);
        schedule();
        record(Op::Wait {
            lock: m.obj,
            queue: self.obj,
        });
        m.release();
        self.waiters().push_back((current(), m.held()));
        queue();
        m.take();
        MutexGuard { m }
    }

    /// A notify's footprint: a write of the queue when it wakes someone, a read when empty.
    fn notified(&self, woke: bool) {
        record(if woke {
            Op::Notify(self.obj)
        } else {
            Op::NotifyNone(self.obj)
        });
    }

    pub(crate) fn notify_one(&self) {
        schedule();
        let first = self.waiters().pop_front();
        self.notified(first.is_some());
        if let Some((w, lock)) = first {
            wake_queued(w, self.obj, lock);
        }
    }

    pub(crate) fn notify_all(&self) {
        schedule();
        let all: Vec<(usize, Held)> = self.waiters().drain(..).collect();
        self.notified(!all.is_empty());
        for (w, lock) in all {
            wake_queued(w, self.obj, lock);
        }
    }
}
