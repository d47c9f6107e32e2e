//! Actor-local values: state that belongs to one modelled CPU or task (its `task_struct`, its
//! interrupt and preemption state), kept per execution and actor, like a per-CPU variable.

use std::any::Any;
use std::cell::RefCell;
use std::sync::{Arc, PoisonError};

use super::actor::current_actor;
use super::exec::with_ctx;

thread_local! {
    /// Outside an execution (a model's unit test): this OS thread's values.
    static OUTSIDE: RefCell<Vec<Arc<dyn Any + Send + Sync>>> = const { RefCell::new(vec![]) };
}

fn find<T: Any + Send + Sync>(v: &[Arc<dyn Any + Send + Sync>]) -> Option<Arc<T>> {
    v.iter().find_map(|x| x.clone().downcast::<T>().ok())
}

/// The current actor's value of type `T`, created by `init` on first use.
pub fn actor_local<T: Any + Send + Sync>(init: impl FnOnce() -> T) -> Arc<T> {
    if let Some(v) = find_current::<T>() {
        return v;
    }
    // `init` may build engine primitives (scheduling points): never under the lock.
    let v = Arc::new(init());
    set_actor_local(v.clone());
    v
}

fn find_current<T: Any + Send + Sync>() -> Option<Arc<T>> {
    let inside = with_ctx(|cx| {
        let me = current_actor();
        let l = cx.locals.lock().unwrap_or_else(PoisonError::into_inner);
        l.get(me).and_then(|v| find::<T>(v))
    });
    match inside {
        Some(v) => v,
        None => OUTSIDE.with(|o| find::<T>(&o.borrow())),
    }
}

/// Installs `v` as the current actor's value of type `T` (replacing any).
pub fn set_actor_local<T: Any + Send + Sync>(v: Arc<T>) {
    let v: Arc<dyn Any + Send + Sync> = v;
    let put = |l: &mut Vec<Arc<dyn Any + Send + Sync>>| {
        l.retain(|x| !x.is::<T>());
        l.push(v.clone());
    };
    let inside = with_ctx(|cx| {
        let me = current_actor();
        let mut l = cx.locals.lock().unwrap_or_else(PoisonError::into_inner);
        if l.len() <= me {
            l.resize_with(me + 1, Vec::new);
        }
        put(&mut l[me]);
    });
    if inside.is_none() {
        OUTSIDE.with(|o| put(&mut o.borrow_mut()));
    }
}
