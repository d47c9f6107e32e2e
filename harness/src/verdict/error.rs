//! [`Error`]: why a check, sweep or replay produced no verdict, typed by cause. Each renders as
//! one line and maps to the exit-code contract ([`Error::exit`]).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::exit::Exit;
use crate::engine::EngineError;
use crate::rt::PropertyId;

const MODEL_PANIC: &str = "model panicked: ";
const ENGINE_REFUSED: &str = "engine refused: ";
const REPLAY_DIVERGED: &str = "replay diverged: ";

/// Why there is no verdict. In JSON (a report's `error`) it is the one line [`Display`]
/// writes, read back by its prefix.
///
/// [`Display`]: fmt::Display
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The model panicked: a bug in the model (exit 1).
    ModelPanic(String),
    /// The engine refused to run or follow an execution (exit 1: in a replay, where the stored
    /// execution is at fault, it is reported as [`Error::BadInput`]).
    EngineRefused(String),
    /// A counterexample or a stored trace replayed to a different end (exit 1).
    ReplayDiverged(String),
    /// A file could not be read or written (exit 2).
    Io(String),
    /// The input names what this kmodel does not have, holds values out of range, or is
    /// malformed (exit 2).
    BadInput(String),
    /// A trace recorded against another model source (exit 2).
    Stale { recorded: String, current: String },
}

impl Error {
    /// The exit code this error alone gives a command (see the README's contract).
    pub fn exit(&self) -> Exit {
        match self {
            Error::ModelPanic(_) | Error::EngineRefused(_) | Error::ReplayDiverged(_) => {
                Exit::Verdict
            }
            Error::Io(_) | Error::BadInput(_) | Error::Stale { .. } => Exit::Input,
        }
    }

    /// The same error, said of one property (`cid-unique: ...`).
    pub fn of_property(self, property: PropertyId) -> Error {
        let at = |m: String| format!("{property}: {m}");
        match self {
            Error::ModelPanic(m) => Error::ModelPanic(at(m)),
            Error::EngineRefused(m) => Error::EngineRefused(at(m)),
            Error::ReplayDiverged(m) => Error::ReplayDiverged(at(m)),
            Error::Io(m) => Error::Io(at(m)),
            Error::BadInput(m) => Error::BadInput(at(m)),
            stale @ Error::Stale { .. } => stale,
        }
    }

    /// The message without the kind's prefix (a model panic: the panic message).
    pub fn detail(&self) -> String {
        match self {
            Error::ModelPanic(m)
            | Error::EngineRefused(m)
            | Error::ReplayDiverged(m)
            | Error::Io(m)
            | Error::BadInput(m) => m.clone(),
            Error::Stale { .. } => self.to_string(),
        }
    }

    /// Reads back what [`Display`](fmt::Display) wrote.
    fn parse(text: &str) -> Error {
        let m = |prefix: &str| text.strip_prefix(prefix).map(str::to_string);
        if let Some(m) = m(MODEL_PANIC) {
            Error::ModelPanic(m)
        } else if let Some(m) = m(ENGINE_REFUSED) {
            Error::EngineRefused(m)
        } else if let Some(m) = m(REPLAY_DIVERGED) {
            Error::ReplayDiverged(m)
        } else {
            Error::BadInput(text.to_string())
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ModelPanic(m) => write!(f, "{MODEL_PANIC}{m}"),
            Error::EngineRefused(m) => write!(f, "{ENGINE_REFUSED}{m}"),
            Error::ReplayDiverged(m) => write!(f, "{REPLAY_DIVERGED}{m}"),
            Error::Io(m) | Error::BadInput(m) => f.write_str(m),
            Error::Stale { recorded, current } => write!(
                f,
                "stale trace: recorded against model source {recorded}, the model is now {current}; re-record it with `{} check MODEL --out DIR --force` (DIR: the folder the trace's MODEL folder is in)",
                crate::render::program()
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Error {
        match e {
            EngineError::ModelPanic(m) => Error::ModelPanic(m),
            EngineError::Refused(m) => Error::EngineRefused(m),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Error {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Error::parse(&String::deserialize(d)?))
    }
}

impl schemars::JsonSchema for Error {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Error".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_the_kind() {
        for e in [
            Error::ModelPanic("index out of bounds".into()),
            Error::EngineRefused("the engine ran no execution".into()),
            Error::ReplayDiverged("x".into()),
            Error::BadInput("model m has no scene language".into()),
        ] {
            let text = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<Error>(&text).unwrap(), e, "{text}");
        }
    }
}
