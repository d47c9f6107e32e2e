//! Engine-neutral atomics (`AtomicBool`, `AtomicI32`, `AtomicU32`, `AtomicU64`, `AtomicUsize`):
//! every store and RMW counts as progress for the livelock detector.

use std::fmt;

use super::Ordering;
use crate::rt::{self, backend, note_op, Backend, OpKind};

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
                rt::note_progress();
                r
            }
            #[inline]
            pub fn swap(&self, v: $t, o: Ordering) -> $t {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.swap(v, o));
                rt::note_progress();
                r
            }
            #[inline]
            pub fn compare_exchange(&self, cur: $t, new: $t, ok: Ordering, fail: Ordering) -> Result<$t, $t> {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.compare_exchange(cur, new, ok, fail));
                rt::note_progress();
                r
            }
            #[inline]
            pub fn fetch_or(&self, v: $t, o: Ordering) -> $t {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_or(v, o));
                rt::note_progress();
                r
            }
            #[inline]
            pub fn fetch_and(&self, v: $t, o: Ordering) -> $t {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_and(v, o));
                rt::note_progress();
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
                rt::note_progress();
                r
            }
            #[inline]
            pub fn fetch_sub(&self, v: $t, o: Ordering) -> $t {
                note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_sub(v, o));
                rt::note_progress();
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
