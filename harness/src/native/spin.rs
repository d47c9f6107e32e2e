//! Spin loops as waits: an iteration of a [`Spinner`](crate::Spinner) loop that wrote nothing
//! (but locks it took and released again) and read nothing another actor wrote meanwhile would
//! only repeat itself, so instead of spinning the actor waits for a write of something it read
//! (the await reduction of GenMC and Nidhugg). A spinner that nothing can wake is a live lock.

use super::exec::{self, Run};
use super::track::SpinTrack;

/// Whether the iteration can only repeat itself: it changed nothing, and no other actor
/// wrote what it read since it began.
fn idle(t: &SpinTrack, run: &Run, me: usize) -> bool {
    if t.wrote || t.locks.iter().any(|&(_, n)| n != 0) {
        return false;
    }
    (t.from as usize..run.steps.len())
        .filter(|&i| run.steps[i].actor as usize != me)
        .all(|i| {
            !run.footprint(i)
                .iter()
                .any(|a| a.is_write() && t.reads.contains(&a.obj))
        })
}

/// One `cpu_relax()` of spin loop `what`: returns at once unless the iteration just finished
/// was idle; then waits until something it read is written. False when the actor is let go
/// from a live lock.
pub(crate) fn relax(what: &'static str) -> bool {
    let me = exec::current();
    let idle = exec::with_spin(|t, run| {
        let prev = t.replace(SpinTrack::new(run.steps.len() as u32 - 1));
        prev.filter(|p| idle(p, run, me)).map(|p| p.reads)
    });
    let Some(Some(reads)) = idle else {
        // Not idle: a schedule point, as every engine's `cpu_relax()` is.
        exec::schedule();
        return true;
    };
    let go_on = exec::await_write(reads, Some(what));
    exec::with_spin(|t, run| *t = Some(SpinTrack::new(run.steps.len() as u32 - 1)));
    go_on
}

/// The spin loop is left: stop tracking.
pub(crate) fn end() {
    exec::with_spin(|t, _| *t = None);
}

/// The running actor wrote data behind a lock (see [`SpinTrack::dirty`]).
pub(crate) fn dirty() {
    exec::with_spin(|t, _| {
        if let Some(t) = t {
            t.dirty();
        }
    });
}
