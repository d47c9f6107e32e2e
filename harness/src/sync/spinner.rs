//! [`Spinner`]: a spin-wait loop that yields to the engine and reports a livelock when nothing
//! can relieve it, parking (on an engine lock and condvar) while someone still might.

use std::any::Any;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use super::{Condvar, Mutex};
use crate::native;
use crate::rt::{
    backend, current_actor, current_ctx, marks, recording, Backend, ExecCtx, Mark, Park, SpinLimit,
    NO_LIVELOCK,
};
use crate::thread::yield_now;

/// A spin-wait loop (`cpu_relax()` in a retry loop, `smp_cond_load_acquire()`).
///
/// Each [`relax`](Spinner::relax) yields to the engine. When no other actor has made progress
/// across the configured number of spins, the spinner can never be relieved: the harness records
/// a [`NO_LIVELOCK`] violation and `relax` returns false so the loop can bail out instead of
/// hanging (or hitting loom's bare branch limit).
pub struct Spinner {
    what: &'static str,
    actor: usize,
    last_progress: u64,
    idle_spins: u32,
    idle_since: Instant,
    /// Recorded executions: whether this loop's spinning was marked yet.
    marked: bool,
}

impl Spinner {
    /// `what` names the loop in the livelock report, e.g. `"mm_get_cid"`.
    pub fn new(what: &'static str) -> Self {
        Spinner {
            what,
            actor: current_actor(),
            last_progress: u64::MAX,
            idle_spins: 0,
            idle_since: Instant::now(),
            marked: false,
        }
    }

    /// One `cpu_relax()`. Returns false when the loop must give up (livelock, or the execution
    /// already violated a property).
    pub fn relax(&mut self) -> bool {
        let Some(cx) = current_ctx() else {
            yield_now();
            return true;
        };
        if cx.spent.load(Relaxed) {
            return false;
        }
        cx.spinning.fetch_or(1 << self.actor, Relaxed);
        if !self.marked && recording() {
            self.marked = true;
            let what = self.what.to_string();
            marks::note(|_| Mark::Spins { what });
        }
        if backend() == Backend::Native {
            // An idle iteration waits for a write of what it read; a spinner nothing can wake
            // is reported by the runtime, which then lets it go (`false`).
            return native::spin::relax(self.what);
        }
        let now = cx.progress.load(Relaxed);
        if now != self.last_progress {
            self.last_progress = now;
            self.idle_spins = 0;
            self.idle_since = Instant::now();
        } else {
            self.idle_spins += 1;
        }
        let stuck = match cx.spin_limit {
            SpinLimit::Spins(n) => self.idle_spins >= n,
            SpinLimit::Time(d) => self.idle_since.elapsed() >= d,
        };
        if stuck && matches!(cx.spin_limit, SpinLimit::Spins(_)) {
            let others = cx.live.load(Relaxed) & !(1 << self.actor);
            if others & !cx.blocked.load(Relaxed) != 0 {
                // Someone else may still relieve this spinner: sleep until it makes progress
                // rather than spin, so no unfair schedule can starve it into a false livelock.
                park(&cx, self.actor, now);
                if cx.livelocked.load(Relaxed) {
                    let msg = format!(
                        "{} spins while every other CPU is blocked: nothing can relieve it",
                        self.what
                    );
                    cx.violate(self.actor, NO_LIVELOCK, msg, true);
                    return false;
                }
                if cx.spent.load(Relaxed) {
                    return false;
                }
                self.last_progress = cx.progress.load(Relaxed);
                self.idle_spins = 0;
                return true;
            }
        }
        if stuck {
            let msg = format!(
                "{} spins while every other CPU is blocked or spinning: nothing can relieve it",
                self.what
            );
            cx.violate(self.actor, NO_LIVELOCK, msg, true);
            return false;
        }
        yield_now();
        true
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if backend() == Backend::Native {
            native::spin::end();
        }
        if let Some(cx) = current_ctx() {
            cx.spinning.fetch_and(!(1 << self.actor), Relaxed);
        }
    }
}

/// The engine-level lock and condvar parked spinners of one execution sleep on.
struct ParkLot {
    lock: Mutex<()>,
    cv: Condvar,
}

impl Park for ParkLot {
    fn wake_all(&self) {
        let g = self.lock.lock();
        self.cv.notify_all();
        drop(g);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Parks spinner `actor` until the progress counter moves past `seen` (or the execution
/// has a fatal violation).
fn park(cx: &ExecCtx, actor: usize, seen: u64) {
    let me = 1 << actor;
    cx.parked.fetch_or(me, Relaxed);
    let lot = cx.park_with(|| ParkLot {
        lock: Mutex::internal(()),
        cv: Condvar::of(super::condvar::Kind::Internal),
    });
    let mut g = lot.lock.lock();
    while cx.progress.load(Relaxed) == seen
        && !cx.spent.load(Relaxed)
        && !cx.livelocked.load(Relaxed)
    {
        // About to sleep: if every other actor is certainly blocked, nobody can wake us.
        // Waiters for the park lock are not: sleeping releases it.
        let blocked = cx.blocked.load(Relaxed) & !lot.lock.waiters();
        if cx.live.load(Relaxed) & !me & !blocked == 0 {
            cx.livelocked.store(true, Relaxed);
            break;
        }
        g = lot.cv.wait(g);
    }
    drop(g);
    cx.parked.fetch_and(!me, Relaxed);
}
