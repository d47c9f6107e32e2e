//! Replaying stored traces: validate one against the registry (model, variant, property,
//! parameters, scene, source hash, engine-specific replay data) before any engine runs, re-run
//! it, and check it ends in the same violation with the same events.

use crate::engine::{self, EngineError, Replayed};
use crate::model::{Model, Params, VariantCard};
use crate::rt::{DATA_RACE, HUNG_TASK, NO_DEADLOCK, NO_LIVELOCK};
use crate::trace::Trace;
use crate::verdict::{CheckLabel, Error};

/// What a valid trace refers to.
pub struct Validated {
    pub model: &'static dyn Model,
    pub variant: &'static VariantCard,
    pub params: Params,
}

/// Checks everything a trace names against `registry` before any engine runs: model, variant,
/// property, engine, parameters (names and ranges, like the command line), the generated scene
/// (the model's scene language), the engine-specific replay data, and last the model source
/// hash (so a trace relabelled to another model is reported as unknown, not stale).
pub fn validate(registry: &[&'static dyn Model], trace: &Trace) -> Result<Validated, Error> {
    let (model, variant) = registry
        .iter()
        .find(|m| m.name() == trace.model)
        .copied()
        .ok_or_else(|| {
            let names: Vec<_> = registry.iter().map(|x| x.name()).collect();
            Error::BadInput(format!(
                "unknown model '{}' (models: {})",
                trace.model,
                names.join(", ")
            ))
        })
        .and_then(|m| {
            m.variant(&trace.variant).map(|v| (m, v)).ok_or_else(|| {
                let names: Vec<_> = m.variants().into_iter().map(|x| x.name).collect();
                Error::BadInput(format!(
                    "unknown variant '{}' for model {} (variants: {})",
                    trace.variant,
                    m.name(),
                    names.join(", ")
                ))
            })
        })?;
    let builtin = [NO_DEADLOCK, NO_LIVELOCK, HUNG_TASK, DATA_RACE].contains(&trace.property);
    if model.property(trace.property).is_none() && !builtin {
        let names: Vec<_> = model.properties().iter().map(|p| p.id).collect();
        return Err(Error::BadInput(format!(
            "unknown property '{}' for model {} (properties: {})",
            trace.property,
            model.name(),
            names.join(", ")
        )));
    }
    trace.engine.kind().runs(variant.engines).map_err(|why| {
        let label = CheckLabel::new(model.name(), variant.name);
        Error::BadInput(format!("{label}: {why}"))
    })?;
    let params = model
        .resolve(&trace.params)
        .map_err(|e| Error::BadInput(e.to_string()))?;
    if let Some(scene) = &trace.scene {
        let space = model.scenes().ok_or_else(|| {
            Error::BadInput(format!("model {} has no scene language", model.name()))
        })?;
        space.check(scene).map_err(Error::BadInput)?;
    }
    engine::validate_replay_data(&trace.engine, &trace.replay)
        .map_err(|e| Error::BadInput(format!("replay data: {e}")))?;
    if trace.engine.kind().replays() && trace.events.len() > engine::MAX_REPLAY_STEPS {
        return Err(Error::BadInput(format!(
            "{} events: more than a replay may record ({})",
            trace.events.len(),
            engine::MAX_REPLAY_STEPS
        )));
    }
    let current = model.source_hash();
    if current != trace.source_hash {
        return Err(Error::Stale {
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
pub fn replay_trace(registry: &[&'static dyn Model], trace: &Trace) -> Result<Replayed, Error> {
    let Validated {
        model,
        variant,
        params,
    } = validate(registry, trace)?;
    let scenario = model
        .scenario_for(variant, &params, trace.scene.as_ref())
        .map_err(Error::BadInput)?;
    // An engine that cannot follow the stored execution: the file is at fault.
    let r = engine::replay(&trace.engine, &scenario, &trace.replay).map_err(|e| match e {
        EngineError::ModelPanic(m) => Error::ModelPanic(m),
        EngineError::Refused(m) => Error::BadInput(m),
    })?;
    let Some(v) = r.violation_of(trace.property) else {
        let got: Vec<&str> = r.violations.iter().map(|v| v.property.as_str()).collect();
        return Err(Error::ReplayDiverged(format!(
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
        return Err(Error::ReplayDiverged(format!(
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
        return Err(Error::ReplayDiverged(format!(
            "same violation but different events (first difference at event {})",
            at.unwrap_or(events.len().min(trace.events.len()))
        )));
    }
    Ok(r)
}
