//! The shuttle engines: random, PCT and DFS scheduling under sequential consistency.
//!
//! kmodel plugs into shuttle at its `Scheduler` seam with [`Recorder`], which wraps shuttle's own
//! schedulers to (1) record the task chosen at every step (the replay token), (2) count
//! preemptions, (3) stop on budget, and (4) never reschedule a yielding spinner while another task
//! can run, which makes spin loops finite and livelock detection sound under every strategy.
//!
//! Random and PCT searches are split into [`LANES`] independent lanes with their own seeds, so the
//! schedules explored (and so the first counterexample) do not depend on how many worker threads
//! run the lanes.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;

use shuttle::scheduler::{
    DfsScheduler, PctScheduler, RandomScheduler, Schedule, Scheduler, Task, TaskId,
};
use shuttle::{Config, FailurePersistence, Runner};

use super::{
    deadlock_or_error, panic_message, recorded_execution, spin_limit, Control, Coverage, Engine,
    EngineError, ReplayToken, Replayed, StopExploration,
};
use crate::model::Scenario;
use crate::rt::{use_backend, Backend};

/// The shuttle version this build links (from the workspace's Cargo.lock, `build.rs`).
pub const SHUTTLE_VERSION: &str = env!("KMODEL_SHUTTLE_VERSION");

/// Independent search lanes for random and PCT (fixed, so results do not depend on `--jobs`).
const LANES: u64 = 8;

#[derive(Clone, Copy, Debug)]
pub(super) enum Strategy {
    Random,
    Pct { depth: u32 },
    Dfs,
}

pub(super) struct Shuttle {
    pub strategy: Strategy,
    pub seed: u64,
    /// Total schedules over all lanes (DFS: an upper bound).
    pub schedules: u64,
    /// Whether the harness ends stuck executions (`EngineKind::ends_stuck_executions`).
    pub ends_stuck: bool,
}

/// The steps of the execution in progress on this OS thread (read when it ends).
#[derive(Default)]
struct Current {
    steps: Vec<u32>,
}

thread_local! {
    static CURRENT: RefCell<Current> = RefCell::new(Current::default());
    static IN_RUN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while this OS thread is inside a shuttle `Runner::run`.
pub(super) fn in_shuttle_run() -> bool {
    IN_RUN.with(|r| r.get())
}

/// Runs `f` marked as inside a shuttle run (for the panic hook).
fn in_run<R>(f: impl FnOnce() -> R) -> R {
    struct Unmark;
    impl Drop for Unmark {
        fn drop(&mut self) {
            IN_RUN.with(|r| r.set(false));
        }
    }
    IN_RUN.with(|r| r.set(true));
    let _u = Unmark;
    f()
}

/// What the recorder does at each step.
enum Mode {
    Explore(Box<dyn Scheduler>),
    Replay {
        steps: Vec<u32>,
        pos: usize,
        diverged: Option<String>,
    },
}

/// kmodel's shuttle `Scheduler`: wraps a strategy (or a recorded schedule).
struct Recorder {
    mode: Mode,
    /// Executions this recorder may still start.
    remaining: u64,
    ctl: Option<Arc<Control>>,
    /// Index of the next execution this recorder starts, and the step between its indices
    /// (lanes interleave: `i * lanes + lane`).
    next_index: u64,
    stride: u64,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // shuttle's RandomScheduler prints "failing seed ... pass the seed to
        // check_random_with_seed" when dropped before it ran out of schedules (as when an
        // exploration stops early): wrong advice for kmodel, whose traces replay with
        // `kmodel replay`. Leak the few bytes instead of dropping it.
        let mode = std::mem::replace(
            &mut self.mode,
            Mode::Replay {
                steps: vec![],
                pos: 0,
                diverged: None,
            },
        );
        if let Mode::Explore(s) = mode {
            std::mem::forget(s);
        }
    }
}

/// Shared handle so a lane can resume with the same scheduler after a deadlock panic.
#[derive(Clone)]
struct Handle(Rc<RefCell<Recorder>>);

impl Scheduler for Handle {
    fn new_execution(&mut self) -> Option<Schedule> {
        let mut r = self.0.borrow_mut();
        let next = r.next_index;
        if r.remaining == 0 || r.ctl.as_ref().is_some_and(|c| !c.keep_going_from(next)) {
            return None;
        }
        r.remaining -= 1;
        r.next_index += r.stride;
        CURRENT.with(|c| *c.borrow_mut() = Current::default());
        match &mut r.mode {
            Mode::Explore(s) => s.new_execution(),
            Mode::Replay { pos, .. } => {
                *pos = 0;
                Some(Schedule::new(0))
            }
        }
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        let current_runnable = current.filter(|c| runnable.iter().any(|t| t.id() == *c));
        // A yielding spinner waits while anyone else can run: spinning again could not observe
        // anything new, and it keeps spin loops finite under every strategy.
        let filtered: Vec<&Task>;
        let choices = match current_runnable {
            Some(c) if is_yielding && runnable.len() > 1 => {
                filtered = runnable.iter().copied().filter(|t| t.id() != c).collect();
                &filtered[..]
            }
            _ => runnable,
        };
        let mut r = self.0.borrow_mut();
        let chosen = match &mut r.mode {
            Mode::Explore(s) => s.next_task(choices, current, is_yielding)?,
            Mode::Replay {
                steps,
                pos,
                diverged,
            } => {
                let chosen = match steps.get(*pos) {
                    Some(&want) => match choices
                        .iter()
                        .find(|t| usize::from(t.id()) == want as usize)
                    {
                        Some(t) => t.id(),
                        None => {
                            *diverged = Some(format!("step {pos}: task {want} is not runnable"));
                            return None;
                        }
                    },
                    // After the recorded steps only teardown remains: take the first runnable.
                    None => choices[0].id(),
                };
                *pos += 1;
                chosen
            }
        };
        CURRENT.with(|c| c.borrow_mut().steps.push(usize::from(chosen) as u32));
        Some(chosen)
    }

    fn next_u64(&mut self) -> u64 {
        match &mut self.0.borrow_mut().mode {
            Mode::Explore(s) => s.next_u64(),
            Mode::Replay { .. } => 0,
        }
    }
}

fn config() -> Config {
    let mut c = Config::new();
    c.failure_persistence = FailurePersistence::None;
    c.silence_warnings = true;
    c
}

/// Mixes a seed with a lane number (splitmix64), so lanes are independent streams.
fn lane_seed(seed: u64, lane: u64) -> u64 {
    let mut z = seed.wrapping_add(lane.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Shuttle {
    fn lanes(&self) -> u64 {
        match self.strategy {
            Strategy::Dfs => 1,
            _ => LANES.min(self.schedules.max(1)),
        }
    }

    fn lane_scheduler(&self, lane: u64, schedules: usize) -> Box<dyn Scheduler> {
        let seed = lane_seed(self.seed, lane);
        match self.strategy {
            Strategy::Random => Box::new(RandomScheduler::new_from_seed(seed, schedules)),
            Strategy::Pct { depth } => Box::new(PctScheduler::new_from_seed(
                seed,
                depth.max(1) as usize,
                schedules,
            )),
            Strategy::Dfs => Box::new(DfsScheduler::new(
                (self.schedules != u64::MAX).then_some(self.schedules as usize),
                false,
            )),
        }
    }

    /// Runs one lane to completion. Execution indices interleave lanes: `i * lanes + lane`.
    /// Returns true when the scenario has a single schedule (no scheduling choice at all).
    fn run_lane(
        &self,
        lane: u64,
        scenario: &Scenario,
        ctl: &Arc<Control>,
    ) -> Result<bool, EngineError> {
        let _b = use_backend(Backend::Shuttle);
        let lanes = self.lanes();
        let quota = if matches!(self.strategy, Strategy::Dfs) {
            u64::MAX
        } else {
            self.schedules / lanes + u64::from(lane < self.schedules % lanes)
        };
        let handle = Handle(Rc::new(RefCell::new(Recorder {
            mode: Mode::Explore(self.lane_scheduler(lane, quota.min(usize::MAX as u64) as usize)),
            remaining: quota,
            ctl: Some(ctl.clone()),
            next_index: lane,
            stride: lanes,
        })));
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let ends_stuck = self.ends_stuck;
        loop {
            let (sc, c, n) = (scenario.clone(), ctl.clone(), counter.clone());
            let runner = Runner::new(handle.clone(), config());
            let r = panic::catch_unwind(AssertUnwindSafe(|| {
                in_run(|| {
                    runner.run(move || {
                        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let index = i * lanes + lane;
                        c.run(
                            &sc,
                            index,
                            spin_limit(Backend::Shuttle),
                            ends_stuck,
                            current_token,
                        );
                    })
                })
            }));
            match r {
                Ok(_) => return Ok(false),
                Err(p) if p.is::<StopExploration>() => return Ok(false),
                // PCT's second execution found the first made no scheduling choice: the one
                // execution that ran (and was checked) is the whole space.
                Err(p) if is_single_schedule(&panic_message(&*p)) => return Ok(true),
                Err(p) => {
                    // A deadlocked execution: record it and resume the lane where it stopped.
                    let violation = deadlock_or_error(&panic_message(&*p))?;
                    if let Some(mut out) = crate::rt::last_outcome() {
                        out.violations.push(violation.clone());
                        ctl.note_state(&out);
                    }
                    let i = counter
                        .load(std::sync::atomic::Ordering::Relaxed)
                        .saturating_sub(1);
                    ctl.count();
                    ctl.record(i * lanes + lane, violation, current_token(), None);
                }
            }
        }
    }
}

fn current_token() -> ReplayToken {
    ReplayToken::Shuttle {
        schedule: CURRENT.with(|c| c.borrow().steps.clone()),
    }
}

impl Engine for Shuttle {
    fn explore(&self, scenario: &Scenario, ctl: &Arc<Control>) -> Result<Coverage, EngineError> {
        let lanes: Vec<u64> = (0..self.lanes())
            .filter(|&lane| ctl.opts.shard.owns(lane))
            .collect();
        let jobs = ctl.opts.jobs.clamp(1, lanes.len().max(1));
        let results: Vec<Result<bool, EngineError>> = crossbeam::thread::scope(|s| {
            let workers: Vec<_> = (0..jobs)
                .map(|w| {
                    let lanes = &lanes;
                    s.spawn(move |_| {
                        let mut single = false;
                        for &lane in lanes.iter().skip(w).step_by(jobs) {
                            single |= self.run_lane(lane, scenario, ctl)?;
                        }
                        Ok(single)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|p| Err(EngineError::refused(panic_message(&*p))))
                })
                .collect()
        })
        .map_err(|_| EngineError::refused("a shuttle worker panicked"))?;
        let single = results
            .into_iter()
            .collect::<Result<Vec<bool>, _>>()?
            .contains(&true);
        let executions = ctl.executions.load(std::sync::atomic::Ordering::Relaxed);
        Ok(match self.strategy {
            _ if single => Coverage::Exhaustive,
            Strategy::Dfs if executions < self.schedules => Coverage::Exhaustive,
            _ => Coverage::Sampled,
        })
    }

    fn replay(&self, scenario: &Scenario, token: &ReplayToken) -> Result<Replayed, EngineError> {
        let ReplayToken::Shuttle { schedule } = token else {
            return Err(EngineError::refused("not a shuttle replay token"));
        };
        let handle = Handle(Rc::new(RefCell::new(Recorder {
            mode: Mode::Replay {
                steps: schedule.clone(),
                pos: 0,
                diverged: None,
            },
            remaining: 1,
            ctl: None,
            next_index: 0,
            stride: 0,
        })));
        let h = handle.clone();
        let out = recorded_execution(Backend::Shuttle, self.ends_stuck, scenario, move |body| {
            in_run(|| Runner::new(h, config()).run(body));
        })?;
        if let Mode::Replay {
            diverged: Some(d), ..
        } = &handle.0.borrow().mode
        {
            return Err(EngineError::refused(format!(
                "the schedule no longer fits the model ({d})"
            )));
        }
        let schedule = out.schedule();
        Ok(Replayed {
            violations: out.violations,
            schedule,
            actors: out.actors,
            events: out.events,
        })
    }
}

/// Runs one trivial shuttle execution so shuttle installs its panic hook now, before kmodel's.
pub(super) fn init_shuttle_hook() {
    let _b = use_backend(Backend::Shuttle);
    Runner::new(RandomScheduler::new_from_seed(0, 1), config()).run(|| {});
}

/// Checks a stored schedule before shuttle follows it (shuttle panics on an impossible task).
pub(super) fn validate_schedule(schedule: &[u32], max_steps: usize) -> Result<(), String> {
    if schedule.len() > max_steps {
        return Err(format!(
            "a schedule of {} steps (at most {max_steps})",
            schedule.len()
        ));
    }
    match schedule.iter().find(|&&t| t >= 64) {
        Some(t) => Err(format!("task {t} in the schedule (models have at most 64)")),
        None => Ok(()),
    }
}

/// shuttle's PCT scheduler refuses a test with no scheduling choice after running it once.
pub(super) fn is_single_schedule(msg: &str) -> bool {
    msg.starts_with("test closure did not exercise any concurrency")
}
