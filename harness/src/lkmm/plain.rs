//! Plain accesses (`x = v;`, `r = x;`) by kernel spelling, on [`Plain`] variables, which the
//! marked vocabulary (`READ_ONCE()`, atomics) also applies to; and the data-race property.
//!
//! LKMM (explanation.txt, "PLAIN ACCESSES AND DATA RACES") says nothing about the outcome of a
//! program with a data race; KCSAN reports one when it sees it. Here every [`Plain`] access is
//! checked against the earlier conflicting ones (at least one plain, one a write, another
//! actor) and a pair happens-before does not order is a [`DATA_RACE`] violation. KCSAN's
//! default `CONFIG_KCSAN_ASSUME_PLAIN_WRITES_ATOMIC=y` stays quiet about a word-sized plain
//! write racing with marked reads; LKMM (and this check) does not.

pub use crate::rt::{task_on_cpu, DATA_RACE};
use crate::sync::{Ordering, Plain, Value};

use super::{IntWord, Word};

impl<T: Value> Word for Plain<T> {
    type T = T;
    fn load(&self, o: Ordering) -> T {
        Plain::load(self, o)
    }
    fn store(&self, v: T, o: Ordering) {
        Plain::store(self, v, o)
    }
    fn swap(&self, v: T, o: Ordering) -> T {
        Plain::swap(self, v, o)
    }
    fn compare_exchange(&self, cur: T, new: T, ok: Ordering, fail: Ordering) -> Result<T, T> {
        Plain::compare_exchange(self, cur, new, ok, fail)
    }
}

macro_rules! int_plain {
    ($t:ty) => {
        impl IntWord for Plain<$t> {
            fn fetch_add(&self, v: $t, o: Ordering) -> $t {
                Plain::fetch_add(self, v, o)
            }
            fn fetch_sub(&self, v: $t, o: Ordering) -> $t {
                Plain::fetch_sub(self, v, o)
            }
            fn fetch_or(&self, v: $t, o: Ordering) -> $t {
                Plain::fetch_or(self, v, o)
            }
            fn fetch_and(&self, v: $t, o: Ordering) -> $t {
                Plain::fetch_and(self, v, o)
            }
            fn wrapping_add(v: $t, d: $t) -> $t {
                v.wrapping_add(d)
            }
            fn one() -> $t {
                1
            }
        }
    };
}

int_plain!(i32);
int_plain!(u32);
int_plain!(u64);
int_plain!(usize);

/// `r = x;`: a plain load of `x`.
#[inline]
pub fn plain_read<T: Value>(x: &Plain<T>) -> T {
    x.plain_read()
}

/// `x = v;`: a plain store to `x`.
#[inline]
pub fn plain_write<T: Value>(x: &Plain<T>, v: T) {
    x.plain_write(v)
}

/// `x = f(x);` (`x++`, `x |= bit`): a plain read then a plain write, not atomic.
#[inline]
pub fn plain_update<T: Value>(x: &Plain<T>, f: impl FnOnce(T) -> T) -> T {
    let v = f(x.plain_read());
    x.plain_write(v);
    v
}
