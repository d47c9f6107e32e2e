//! What a model declares and how the registry sees it.
//!
//! - `card.rs`: [`ModelCard`] (name, question, references, properties, sources, port table),
//!   [`Sources`] (`sources!`), [`ModelTable`].
//! - `kernel.rs`: [`KernelModel`], a model typed by its own `Design`, `Params` and `Scenes`.
//! - `view.rs`: [`Model`], the object-safe view every `KernelModel` gets, and [`lookup`] of
//!   `model[/variant]` in a registry.

mod card;
mod kernel;
mod view;

pub use self::card::{ModelCard, ModelTable, Source, Sources};
pub use self::kernel::KernelModel;
pub use self::view::{lookup, Model};
pub use crate::param::{Param, ParamError, ParamSet, Params};
pub use crate::variant::{Engines, ParamVerdicts, Scenario, Variant, VariantCard};
pub use crate::verdict::{Declared, Expect, Property, PropertyId};
