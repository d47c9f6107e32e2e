//! Liveness bookkeeping: which actors are certainly blocked (locks, condvars, joins, parked
//! spinners), the progress counter spinners watch, and waking parked spinners.

use std::cell::Cell;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::PoisonError;

use super::actor::current_actor;
use super::exec::{with_ctx, with_last, ExecCtx};
use super::schedule::OpKind;

thread_local! {
    /// Set while an actor wakes parked spinners, so the wake-up's own lock does not recurse.
    static IN_WAKE: Cell<bool> = const { Cell::new(false) };
}

impl ExecCtx {
    pub(crate) fn actor_finished(&self, actor: usize) {
        super::exec::note_op(OpKind::Wait);
        self.state().finished[actor] = true;
        self.live.fetch_and(!(1 << actor), Relaxed);
        let joiners = self.joiners.lock().unwrap_or_else(PoisonError::into_inner)[actor];
        self.unblock(joiners);
        self.note_progress_of(|| actor);
        // The last actor that could run finished: whoever is left is stuck.
        if self.parked.load(Relaxed) == 0 && !self.bail.load(Relaxed) && self.all_blocked() {
            self.end_stuck();
        }
    }

    /// Marks `mask` as certainly blocked (see `blocked`).
    pub(crate) fn block(&self, mask: u64) {
        self.blocked.fetch_or(mask, Relaxed);
    }

    /// `mask` may be able to run again.
    pub(crate) fn unblock(&self, mask: u64) {
        if mask != 0 {
            self.blocked.fetch_and(!mask, Relaxed);
        }
    }

    /// True if a spinner was parked: an engine-detected "deadlock" is then a livelock.
    pub(crate) fn has_parked_spinner(&self) -> bool {
        self.parked.load(Relaxed) != 0
    }

    /// Called just before an actor blocks: if every live actor is then certainly blocked and a
    /// spinner is parked, nobody can ever make the progress it waits for. Wake it to report the
    /// livelock and bail out (rather than let the engine see a deadlock and stop exploring).
    /// Without a parked spinner the execution is stuck (`stuck.rs`): true tells the caller to
    /// unwind instead of blocking.
    pub(crate) fn before_blocking(&self) -> bool {
        if self.bail.load(Relaxed) || !self.all_blocked() {
            return false;
        }
        let parked = self.parked.load(Relaxed);
        if parked == 0 {
            self.end_stuck();
            return self.bail.load(Relaxed);
        }
        // A parker checks for itself before it sleeps (and holds the park lock here).
        if parked & (1 << current_actor()) != 0 {
            return false;
        }
        self.livelocked.store(true, Relaxed);
        self.wake_parked();
        false
    }

    /// Wakes parked spinners after progress (engine operations only while one is parked).
    fn wake_parked(&self) {
        if self.parked.load(Relaxed) == 0 || IN_WAKE.with(Cell::get) {
            return;
        }
        IN_WAKE.with(|w| w.set(true));
        if let Some(park) = self.installed_park() {
            park.wake_all();
        }
        IN_WAKE.with(|w| w.set(false));
    }

    /// Counts progress unless `actor` is a spinner. The actor is only looked up (an engine
    /// thread-local access) while someone spins.
    #[inline]
    pub(crate) fn note_progress_of(&self, actor: impl FnOnce() -> usize) {
        let spinning = self.spinning.load(Relaxed);
        if spinning == 0 || spinning & (1 << actor()) == 0 {
            self.progress.fetch_add(1, Relaxed);
            self.wake_parked();
        }
    }
}

/// Whether the last execution started on this OS thread had a parked spinner: an engine-detected
/// "deadlock" of it is then a livelock (the spinner waits for progress nobody can make).
pub(crate) fn last_execution_had_parked_spinner() -> bool {
    with_last(|cx| cx.is_some_and(|cx| cx.has_parked_spinner()))
}

/// The verdict of the last execution started on this OS thread if the engine found it stuck:
/// (property, message), see `stuck.rs`.
pub(crate) fn last_execution_stuck_verdict() -> Option<(&'static str, String)> {
    with_last(|cx| cx.map(|cx| cx.stuck_verdict()).map(|(p, _, m)| (p, m)))
}

/// The verdict of the last execution started on this OS thread if the harness found it stuck
/// and was ending it (`stuck.rs`): (property, message).
pub(crate) fn last_execution_bailed() -> Option<(&'static str, String)> {
    with_last(|cx| {
        let cx = cx.filter(|cx| cx.bail.load(Relaxed))?;
        let s = cx.state();
        let v = s
            .violations
            .iter()
            .find(|v| [super::HUNG_TASK, super::NO_DEADLOCK].contains(&v.property.as_str()))?;
        let p = if v.property == super::HUNG_TASK {
            super::HUNG_TASK
        } else {
            super::NO_DEADLOCK
        };
        Some((p, v.message.clone()))
    })
}

/// The current actor's bit (0 outside an execution).
#[inline]
pub(crate) fn current_bit() -> u64 {
    with_ctx(|_| 1 << current_actor()).unwrap_or(0)
}

/// Marks `mask` as certainly blocked.
#[inline]
pub(crate) fn block(mask: u64) {
    if mask != 0 {
        with_ctx(|cx| cx.block(mask));
    }
}

/// Marks the current actor as certainly blocked; returns its bit (0 outside an execution).
#[inline]
pub(crate) fn block_current() -> u64 {
    with_ctx(|cx| {
        let bit = 1 << current_actor();
        cx.block(bit);
        bit
    })
    .unwrap_or(0)
}

/// The current actor is about to join `target`: blocked until it finishes.
pub(crate) fn begin_join(target: usize) -> u64 {
    // A joiner that finds the execution stuck still joins: the actor it joins unwinds and
    // finishes (see `JoinHandle::join`).
    with_ctx(|cx| {
        let me = 1 << current_actor();
        let done = cx.live.load(Relaxed) & (1 << target) == 0;
        if !done {
            cx.joiners.lock().unwrap_or_else(PoisonError::into_inner)[target] |= me;
            cx.block(me);
            cx.before_blocking();
        }
        me
    })
    .unwrap_or(0)
}

/// The current actor returned from joining `target`.
pub(crate) fn end_join(target: usize, me: u64) {
    with_ctx(|cx| {
        cx.joiners.lock().unwrap_or_else(PoisonError::into_inner)[target] &= !me;
        cx.unblock(me);
    });
}

/// The current actor is about to block for real (its bit is set and any lock it gives up is
/// released): see `ExecCtx::before_blocking`. Unwinds instead when that leaves the execution
/// stuck (`stuck.rs`).
#[inline]
pub(crate) fn before_blocking() {
    if with_ctx(|cx| cx.before_blocking()).unwrap_or(false) && super::stuck::must_bail() {
        super::stuck::bail();
    }
}

/// The actors in `mask` may be able to run again.
#[inline]
pub(crate) fn unblock(mask: u64) {
    if mask != 0 {
        with_ctx(|cx| cx.unblock(mask));
    }
}

/// Records progress of the current actor (called by lock acquisitions).
#[inline]
pub(crate) fn note_progress() {
    with_ctx(|cx| cx.note_progress_of(current_actor));
}
