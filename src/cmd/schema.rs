//! `kmodel schema NAME`: print the JSON Schema of a document kmodel writes.

use std::process::ExitCode;

use super::input_error;
use crate::json::{schema, SCHEMAS};

pub fn run(name: &str) -> ExitCode {
    match schema(name) {
        Some(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        None => {
            let names: Vec<String> = SCHEMAS
                .iter()
                .map(|(n, what)| format!("{n} ({what})"))
                .collect();
            input_error(format!(
                "unknown schema '{name}' (schemas: {})",
                names.join(", ")
            ))
        }
    }
}
