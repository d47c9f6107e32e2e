//! What a blocked actor waits for ([`Blocker`]), how a stuck execution wakes it ([`Wake`]) and
//! the payload that unwinds it ([`Bail`]): the vocabulary `stuck.rs` and the execution share.

/// What a blocked actor waits for (so a stuck execution names its parties).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// A lock, named when the model named it (`Mutex::named("rq->lock", ..)`).
    Lock(Option<&'static str>),
    /// A condition variable: a model's own wait, an `rw_semaphore`.
    Queue(Option<&'static str>),
    /// A task asleep in `schedule()` in `state` (`TASK_UNINTERRUPTIBLE`), queued `on` a wait
    /// queue or completion, waiting for `cond` (when the model said what it waits for).
    Sleep {
        state: &'static str,
        on: Option<&'static str>,
        cond: Option<&'static str>,
    },
}

impl Blocker {
    pub(crate) fn describe(&self, who: &str) -> String {
        match self {
            Blocker::Lock(Some(n)) => format!("{who} waits for {n}"),
            Blocker::Lock(None) => format!("{who} waits for a lock"),
            Blocker::Queue(Some(n)) => format!("{who} waits on {n}"),
            Blocker::Queue(None) => format!("{who} waits on a condition variable"),
            Blocker::Sleep { state, on, cond } => {
                let on = on.map_or(String::new(), |q| format!(" on {q}"));
                let cond = cond.map_or(String::new(), |c| format!(" (waiting for {c})"));
                format!("{who} sleeps in {state}{on}{cond}")
            }
        }
    }
}

/// Wakes an engine object an actor of a stuck execution sleeps on (a condvar's `notify_all`).
pub(crate) trait Wake: Send + Sync {
    fn wake(&self);
}

/// The panic payload that unwinds an actor of a stuck execution; the actor's body and the
/// execution catch it. Raised with `resume_unwind`, so no panic hook sees it.
pub struct Bail;
