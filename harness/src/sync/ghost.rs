//! Ghost state: what a model keeps beside the ported structures for its properties and
//! instrumentation (which CID each CPU exposed, who set a flag, which call owns a csd). It is not
//! kernel memory: no engine schedules around it or orders it, so it reads as the execution's
//! history. The `dpor` engine must still know which steps touch it to tell which commute, so
//! under it every access is recorded (and costs one thread-local test elsewhere).

use std::ops::{Deref, DerefMut};
use std::sync::PoisonError;

use super::Ordering;
use crate::native::{self, Obj, Op};

/// Ghost state of any type, read and changed through a guard ([`Ghost::lock`]).
pub struct Ghost<T> {
    obj: Obj,
    inner: std::sync::Mutex<T>,
}

impl<T> Ghost<T> {
    #[track_caller]
    pub fn new(v: T) -> Self {
        Ghost {
            obj: native::new_obj(),
            inner: std::sync::Mutex::new(v),
        }
    }

    /// The state, to read (and, through `DerefMut`, to change).
    pub fn lock(&self) -> GhostGuard<'_, T> {
        native::record(Op::GhostRead(self.obj));
        GhostGuard {
            obj: self.obj,
            wrote: false,
            inner: self.inner.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }
}

impl<T: Default> Default for Ghost<T> {
    fn default() -> Self {
        Ghost::new(T::default())
    }
}

impl<T> std::fmt::Debug for Ghost<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ghost")
    }
}

pub struct GhostGuard<'a, T> {
    obj: Obj,
    wrote: bool,
    inner: std::sync::MutexGuard<'a, T>,
}

impl<T> Deref for GhostGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for GhostGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        if !self.wrote {
            self.wrote = true;
            native::record(Op::GhostWrite(self.obj));
        }
        &mut self.inner
    }
}

macro_rules! ghost_atomic {
    ($(#[$doc:meta])* $Name:ident, $Std:ident, $t:ty) => {
        $(#[$doc])*
        pub struct $Name {
            obj: Obj,
            v: std::sync::atomic::$Std,
        }

        impl $Name {
            #[track_caller]
            pub fn new(v: $t) -> Self {
                $Name {
                    obj: native::new_obj(),
                    v: std::sync::atomic::$Std::new(v),
                }
            }
            #[inline]
            fn read(&self) {
                native::record(Op::GhostRead(self.obj));
            }
            #[inline]
            fn write(&self) {
                native::record(Op::GhostWrite(self.obj));
            }
            pub fn load(&self, o: Ordering) -> $t {
                self.read();
                self.v.load(o)
            }
            pub fn store(&self, v: $t, o: Ordering) {
                self.write();
                self.v.store(v, o)
            }
            pub fn swap(&self, v: $t, o: Ordering) -> $t {
                self.write();
                self.v.swap(v, o)
            }
            pub fn compare_exchange(
                &self,
                cur: $t,
                new: $t,
                ok: Ordering,
                fail: Ordering,
            ) -> Result<$t, $t> {
                self.write();
                self.v.compare_exchange(cur, new, ok, fail)
            }
            pub fn fetch_or(&self, v: $t, o: Ordering) -> $t {
                self.write();
                self.v.fetch_or(v, o)
            }
            pub fn fetch_and(&self, v: $t, o: Ordering) -> $t {
                self.write();
                self.v.fetch_and(v, o)
            }
        }

        impl std::fmt::Debug for $Name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($Name))
            }
        }
    };
}

macro_rules! ghost_int {
    ($(#[$doc:meta])* $Name:ident, $Std:ident, $t:ty) => {
        ghost_atomic!($(#[$doc])* $Name, $Std, $t);
        impl $Name {
            pub fn fetch_add(&self, v: $t, o: Ordering) -> $t {
                self.write();
                self.v.fetch_add(v, o)
            }
            pub fn fetch_sub(&self, v: $t, o: Ordering) -> $t {
                self.write();
                self.v.fetch_sub(v, o)
            }
        }
    };
}

ghost_atomic!(
    /// A ghost `bool` with the atomic API (no schedule point under any engine).
    GhostBool, AtomicBool, bool
);
ghost_int!(
    /// A ghost `u32` with the atomic API (no schedule point under any engine).
    GhostU32, AtomicU32, u32
);
ghost_int!(
    /// A ghost `u64` with the atomic API (no schedule point under any engine).
    GhostU64, AtomicU64, u64
);
ghost_int!(
    /// A ghost `usize` with the atomic API (no schedule point under any engine).
    GhostUsize, AtomicUsize, usize
);
