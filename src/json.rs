//! Machine output: the versioned JSON documents `kmodel check --json` and `kmodel explore
//! --json` print, and the JSON Schemas (generated with schemars) of every JSON file kmodel
//! writes, as `kmodel schema NAME` prints them and `schema/` publishes them.

use kmodel_harness::results::Results;
use kmodel_harness::sweep::SweepReport;
use kmodel_harness::trace::Trace;
use kmodel_harness::verdict::VariantReport;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the check and explore documents; bumped when a field changes meaning or goes.
pub const VERSION: u32 = 1;

/// What `kmodel check --json` (and `kmodel merge --json`) prints.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct CheckOutput {
    /// Always "kmodel-check".
    pub format: String,
    pub version: u32,
    /// One report per (model, variant, engine), in the order checked.
    pub reports: Vec<VariantReport>,
}

impl CheckOutput {
    pub const FORMAT: &'static str = "kmodel-check";

    pub fn new(reports: Vec<VariantReport>) -> Self {
        CheckOutput {
            format: Self::FORMAT.into(),
            version: VERSION,
            reports,
        }
    }

    /// Parses a `kmodel check --json` document, naming what is wrong in one line.
    pub fn parse(text: &str) -> Result<Vec<VariantReport>, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if v.get("format").and_then(|f| f.as_str()) != Some(Self::FORMAT) {
            return Err(format!("no \"format\": \"{}\"", Self::FORMAT));
        }
        match v.get("version").and_then(|x| x.as_u64()) {
            Some(n) if n == u64::from(VERSION) => {}
            other => {
                return Err(format!(
                    "version {other:?} is not supported (this kmodel reads version {VERSION})"
                ))
            }
        }
        serde_json::from_value::<CheckOutput>(v)
            .map(|o| o.reports)
            .map_err(|e| e.to_string())
    }
}

/// What `kmodel explore --json` prints.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct ExploreOutput {
    /// Always "kmodel-explore".
    pub format: String,
    pub version: u32,
    /// One report per swept variant.
    pub sweeps: Vec<SweepReport>,
}

impl ExploreOutput {
    pub fn new(sweeps: Vec<SweepReport>) -> Self {
        ExploreOutput {
            format: "kmodel-explore".into(),
            version: VERSION,
            sweeps,
        }
    }
}

/// The documents with a published schema: (name, what it describes).
pub const SCHEMAS: &[(&str, &str)] = &[
    (
        "trace",
        "a counterexample trace file (kmodel check --out DIR)",
    ),
    (
        "check",
        "the output of kmodel check --json and kmodel merge --json",
    ),
    ("explore", "the output of kmodel explore --json"),
    (
        "results",
        "a model's check results (DIR/MODEL/results.json), read by kmodel report",
    ),
];

/// The JSON Schema of document `name` (see [`SCHEMAS`]), pretty-printed with a final newline.
pub fn schema(name: &str) -> Option<String> {
    let s = match name {
        "trace" => schemars::schema_for!(Trace),
        "check" => schemars::schema_for!(CheckOutput),
        "explore" => schemars::schema_for!(ExploreOutput),
        "results" => schemars::schema_for!(Results),
        _ => return None,
    };
    let mut text = serde_json::to_string_pretty(&s).expect("schemas serialize");
    text.push('\n');
    Some(text)
}
