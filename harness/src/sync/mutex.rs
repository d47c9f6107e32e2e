//! The engine-neutral [`Mutex`] (kernel spinlocks and mutexes) and its guard, with the
//! harness's waiter bookkeeping for deadlock and livelock verdicts.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::PoisonError;

use super::Ordering;
use crate::native;
use crate::rt::{self, backend, marks, note_op, Backend, OpKind};

/// Engine-neutral mutex, used for kernel spinlocks (`raw_spinlock_t`, `rq->lock`, `task_lock`)
/// and mutexes. Poisoning is ignored: a model's panic is reported by the runner, not here.
/// [`Mutex::named`] gives it the kernel's name for timelines and deadlock reports.
pub struct Mutex<T> {
    inner: MutexInner<T>,
    state: LockState,
}

/// Harness bookkeeping, not engine operations: whether a guard is live (so `lock()` knows it may
/// block) and which actors wait for it (so an unlock can mark them runnable again).
#[derive(Default)]
pub(super) struct LockState {
    pub(super) held: std::sync::atomic::AtomicBool,
    pub(super) waiters: std::sync::atomic::AtomicU64,
    /// The harness's own lock (an rwsem's state, a parked spinner's): recorded executions mark
    /// nothing about it, and it is a plain C11 mutex (no lock-ordering fences).
    pub(super) internal: bool,
    /// The kernel's name of the lock (`rq->lock`), for marks and deadlock reports.
    pub(super) name: Option<&'static str>,
    /// The actor holding it, plus one (0: free); for `lockdep_assert_held()`.
    owner: std::sync::atomic::AtomicUsize,
    /// 1 + the actor that released it last (0: never released).
    last_owner: std::sync::atomic::AtomicUsize,
}

impl LockState {
    /// Right after the engine acquired the lock: LKMM's lock ordering for a model's lock
    /// (`barrier::after_spin_lock`).
    pub(super) fn acquired(&self) {
        if !self.internal {
            let last = self.last_owner.load(Ordering::Relaxed);
            super::barrier::after_spin_lock(last != 0 && last != rt::current_actor() + 1);
        }
    }

    /// Right before the engine releases the lock (an unlock, or a condvar wait).
    pub(super) fn releasing(&self) {
        if !self.internal {
            self.last_owner
                .store(rt::current_actor() + 1, Ordering::Relaxed);
            super::barrier::spin_unlocked();
        }
    }

    /// The lock's identity for the recorder; `None` for the harness's own locks.
    pub(super) fn marked(&self) -> Option<usize> {
        (!self.internal).then_some(self as *const Self as usize)
    }
}

enum MutexInner<T> {
    Std(std::sync::Mutex<T>),
    Loom(loom::sync::Mutex<T>),
    Shuttle(shuttle::sync::Mutex<T>),
    Native(native::Mutex<T>),
}

pub struct MutexGuard<'a, T> {
    /// Always `Some` except while [`Condvar::wait`] has handed it to the engine.
    pub(super) inner: Option<GuardInner<'a, T>>,
    pub(super) state: &'a LockState,
}

pub(super) enum GuardInner<'a, T> {
    Std(std::sync::MutexGuard<'a, T>),
    Loom(loom::sync::MutexGuard<'a, T>),
    Shuttle(shuttle::sync::MutexGuard<'a, T>),
    Native(native::MutexGuard<'a, T>),
}

impl<T> Mutex<T> {
    #[track_caller]
    pub fn new(v: T) -> Self {
        Mutex {
            inner: match backend() {
                Backend::Native => MutexInner::Native(native::Mutex::new(v)),
                _ => construct!(MutexInner, sync::Mutex(v)),
            },
            state: LockState::default(),
        }
    }

    /// A lock with the kernel's name (`Mutex::named("rq->lock", ())`): timelines say "blocks on
    /// rq->lock held by CPU2", deadlock reports "CPU1 waits for rq->lock".
    pub fn named(name: &'static str, v: T) -> Self {
        let mut m = Self::new(v);
        m.state.name = Some(name);
        m
    }

    /// The lock's name, if it has one.
    pub fn name(&self) -> Option<&'static str> {
        self.state.name
    }

    /// Whether the running actor holds it (`lockdep_assert_held()`; harness bookkeeping).
    pub fn held_by_current(&self) -> bool {
        self.state.owner.load(Ordering::Relaxed) == rt::current_actor() + 1
    }

    /// A lock of the harness itself (recorded executions mark nothing about it).
    #[track_caller]
    pub(crate) fn internal(v: T) -> Self {
        let mut m = Self::new(v);
        m.state.internal = true;
        m
    }

    fn guard<'a>(&'a self, inner: GuardInner<'a, T>, rec: bool, waited: bool) -> MutexGuard<'a, T> {
        self.state.acquired();
        if let Some(addr) = self.state.marked().filter(|_| rec) {
            marks::lock_taken(
                addr,
                waited,
                self.state.waiters.load(Ordering::Relaxed),
                self.state.name,
            );
        }
        self.state.held.store(true, Ordering::Relaxed);
        self.state
            .owner
            .store(rt::current_actor() + 1, Ordering::Relaxed);
        // Anyone still waiting (even one preempted before its engine lock call) now waits for us.
        let me = rt::current_bit();
        let waiters = self.state.waiters.load(Ordering::Relaxed) & !me;
        rt::block(waiters);
        rt::others_wait(waiters, rt::Blocker::Lock(self.state.name));
        rt::note_progress();
        MutexGuard {
            inner: Some(inner),
            state: &self.state,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, T> {
        let contended = self.state.held.load(Ordering::Relaxed);
        let rec = note_op(if contended { OpKind::Wait } else { OpKind::Run });
        // Register as a waiter first: the engine may preempt us before it acquires, and whoever
        // takes the lock meanwhile marks its waiters blocked.
        let me = rt::current_bit();
        self.state.waiters.fetch_or(me, Ordering::Relaxed);
        if contended {
            if let Some(addr) = self.state.marked().filter(|_| rec) {
                marks::lock_blocks(addr, self.state.name);
            }
            rt::waiting(rt::Blocker::Lock(self.state.name), None);
            rt::block(me);
            rt::before_blocking();
        }
        let g = match &self.inner {
            MutexInner::Std(m) => GuardInner::Std(m.lock().unwrap_or_else(PoisonError::into_inner)),
            MutexInner::Loom(m) => {
                GuardInner::Loom(m.lock().unwrap_or_else(PoisonError::into_inner))
            }
            MutexInner::Shuttle(m) => {
                GuardInner::Shuttle(m.lock().unwrap_or_else(PoisonError::into_inner))
            }
            MutexInner::Native(m) => GuardInner::Native(m.lock()),
        };
        self.state.waiters.fetch_and(!me, Ordering::Relaxed);
        rt::unblock(me);
        rt::done_waiting();
        let g = self.guard(g, rec, contended);
        // A stuck execution: the holder unwound and released it (`rt::stuck`).
        if contended && rt::must_bail() {
            drop(g);
            rt::bail();
        }
        g
    }

    /// Actors currently waiting for this lock (harness bookkeeping).
    pub(crate) fn waiters(&self) -> u64 {
        self.state.waiters.load(Ordering::Relaxed)
    }

    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let rec = note_op(OpKind::Run);
        let g = match &self.inner {
            MutexInner::Std(m) => m.try_lock().ok().map(GuardInner::Std),
            MutexInner::Loom(m) => m.try_lock().ok().map(GuardInner::Loom),
            MutexInner::Shuttle(m) => m.try_lock().ok().map(GuardInner::Shuttle),
            MutexInner::Native(m) => m.try_lock().map(GuardInner::Native),
        };
        g.map(|g| self.guard(g, rec, false))
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mutex")
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // The engine guard (in `inner`) unlocks right after this: its waiters may run again.
        self.state.held.store(false, Ordering::Relaxed);
        self.state.owner.store(0, Ordering::Relaxed);
        if self.inner.is_some() && !std::thread::panicking() {
            self.state.releasing();
        }
        // Not while unwinding: the engine (loom after a deadlock) may be gone.
        let rec = rt::recording() && !std::thread::panicking();
        if let Some(addr) = self.state.marked().filter(|_| rec) {
            marks::lock_released(addr);
        }
        rt::unblock(self.state.waiters.load(Ordering::Relaxed));
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self.inner.as_ref().expect("live guard") {
            GuardInner::Std(g) => g,
            GuardInner::Loom(g) => g,
            GuardInner::Shuttle(g) => g,
            GuardInner::Native(g) => g,
        }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match self.inner.as_mut().expect("live guard") {
            GuardInner::Std(g) => &mut *g,
            GuardInner::Loom(g) => &mut *g,
            GuardInner::Shuttle(g) => &mut *g,
            GuardInner::Native(g) => &mut *g,
        }
    }
}
