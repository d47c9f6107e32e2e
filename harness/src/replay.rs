//! Replaying stored traces: re-run one and check it ends in the same violation with the same
//! events, or say why it cannot (unknown model, stale source, diverged schedule).

use crate::engine::{self, Replayed};
use crate::model::{lookup, Model};
use crate::trace::Trace;

/// Why a stored trace does not replay.
#[derive(Debug)]
pub enum ReplayError {
    /// The file names a model, variant or parameter this kmodel does not have.
    Unknown(String),
    /// The model's source changed since the trace was recorded.
    Stale { recorded: String, current: String },
    /// Engine failure (e.g. the schedule no longer fits, or the model panicked).
    Engine(String),
    /// The replay ran but ended differently.
    Diverged(String),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Unknown(s) | ReplayError::Engine(s) => f.write_str(s),
            ReplayError::Stale { recorded, current } => write!(
                f,
                "stale trace: recorded against model source {recorded}, the model is now {current}; re-record it with `kmodel check --out traces`"
            ),
            ReplayError::Diverged(s) => write!(f, "replay diverged: {s}"),
        }
    }
}

impl ReplayError {
    /// Input errors (exit 2) versus a replay that ran and disagreed (exit 1).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, ReplayError::Diverged(_))
    }
}

/// Re-runs a stored trace and checks it ends in the same violation with the same events.
pub fn replay_trace(registry: &[&'static Model], trace: &Trace) -> Result<Replayed, ReplayError> {
    let (model, variant) = lookup(registry, &format!("{}/{}", trace.model, trace.variant))
        .map_err(ReplayError::Unknown)?;
    let variant = variant.expect("lookup with a variant returns it");
    let current = model.source_hash();
    if current != trace.source_hash {
        return Err(ReplayError::Stale {
            recorded: trace.source_hash.clone(),
            current,
        });
    }
    let params = model
        .params(&trace.params)
        .map_err(|e| ReplayError::Unknown(e.to_string()))?;
    let scenario = model
        .scenario_for(variant, &params, trace.scene.as_ref())
        .map_err(ReplayError::Unknown)?;
    let r = engine::replay(&trace.engine, &scenario, &trace.replay)
        .map_err(|e| ReplayError::Engine(e.to_string()))?;
    let Some(v) = r.violation_of(&trace.property) else {
        let got: Vec<&str> = r.violations.iter().map(|v| v.property.as_str()).collect();
        return Err(ReplayError::Diverged(format!(
            "expected [{}] {}, got {}",
            trace.property,
            trace.message,
            if got.is_empty() {
                "no violation".into()
            } else {
                got.join(", ")
            }
        )));
    };
    if v.message != trace.message {
        return Err(ReplayError::Diverged(format!(
            "expected [{}] {}, got [{}] {}",
            trace.property, trace.message, v.property, v.message
        )));
    }
    let events = &r.events[..v.events];
    if events != trace.events.as_slice() {
        let at = events.iter().zip(&trace.events).position(|(a, b)| a != b);
        return Err(ReplayError::Diverged(format!(
            "same violation but different events (first difference at event {})",
            at.unwrap_or(events.len().min(trace.events.len()))
        )));
    }
    Ok(r)
}
