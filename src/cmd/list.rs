//! `kmodel list`: models, their references, parameters, properties and variants.

use std::process::ExitCode;

use kmodel_harness::{Engines, Model};

pub fn run(registry: &[&'static dyn Model]) -> ExitCode {
    for &m in registry {
        println!("{} — {}", m.name(), m.card().question);
        match m.port() {
            Ok(Some(p)) => println!(
                "    kernel    {} ({} ported; kmodel port {})",
                p.pin(),
                p.functions.len(),
                m.name()
            ),
            Ok(None) => {}
            Err(e) => println!("    kernel    port table unreadable: {e}"),
        }
        for r in m.card().references {
            println!("    ref       {r}");
        }
        for p in m.params() {
            println!("    param     {}={} — {}", p.name, p.default, p.help);
        }
        for p in m.properties() {
            println!("    property  {} — {}", p.id, p.claim);
        }
        for v in m.variants() {
            let only = match v.engines {
                Engines::All => String::new(),
                Engines::ShuttleOnly(why) => format!(" [shuttle only: {why}]"),
            };
            println!(
                "    variant   {}/{} — {}{only}",
                m.name(),
                v.name,
                v.summary
            );
        }
        println!();
    }
    ExitCode::SUCCESS
}
