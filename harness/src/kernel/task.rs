//! `current`, task state and the scheduler's sleep and wake-up (`kernel/sched/core.c`):
//! `set_current_state()`, `schedule()`, `try_to_wake_up()`.
//!
//! One simplification throughout: the task's `pi_lock` stands for both locks the kernel takes
//! (`p->pi_lock` in `try_to_wake_up()`, the runqueue lock in `__schedule()`), so a sleeping
//! task's deactivation and its wake-up are serialized by one lock, as the two locks together
//! serialize them in the kernel. `p->on_rq` is not modelled: a task is asleep from the moment
//! `schedule()` saw it not `TASK_RUNNING` until a wake-up made it `TASK_RUNNING`.

use std::sync::Arc;

use crate::lkmm::{read_once, smp_mb__after_spinlock, smp_store_mb, write_once};
use crate::rt::{self, Blocker};
use crate::sync::{AtomicU32, Condvar, Mutex};
use crate::thread::{spawn, JoinHandle};

/// `TASK_RUNNING`.
pub const TASK_RUNNING: u32 = 0x0000;
/// `TASK_INTERRUPTIBLE` (signals are not modelled: it sleeps as uninterruptibly; asleep for
/// ever it is part of a `no-deadlock`, never a `hung-task`, as the hung task detector skips it).
pub const TASK_INTERRUPTIBLE: u32 = 0x0001;
/// `TASK_UNINTERRUPTIBLE`.
pub const TASK_UNINTERRUPTIBLE: u32 = 0x0002;
/// `TASK_NORMAL`: what `wake_up()` and `wake_up_process()` wake.
pub const TASK_NORMAL: u32 = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;

/// The state's name as the kernel writes it.
pub(super) fn state_name(state: u32) -> &'static str {
    match state {
        TASK_RUNNING => "TASK_RUNNING",
        TASK_INTERRUPTIBLE => "TASK_INTERRUPTIBLE",
        TASK_UNINTERRUPTIBLE => "TASK_UNINTERRUPTIBLE",
        _ => "TASK_NORMAL",
    }
}

/// The parts of `struct task_struct` sleeping and waking use.
pub struct Task {
    /// `p->comm`: the actor's name.
    pub comm: String,
    /// `p->__state`.
    state: AtomicU32,
    /// `p->pi_lock` (and the runqueue lock, see the module docs).
    pi_lock: Mutex<()>,
    /// Where `schedule()` sleeps until a wake-up.
    wake: Condvar,
    /// What the task queued on last (a wait queue, a completion) and waits for, for reports.
    sleep: std::sync::Mutex<(Option<&'static str>, Option<&'static str>)>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Task({})", self.comm)
    }
}

impl Task {
    /// A task named `comm`, `TASK_RUNNING`.
    pub fn new(comm: impl Into<String>) -> Self {
        Task {
            comm: comm.into(),
            state: AtomicU32::new(TASK_RUNNING),
            pi_lock: Mutex::named("p->pi_lock", ()),
            wake: Condvar::new(),
            sleep: std::sync::Mutex::new((None, None)),
        }
    }

    /// Notes what the task queues on and waits for (shown if it sleeps for ever).
    pub(super) fn sleeps_on(&self, on: &'static str, cond: Option<&'static str>) {
        let mut s = self
            .sleep
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *s = (Some(on), cond.or(s.1.filter(|_| s.0 == Some(on))));
    }
}

/// `current`: the running actor's task (created at its first use, named after the actor).
pub fn current() -> Arc<Task> {
    rt::actor_local(|| Task::new(rt::current_actor_name()))
}

/// Spawns an actor whose `current` is a task created now, so the spawner can wake it
/// (`kthread_run()` returning the `task_struct`, simplified: the task runs at once).
pub fn spawn_task<F, T>(name: &str, f: F) -> (JoinHandle<T>, Arc<Task>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let task = Arc::new(Task::new(name));
    let t = task.clone();
    let h = spawn(name, move || {
        rt::set_actor_local(t);
        f()
    });
    (h, task)
}

/// `set_current_state(state)`: `smp_store_mb(current->__state, state)`, the store and a full
/// barrier, so the condition the task reads next cannot be read before its state is visible
/// to a waker (include/linux/sched.h). Exact.
pub fn set_current_state(state: u32) {
    let p = current();
    smp_store_mb(&p.state, state);
    crate::ev!("set_current_state", "{}; smp_mb()", state_name(state));
}

/// `__set_current_state(state)`: `WRITE_ONCE(current->__state, state)`, no barrier. Exact.
pub fn __set_current_state(state: u32) {
    let p = current();
    write_once(&p.state, state);
    crate::ev!("__set_current_state", "{}", state_name(state));
}

/// `schedule()`: `__schedule()` takes the runqueue lock, `smp_mb__after_spinlock()`, reads
/// `prev->__state`; a task that is not `TASK_RUNNING` is deactivated and sleeps until
/// `try_to_wake_up()` makes it `TASK_RUNNING` (one lock for both, see the module docs).
/// `schedule_debug()`'s "scheduling while atomic" is the [`super::SCHEDULING_WHILE_ATOMIC`]
/// property; signals and the choice of the next task are not modelled.
pub fn schedule() {
    super::irq::schedule_debug();
    let p = current();
    let mut g = p.pi_lock.lock();
    smp_mb__after_spinlock();
    let state = read_once(&p.state);
    if state == TASK_RUNNING {
        drop(g);
        crate::ev!("schedule", "TASK_RUNNING: keeps running");
        return;
    }
    crate::ev!("schedule", "{}: deactivated, sleeps", state_name(state));
    let (on, cond) = *p
        .sleep
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let blocker = Blocker::Sleep {
        state: state_name(state),
        on,
        cond,
    };
    while read_once(&p.state) != TASK_RUNNING {
        g = p.wake.wait_as(g, blocker.clone());
    }
    drop(g);
    crate::ev!("schedule", "woken: TASK_RUNNING");
}

/// `try_to_wake_up(p, state, 0)`: under `p->pi_lock` with `smp_mb__after_spinlock()` (which
/// orders the waker's earlier stores, the condition, before its read of `p->__state`: the
/// pairing of `set_current_state()`'s barrier), wakes `p` if its state matches `state`
/// (`ttwu_state_match()`), making it `TASK_RUNNING`. True if it woke it.
pub fn try_to_wake_up(p: &Task, state: u32) -> bool {
    let g = p.pi_lock.lock();
    smp_mb__after_spinlock();
    let s = read_once(&p.state);
    if s & state == 0 {
        drop(g);
        crate::ev!(
            "try_to_wake_up",
            "{} is {}: nothing to wake",
            p.comm,
            state_name(s)
        );
        return false;
    }
    write_once(&p.state, TASK_RUNNING);
    // The wake-up before its event: a woken task's mark names the waker's next event, this one.
    p.wake.notify_one();
    crate::ev!(
        "try_to_wake_up",
        "{}: {} -> TASK_RUNNING",
        p.comm,
        state_name(s)
    );
    drop(g);
    true
}

/// `wake_up_process(p)`: `try_to_wake_up(p, TASK_NORMAL, 0)`.
pub fn wake_up_process(p: &Task) -> bool {
    try_to_wake_up(p, TASK_NORMAL)
}

/// `wake_up_state(p, state)`: `try_to_wake_up(p, state, 0)`.
pub fn wake_up_state(p: &Task, state: u32) -> bool {
    try_to_wake_up(p, state)
}
