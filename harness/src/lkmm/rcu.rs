//! RCU by kernel name: `rcu_read_lock()` / `rcu_read_unlock()`, `synchronize_rcu()`,
//! `call_rcu()` (a callback actor that runs after a grace period) and `rcu_barrier()`, built
//! only on the engine-neutral primitives (atomics, fences, [`Spinner`], [`spawn`]), so every
//! engine runs it unchanged; and [`RcuObject`], whose accesses after its free are the
//! [`NO_UAF_UNDER_RCU`] property.
//!
//! The grace-period guarantee (LKMM's rcu axiom): a read-side critical section that began
//! before `synchronize_rcu()` began ends before it returns, and one that ends after it
//! returned sees every store that preceded it. Implementation (a classic quiescent-state RCU):
//! each reader keeps a generation word, odd while inside its outermost critical section;
//! `rcu_read_lock()` makes it odd (`Relaxed` store) then `smp_mb()`; `rcu_read_unlock()`
//! makes it even with a release store; `synchronize_rcu()` is `smp_mb()`, then, for every
//! reader whose word it reads odd (acquire), a wait until that word changes, then `smp_mb()`.
//! Either the reader's `smp_mb()` precedes the updater's in the one order of full barriers
//! (the updater then reads the odd word or a later one and waits for the release that ends the
//! section: the section happens before the grace period ends), or it follows it (the section
//! then sees every store before the grace period). Under SC (shuttle) the same holds trivially.
//!
//! Against LKMM: `synchronize_rcu()` is exact (a strong fence with the grace-period wait);
//! `rcu_read_lock()` is stronger (its `smp_mb()` also orders the reader's accesses before the
//! critical section with those in it, where LKMM's is only a marker), and `rcu_read_unlock()`'s
//! release store orders the section before the unlock. Outcomes LKMM allows only by reordering
//! around the markers (explanation.txt's three-CPU example) are beyond this engine; the litmus
//! model shows it. SRCU is not modelled (no ported function needs it).

use std::sync::Arc;

use super::smp_mb;
use crate::rt::{current_actor, violation, PropertyId};
use crate::sync::{
    AtomicU32, Ghost, GhostBool, GhostGuard,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
    Spinner,
};
use crate::thread::{spawn, JoinHandle};

/// Property id: no access to an RCU-protected object after it was freed (KASAN's
/// use-after-free, for objects readers reach under `rcu_read_lock()`).
pub const NO_UAF_UNDER_RCU: PropertyId = PropertyId::new("no-use-after-free-under-rcu");

/// One RCU flavour's state (the kernel has one global RCU; a model keeps one `Rcu` in its
/// state and passes it, as it passes its locks). Cloning shares it.
#[derive(Clone)]
pub struct Rcu(Arc<State>);

struct State {
    /// Per actor (index = actor), its generation word, created with the `Rcu`: a word created
    /// later by its reader would race with the updater's first load of it (loom checks that).
    words: Vec<AtomicU32>,
    /// Harness bookkeeping (never a schedule point): per actor, its generation and
    /// critical-section nesting. Ghost state, one object per actor: the `dpor` engine must see
    /// that an updater's choice of words to wait on depends on which readers entered.
    readers: Vec<Ghost<Reader>>,
    /// `call_rcu()` callbacks not yet waited for by `rcu_barrier()` (ghost, for the same reason).
    callbacks: Ghost<Vec<JoinHandle<()>>>,
}

#[derive(Clone, Copy, Default)]
struct Reader {
    /// Whether it ever entered a critical section (only then can an updater have to wait).
    entered: bool,
    /// Its word's value (only this actor writes it): odd inside a critical section.
    gen: u32,
    nesting: u32,
}

/// Readers [`Rcu::new`] has words for: the scenario's main thread and up to 7 spawned actors.
pub const RCU_READERS: usize = 8;

impl Default for Rcu {
    fn default() -> Self {
        Self::new()
    }
}

impl Rcu {
    /// RCU for actors 0 to [`RCU_READERS`] - 1.
    pub fn new() -> Self {
        Self::with_readers(RCU_READERS)
    }

    /// RCU for actors 0 to `n` - 1 (an actor beyond them that reads is a model error).
    pub fn with_readers(n: usize) -> Self {
        Rcu(Arc::new(State {
            words: (0..n).map(|_| AtomicU32::new(0)).collect(),
            readers: (0..n).map(|_| Ghost::new(Reader::default())).collect(),
            callbacks: Ghost::new(Vec::new()),
        }))
    }

    /// Actor `a`'s bookkeeping, if this RCU has a word for it.
    fn reader(&self, a: usize) -> Option<GhostGuard<'_, Reader>> {
        self.0.readers.get(a).map(Ghost::lock)
    }

    /// Whether the running actor is inside a read-side critical section.
    pub fn in_read_side(&self) -> bool {
        self.reader(current_actor()).is_some_and(|r| r.nesting > 0)
    }
}

/// `rcu_read_lock()`: enters a read-side critical section (nests).
pub fn rcu_read_lock(rcu: &Rcu) {
    let me = current_actor();
    let outer = {
        let n = rcu.0.readers.len();
        let mut r = rcu.reader(me).unwrap_or_else(|| {
            panic!(
                "model error: actor {me} reads under RCU made for {n} actors (Rcu::with_readers)"
            )
        });
        r.nesting += 1;
        r.entered = true;
        (r.nesting == 1).then(|| {
            r.gen += 1;
            r.gen
        })
    };
    if let Some(gen) = outer {
        rcu.0.words[me].store(gen, Relaxed);
        smp_mb();
    }
}

/// `rcu_read_unlock()`: leaves the critical section (the outermost one ends it).
pub fn rcu_read_unlock(rcu: &Rcu) {
    let me = current_actor();
    let outer = {
        let mut r = rcu
            .reader(me)
            .filter(|r| r.nesting > 0)
            .expect("model error: rcu_read_unlock() without rcu_read_lock()");
        r.nesting -= 1;
        (r.nesting == 0).then(|| {
            r.gen += 1;
            r.gen
        })
    };
    if let Some(gen) = outer {
        rcu.0.words[me].store(gen, Release);
    }
}

/// `synchronize_rcu()`: waits for every read-side critical section that began before it; a
/// full barrier on both ends. Returns false if the wait was abandoned (a livelock was reported
/// because no reader can ever leave, or the execution is already spent).
pub fn synchronize_rcu(rcu: &Rcu) -> bool {
    let me = current_actor();
    assert!(
        !rcu.in_read_side(),
        "model error: synchronize_rcu() inside an RCU read-side critical section (lockdep: \
         \"Illegal synchronize_rcu() in RCU read-side critical section\")"
    );
    smp_mb();
    // Readers that never entered a critical section before this point cannot hold one that
    // began before the grace period (their first `smp_mb()` follows ours).
    let entered: Vec<usize> = (0..rcu.0.readers.len())
        .filter(|&a| a != me && rcu.reader(a).is_some_and(|r| r.entered))
        .collect();
    for word in entered.into_iter().map(|a| &rcu.0.words[a]) {
        let seen = word.load(Acquire);
        if seen % 2 == 1 {
            let mut spin = Spinner::new("synchronize_rcu");
            while word.load(Acquire) == seen {
                if !spin.relax() {
                    return false;
                }
            }
        }
    }
    smp_mb();
    true
}

/// `call_rcu(head, func)`: `func` runs after a grace period, in a callback actor named `name`
/// (it waits for the grace period with [`synchronize_rcu`], so it sees everything before the
/// `call_rcu()` and runs after every reader that could still see the old object). Each callback
/// is an actor: loom allows 4 spawned actors in all. [`rcu_barrier`] joins them.
pub fn call_rcu(rcu: &Rcu, name: &str, func: impl FnOnce() + Send + 'static) {
    let r = rcu.clone();
    let h = spawn(name.to_string(), move || {
        if synchronize_rcu(&r) {
            func();
        }
    });
    rcu.0.callbacks.lock().push(h);
}

/// `rcu_barrier()`: waits until every callback queued by [`call_rcu`] has run. A scenario must
/// call it before it returns (every actor is joined).
pub fn rcu_barrier(rcu: &Rcu) {
    let pending = std::mem::take(&mut *rcu.0.callbacks.lock());
    for h in pending {
        h.join();
    }
}

/// An object RCU readers reach (a list element, a `task_struct` on a thread list): freed once
/// no reader can hold it, i.e. after a grace period. A dereference after the free is a
/// use-after-free ([`NO_UAF_UNDER_RCU`], what KASAN reports). The freed flag is ghost state (a
/// harness ghost atomic: no engine schedules it, the `dpor` engine records it): the free is a real-time event in the interleaving explored.
pub struct RcuObject {
    name: &'static str,
    freed: GhostBool,
    property: PropertyId,
}

impl RcuObject {
    /// A live object; `name` is its kernel spelling (`T2's task_struct`).
    pub fn new(name: &'static str) -> Self {
        RcuObject {
            name,
            freed: GhostBool::new(false),
            property: NO_UAF_UNDER_RCU,
        }
    }

    /// The same, its use after free reported as the model's own `property` (a model whose
    /// use-after-free property already covers other objects).
    pub fn reported_as(name: &'static str, property: PropertyId) -> Self {
        RcuObject {
            property,
            ..Self::new(name)
        }
    }

    /// `kfree()` (or the free a `call_rcu()` callback does).
    pub fn kfree(&self) {
        self.freed.store(true, SeqCst);
    }

    /// Whether it was freed (ghost).
    pub fn is_freed(&self) -> bool {
        self.freed.load(SeqCst)
    }

    /// A reader's access to the object (`what`: the kernel expression), called right after the
    /// engine operation that accesses it (no actor runs in between, so "freed now" is "freed
    /// before the access"). False, with a [`NO_UAF_UNDER_RCU`] violation (or the property it is
    /// [reported as](Self::reported_as)), if it was freed.
    pub fn deref(&self, what: &str) -> bool {
        if !self.is_freed() {
            return true;
        }
        violation(
            self.property,
            format!("{what}: {} was already freed", self.name),
        );
        false
    }
}
