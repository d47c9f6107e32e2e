//! Engine-neutral actors: spawn / join / yield, and the identity of the current actor.
//!
//! An actor is one modelled CPU or task (`"CPU1 victim"`); its name heads its column in the
//! rendered timeline. Loom allows 4 spawned actors (5 threads with main): a scenario that needs
//! more declares its variant shuttle-only.

use std::sync::Arc;

use crate::native;
pub use crate::rt::current_actor;
use crate::rt::{self, backend, set_current_actor, use_backend, Backend, ExecCtx};

/// Loom's limit on spawned threads (`loom::MAX_THREADS` is 5 including the main thread).
pub const LOOM_MAX_SPAWNED: usize = 4;

/// Handle to a spawned actor; [`join`](JoinHandle::join) returns its result.
pub struct JoinHandle<T> {
    /// `None` once joined. The actor's result is `None` when a stuck execution unwound it.
    inner: Option<JoinInner<Option<T>>>,
    actor: usize,
}

enum JoinInner<T> {
    Std(std::thread::JoinHandle<T>),
    Loom(loom::thread::JoinHandle<T>),
    Shuttle(shuttle::thread::JoinHandle<T>),
    Native(native::JoinHandle<T>),
}

impl<T> JoinHandle<T> {
    pub fn join(mut self) -> T {
        rt::note_op(rt::OpKind::Wait);
        let me = rt::begin_join(self.actor);
        let r = Self::engine_join(self.inner.take().expect("joined once"));
        rt::end_join(self.actor, me);
        rt::note_progress();
        match r.unwrap_or_else(|payload| std::panic::resume_unwind(payload)) {
            Some(v) if !rt::must_bail() => v,
            // The execution got stuck: the actor unwound, and so does whoever joins it.
            _ => rt::bail_last(),
        }
    }

    fn engine_join(inner: JoinInner<Option<T>>) -> std::thread::Result<Option<T>> {
        match inner {
            JoinInner::Std(h) => h.join(),
            JoinInner::Loom(h) => h.join(),
            JoinInner::Shuttle(h) => h.join(),
            JoinInner::Native(h) => Ok(h.join()),
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    /// A handle dropped while a stuck execution unwinds joins its actor (which unwinds too), so
    /// the execution ends with every actor finished, as the engines require.
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            if rt::bailing() {
                let me = rt::begin_join(self.actor);
                let _ = Self::engine_join(inner);
                rt::end_join(self.actor, me);
            }
        }
    }
}

/// Spawns an actor named `name` (e.g. `"CPU1 victim"`) running `f`.
pub fn spawn<F, T>(name: impl Into<String>, f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let name = name.into();
    let ctx = rt::current_ctx();
    let id = ctx.as_ref().map_or(0, |cx| cx.register_actor(name.clone()));
    let kind = backend();
    if kind == Backend::Loom {
        assert!(
            id <= LOOM_MAX_SPAWNED,
            "model error: loom supports {LOOM_MAX_SPAWNED} spawned actors; \"{name}\" is actor {id}: \
             declare the variant shuttle-only"
        );
    }
    let body = actor_body(ctx.clone(), id, f);
    let inner = match kind {
        Backend::Std => JoinInner::Std(
            std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    let _b = use_backend(Backend::Std);
                    rt::install(ctx);
                    body()
                })
                .expect("spawn OS thread"),
        ),
        Backend::Loom => JoinInner::Loom(loom::thread::spawn(body)),
        Backend::Shuttle => JoinInner::Shuttle(
            shuttle::thread::Builder::new()
                .name(name)
                .spawn(body)
                .expect("spawn shuttle task"),
        ),
        Backend::Native => JoinInner::Native(native::spawn(id, body)),
    };
    JoinHandle {
        inner: Some(inner),
        actor: id,
    }
}

/// The actor's body: runs `f`; `None` when a stuck execution unwound it (`rt::Bail`).
fn actor_body<F, T>(ctx: Option<Arc<ExecCtx>>, id: usize, f: F) -> impl FnOnce() -> Option<T>
where
    F: FnOnce() -> T,
{
    move || {
        set_current_actor(id);
        let r = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(v) => Some(v),
            // A stuck execution unwinds its actors (`rt::Bail`). loom poisons the locks their
            // frames held, so a lock taken next panics too: part of the same unwinding.
            Err(p) if p.is::<rt::Bail>() || rt::bailing() => {
                rt::unwound(id);
                None
            }
            Err(p) => std::panic::resume_unwind(p),
        };
        if let Some(cx) = ctx {
            cx.actor_finished(id);
        }
        r
    }
}

/// Gives the engine a scheduling point (`cond_resched()`, or a preemption opportunity).
#[inline]
pub fn yield_now() {
    rt::note_op(rt::OpKind::Wait);
    match backend() {
        Backend::Std => std::thread::yield_now(),
        Backend::Loom => loom::thread::yield_now(),
        Backend::Shuttle => shuttle::thread::yield_now(),
        // A schedule point of its own, as under shuttle: what the actor does next (even to ghost
        // state) is a new step.
        Backend::Native => native::schedule(),
    }
}
