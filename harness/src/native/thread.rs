//! Native actors: spawning one (a coroutine whose first step reads what its spawn wrote) and
//! joining it (a step of its own, enabled once the child has exited).

use std::sync::{Arc, Mutex, PoisonError};

use super::access::{Obj, Op};
use super::exec::{self, block, new_obj, record, Block};

pub(crate) struct JoinHandle<T> {
    actor: usize,
    obj: Obj,
    slot: Arc<Mutex<Option<T>>>,
}

/// Spawns actor `id` running `f`.
pub(crate) fn spawn<T: 'static>(id: usize, f: impl FnOnce() -> T + 'static) -> JoinHandle<T> {
    let obj = new_obj();
    let slot = Arc::new(Mutex::new(None));
    let out = slot.clone();
    exec::spawn(
        id,
        obj,
        Box::new(move || {
            let r = f();
            *out.lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
        }),
    );
    JoinHandle {
        actor: id,
        obj,
        slot,
    }
}

impl<T> JoinHandle<T> {
    pub(crate) fn join(self) -> T {
        block(Block::Join(self.actor));
        record(Op::Join(self.obj));
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("a finished actor left its result")
    }
}
