//! Counterexample trace files: versioned JSON that `kmodel replay` re-runs and `kmodel explain`
//! renders.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::{EngineKind, EngineSpec, ReplayToken};
use crate::param::{Param, Params};
use crate::rt::{Event, PropertyId, Schedule};

/// Identifies kmodel trace files.
pub const FORMAT: &str = "kmodel-trace";
/// Current trace format version; older or newer files are rejected with a clear error.
pub const VERSION: u32 = 1;

/// A recorded counterexample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Trace {
    pub format: String,
    pub version: u32,
    pub model: String,
    pub variant: String,
    pub params: BTreeMap<String, u32>,
    /// The generated scene the execution ran (absent: the variant's scripted scene).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<serde_json::Value>,
    pub engine: EngineSpec,
    /// Engine crate and version that found it.
    pub engine_version: String,
    pub memory_model: String,
    /// Hash of the model's source files when recorded.
    pub source_hash: String,
    pub property: PropertyId,
    pub claim: String,
    pub message: String,
    /// Execution index at which the exploration found it (within `found_in_subtree`, if set).
    pub found_at_execution: u64,
    /// The subtree of loom's split search that found it (see `kmodel check --shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in_subtree: Option<u32>,
    pub schedule: Schedule,
    pub actors: Vec<String>,
    pub events: Vec<Event>,
    pub replay: ReplayToken,
}

/// Why a trace file cannot be used; each renders as one line.
#[derive(Debug)]
pub enum TraceError {
    Io(String, std::io::Error),
    Malformed(String, String),
    NotATrace(String),
    Version(String, u32),
    TooLarge(String, u64),
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceError::Io(p, e) => write!(f, "{p}: cannot read trace: {e}"),
            TraceError::Malformed(p, e) => write!(f, "{p}: not a valid kmodel trace (truncated or corrupted?): {e}"),
            TraceError::TooLarge(p, n) => write!(
                f,
                "{p}: {n} bytes; a trace file holds at most {}",
                crate::scene::MAX_SCENE_FILE_BYTES
            ),
            TraceError::NotATrace(p) => write!(f, "{p}: not a kmodel trace file (no \"format\": \"{FORMAT}\")"),
            TraceError::Version(p, v) => write!(
                f,
                "{p}: trace format version {v} is not supported (this {prog} reads version {VERSION}); re-record it with `{prog} check`",
                prog = crate::render::program()
            ),
        }
    }
}

impl std::error::Error for TraceError {}

impl Trace {
    /// Reads and validates a trace file.
    pub fn load(path: &Path) -> Result<Trace, TraceError> {
        let shown = path.display().to_string();
        let io = |e| TraceError::Io(shown.clone(), e);
        let bytes = std::fs::metadata(path).map_err(io)?.len();
        if bytes > crate::scene::MAX_SCENE_FILE_BYTES {
            return Err(TraceError::TooLarge(shown, bytes));
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::parse(&shown, &text)
    }

    /// Parses a trace, checking format and version before the schema.
    pub fn parse(name: &str, text: &str) -> Result<Trace, TraceError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| TraceError::Malformed(name.into(), e.to_string()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(TraceError::NotATrace(name.into()));
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => {
                return Err(TraceError::Version(
                    name.into(),
                    v.try_into().unwrap_or(u32::MAX),
                ))
            }
            None => {
                return Err(TraceError::Malformed(
                    name.into(),
                    "missing \"version\"".into(),
                ))
            }
        }
        serde_json::from_value(value).map_err(|e| TraceError::Malformed(name.into(), e.to_string()))
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("trace serializes");
        s.push('\n');
        s
    }

    /// This trace's conventional path under `dir` (see [`path`] and [`sweep_path`]); `declared`
    /// is its model's parameter table (the file name carries the parameters that differ from
    /// their defaults).
    pub fn path_in(&self, dir: &Path, declared: &[Param]) -> PathBuf {
        let at = if self.scene.is_some() {
            sweep_path
        } else {
            path
        };
        at(
            dir,
            &self.model,
            &self.variant,
            &Params(self.params.clone()).non_default(declared),
            self.property,
            self.engine.kind(),
        )
    }
}

/// The conventional path of the trace of `property` in `model/variant` found by `engine`, under
/// `dir`: `<dir>/<model>/<variant>--<property>.<engine>.json` with the default parameters, and
/// `<variant>@<name=value,...>--...` with the parameters that differ (`params`, see
/// [`Params::non_default`]).
pub fn path(
    dir: &Path,
    model: &str,
    variant: &str,
    params: &str,
    property: PropertyId,
    engine: EngineKind,
) -> PathBuf {
    dir.join(model)
        .join(file_name(variant, params, property, engine))
}

/// The path of a sweep's trace (a generated scene): `<dir>/<model>/sweep/<variant>--...`.
pub fn sweep_path(
    dir: &Path,
    model: &str,
    variant: &str,
    params: &str,
    property: PropertyId,
    engine: EngineKind,
) -> PathBuf {
    dir.join(model)
        .join("sweep")
        .join(file_name(variant, params, property, engine))
}

fn file_name(variant: &str, params: &str, property: PropertyId, engine: EngineKind) -> String {
    let at = if params.is_empty() {
        String::new()
    } else {
        format!("@{params}")
    };
    format!("{variant}{at}--{property}.{}.json", engine.name())
}
