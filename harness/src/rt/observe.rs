//! Records [`Mark`]s at harness operations, in replays only: explorations pay one thread-local
//! flag test per operation (the one `note_op` already makes). Nothing here is an engine
//! operation, so a replay follows exactly the explored path.

use super::actor::current_actor;
use super::exec::{recording, with_ctx};
use super::mark::{Mark, Ref, Store, Wait};
use super::record::Event;

/// Pushes `mark` for `actor` (inside a recorded execution's state lock).
fn push(events: &mut Vec<Event>, actor: usize, mark: Mark) {
    events.push(Event::mark(actor, mark));
}

/// Records a mark of the current actor, if this execution records.
#[inline]
pub(crate) fn note(mark: impl FnOnce(usize) -> Mark) {
    if !recording() {
        return;
    }
    with_ctx(|cx| {
        let me = current_actor();
        let mut s = cx.state();
        push(&mut s.events, me, mark(me));
    });
}

/// The current actor stored `value` to the atomic at `addr`.
pub(crate) fn stored(addr: usize, value: u64) {
    with_ctx(|cx| {
        let by = current_actor();
        let mut s = cx.state();
        let at = s.events.len();
        let st = Store {
            by: Ref { actor: by, at },
            value,
        };
        s.shadow.stores.entry(addr).or_default().push(st);
    });
}

/// The current actor loaded `value` from the atomic at `addr`: marks the store it read from
/// when another actor made it or a newer one was missed (once per reader, location and store).
/// Several stores of the same value are told apart by taking the newest: a miss is then never
/// claimed wrongly (at most under-reported).
pub(crate) fn loaded(addr: usize, value: u64) {
    with_ctx(|cx| {
        let me = current_actor();
        let mut s = cx.state();
        let Some(stores) = s.shadow.stores.get(&addr) else {
            return;
        };
        let from = stores.iter().rposition(|st| st.value == value);
        let last = stores.len() - 1;
        let missed = (from != Some(last)).then_some(last);
        let from_store = from.map(|i| stores[i]);
        let missed_store = missed.map(|i| stores[i]);
        if missed.is_none() && from_store.is_some_and(|st| st.by.actor == me) {
            return;
        }
        if !s.shadow.marked.insert((me, addr, from, missed)) {
            return;
        }
        let mark = Mark::ReadsFrom {
            from: from_store,
            missed: missed_store,
        };
        push(&mut s.events, me, mark);
    });
}

/// The atomic at `addr` is gone (its address may be reused).
pub(crate) fn forget(addr: usize) {
    with_ctx(|cx| {
        cx.state().shadow.stores.remove(&addr);
    });
}

/// The current actor is about to wait for the lock at `addr`: marks it blocked on its holder.
pub(crate) fn lock_blocks(addr: usize, name: Option<&'static str>) {
    with_ctx(|cx| {
        let me = current_actor();
        let mut s = cx.state();
        let taken = s.shadow.locks.get(&addr).and_then(|l| l.0);
        let on = Wait::Lock {
            holder: taken.map(|r| r.actor),
            taken,
            name: name.map(String::from),
        };
        push(&mut s.events, me, Mark::Blocked { on });
    });
}

/// The current actor took the lock at `addr` (after waiting for it when `waited`); the actors
/// in `waiters` (even one preempted before it reached the lock) now wait for it.
pub(crate) fn lock_taken(addr: usize, waited: bool, waiters: u64, name: Option<&'static str>) {
    with_ctx(|cx| {
        let me = current_actor();
        let mut s = cx.state();
        let taken = Ref {
            actor: me,
            at: s.events.len(),
        };
        let l = s.shadow.locks.entry(addr).or_default();
        l.0 = Some(taken);
        let from = l.1.filter(|r| waited && r.actor != me);
        if let Some(from) = from {
            push(&mut s.events, me, Mark::HandOver { from });
        }
        for w in (0..64).filter(|&a| a != me && waiters & 1 << a != 0) {
            let mark = Mark::Blocked {
                on: Wait::Lock {
                    holder: Some(me),
                    taken: Some(taken),
                    name: name.map(String::from),
                },
            };
            // Once per wait: not again when the same holder retakes it before `w` ran.
            let last = s.events.iter().rev().find(|e| e.actor == w);
            if last.and_then(|e| e.mark.as_ref()) != Some(&mark) {
                push(&mut s.events, w, mark);
            }
        }
    });
}

/// The current actor released the lock at `addr`.
pub(crate) fn lock_released(addr: usize) {
    with_ctx(|cx| {
        let me = current_actor();
        let mut s = cx.state();
        let at = s.events.len();
        s.shadow
            .locks
            .insert(addr, (None, Some(Ref { actor: me, at })));
    });
}

/// The current actor notified the wait queue at `addr`.
pub(crate) fn notified(addr: usize) {
    with_ctx(|cx| {
        let me = current_actor();
        let mut s = cx.state();
        let at = s.events.len();
        s.shadow.notifies.insert(addr, Ref { actor: me, at });
    });
}

/// The current actor returned from waiting on the wait queue at `addr`.
pub(crate) fn woken(addr: usize) {
    with_ctx(|cx| {
        let me = current_actor();
        let mut s = cx.state();
        let by = s.shadow.notifies.get(&addr).copied();
        push(&mut s.events, me, Mark::Woken { by });
    });
}
