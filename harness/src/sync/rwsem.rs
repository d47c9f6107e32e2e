//! A kernel `struct rw_semaphore` ([`RwSem`]) built from the engine-neutral mutex and condvar.
//!
//! Kernel rwsems queue fairly: once a writer waits, new readers queue behind it (no reader
//! starvation of writers). Whether a new reader may "steal" the lock past a waiting writer is a
//! parameter, because the latency arguments in the mrelease discussion depend on it.

use super::condvar::Kind;
use super::{Condvar, Mutex};
use crate::rt::{self, marks, Mark, Wait};

#[derive(Debug, Default)]
struct RwState {
    readers: u32,
    writer: bool,
    waiting_writers: u32,
    /// Recorded executions: bit per actor holding it (for the blocked mark).
    holders: u64,
}

impl RwState {
    /// Recorded executions: marks the current actor blocked on this rwsem (`write`: as writer).
    fn mark_blocked(&self, write: bool) {
        if rt::recording() {
            let holders = (0..64).filter(|a| self.holders & 1 << a != 0).collect();
            marks::note(|_| Mark::Blocked {
                on: Wait::RwSem { write, holders },
            });
        }
    }

    /// Recorded executions: the current actor holds (`true`) or left it.
    fn hold(&mut self, held: bool) {
        if rt::recording() {
            let me = rt::current_bit();
            if held {
                self.holders |= me;
            } else {
                self.holders &= !me;
            }
        }
    }
}

/// `struct rw_semaphore` (e.g. `mm->mmap_lock`).
#[derive(Debug)]
pub struct RwSem {
    state: Mutex<RwState>,
    wait: Condvar,
    reader_stealing: bool,
}

impl RwSem {
    /// `init_rwsem()`. With `reader_stealing`, new readers may pass a waiting writer.
    pub fn new(reader_stealing: bool) -> Self {
        RwSem {
            state: Mutex::internal(RwState::default()),
            wait: Condvar::of(Kind::RwSem).named("an rw_semaphore"),
            reader_stealing,
        }
    }

    fn reader_may_enter(&self, s: &RwState) -> bool {
        !s.writer && (self.reader_stealing || s.waiting_writers == 0)
    }

    /// `down_read()`: blocks while a writer holds the lock or (without stealing) waits for it.
    pub fn down_read(&self) {
        let mut s = self.state.lock();
        if !self.reader_may_enter(&s) {
            s.mark_blocked(false);
        }
        while !self.reader_may_enter(&s) {
            s = self.wait.wait(s);
        }
        s.readers += 1;
        s.hold(true);
    }

    /// `down_read_trylock()`.
    pub fn down_read_trylock(&self) -> bool {
        let mut s = self.state.lock();
        let ok = self.reader_may_enter(&s);
        if ok {
            s.readers += 1;
            s.hold(true);
        }
        ok
    }

    /// `up_read()`.
    pub fn up_read(&self) {
        let mut s = self.state.lock();
        assert!(s.readers > 0, "model error: up_read() without down_read()");
        s.readers -= 1;
        s.hold(false);
        if s.readers == 0 {
            self.wait.notify_all();
        }
    }

    /// `down_write()`: waits for all readers and any writer to leave.
    pub fn down_write(&self) {
        let mut s = self.state.lock();
        s.waiting_writers += 1;
        if s.writer || s.readers > 0 {
            s.mark_blocked(true);
        }
        while s.writer || s.readers > 0 {
            s = self.wait.wait(s);
        }
        s.waiting_writers -= 1;
        s.writer = true;
        s.hold(true);
    }

    /// `down_write_trylock()`.
    pub fn down_write_trylock(&self) -> bool {
        let mut s = self.state.lock();
        let ok = !s.writer && s.readers == 0;
        if ok {
            s.writer = true;
            s.hold(true);
        }
        ok
    }

    /// `up_write()`.
    pub fn up_write(&self) {
        let mut s = self.state.lock();
        assert!(s.writer, "model error: up_write() without down_write()");
        s.writer = false;
        s.hold(false);
        self.wait.notify_all();
    }

    /// `downgrade_write()`: the writer becomes a reader without letting a writer in between.
    pub fn downgrade_write(&self) {
        let mut s = self.state.lock();
        assert!(
            s.writer,
            "model error: downgrade_write() without down_write()"
        );
        s.writer = false;
        s.readers += 1;
        self.wait.notify_all();
    }

    /// True if a writer holds the lock (for `mmap_assert_write_locked()`-style checks).
    pub fn is_write_locked(&self) -> bool {
        self.state.lock().writer
    }

    /// Number of readers holding the lock.
    pub fn readers(&self) -> u32 {
        self.state.lock().readers
    }
}
