//! Engine-neutral atomics (`AtomicBool`, `AtomicI32`, `AtomicU32`, `AtomicU64`, `AtomicUsize`):
//! every store and RMW counts as progress for the livelock detector, and recorded executions
//! note which store each load read from (`rt::marks`).

use std::fmt;

use super::Ordering;
use crate::native;
use crate::rt::{self, backend, marks, note_op, Backend, OpKind};

/// The std ordering a native atomic uses: everything runs on one OS thread, in one order.
const NATIVE: Ordering = Ordering::Relaxed;

/// An atomic of each backend.
enum Backed<S, L, T> {
    Std(S),
    Loom(L),
    Shuttle(T),
    Native(native::Atomic<S>),
}

macro_rules! atomic_common {
    ($Name:ident, $t:ty) => {
        /// Engine-neutral atomic (see the module docs for the barrier mapping).
        pub struct $Name(
            Backed<
                std::sync::atomic::$Name,
                loom::sync::atomic::$Name,
                shuttle::sync::atomic::$Name,
            >,
        );

        impl $Name {
            #[track_caller]
            pub fn new(v: $t) -> Self {
                $Name(match backend() {
                    Backend::Std => Backed::Std(std::sync::atomic::$Name::new(v)),
                    Backend::Loom => Backed::Loom(loom::sync::atomic::$Name::new(v)),
                    Backend::Shuttle => Backed::Shuttle(shuttle::sync::atomic::$Name::new(v)),
                    Backend::Native => {
                        Backed::Native(native::Atomic::new(std::sync::atomic::$Name::new(v)))
                    }
                })
            }
            #[inline]
            pub fn load(&self, o: Ordering) -> $t {
                let rec = note_op(OpKind::Run);
                let r = match &self.0 {
                    Backed::Native(a) => a.load(|v| v.load(NATIVE)),
                    Backed::Std(a) => a.load(o),
                    Backed::Loom(a) => a.load(o),
                    Backed::Shuttle(a) => a.load(o),
                };
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
                match &self.0 {
                    Backed::Native(a) => a.store(|x| x.store(v, NATIVE)),
                    Backed::Std(a) => a.store(v, o),
                    Backed::Loom(a) => a.store(v, o),
                    Backed::Shuttle(a) => a.store(v, o),
                }
                if rec {
                    marks::stored(self.addr(), v as u64);
                }
                rt::note_progress();
            }
            #[inline]
            pub fn swap(&self, v: $t, o: Ordering) -> $t {
                let rec = note_op(OpKind::Run);
                let r = match &self.0 {
                    Backed::Native(a) => a.rmw(|x| {
                        let r = x.swap(v, NATIVE);
                        (r, r, Some(v))
                    }),
                    Backed::Std(a) => a.swap(v, o),
                    Backed::Loom(a) => a.swap(v, o),
                    Backed::Shuttle(a) => a.swap(v, o),
                };
                self.rmw(rec, r, Some(v));
                rt::note_progress();
                r
            }
            #[inline]
            pub fn compare_exchange(
                &self,
                cur: $t,
                new: $t,
                ok: Ordering,
                fail: Ordering,
            ) -> Result<$t, $t> {
                let rec = note_op(OpKind::Run);
                let r = match &self.0 {
                    Backed::Native(a) => a.rmw(|x| {
                        let r = x.compare_exchange(cur, new, NATIVE, NATIVE);
                        let old = r.unwrap_or_else(|v| v);
                        (r, old, r.ok().map(|_| new))
                    }),
                    Backed::Std(a) => a.compare_exchange(cur, new, ok, fail),
                    Backed::Loom(a) => a.compare_exchange(cur, new, ok, fail),
                    Backed::Shuttle(a) => a.compare_exchange(cur, new, ok, fail),
                };
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
                let r = match &self.0 {
                    Backed::Native(a) => a.rmw(|x| {
                        let r = x.fetch_or(v, NATIVE);
                        (r, r, Some(r | v))
                    }),
                    Backed::Std(a) => a.fetch_or(v, o),
                    Backed::Loom(a) => a.fetch_or(v, o),
                    Backed::Shuttle(a) => a.fetch_or(v, o),
                };
                self.rmw(rec, r, Some(r | v));
                rt::note_progress();
                r
            }
            #[inline]
            pub fn fetch_and(&self, v: $t, o: Ordering) -> $t {
                let rec = note_op(OpKind::Run);
                let r = match &self.0 {
                    Backed::Native(a) => a.rmw(|x| {
                        let r = x.fetch_and(v, NATIVE);
                        (r, r, Some(r & v))
                    }),
                    Backed::Std(a) => a.fetch_and(v, o),
                    Backed::Loom(a) => a.fetch_and(v, o),
                    Backed::Shuttle(a) => a.fetch_and(v, o),
                };
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
                let r = match &self.0 {
                    Backed::Native(a) => a.rmw(|x| {
                        let r = x.fetch_add(v, NATIVE);
                        (r, r, Some(r.wrapping_add(v)))
                    }),
                    Backed::Std(a) => a.fetch_add(v, o),
                    Backed::Loom(a) => a.fetch_add(v, o),
                    Backed::Shuttle(a) => a.fetch_add(v, o),
                };
                self.rmw(rec, r, Some(r.wrapping_add(v)));
                rt::note_progress();
                r
            }
            #[inline]
            pub fn fetch_sub(&self, v: $t, o: Ordering) -> $t {
                let rec = note_op(OpKind::Run);
                let r = match &self.0 {
                    Backed::Native(a) => a.rmw(|x| {
                        let r = x.fetch_sub(v, NATIVE);
                        (r, r, Some(r.wrapping_sub(v)))
                    }),
                    Backed::Std(a) => a.fetch_sub(v, o),
                    Backed::Loom(a) => a.fetch_sub(v, o),
                    Backed::Shuttle(a) => a.fetch_sub(v, o),
                };
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
