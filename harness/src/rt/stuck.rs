//! A stuck execution: every live actor certainly blocked. What each blocked actor waits for
//! ([`Blocker`]), the verdict in kernel words (`hung-task` when a task sleeps in `schedule()`
//! for ever, else `no-deadlock`, naming only the parties that wait for something other than a
//! `join`), and how the execution then ends without the engine seeing a deadlock: every blocked
//! actor is woken and unwinds ([`Bail`]), so shuttle goes on exploring. loom cannot follow that
//! unwinding (`EngineKind::ends_stuck_executions` says which engine can): it reports the deadlock itself and stops, with the
//! same verdict.
//!
//! Sound because the blocked bits are conservative (a set bit always means the actor cannot run
//! until another acts). When the bits miss a stuck state (a `notify_one()` clears every waiter's
//! bit), the engine still reports the deadlock itself, as before: loom then stops exploring.

use std::panic::resume_unwind;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, PoisonError};

use super::actor::current_actor;
use super::backend::{backend, Backend};
use super::blocker::{Bail, Blocker, Wake};
use super::exec::{with_ctx, ExecCtx};
use super::id::PropertyId;
use super::property::{HUNG_TASK, NO_DEADLOCK};

impl ExecCtx {
    /// Whether the harness ends stuck executions itself under this engine (the engine says:
    /// `EngineKind::ends_stuck_executions`; shuttle only, loom stops at the deadlock).
    fn ends_stuck_executions(&self) -> bool {
        self.ends_stuck
    }

    /// True if every live actor is certainly blocked.
    pub(crate) fn all_blocked(&self) -> bool {
        let live = self.live.load(Relaxed);
        live != 0 && live & !self.blocked.load(Relaxed) == 0
    }

    /// The property and message of a stuck execution: `hung-task` naming the tasks asleep for
    /// ever in `TASK_UNINTERRUPTIBLE` (the only state the kernel's hung task detector watches),
    /// else `no-deadlock` naming the actors waiting for locks or wait queues, or asleep
    /// interruptibly. An actor waiting in `join()` (the scenario's `main`) is never a party.
    pub(crate) fn stuck_verdict(&self) -> (PropertyId, usize, String) {
        let live = self.live.load(Relaxed);
        let waits = self.waits.lock().unwrap_or_else(PoisonError::into_inner);
        let names = self.state().actors.clone();
        let parties: Vec<(usize, &Blocker)> = waits
            .iter()
            .enumerate()
            .filter(|&(a, _)| live & 1 << a != 0)
            .filter_map(|(a, w)| w.as_ref().map(|(b, _)| (a, b)))
            .collect();
        let name = |a: usize| {
            names
                .get(a)
                .cloned()
                .unwrap_or_else(|| format!("actor {a}"))
        };
        let sleepers: Vec<&(usize, &Blocker)> = parties
            .iter()
            .filter(|(_, b)| {
                matches!(b, Blocker::Sleep { state, .. } if *state == "TASK_UNINTERRUPTIBLE")
            })
            .collect();
        if let Some(&&(first, _)) = sleepers.first() {
            let who: Vec<String> = sleepers
                .iter()
                .map(|(a, b)| b.describe(&name(*a)))
                .collect();
            let what = if sleepers.len() == 1 {
                "hung task"
            } else {
                "hung tasks"
            };
            let msg = format!(
                "{what}: {}, and no task is left that could wake it",
                who.join("; ")
            );
            return (HUNG_TASK, first, msg);
        }
        let who: Vec<String> = parties.iter().map(|(a, b)| b.describe(&name(*a))).collect();
        let first = parties.first().map_or(0, |p| p.0);
        let msg = if who.is_empty() {
            "deadlock: every CPU is blocked".to_string()
        } else {
            format!("deadlock: {}; nothing else can run", who.join(", "))
        };
        (NO_DEADLOCK, first, msg)
    }

    /// Every live actor is blocked and no spinner is parked: record the verdict, then wake
    /// every actor sleeping on an engine object so that all of them unwind ([`Bail`]).
    pub(crate) fn end_stuck(&self) {
        if !self.ends_stuck_executions() || self.bail.swap(true, Relaxed) {
            return;
        }
        let (property, actor, message) = self.stuck_verdict();
        self.spent.store(false, Relaxed);
        self.violate(actor, property, message, true);
        let me = current_actor();
        let mut wakes: Vec<Arc<dyn Wake>> = vec![];
        for (a, w) in self
            .waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .enumerate()
        {
            if let Some((_, Some(wake))) = w.as_ref().filter(|_| a != me) {
                if !wakes.iter().any(|x| Arc::ptr_eq(x, wake)) {
                    wakes.push(wake.clone());
                }
            }
        }
        // Engine operations: never under the `waits` lock.
        for w in wakes {
            w.wake();
        }
    }
}

/// The current actor is about to block on `blocker` (woken through `wake` if the execution
/// gets stuck).
pub(crate) fn waiting(blocker: Blocker, wake: Option<Arc<dyn Wake>>) {
    with_ctx(|cx| {
        let me = current_actor();
        let mut w = cx.waits.lock().unwrap_or_else(PoisonError::into_inner);
        if w.len() <= me {
            w.resize_with(me + 1, || None);
        }
        w[me] = Some((blocker, wake));
    });
}

/// The actors in `mask` (registered for a lock the current actor just took, even one preempted
/// before its engine call) wait for `blocker`.
pub(crate) fn others_wait(mask: u64, blocker: Blocker) {
    if mask == 0 {
        return;
    }
    with_ctx(|cx| {
        let mut w = cx.waits.lock().unwrap_or_else(PoisonError::into_inner);
        for a in (0..64).filter(|a| mask & 1 << a != 0) {
            if w.len() <= a {
                w.resize_with(a + 1, || None);
            }
            if w[a].is_none() {
                w[a] = Some((blocker.clone(), None));
            }
        }
    });
}

/// The current actor no longer waits.
pub(crate) fn done_waiting() {
    with_ctx(|cx| {
        let me = current_actor();
        if let Some(w) = cx
            .waits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(me)
        {
            *w = None;
        }
    });
}

/// Whether the current execution got stuck and its actors are unwinding.
#[inline]
pub(crate) fn bailing() -> bool {
    with_ctx(|cx| cx.bail.load(Relaxed)).unwrap_or(false)
}

/// Whether the current actor must unwind now: the execution got stuck and the actor is not
/// already unwinding. (Not `std::thread::panicking()`: loom and shuttle run every actor on one
/// OS thread, so that says whether *some* actor unwinds.)
#[inline]
pub(crate) fn must_bail() -> bool {
    with_ctx(|cx| cx.bail.load(Relaxed) && cx.unwinding.load(Relaxed) & 1 << current_actor() == 0)
        .unwrap_or(false)
}

/// Unwinds the current actor of a stuck execution, one actor at a time: the engines cannot
/// tell apart two actors unwinding at once (they share one OS thread's panic count).
pub(crate) fn bail() -> ! {
    let me = 1u64 << current_actor();
    loop {
        let free = with_ctx(|cx| {
            let busy = cx.unwinding.load(Relaxed) & !me != 0;
            if !busy {
                cx.unwinding.fetch_or(me, Relaxed);
            }
            !busy
        })
        .unwrap_or(true);
        if free {
            break;
        }
        engine_yield();
    }
    resume_unwind(Box::new(Bail))
}

/// The scenario's own thread (`main`) unwinds last: it waits until every actor it spawned has
/// finished unwinding, so that its own unwinding (which joins their dropped handles) never
/// overlaps another's.
pub(crate) fn bail_last() -> ! {
    if current_actor() == 0 {
        while with_ctx(|cx| cx.live.load(Relaxed) & !1 != 0).unwrap_or(false) {
            engine_yield();
        }
    }
    bail()
}

/// Actor `actor` finished unwinding (its body caught [`Bail`]).
pub(crate) fn unwound(actor: usize) {
    with_ctx(|cx| cx.unwinding.fetch_and(!(1u64 << actor), Relaxed));
}

/// A scheduling point of the current engine (the runtime does not import `thread`).
fn engine_yield() {
    match backend() {
        Backend::Std => std::thread::yield_now(),
        Backend::Loom => loom::thread::yield_now(),
        Backend::Shuttle => shuttle::thread::yield_now(),
        // The native runtime ends a stuck execution itself and never bails.
        Backend::Native => {}
    }
}

/// The verdict on the current execution, stuck now (see `ExecCtx::stuck_verdict`): the native
/// runtime, which finds stuck executions itself, words them as the other engines do.
pub(crate) fn stuck_verdict() -> Option<(PropertyId, usize, String)> {
    with_ctx(|cx| cx.stuck_verdict())
}
