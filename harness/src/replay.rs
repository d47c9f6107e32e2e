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
    check_header(model, trace).map_err(Error::BadInput)?;
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

/// The header fields that follow from the model and the engine alone, and the indices the
/// trace holds (events' actors, the threads its replay data names, the preemptions its engine
/// bound allows), checked against each other before any engine runs.
fn check_header(model: &dyn Model, trace: &Trace) -> Result<(), String> {
    let spec = &trace.engine;
    if trace.memory_model != spec.memory_model() {
        return Err(format!(
            "memory_model '{}': {} runs '{}'",
            trace.memory_model,
            spec.name(),
            spec.memory_model()
        ));
    }
    if trace.engine_version != spec.version() {
        return Err(format!(
            "engine_version '{}': this kmodel replays with {}; re-record the trace",
            trace.engine_version,
            spec.version()
        ));
    }
    let claim = model.property(trace.property).map_or("", |p| p.claim);
    if trace.claim != claim {
        return Err(format!(
            "claim of [{}] is not the model's (\"{claim}\")",
            trace.property
        ));
    }
    let actors = trace.actors.len();
    if let Some((i, e)) = trace
        .events
        .iter()
        .enumerate()
        .find(|(_, e)| e.actor >= actors)
    {
        return Err(format!(
            "event {i} is by actor {}, but the trace has {actors} actors",
            e.actor
        ));
    }
    if let Some(n) = trace.replay.threads().filter(|&n| n > actors) {
        return Err(format!(
            "the {} replay data schedules thread {}, but the trace has {actors} actors",
            spec.name(),
            n - 1
        ));
    }
    if let (
        crate::engine::EngineSpec::Loom {
            preemption_bound: Some(k),
        },
        Some(p),
    ) = (spec, trace.replay.engine_preemptions())
    {
        if p > *k {
            return Err(format!(
                "the loom path makes {p} preemptions, above the trace's preemption bound {k}"
            ));
        }
    }
    Ok(())
}

/// Checks, before an engine that needs them follows the stored execution, that the scene (or
/// the variant's scripted scene) spawns the actors the trace names: loom aborts the process on
/// a path that schedules a thread that was never spawned.
fn check_actors(trace: &Trace, scenario: &crate::model::Scenario) -> Result<(), Error> {
    if trace.replay.threads().is_none() {
        return Ok(());
    }
    let spawned = engine::spawned_actors(scenario).map_err(|e| match e {
        EngineError::ModelPanic(m) => Error::ModelPanic(m),
        EngineError::Refused(m) => Error::EngineRefused(m),
    })?;
    if spawned.len() != trace.actors.len() {
        let what = if trace.scene.is_some() {
            "the scene"
        } else {
            "the variant"
        };
        return Err(Error::BadInput(format!(
            "{what} runs {} actors ({}), the trace names {} ({})",
            spawned.len(),
            spawned.join(", "),
            trace.actors.len(),
            trace.actors.join(", ")
        )));
    }
    Ok(())
}

/// Re-runs a stored trace and checks it ends in the same violation with the same events,
/// actors and schedule statistics.
pub fn replay_trace(registry: &[&'static dyn Model], trace: &Trace) -> Result<Replayed, Error> {
    let Validated {
        model,
        variant,
        params,
    } = validate(registry, trace)?;
    let scenario = model
        .scenario_for(variant, &params, trace.scene.as_ref())
        .map_err(Error::BadInput)?;
    check_actors(trace, &scenario)?;
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
    if r.actors != trace.actors {
        return Err(Error::ReplayDiverged(format!(
            "same events but different actors: recorded {}, replayed {}",
            trace.actors.join(", "),
            r.actors.join(", ")
        )));
    }
    if r.schedule != trace.schedule {
        let show = |s: &crate::rt::Schedule| match s.preemptions {
            Some(p) => format!("{} steps, {p} preemptions", s.steps),
            None => format!("{} steps", s.steps),
        };
        return Err(Error::ReplayDiverged(format!(
            "same events but a different schedule: recorded {}, replayed {}",
            show(&trace.schedule),
            show(&r.schedule)
        )));
    }
    Ok(r)
}
