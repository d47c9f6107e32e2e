//! Replaying stored traces: validate one against the registry (model, variant, property,
//! parameters, scene, source hash, engine-specific replay data) before any engine runs, re-run
//! it, and check it ends in the same violation with the same events.

use crate::engine::{self, EngineKind, Replayed};
use crate::model::{Model, Params, Variant};
use crate::rt::{DATA_RACE, HUNG_TASK, NO_DEADLOCK, NO_LIVELOCK};
use crate::trace::Trace;

/// Why a stored trace does not replay.
#[derive(Debug)]
pub enum ReplayError {
    /// The file names a model, variant, property or parameter this kmodel does not have, or
    /// holds values it cannot use (out-of-range parameters, an invalid scene, malformed replay
    /// data).
    Unknown(String),
    /// The model's source changed since the trace was recorded.
    Stale { recorded: String, current: String },
    /// The engine could not follow the stored replay data (e.g. the schedule no longer fits),
    /// or the replay hit its step limit.
    Engine(String),
    /// The model panicked while replaying: a bug in the model, not in the file.
    Model(String),
    /// The replay ran but ended differently.
    Diverged(String),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Unknown(s) | ReplayError::Engine(s) => f.write_str(s),
            ReplayError::Model(s) => write!(f, "model error: {s}"),
            ReplayError::Stale { recorded, current } => write!(
                f,
                "stale trace: recorded against model source {recorded}, the model is now {current}; re-record it with `{} check MODEL --out DIR --force` (DIR: the folder the trace's MODEL folder is in)",
                crate::render::program()
            ),
            ReplayError::Diverged(s) => write!(f, "replay diverged: {s}"),
        }
    }
}

impl ReplayError {
    /// Input errors (exit 2) versus a replay that ran and disagreed or a model that panicked
    /// (exit 1).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, ReplayError::Diverged(_) | ReplayError::Model(_))
    }
}

/// What a valid trace refers to.
pub struct Validated {
    pub model: &'static Model,
    pub variant: &'static Variant,
    pub params: Params,
}

/// Checks everything a trace names against `registry` before any engine runs: model, variant,
/// property, engine, parameters (names and ranges, like the command line), the generated scene
/// (the model's scene language), the engine-specific replay data, and last the model source
/// hash (so a trace relabelled to another model is reported as unknown, not stale).
pub fn validate(registry: &[&'static Model], trace: &Trace) -> Result<Validated, ReplayError> {
    let (model, variant) = registry
        .iter()
        .find(|m| m.name == trace.model)
        .ok_or_else(|| {
            let names: Vec<_> = registry.iter().map(|x| x.name).collect();
            ReplayError::Unknown(format!(
                "unknown model '{}' (models: {})",
                trace.model,
                names.join(", ")
            ))
        })
        .and_then(|m| {
            m.variant(&trace.variant).map(|v| (m, v)).ok_or_else(|| {
                let names: Vec<_> = m.variants.iter().map(|x| x.name).collect();
                ReplayError::Unknown(format!(
                    "unknown variant '{}' for model {} (variants: {})",
                    trace.variant,
                    m.name,
                    names.join(", ")
                ))
            })
        })?;
    let builtin =
        [NO_DEADLOCK, NO_LIVELOCK, HUNG_TASK, DATA_RACE].contains(&trace.property.as_str());
    if model.property(&trace.property).is_none() && !builtin {
        let names: Vec<_> = model.properties.iter().map(|p| p.id).collect();
        return Err(ReplayError::Unknown(format!(
            "unknown property '{}' for model {} (properties: {})",
            trace.property,
            model.name,
            names.join(", ")
        )));
    }
    trace
        .engine
        .kind()
        .runs(variant.engines)
        .map_err(|why| ReplayError::Unknown(format!("{}/{}: {why}", model.name, variant.name)))?;
    let params = model
        .params(&trace.params)
        .map_err(|e| ReplayError::Unknown(e.to_string()))?;
    if let Some(scene) = &trace.scene {
        let space = model.scenes.ok_or_else(|| {
            ReplayError::Unknown(format!("model {} has no scene language", model.name))
        })?;
        space.check(scene).map_err(ReplayError::Unknown)?;
    }
    engine::validate_replay_data(&trace.engine, &trace.replay)
        .map_err(|e| ReplayError::Unknown(format!("replay data: {e}")))?;
    if trace.engine.kind() != EngineKind::Stress && trace.events.len() > engine::MAX_REPLAY_STEPS {
        return Err(ReplayError::Unknown(format!(
            "{} events: more than a replay may record ({})",
            trace.events.len(),
            engine::MAX_REPLAY_STEPS
        )));
    }
    let current = model.source_hash();
    if current != trace.source_hash {
        return Err(ReplayError::Stale {
            recorded: trace.source_hash.clone(),
            current,
        });
    }
    Ok(Validated {
        model,
        variant,
        params,
    })
}

/// Re-runs a stored trace and checks it ends in the same violation with the same events.
pub fn replay_trace(registry: &[&'static Model], trace: &Trace) -> Result<Replayed, ReplayError> {
    let Validated {
        model,
        variant,
        params,
    } = validate(registry, trace)?;
    let scenario = model
        .scenario_for(variant, &params, trace.scene.as_ref())
        .map_err(ReplayError::Unknown)?;
    let r = engine::replay(&trace.engine, &scenario, &trace.replay).map_err(|e| {
        if e.is_model_panic() {
            ReplayError::Model(e.to_string())
        } else {
            ReplayError::Engine(e.to_string())
        }
    })?;
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
    let mut events = r.events[..v.events.min(r.events.len())].to_vec();
    // A trace recorded before the harness marked its operations compares by its steps alone.
    if trace.events.iter().all(|e| e.mark.is_none()) {
        events.retain(|e| e.mark.is_none());
    }
    if events != trace.events {
        let at = events.iter().zip(&trace.events).position(|(a, b)| a != b);
        return Err(ReplayError::Diverged(format!(
            "same violation but different events (first difference at event {})",
            at.unwrap_or(events.len().min(trace.events.len()))
        )));
    }
    Ok(r)
}
