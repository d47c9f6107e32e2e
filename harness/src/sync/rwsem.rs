//! A kernel `struct rw_semaphore` ([`RwSem`]) built from the engine-neutral mutex and condvar.
//!
//! Kernel rwsems queue fairly: once a writer waits, new readers queue behind it (no reader
//! starvation of writers). Whether a new reader may "steal" the lock past a waiting writer is a
//! parameter, because the latency arguments in the mrelease discussion depend on it.

use super::{Condvar, Mutex};

#[derive(Debug, Default)]
struct RwState {
    readers: u32,
    writer: bool,
    waiting_writers: u32,
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
            state: Mutex::new(RwState::default()),
            wait: Condvar::new(),
            reader_stealing,
        }
    }

    fn reader_may_enter(&self, s: &RwState) -> bool {
        !s.writer && (self.reader_stealing || s.waiting_writers == 0)
    }

    /// `down_read()`: blocks while a writer holds the lock or (without stealing) waits for it.
    pub fn down_read(&self) {
        let mut s = self.state.lock();
        while !self.reader_may_enter(&s) {
            s = self.wait.wait(s);
        }
        s.readers += 1;
    }

    /// `down_read_trylock()`.
    pub fn down_read_trylock(&self) -> bool {
        let mut s = self.state.lock();
        let ok = self.reader_may_enter(&s);
        if ok {
            s.readers += 1;
        }
        ok
    }

    /// `up_read()`.
    pub fn up_read(&self) {
        let mut s = self.state.lock();
        assert!(s.readers > 0, "model error: up_read() without down_read()");
        s.readers -= 1;
        if s.readers == 0 {
            self.wait.notify_all();
        }
    }

    /// `down_write()`: waits for all readers and any writer to leave.
    pub fn down_write(&self) {
        let mut s = self.state.lock();
        s.waiting_writers += 1;
        while s.writer || s.readers > 0 {
            s = self.wait.wait(s);
        }
        s.waiting_writers -= 1;
        s.writer = true;
    }

    /// `down_write_trylock()`.
    pub fn down_write_trylock(&self) -> bool {
        let mut s = self.state.lock();
        let ok = !s.writer && s.readers == 0;
        if ok {
            s.writer = true;
        }
        ok
    }

    /// `up_write()`.
    pub fn up_write(&self) {
        let mut s = self.state.lock();
        assert!(s.writer, "model error: up_write() without down_write()");
        s.writer = false;
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
