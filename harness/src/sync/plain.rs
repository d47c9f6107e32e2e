//! [`Plain`]: a kernel variable read or written with plain C accesses (`x = v;`, `r = x;`), and
//! the data-race check on it (LKMM's rule, which KCSAN enforces): two accesses to it by
//! different actors, at least one a write and at least one plain, that happens-before does not
//! order, are a [`DATA_RACE`](crate::rt::DATA_RACE).
//!
//! The value lives in a harness atomic (a plain access is a `Relaxed` one: without a race every
//! write is ordered with it, so it reads the latest; with one, LKMM says nothing about the
//! value). The check is the backend arm: under loom, one `loom::cell::UnsafeCell` per (actor,
//! kind of access) records that actor's accesses of that kind; an access probes the cells of
//! the kinds it races with, and loom's causality check (a panic, caught here) says whether one
//! of them is not happens-before it. Shuttle (sequential consistency, no happens-before) and
//! real threads cannot see a data race: their arms check nothing. An engine with its own
//! vector clocks reports through [`crate::rt::data_race`].

use std::fmt;
use std::sync::{Mutex as StdMutex, PoisonError};

use super::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use crate::rt::{self, backend, Backend};

/// A value a [`Plain`] variable holds (`int`, `long`, `bool`, a pointer as an index), with the
/// harness atomic that stores it.
pub trait Value: Copy + PartialEq + fmt::Debug + Send + Sync + 'static {
    type Atomic: Send + Sync;
    fn atomic(v: Self) -> Self::Atomic;
    fn load(a: &Self::Atomic, o: Ordering) -> Self;
    fn store(a: &Self::Atomic, v: Self, o: Ordering);
    fn swap(a: &Self::Atomic, v: Self, o: Ordering) -> Self;
    fn compare_exchange(
        a: &Self::Atomic,
        cur: Self,
        new: Self,
        ok: Ordering,
        fail: Ordering,
    ) -> Result<Self, Self>;
}

/// An integer [`Value`]: the RMWs of the kernel's atomic API.
pub trait IntValue: Value {
    fn fetch_add(a: &Self::Atomic, v: Self, o: Ordering) -> Self;
    fn fetch_sub(a: &Self::Atomic, v: Self, o: Ordering) -> Self;
    fn fetch_or(a: &Self::Atomic, v: Self, o: Ordering) -> Self;
    fn fetch_and(a: &Self::Atomic, v: Self, o: Ordering) -> Self;
}

macro_rules! value {
    ($t:ty, $A:ident) => {
        impl Value for $t {
            type Atomic = $A;
            fn atomic(v: $t) -> $A {
                $A::new(v)
            }
            fn load(a: &$A, o: Ordering) -> $t {
                a.load(o)
            }
            fn store(a: &$A, v: $t, o: Ordering) {
                a.store(v, o)
            }
            fn swap(a: &$A, v: $t, o: Ordering) -> $t {
                a.swap(v, o)
            }
            fn compare_exchange(
                a: &$A,
                cur: $t,
                new: $t,
                ok: Ordering,
                fail: Ordering,
            ) -> Result<$t, $t> {
                a.compare_exchange(cur, new, ok, fail)
            }
        }
    };
}

macro_rules! int_value {
    ($t:ty, $A:ident) => {
        value!($t, $A);
        impl IntValue for $t {
            fn fetch_add(a: &$A, v: $t, o: Ordering) -> $t {
                a.fetch_add(v, o)
            }
            fn fetch_sub(a: &$A, v: $t, o: Ordering) -> $t {
                a.fetch_sub(v, o)
            }
            fn fetch_or(a: &$A, v: $t, o: Ordering) -> $t {
                a.fetch_or(v, o)
            }
            fn fetch_and(a: &$A, v: $t, o: Ordering) -> $t {
                a.fetch_and(v, o)
            }
        }
    };
}

value!(bool, AtomicBool);
int_value!(i32, AtomicI32);
int_value!(u32, AtomicU32);
int_value!(u64, AtomicU64);
int_value!(usize, AtomicUsize);

/// The kind of an access, for the data-race rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    PlainRead,
    PlainWrite,
    MarkedRead,
    MarkedWrite,
}

impl Access {
    const ALL: [Access; 4] = [
        Access::PlainRead,
        Access::PlainWrite,
        Access::MarkedRead,
        Access::MarkedWrite,
    ];

    fn write(self) -> bool {
        matches!(self, Access::PlainWrite | Access::MarkedWrite)
    }

    fn plain(self) -> bool {
        matches!(self, Access::PlainRead | Access::PlainWrite)
    }

    /// LKMM's race candidates: at least one write and at least one plain access.
    fn conflicts(self, other: Access) -> bool {
        (self.write() || other.write()) && (self.plain() || other.plain())
    }

    fn words(self) -> &'static str {
        match self {
            Access::PlainRead => "plain read",
            Access::PlainWrite => "plain write",
            Access::MarkedRead => "marked read",
            Access::MarkedWrite => "marked write",
        }
    }
}

/// A kernel variable accessed plainly somewhere (`x = v;`, `r = x;`) and perhaps marked
/// elsewhere (`READ_ONCE()`, `WRITE_ONCE()`, atomics: through [`crate::lkmm`]'s `Word`).
pub struct Plain<T: Value> {
    value: T::Atomic,
    races: Races,
    /// The kernel expression it stands for (`sig->flags`), for race reports.
    name: &'static str,
}

/// The data-race check, per backend.
enum Races {
    /// Real threads: not checked.
    Std,
    Loom(StdMutex<LoomRaces>),
    /// Sequential consistency (shuttle, the native runtime) has no happens-before to check
    /// against.
    Shuttle,
}

/// Loom's causality cells: per (actor, the CPU it runs on as a task) and kind of access, one
/// cell recording every such access (as loom writes); other actors' accesses probe it (as
/// loom reads).
#[derive(Default)]
struct LoomRaces {
    /// After a race the cells' state is loom's half-updated one: the variable is not checked
    /// again in this execution (its first race is the one reported).
    raced: bool,
    cells: Vec<Cells>,
}

struct Cells {
    actor: usize,
    /// [`rt::current_task_cpu`] of those accesses: another task's on the same CPU is ordered with
    /// them by the context switch between the two tasks.
    cpu: Option<usize>,
    by_kind: [Option<loom::cell::UnsafeCell<()>>; 4],
}

impl<T: Value> Plain<T> {
    /// `T name = v;` (initialisation is not an access).
    pub fn new(name: &'static str, v: T) -> Self {
        let races = match backend() {
            Backend::Std => Races::Std,
            Backend::Loom => Races::Loom(StdMutex::default()),
            Backend::Shuttle | Backend::Native => Races::Shuttle,
        };
        Plain {
            value: T::atomic(v),
            races,
            name,
        }
    }

    /// The kernel expression this variable stands for.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `r = x;`: a plain load.
    pub fn plain_read(&self) -> T {
        self.access(Access::PlainRead);
        T::load(&self.value, Ordering::Relaxed)
    }

    /// `x = v;`: a plain store.
    pub fn plain_write(&self, v: T) {
        self.access(Access::PlainWrite);
        T::store(&self.value, v, Ordering::Relaxed)
    }

    /// A marked load (`READ_ONCE()`, `smp_load_acquire()`, ...).
    pub fn load(&self, o: Ordering) -> T {
        self.access(Access::MarkedRead);
        T::load(&self.value, o)
    }

    /// A marked store (`WRITE_ONCE()`, `smp_store_release()`, ...).
    pub fn store(&self, v: T, o: Ordering) {
        self.access(Access::MarkedWrite);
        T::store(&self.value, v, o)
    }

    /// A marked exchange (`xchg()`).
    pub fn swap(&self, v: T, o: Ordering) -> T {
        self.access(Access::MarkedWrite);
        T::swap(&self.value, v, o)
    }

    /// A marked compare-and-exchange: a write if it succeeds, a read if it fails.
    pub fn compare_exchange(&self, cur: T, new: T, ok: Ordering, fail: Ordering) -> Result<T, T> {
        let r = T::compare_exchange(&self.value, cur, new, ok, fail);
        self.access(match r {
            Ok(_) => Access::MarkedWrite,
            Err(_) => Access::MarkedRead,
        });
        r
    }

    /// Checks the running actor's access of `kind` against every earlier conflicting one.
    fn access(&self, kind: Access) {
        let Races::Loom(races) = &self.races else {
            return;
        };
        let mut races = races.lock().unwrap_or_else(PoisonError::into_inner);
        if races.raced {
            return;
        }
        let me = rt::current_actor();
        let cpu = rt::current_task_cpu();
        // Probe first: it names the other access. (Writing our own cell would only fail for a
        // probe of it that is not ordered before us, and that probe's own access is in a cell
        // probed here.)
        let mut other = None;
        'probe: for cells in &races.cells {
            if cells.actor == me || (cpu.is_some() && cells.cpu == cpu) {
                continue;
            }
            for (k, cell) in Access::ALL.iter().zip(&cells.by_kind) {
                let Some(cell) = cell.as_ref().filter(|_| kind.conflicts(*k)) else {
                    continue;
                };
                if rt::probe_for_race(|| cell.with(|_| ())) {
                    other = Some((cells.actor, *k));
                    break 'probe;
                }
            }
        }
        let at = match races
            .cells
            .iter()
            .position(|c| c.actor == me && c.cpu == cpu)
        {
            Some(i) => i,
            None => {
                races.cells.push(Cells {
                    actor: me,
                    cpu,
                    by_kind: Default::default(),
                });
                races.cells.len() - 1
            }
        };
        let own = races.cells[at].by_kind[kind as usize]
            .get_or_insert_with(|| loom::cell::UnsafeCell::new(()));
        let own_failed = other.is_none() && rt::probe_for_race(|| own.with_mut(|_| ()));
        if other.is_none() && !own_failed {
            return;
        }
        races.raced = true;
        drop(races);
        let name = |a: usize| rt::actor_name(a).unwrap_or_else(|| format!("actor {a}"));
        let against = match other {
            Some((actor, k)) => format!("a {} by {}", k.words(), name(actor)),
            None => "an earlier conflicting access by another CPU".into(),
        };
        rt::data_race(
            self.name,
            format!(
                "{} by {} races with {against}: not ordered by happens-before (locks, barriers, \
                 release/acquire, grace periods)",
                kind.words(),
                name(me),
            ),
        );
    }
}

impl<T: IntValue> Plain<T> {
    /// A marked `fetch_add` (the atomic API).
    pub fn fetch_add(&self, v: T, o: Ordering) -> T {
        self.access(Access::MarkedWrite);
        T::fetch_add(&self.value, v, o)
    }

    /// A marked `fetch_sub`.
    pub fn fetch_sub(&self, v: T, o: Ordering) -> T {
        self.access(Access::MarkedWrite);
        T::fetch_sub(&self.value, v, o)
    }

    /// A marked `fetch_or` (`set_bit()`, `test_and_set_bit()`).
    pub fn fetch_or(&self, v: T, o: Ordering) -> T {
        self.access(Access::MarkedWrite);
        T::fetch_or(&self.value, v, o)
    }

    /// A marked `fetch_and` (`clear_bit()`).
    pub fn fetch_and(&self, v: T, o: Ordering) -> T {
        self.access(Access::MarkedWrite);
        T::fetch_and(&self.value, v, o)
    }
}

impl<T: Value> fmt::Debug for Plain<T> {
    // Reading the value would be a scheduling point, so Debug never does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plain({})", self.name)
    }
}
