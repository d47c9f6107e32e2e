//! The stress engine: real OS threads and std atomics, repeated — the baseline kernel
//! developers use today. The OS picks the schedule, so its counterexamples cannot be replayed;
//! it records events live instead, and a hung iteration is reported after a watchdog timeout.

use std::sync::Arc;
use std::time::Duration;

use super::{Control, Coverage, Engine, EngineError, ReplayToken, Replayed};
use crate::model::Scenario;
use crate::rt::{self, ExecCtx, SpinLimit, Violation};
use crate::rt::{use_backend, Backend};

/// How long one iteration may run before it is reported as hung (deadlock or livelock).
const WATCHDOG: Duration = Duration::from_secs(10);

pub(super) struct Stress {
    pub iterations: u64,
    /// Whether the harness ends stuck executions (`EngineKind::ends_stuck_executions`; the
    /// watchdog reports a hung iteration instead).
    pub ends_stuck: bool,
}

const NOT_REPLAYABLE: &str = "the stress engine runs on OS threads; the OS chose the schedule";

impl Engine for Stress {
    fn explore(&self, scenario: &Scenario, ctl: &Arc<Control>) -> Result<Coverage, EngineError> {
        for index in (0..self.iterations).filter(|&i| ctl.opts.shard.owns(i)) {
            if !ctl.keep_going() {
                break;
            }
            let ctx = ExecCtx::new(
                true,
                SpinLimit::Time(Duration::from_secs(1)),
                self.ends_stuck,
            );
            let (tx, rx) = crossbeam::channel::bounded(1);
            let (sc, cx) = (scenario.clone(), ctx.clone());
            std::thread::Builder::new()
                .name("kmodel-stress".into())
                .spawn(move || {
                    let _b = use_backend(Backend::Std);
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        rt::run_execution(cx, || sc())
                    }));
                    let _ = tx.send(r.map_err(|p| super::panic_message(&*p)));
                })
                .map_err(|e| EngineError::refused(e.to_string()))?;
            let token = || ReplayToken::None {
                why: NOT_REPLAYABLE.into(),
            };
            match rx.recv_timeout(WATCHDOG) {
                Ok(Ok(out)) => {
                    ctl.count();
                    for v in out.violations {
                        ctl.record(
                            index,
                            v,
                            token(),
                            Some((out.actors.clone(), out.events.clone())),
                        );
                    }
                }
                Ok(Err(msg)) => return Err(EngineError::ModelPanic(msg)),
                Err(_) => {
                    // The iteration's threads are stuck for good; report what they recorded.
                    let out = ctx.take_outcome();
                    let v = Violation {
                        property: rt::NO_DEADLOCK,
                        message: format!("iteration did not finish within {WATCHDOG:?} (hung: deadlock or livelock)"),
                        actor: 0,
                        events: out.events.len(),
                    };
                    ctl.count();
                    ctl.record(index, v, token(), Some((out.actors, out.events)));
                    return Ok(Coverage::StoppedByDeadlock);
                }
            }
        }
        Ok(Coverage::Sampled)
    }

    fn replay(&self, _scenario: &Scenario, _token: &ReplayToken) -> Result<Replayed, EngineError> {
        Err(EngineError::refused(NOT_REPLAYABLE))
    }
}
