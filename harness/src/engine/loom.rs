//! The loom engine: exhaustive DPOR over loom's C11 memory model, optionally preemption-bounded.
//!
//! Replay tokens are loom's own checkpoint format (the execution path). Explorations count
//! iterations; a violation's path is captured afterwards by re-running loom up to that iteration
//! with a checkpoint written just before it, so the exploration itself pays nothing for replay.

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use loom::model::Builder;

use super::{
    deadlock_or_error, panic_message, recorded_execution, spin_limit, Control, Coverage, Engine,
    EngineError, ReplayToken, Replayed, StopExploration,
};
use crate::model::Scenario;
use crate::sync::{use_backend, Backend};

pub const LOOM_VERSION: &str = "0.7.2";

/// loom's default of 1000 branches per execution is too small for kernel-sized scenarios.
const MAX_BRANCHES: usize = 20_000;

pub(super) struct Loom {
    pub preemption_bound: Option<u32>,
}

impl Loom {
    fn builder(&self) -> Builder {
        // Builder::new reads LOOM_* variables; every field that matters is set explicitly.
        let mut b = Builder::new();
        b.preemption_bound = self.preemption_bound.map(|k| k as usize);
        b.max_branches = MAX_BRANCHES;
        b.max_duration = None;
        b.max_permutations = None;
        b.checkpoint_file = None;
        b.checkpoint_interval = usize::MAX;
        b.log = false;
        b.location = false;
        b
    }
}

impl Engine for Loom {
    fn explore(&self, scenario: &Scenario, ctl: &Arc<Control>) -> Result<Coverage, EngineError> {
        let _b = use_backend(Backend::Loom);
        let builder = self.builder();
        let (sc, c) = (scenario.clone(), ctl.clone());
        let current = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let cur = current.clone();
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            builder.check(move || {
                if !c.keep_going() {
                    panic::panic_any(StopExploration);
                }
                // loom calls this closure once per iteration, in its deterministic order.
                let index = cur.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                c.run(&sc, index, spin_limit(Backend::Loom), || {
                    ReplayToken::LoomIteration(index)
                });
            })
        }));
        match result {
            Ok(()) => Ok(match self.preemption_bound {
                Some(bound) => Coverage::ExhaustiveUpToBound { bound },
                None => Coverage::Exhaustive,
            }),
            Err(p) if p.is::<StopExploration>() => Ok(Coverage::Exhaustive),
            Err(p) => {
                let violation = deadlock_or_error(&panic_message(&*p))?;
                let index = current
                    .load(std::sync::atomic::Ordering::Relaxed)
                    .saturating_sub(1);
                ctl.count();
                ctl.record(index, violation, ReplayToken::LoomIteration(index), None);
                Ok(Coverage::StoppedByDeadlock)
            }
        }
    }

    fn capture(&self, scenario: &Scenario, token: ReplayToken) -> Result<ReplayToken, EngineError> {
        let ReplayToken::LoomIteration(index) = token else {
            return Ok(token);
        };
        let _b = use_backend(Backend::Loom);
        let file = TempPath::new("capture");
        // loom writes the checkpoint at the top of iteration `i` (1-based) when
        // `i % interval == 0`, then stops because `i >= max_permutations`.
        let iteration = index as usize + 1;
        let mut b = self.builder();
        b.checkpoint_file = Some(file.0.clone());
        b.checkpoint_interval = iteration;
        b.max_permutations = Some(iteration);
        let sc = scenario.clone();
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            b.check(move || {
                let ctx = crate::exec::ExecCtx::new(false, spin_limit(Backend::Loom));
                crate::exec::run_execution(ctx, || sc());
            })
        }));
        if let Err(p) = r {
            return Err(EngineError(format!(
                "loom did not reach execution {iteration} again: {}",
                panic_message(&*p)
            )));
        }
        let text = std::fs::read_to_string(&file.0)
            .map_err(|e| EngineError(format!("loom wrote no checkpoint: {e}")))?;
        let path = serde_json::from_str(&text)
            .map_err(|e| EngineError(format!("loom checkpoint: {e}")))?;
        Ok(ReplayToken::Loom { path })
    }

    fn replay(&self, scenario: &Scenario, token: &ReplayToken) -> Result<Replayed, EngineError> {
        let ReplayToken::Loom { path } = token else {
            return Err(EngineError("not a loom replay token".into()));
        };
        let file = TempPath::new("replay");
        std::fs::write(&file.0, path.to_string()).map_err(|e| EngineError(e.to_string()))?;
        let mut b = self.builder();
        b.checkpoint_file = Some(file.0.clone());
        // Run iteration 1 (the loaded path); stop at the top of iteration 2.
        b.checkpoint_interval = 2;
        b.max_permutations = Some(2);
        let out = recorded_execution(Backend::Loom, scenario, |body| b.check(body))?;
        let schedule = out.schedule();
        Ok(Replayed {
            violations: out.violations,
            actors: out.actors,
            events: out.events,
            schedule,
        })
    }
}

/// A file in the temp directory, removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(what: &str) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        TempPath(std::env::temp_dir().join(format!(
            "kmodel-loom-{what}-{}-{n}.json",
            std::process::id()
        )))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
