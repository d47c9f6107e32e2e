//! A native atomic: a std atomic (everything runs on one OS thread, in one total order) and the
//! object its accesses are recorded against.

use super::access::{Obj, Op};
use super::exec::{new_obj, op, record, schedule};

/// A native atomic wrapping the std atomic `A`.
pub(crate) struct Atomic<A> {
    obj: Obj,
    v: A,
}

impl<A> Atomic<A> {
    #[track_caller]
    pub(crate) fn new(v: A) -> Self {
        Atomic { obj: new_obj(), v }
    }

    /// A load: `f` reads the value.
    #[inline]
    pub(crate) fn load<T>(&self, f: impl FnOnce(&A) -> T) -> T {
        op(Op::Load(self.obj));
        f(&self.v)
    }

    /// A store: `f` writes the value.
    #[inline]
    pub(crate) fn store(&self, f: impl FnOnce(&A)) {
        op(Op::Store(self.obj));
        f(&self.v)
    }

    /// A read-modify-write: `f` returns its result, the old value and the new one (None: it
    /// wrote nothing, as a failed compare-exchange).
    #[inline]
    pub(crate) fn rmw<T: PartialEq, R>(&self, f: impl FnOnce(&A) -> (R, T, Option<T>)) -> R {
        schedule();
        let (r, old, new) = f(&self.v);
        let changed = new.is_some_and(|n| n != old);
        record(Op::Rmw {
            obj: self.obj,
            changed,
        });
        r
    }
}
