//! Wait queues (`include/linux/wait.h`, `kernel/sched/wait.c`): `prepare_to_wait()`,
//! `finish_wait()`, `wake_up()`, `waitqueue_active()`, `wq_has_sleeper()`, `wait_event()`.
//!
//! The list is a `Vec` of entries under `wq_head->lock`. What the kernel reads without the lock
//! is an atomic written under it: the head's `next` pointer (`waitqueue_active()`'s
//! `list_empty()`, here whether the list is non-empty) and each entry's own list linkage
//! (`finish_wait()`'s `list_empty_careful()`). Wake functions: `autoremove_wake_function()` for
//! entries from [`WaitQueueEntry::new`] (`DEFINE_WAIT()`, `init_wait_entry()`).

use std::sync::Arc;

use super::task::{current, schedule, set_current_state, Task, TASK_NORMAL, TASK_RUNNING};
use super::task::{try_to_wake_up, TASK_UNINTERRUPTIBLE};
use crate::lkmm::{read_once, smp_load_acquire, smp_mb, smp_store_release, write_once};
use crate::sync::{AtomicBool, Mutex};

/// `struct wait_queue_head`.
pub struct WaitQueueHead {
    name: &'static str,
    /// `wq_head->lock` and the list it protects.
    lock: Mutex<Vec<Arc<WaitQueueEntry>>>,
    /// `wq_head->head.next != &wq_head->head`, what `waitqueue_active()` reads.
    active: AtomicBool,
}

/// `struct wait_queue_entry` (`DEFINE_WAIT()`): the waiting task and its list linkage.
pub struct WaitQueueEntry {
    /// `WQ_FLAG_EXCLUSIVE`.
    exclusive: std::sync::atomic::AtomicBool,
    /// `wq_entry->private`: the task to wake.
    private: Arc<Task>,
    /// `!list_empty(&wq_entry->entry)`.
    queued: AtomicBool,
}

impl WaitQueueEntry {
    /// `DEFINE_WAIT(wait)`: an entry for `current` with `autoremove_wake_function()`.
    pub fn new() -> Arc<Self> {
        Arc::new(WaitQueueEntry {
            exclusive: std::sync::atomic::AtomicBool::new(false),
            private: current(),
            queued: AtomicBool::new(false),
        })
    }
}

impl WaitQueueHead {
    /// `DECLARE_WAIT_QUEUE_HEAD(name)` / `init_waitqueue_head()`; `name` is used in timelines
    /// and hung-task reports (`"wq"`, `"&ep->wq"`).
    pub fn new(name: &'static str) -> Self {
        WaitQueueHead {
            name,
            lock: Mutex::named("wq_head->lock", vec![]),
            active: AtomicBool::new(false),
        }
    }

    /// The queue's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl std::fmt::Debug for WaitQueueHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WaitQueueHead({})", self.name)
    }
}

/// `__add_wait_queue()` / `__add_wait_queue_entry_tail()` under `wq_head->lock`.
fn add(wq: &WaitQueueHead, list: &mut Vec<Arc<WaitQueueEntry>>, e: &Arc<WaitQueueEntry>) {
    if e.exclusive.load(std::sync::atomic::Ordering::Relaxed) {
        list.push(e.clone());
    } else {
        list.insert(0, e.clone());
    }
    write_once(&e.queued, true);
    write_once(&wq.active, true);
    e.private.sleeps_on(wq.name, None);
}

/// `list_del_init()` of `e` under `wq_head->lock`.
fn del(wq: &WaitQueueHead, list: &mut Vec<Arc<WaitQueueEntry>>, e: &Arc<WaitQueueEntry>) {
    list.retain(|x| !Arc::ptr_eq(x, e));
    write_once(&wq.active, !list.is_empty());
}

fn prepare(wq: &WaitQueueHead, e: &Arc<WaitQueueEntry>, state: u32, exclusive: bool) -> bool {
    e.exclusive
        .store(exclusive, std::sync::atomic::Ordering::Relaxed);
    let mut list = wq.lock.lock();
    let was_empty = list.is_empty();
    if !read_once(&e.queued) {
        add(wq, &mut list, e);
        crate::ev!(
            "prepare_to_wait",
            "{}: queued on {}",
            e.private.comm,
            wq.name
        );
    }
    set_current_state(state);
    drop(list);
    was_empty
}

/// `prepare_to_wait(wq_head, wq_entry, state)`: under `wq_head->lock`, queue the entry (if it
/// is not queued) at the head, then `set_current_state(state)` (with its full barrier).
pub fn prepare_to_wait(wq: &WaitQueueHead, e: &Arc<WaitQueueEntry>, state: u32) {
    prepare(wq, e, state, false);
}

/// `prepare_to_wait_exclusive()`: as [`prepare_to_wait`], queued at the tail with
/// `WQ_FLAG_EXCLUSIVE`; true if the queue was empty.
pub fn prepare_to_wait_exclusive(wq: &WaitQueueHead, e: &Arc<WaitQueueEntry>, state: u32) -> bool {
    prepare(wq, e, state, true)
}

/// `prepare_to_wait_event()`: what `wait_event()` calls (signals not modelled).
pub fn prepare_to_wait_event(wq: &WaitQueueHead, e: &Arc<WaitQueueEntry>, state: u32) {
    let exclusive = e.exclusive.load(std::sync::atomic::Ordering::Relaxed);
    prepare(wq, e, state, exclusive);
}

/// `finish_wait(wq_head, wq_entry)`: `__set_current_state(TASK_RUNNING)`, then, if
/// `list_empty_careful()` (an acquire of the entry's linkage, pairing with the
/// `smp_store_release()` of `list_del_init_careful()` in the waker) says it is still queued,
/// unqueue it under `wq_head->lock`.
pub fn finish_wait(wq: &WaitQueueHead, e: &Arc<WaitQueueEntry>) {
    super::task::__set_current_state(TASK_RUNNING);
    if smp_load_acquire(&e.queued) {
        let mut list = wq.lock.lock();
        if read_once(&e.queued) {
            del(wq, &mut list, e);
            write_once(&e.queued, false);
        }
        drop(list);
    }
}

/// `__wake_up(wq_head, mode, nr_exclusive, NULL)`: under `wq_head->lock`, call each entry's
/// `autoremove_wake_function()` (`try_to_wake_up()`, then `list_del_init_careful()` if it
/// woke), stopping after `nr_exclusive` exclusive entries were woken (0: all). Returns the
/// number of tasks woken.
fn wake(wq: &WaitQueueHead, mode: u32, nr_exclusive: usize) -> usize {
    let mut list = wq.lock.lock();
    let entries = list.clone();
    if entries.is_empty() {
        crate::ev!("wake_up", "{}: no waiter", wq.name);
    }
    let (mut woken, mut nr) = (0, nr_exclusive);
    for e in entries {
        let exclusive = e.exclusive.load(std::sync::atomic::Ordering::Relaxed);
        if try_to_wake_up(&e.private, mode) {
            woken += 1;
            del(wq, &mut list, &e);
            smp_store_release(&e.queued, false);
            if exclusive {
                nr = nr.saturating_sub(1);
                if nr == 0 && nr_exclusive != 0 {
                    break;
                }
            }
        }
    }
    drop(list);
    woken
}

/// `wake_up(wq_head)`: `__wake_up(wq_head, TASK_NORMAL, 1, NULL)`.
pub fn wake_up(wq: &WaitQueueHead) -> usize {
    wake(wq, TASK_NORMAL, 1)
}

/// `wake_up_nr(wq_head, nr)`.
pub fn wake_up_nr(wq: &WaitQueueHead, nr: usize) -> usize {
    wake(wq, TASK_NORMAL, nr)
}

/// `wake_up_all(wq_head)`: `__wake_up(wq_head, TASK_NORMAL, 0, NULL)`.
pub fn wake_up_all(wq: &WaitQueueHead) -> usize {
    wake(wq, TASK_NORMAL, 0)
}

/// `waitqueue_active(wq_head)`: `!list_empty(&wq_head->head)`, a `READ_ONCE()` of the head
/// without the lock. The kernel's comment: the caller needs an `smp_mb()` between its update
/// of the condition and this read (pairing with `set_current_state()` in the waiter), or it
/// may miss a waiter that misses the condition; [`wq_has_sleeper`] has the barrier.
pub fn waitqueue_active(wq: &WaitQueueHead) -> bool {
    let active = read_once(&wq.active);
    crate::ev!("waitqueue_active", "{}: {active}", wq.name);
    active
}

/// `wq_has_sleeper(wq_head)`: `smp_mb(); return waitqueue_active(wq_head);`.
pub fn wq_has_sleeper(wq: &WaitQueueHead) -> bool {
    smp_mb();
    waitqueue_active(wq)
}

fn wait_event_as(wq: &WaitQueueHead, what: &'static str, exclusive: bool, cond: impl Fn() -> bool) {
    super::irq::might_sleep();
    if cond() {
        return;
    }
    let e = WaitQueueEntry::new();
    e.exclusive
        .store(exclusive, std::sync::atomic::Ordering::Relaxed);
    e.private.sleeps_on(wq.name, Some(what));
    loop {
        prepare_to_wait_event(wq, &e, TASK_UNINTERRUPTIBLE);
        e.private.sleeps_on(wq.name, Some(what));
        if cond() {
            break;
        }
        schedule();
    }
    finish_wait(wq, &e);
}

/// `wait_event(wq_head, condition)` (`___wait_event()` with `TASK_UNINTERRUPTIBLE`):
/// `might_sleep()`; if the condition is false, loop `prepare_to_wait_event()`, test the
/// condition, `schedule()`; then `finish_wait()`. `what` names the condition for reports
/// (`"cond != 0"`).
pub fn wait_event(wq: &WaitQueueHead, what: &'static str, cond: impl Fn() -> bool) {
    wait_event_as(wq, what, false, cond)
}

/// `wait_event_exclusive()`-style: as [`wait_event`], queued with `WQ_FLAG_EXCLUSIVE`
/// (`___wait_event(.., exclusive = 1, ..)`).
pub fn wait_event_exclusive(wq: &WaitQueueHead, what: &'static str, cond: impl Fn() -> bool) {
    wait_event_as(wq, what, true, cond)
}
