//! Engine-neutral synchronisation primitives: the one place that decides which primitives are real.
//!
//! Every primitive is an enum over the three backends (std for the stress engine, loom, shuttle),
//! chosen when the primitive is constructed from the backend the runner installed on this OS
//! thread. Models therefore never name loom or shuttle, and one compiled binary runs every engine.
//! The `match` per operation is a perfectly predicted branch next to the engines' own bookkeeping.
//!
//! Barrier mapping used by every model:
//! `READ_ONCE`/`WRITE_ONCE` → `Relaxed`; `smp_load_acquire`/`smp_store_release` → `Acquire`/`Release`;
//! `smp_mb()` → [`fence`]`(SeqCst)`; fully ordered value-returning RMW (`atomic_inc_return`,
//! `test_and_set_bit`, `xchg`, `cmpxchg`) → [`smp_mb`] around a `Relaxed` RMW, see [`full_rmw`].

use std::cell::Cell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::PoisonError;

pub use std::sync::atomic::Ordering;
/// Models keep refcounts they care about (`mm_users`, `mm_count`) as explicit atomics, so the
/// shared-ownership handle itself needs no model checking and is plain `std::sync::Arc`.
pub use std::sync::Arc;

/// Which implementation primitives constructed on this OS thread use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Std,
    Loom,
    Shuttle,
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

use crate::exec::{note_op, OpKind};

macro_rules! dispatch {
    ($self:expr, $Ty:ident, $v:ident => $e:expr) => {
        match $self {
            $Ty::Std($v) => $e,
            $Ty::Loom($v) => $e,
            $Ty::Shuttle($v) => $e,
        }
    };
}

macro_rules! construct {
    ($Ty:ident, $path:ident :: $Inner:ident ($($arg:expr),*)) => {
        match backend() {
            Backend::Std => $Ty::Std(std::$path::$Inner::new($($arg),*)),
            Backend::Loom => $Ty::Loom(loom::$path::$Inner::new($($arg),*)),
            Backend::Shuttle => $Ty::Shuttle(shuttle::$path::$Inner::new($($arg),*)),
        }
    };
}

macro_rules! atomic_common {
    ($Name:ident, $t:ty) => {
        /// Engine-neutral atomic (see the module docs for the barrier mapping).
        pub enum $Name {
            Std(std::sync::atomic::$Name),
            Loom(loom::sync::atomic::$Name),
            Shuttle(shuttle::sync::atomic::$Name),
        }

        impl $Name {
            pub fn new(v: $t) -> Self {
                match backend() {
                    Backend::Std => Self::Std(std::sync::atomic::$Name::new(v)),
                    Backend::Loom => Self::Loom(loom::sync::atomic::$Name::new(v)),
                    Backend::Shuttle => Self::Shuttle(shuttle::sync::atomic::$Name::new(v)),
                }
            }
            #[inline]
            pub fn load(&self, o: Ordering) -> $t {
                note_op(OpKind::Run);
                dispatch!(self, Self, a => a.load(o))
            }
            #[inline]
            pub fn store(&self, v: $t, o: Ordering) {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.store(v, o));
                crate::exec::note_progress();
                r
            }
            #[inline]
            pub fn swap(&self, v: $t, o: Ordering) -> $t {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.swap(v, o));
                crate::exec::note_progress();
                r
            }
            #[inline]
            pub fn compare_exchange(&self, cur: $t, new: $t, ok: Ordering, fail: Ordering) -> Result<$t, $t> {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.compare_exchange(cur, new, ok, fail));
                crate::exec::note_progress();
                r
            }
            #[inline]
            pub fn fetch_or(&self, v: $t, o: Ordering) -> $t {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_or(v, o));
                crate::exec::note_progress();
                r
            }
            #[inline]
            pub fn fetch_and(&self, v: $t, o: Ordering) -> $t {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_and(v, o));
                crate::exec::note_progress();
                r
            }
        }

        impl fmt::Debug for $Name {
            // Reading the value would be a scheduling point, so Debug never does.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($Name))
            }
        }
    };
}

macro_rules! atomic_int {
    ($Name:ident, $t:ty) => {
        atomic_common!($Name, $t);
        impl $Name {
            #[inline]
            pub fn fetch_add(&self, v: $t, o: Ordering) -> $t {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_add(v, o));
                crate::exec::note_progress();
                r
            }
            #[inline]
            pub fn fetch_sub(&self, v: $t, o: Ordering) -> $t {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_sub(v, o));
                crate::exec::note_progress();
                r
            }
        }
    };
}

atomic_common!(AtomicBool, bool);
atomic_int!(AtomicI32, i32);
atomic_int!(AtomicU32, u32);
atomic_int!(AtomicU64, u64);
atomic_int!(AtomicUsize, usize);

/// `fence()` under the current engine. `fence(SeqCst)` is the model of `smp_mb()`.
#[inline]
pub fn fence(o: Ordering) {
    note_op(OpKind::Run);
    match backend() {
        Backend::Std => std::sync::atomic::fence(o),
        Backend::Loom => loom::sync::atomic::fence(o),
        Backend::Shuttle => shuttle::sync::atomic::fence(o),
    }
}

/// `smp_mb()`: a full barrier, modelled as `fence(SeqCst)`.
#[inline]
pub fn smp_mb() {
    fence(Ordering::SeqCst)
}

/// A fully ordered value-returning RMW (`atomic_*_return`, `xchg`, `cmpxchg`, `test_and_set_bit`):
/// the kernel defines these as `smp_mb(); rmw; smp_mb()`, so that is how they are modelled.
#[inline]
pub fn full_rmw<R>(rmw: impl FnOnce() -> R) -> R {
    smp_mb();
    let r = rmw();
    smp_mb();
    r
}

/// Engine-neutral mutex, used for kernel spinlocks (`raw_spinlock_t`, `rq->lock`, `task_lock`)
/// and mutexes. Poisoning is ignored: a model's panic is reported by the runner, not here.
pub struct Mutex<T> {
    inner: MutexInner<T>,
    state: LockState,
}

/// Harness bookkeeping, not engine operations: whether a guard is live (so `lock()` knows it may
/// block) and which actors wait for it (so an unlock can mark them runnable again).
#[derive(Default)]
struct LockState {
    held: std::sync::atomic::AtomicBool,
    waiters: std::sync::atomic::AtomicU64,
}

enum MutexInner<T> {
    Std(std::sync::Mutex<T>),
    Loom(loom::sync::Mutex<T>),
    Shuttle(shuttle::sync::Mutex<T>),
}

pub struct MutexGuard<'a, T> {
    /// Always `Some` except while [`Condvar::wait`] has handed it to the engine.
    inner: Option<GuardInner<'a, T>>,
    state: &'a LockState,
}

enum GuardInner<'a, T> {
    Std(std::sync::MutexGuard<'a, T>),
    Loom(loom::sync::MutexGuard<'a, T>),
    Shuttle(shuttle::sync::MutexGuard<'a, T>),
}

impl<T> Mutex<T> {
    pub fn new(v: T) -> Self {
        Mutex {
            inner: construct!(MutexInner, sync::Mutex(v)),
            state: LockState::default(),
        }
    }

    fn guard<'a>(&'a self, inner: GuardInner<'a, T>) -> MutexGuard<'a, T> {
        crate::lkmm::after_spin_lock();
        self.state.held.store(true, Ordering::Relaxed);
        // Anyone still waiting (even one preempted before its engine lock call) now waits for us.
        crate::exec::block(self.state.waiters.load(Ordering::Relaxed));
        crate::exec::note_progress();
        MutexGuard {
            inner: Some(inner),
            state: &self.state,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, T> {
        let contended = self.state.held.load(Ordering::Relaxed);
        note_op(if contended { OpKind::Wait } else { OpKind::Run });
        // Register as a waiter first: the engine may preempt us before it acquires, and whoever
        // takes the lock meanwhile marks its waiters blocked.
        let me = crate::exec::current_bit();
        self.state.waiters.fetch_or(me, Ordering::Relaxed);
        if contended {
            crate::exec::block(me);
            crate::exec::before_blocking();
        }
        let g = match &self.inner {
            MutexInner::Std(m) => GuardInner::Std(m.lock().unwrap_or_else(PoisonError::into_inner)),
            MutexInner::Loom(m) => {
                GuardInner::Loom(m.lock().unwrap_or_else(PoisonError::into_inner))
            }
            MutexInner::Shuttle(m) => {
                GuardInner::Shuttle(m.lock().unwrap_or_else(PoisonError::into_inner))
            }
        };
        self.state.waiters.fetch_and(!me, Ordering::Relaxed);
        crate::exec::unblock(me);
        self.guard(g)
    }

    /// Actors currently waiting for this lock (harness bookkeeping).
    pub(crate) fn waiters(&self) -> u64 {
        self.state.waiters.load(Ordering::Relaxed)
    }

    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        note_op(OpKind::Run);
        let g = match &self.inner {
            MutexInner::Std(m) => m.try_lock().ok().map(GuardInner::Std),
            MutexInner::Loom(m) => m.try_lock().ok().map(GuardInner::Loom),
            MutexInner::Shuttle(m) => m.try_lock().ok().map(GuardInner::Shuttle),
        };
        g.map(|g| self.guard(g))
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
        crate::exec::unblock(self.state.waiters.load(Ordering::Relaxed));
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        dispatch!(self.inner.as_ref().expect("live guard"), GuardInner, g => g)
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        dispatch!(self.inner.as_mut().expect("live guard"), GuardInner, g => &mut *g)
    }
}

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
        let me = crate::exec::block_current();
        self.waiters.fetch_or(me, Ordering::Relaxed);
        let state = guard.state;
        let inner = guard.inner.take().expect("live guard");
        drop(guard);
        crate::exec::before_blocking();
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
        crate::lkmm::after_spin_lock();
        self.waiters.fetch_and(!me, Ordering::Relaxed);
        crate::exec::unblock(me);
        state.held.store(true, Ordering::Relaxed);
        crate::exec::note_progress();
        MutexGuard {
            inner: Some(inner),
            state,
        }
    }

    /// Wakes one waiter. Every waiter is marked runnable: the harness cannot know which one the
    /// engine picks, and over-approximating keeps livelock verdicts sound.
    pub fn notify_one(&self) {
        note_op(OpKind::Run);
        crate::exec::unblock(self.waiters.load(Ordering::Relaxed));
        dispatch!(&self.inner, CondvarInner, c => c.notify_one())
    }

    pub fn notify_all(&self) {
        note_op(OpKind::Run);
        crate::exec::unblock(self.waiters.load(Ordering::Relaxed));
        dispatch!(&self.inner, CondvarInner, c => c.notify_all())
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar")
    }
}
