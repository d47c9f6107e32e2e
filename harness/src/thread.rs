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
    inner: JoinInner<T>,
    actor: usize,
}

enum JoinInner<T> {
    Std(std::thread::JoinHandle<T>),
    Loom(loom::thread::JoinHandle<T>),
    Shuttle(shuttle::thread::JoinHandle<T>),
    Native(native::JoinHandle<T>),
}

impl<T> JoinHandle<T> {
    pub fn join(self) -> T {
        rt::note_op(rt::OpKind::Wait);
        let me = rt::begin_join(self.actor);
        let r = match self.inner {
            JoinInner::Std(h) => h.join(),
            JoinInner::Loom(h) => h.join(),
            JoinInner::Shuttle(h) => h.join(),
            JoinInner::Native(h) => Ok(h.join()),
        };
        rt::end_join(self.actor, me);
        rt::note_progress();
        r.unwrap_or_else(|payload| std::panic::resume_unwind(payload))
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
    JoinHandle { inner, actor: id }
}

fn actor_body<F, T>(ctx: Option<Arc<ExecCtx>>, id: usize, f: F) -> impl FnOnce() -> T
where
    F: FnOnce() -> T,
{
    move || {
        set_current_actor(id);
        let r = f();
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
