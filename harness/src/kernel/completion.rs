//! Completions (`kernel/sched/completion.c`): `complete()`, `complete_all()`,
//! `wait_for_completion()`, `try_wait_for_completion()`, `completion_done()`.
//!
//! `struct completion` is `done` and a simple wait queue (`swait`) whose lock protects both;
//! here the lock's data is the list of waiting tasks and `done` is an atomic written under it
//! (read without the lock by `completion_done()` and `try_wait_for_completion()`).

use std::collections::VecDeque;
use std::sync::Arc;

use super::task::{
    __set_current_state, current, schedule, try_to_wake_up, Task, TASK_NORMAL, TASK_RUNNING,
    TASK_UNINTERRUPTIBLE,
};
use crate::lkmm::{read_once, write_once};
use crate::sync::{AtomicU32, Mutex};

/// `UINT_MAX`: `complete_all()`'s "done for everyone".
const UINT_MAX: u32 = u32::MAX;

/// `struct completion`.
pub struct Completion {
    name: &'static str,
    /// `x->done`.
    done: AtomicU32,
    /// `x->wait.lock` and `x->wait.task_list`.
    wait: Mutex<VecDeque<Arc<Task>>>,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Completion({})", self.name)
    }
}

impl Completion {
    /// `DECLARE_COMPLETION(name)` / `init_completion()`.
    pub fn new(name: &'static str) -> Self {
        Completion {
            name,
            done: AtomicU32::new(0),
            wait: Mutex::named("x->wait.lock", VecDeque::new()),
        }
    }

    /// `complete(x)`: under the lock, `done++` (unless `complete_all()` ran) and wake the first
    /// waiter (`swake_up_locked()`: `try_to_wake_up()`, then unqueue it).
    pub fn complete(&self) {
        let mut list = self.wait.lock();
        let done = read_once(&self.done);
        if done != UINT_MAX {
            write_once(&self.done, done + 1);
        }
        crate::ev!(
            "complete",
            "{}: done = {}",
            self.name,
            done.saturating_add(1)
        );
        if let Some(t) = list.pop_front() {
            try_to_wake_up(&t, TASK_NORMAL);
        }
        drop(list);
    }

    /// `complete_all(x)`: under the lock, `done = UINT_MAX` and wake every waiter.
    pub fn complete_all(&self) {
        let mut list = self.wait.lock();
        write_once(&self.done, UINT_MAX);
        crate::ev!("complete_all", "{}: done = UINT_MAX", self.name);
        while let Some(t) = list.pop_front() {
            try_to_wake_up(&t, TASK_NORMAL);
        }
        drop(list);
    }

    /// `wait_for_completion(x)`: `might_sleep()`; under the lock, while `done` is 0: queue
    /// `current` at the tail (`__prepare_to_swait()`), `__set_current_state(TASK_UNINTERRUPTIBLE)`,
    /// unlock, `schedule()`, lock again (`do_wait_for_common()`); then `done--` unless
    /// `complete_all()` ran. No timeout.
    pub fn wait_for_completion(&self) {
        super::irq::might_sleep();
        let me = current();
        me.sleeps_on(self.name, Some("complete()"));
        let mut list = self.wait.lock();
        if read_once(&self.done) == 0 {
            crate::ev!("wait_for_completion", "{}: done = 0, waits", self.name);
            loop {
                if !list.iter().any(|t| Arc::ptr_eq(t, &me)) {
                    list.push_back(me.clone());
                }
                __set_current_state(TASK_UNINTERRUPTIBLE);
                drop(list);
                schedule();
                list = self.wait.lock();
                if read_once(&self.done) != 0 {
                    break;
                }
            }
            // __finish_swait()
            __set_current_state(TASK_RUNNING);
            list.retain(|t| !Arc::ptr_eq(t, &me));
        }
        let done = read_once(&self.done);
        if done != UINT_MAX {
            write_once(&self.done, done - 1);
        }
        crate::ev!("wait_for_completion", "{}: completed", self.name);
        drop(list);
    }

    /// `try_wait_for_completion(x)`: false without sleeping if `done` is 0 (read first without
    /// the lock), else consume one as [`Completion::wait_for_completion`] does.
    pub fn try_wait_for_completion(&self) -> bool {
        if read_once(&self.done) == 0 {
            return false;
        }
        let list = self.wait.lock();
        let done = read_once(&self.done);
        let ok = done != 0;
        if ok && done != UINT_MAX {
            write_once(&self.done, done - 1);
        }
        drop(list);
        ok
    }

    /// `completion_done(x)`: whether a `wait_for_completion()` would not sleep; `done` read
    /// without the lock, then the lock taken and released so a concurrent `complete()` has
    /// finished with the completion before the caller may free it.
    pub fn completion_done(&self) -> bool {
        if read_once(&self.done) == 0 {
            return false;
        }
        drop(self.wait.lock());
        true
    }
}
