//! A native lock: who holds it, and its data. An actor whose next step takes a held lock is not
//! enabled until it is free.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use super::access::{Obj, Op};
use super::exec::{active, block, current, new_obj, op, record, schedule, Block, Held};

const FREE: usize = Held::FREE;

pub(crate) struct Mutex<T> {
    pub(super) obj: Obj,
    owner: AtomicUsize,
    data: UnsafeCell<T>,
}

// SAFETY: all actors of a native execution run on one OS thread, one at a time, and the data is
// only reached through a guard of the actor that holds the lock.
unsafe impl<T: Send> Sync for Mutex<T> {}
unsafe impl<T: Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    #[track_caller]
    pub(crate) fn new(v: T) -> Self {
        Mutex {
            obj: new_obj(),
            owner: AtomicUsize::new(FREE),
            data: UnsafeCell::new(v),
        }
    }

    pub(super) fn held(&self) -> Held {
        Held(&self.owner)
    }

    /// Takes the lock in the running step (the caller made sure it is free).
    pub(super) fn take(&self) {
        debug_assert!(self.owner.load(Relaxed) == FREE || !active());
        self.owner.store(current(), Relaxed);
        record(Op::Lock(self.obj));
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        // The acquisition is always a step of its own, enabled while the lock is free: were it to
        // open the running step when the lock happens to be free, where steps end would depend
        // on the lock, which no step records.
        block(Block::Lock(self.held()));
        self.take();
        MutexGuard { m: self }
    }

    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        schedule();
        if self.owner.load(Relaxed) == FREE {
            self.owner.store(current(), Relaxed);
            record(Op::Lock(self.obj));
            Some(MutexGuard { m: self })
        } else {
            record(Op::LockBusy(self.obj));
            None
        }
    }

    /// Gives the lock up without a schedule point of its own (a wait queue's wait).
    pub(super) fn release(&self) {
        self.owner.store(FREE, Relaxed);
    }
}

pub(crate) struct MutexGuard<'a, T> {
    pub(super) m: &'a Mutex<T>,
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        op(Op::Unlock(self.m.obj));
        self.m.release();
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this actor holds the lock (see the `Sync` impl).
        unsafe { &*self.m.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        super::spin::dirty();
        // SAFETY: this actor holds the lock (see the `Sync` impl).
        unsafe { &mut *self.m.data.get() }
    }
}
