//! Engine-neutral atomics (`AtomicBool`, `AtomicI32`, `AtomicU32`, `AtomicU64`, `AtomicUsize`):
//! every store and RMW counts as progress for the livelock detector, and recorded executions
//! note which store each load read from (`rt::marks`).

use std::fmt;

use super::Ordering;
use crate::rt::{self, backend, marks, note_op, Backend, OpKind};

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
                let rec = note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.load(o));
                if rec {
                    marks::loaded(self.addr(), r as u64);
                }
                r
            }

            /// The location's identity for the recorder (stable while it is borrowed).
            fn addr(&self) -> usize {
                self as *const Self as usize
            }

            /// Recorded executions: an RMW read `old` (the newest store) and stored `new`.
            #[inline]
            fn rmw(&self, rec: bool, old: $t, new: Option<$t>) {
                if rec {
                    marks::loaded(self.addr(), old as u64);
                    if let Some(new) = new {
                        marks::stored(self.addr(), new as u64);
                    }
                }
            }
            #[inline]
            pub fn store(&self, v: $t, o: Ordering) {
                let rec = note_op(OpKind::Run);
                dispatch!(self, Self, a => a.store(v, o));
                if rec {
                    marks::stored(self.addr(), v as u64);
                }
                rt::note_progress();
            }
            #[inline]
            pub fn swap(&self, v: $t, o: Ordering) -> $t {
                let rec = note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.swap(v, o));
                self.rmw(rec, r, Some(v));
                rt::note_progress();
                r
            }
            #[inline]
            pub fn compare_exchange(&self, cur: $t, new: $t, ok: Ordering, fail: Ordering) -> Result<$t, $t> {
                let rec = note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.compare_exchange(cur, new, ok, fail));
                match r {
                    Ok(old) => self.rmw(rec, old, Some(new)),
                    Err(old) => self.rmw(rec, old, None),
                }
                rt::note_progress();
                r
            }
            #[inline]
            pub fn fetch_or(&self, v: $t, o: Ordering) -> $t {
                let rec = note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_or(v, o));
                self.rmw(rec, r, Some(r | v));
                rt::note_progress();
                r
            }
            #[inline]
            pub fn fetch_and(&self, v: $t, o: Ordering) -> $t {
                let rec = note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_and(v, o));
                self.rmw(rec, r, Some(r & v));
                rt::note_progress();
                r
            }
        }

        impl Drop for $Name {
            fn drop(&mut self) {
                if rt::recording() && !std::thread::panicking() {
                    marks::forget(self.addr());
                }
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
                let rec = note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_add(v, o));
                self.rmw(rec, r, Some(r.wrapping_add(v)));
                rt::note_progress();
                r
            }
            #[inline]
            pub fn fetch_sub(&self, v: $t, o: Ordering) -> $t {
                let rec = note_op(OpKind::Run);
                let r = dispatch!(self, Self, a => a.fetch_sub(v, o));
                self.rmw(rec, r, Some(r.wrapping_sub(v)));
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
