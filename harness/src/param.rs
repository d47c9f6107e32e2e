//! Model parameters: declared once with a default, a range and a meaning, validated at the edge
//! (command line, trace file, shard report), then read by models as typed struct fields.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A scenario parameter: its default and the inclusive range the model accepts.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub default: u32,
    pub min: u32,
    pub max: u32,
    pub help: &'static str,
}

impl Param {
    /// `Ok` if `value` is in range; otherwise the one-line refusal naming the parameter.
    pub fn validate(&self, value: u32) -> Result<u32, ParamError> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(ParamError::OutOfRange {
                name: self.name,
                value,
                min: self.min,
                max: self.max,
                help: self.help,
            })
        }
    }
}

/// Why a parameter set was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamError {
    Unknown {
        model: &'static str,
        name: String,
        known: Vec<&'static str>,
    },
    OutOfRange {
        name: &'static str,
        value: u32,
        min: u32,
        max: u32,
        help: &'static str,
    },
    /// Values each in range that the model cannot combine.
    Inconsistent(String),
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Unknown { model, name, known } => write!(
                f,
                "model {model} has no parameter {name} (parameters: {})",
                known.join(", ")
            ),
            ParamError::OutOfRange {
                name,
                value,
                min,
                max,
                help,
            } => write!(
                f,
                "parameter {name}={value} is out of range {min}..={max} ({help})"
            ),
            ParamError::Inconsistent(why) => write!(f, "parameters: {why}"),
        }
    }
}

impl std::error::Error for ParamError {}

impl From<ParamError> for String {
    fn from(e: ParamError) -> String {
        e.to_string()
    }
}

/// Resolved, validated parameter values for one run (every declared parameter present).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params(pub BTreeMap<String, u32>);

impl Params {
    /// The value of a declared parameter. Models read typed fields through [`params!`]
    /// (`crate::params`) instead of calling this.
    pub fn get(&self, name: &str) -> u32 {
        *self
            .0
            .get(name)
            .unwrap_or_else(|| panic!("model error: parameter {name} is not declared"))
    }

    /// Whether every value equals its declared default.
    pub fn is_default(&self, declared: &[Param]) -> bool {
        declared
            .iter()
            .all(|p| self.0.get(p.name) == Some(&p.default))
    }

    /// `name=value` pairs that differ from the defaults, comma-separated ("" when none).
    pub fn non_default(&self, declared: &[Param]) -> String {
        declared
            .iter()
            .filter_map(|p| {
                let v = *self.0.get(p.name)?;
                (v != p.default).then(|| format!("{}={v}", p.name))
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Resolves `overrides` over the defaults of `declared`, refusing unknown names and values out
/// of range.
pub fn resolve(
    model: &'static str,
    declared: &'static [Param],
    overrides: &BTreeMap<String, u32>,
) -> Result<Params, ParamError> {
    let mut p: BTreeMap<String, u32> = declared
        .iter()
        .map(|p| (p.name.to_string(), p.default))
        .collect();
    for (name, &value) in overrides {
        let decl = declared
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ParamError::Unknown {
                model,
                name: name.clone(),
                known: declared.iter().map(|p| p.name).collect(),
            })?;
        p.insert(name.clone(), decl.validate(value)?);
    }
    Ok(Params(p))
}

/// A model's typed parameters: what [`params!`](crate::params) declares (or `()` for none).
pub trait ParamSet: Copy + PartialEq + fmt::Debug + Send + Sync + 'static {
    /// The parameter table: name, default, range, meaning.
    const PARAMS: &'static [Param];
    /// Every parameter at its default.
    const DEFAULT: Self;
    /// Reads validated [`Params`] (every declared parameter present).
    fn read(p: &Params) -> Self;
    /// The values as [`Params`] (to validate a declared set against the ranges).
    fn values(&self) -> Params;
}

/// A model without parameters.
impl ParamSet for () {
    const PARAMS: &'static [Param] = &[];
    const DEFAULT: Self = ();

    fn read(_: &Params) -> Self {}

    fn values(&self) -> Params {
        Params::default()
    }
}

/// A Rust type a parameter value converts to and from (`u32`, `usize`, `u64`, `bool`).
pub trait ParamValue {
    fn from_param(v: u32) -> Self;
    /// The value as declared parameters hold it (saturating; ranges are checked after).
    fn to_param(&self) -> u32;
}

impl ParamValue for u32 {
    fn from_param(v: u32) -> Self {
        v
    }

    fn to_param(&self) -> u32 {
        *self
    }
}

impl ParamValue for u64 {
    fn from_param(v: u32) -> Self {
        u64::from(v)
    }

    fn to_param(&self) -> u32 {
        u32::try_from(*self).unwrap_or(u32::MAX)
    }
}

impl ParamValue for usize {
    fn from_param(v: u32) -> Self {
        v as usize
    }

    fn to_param(&self) -> u32 {
        u32::try_from(*self).unwrap_or(u32::MAX)
    }
}

impl ParamValue for bool {
    fn from_param(v: u32) -> Self {
        v != 0
    }

    fn to_param(&self) -> u32 {
        u32::from(*self)
    }
}

/// Declares a model's parameters as a typed struct, with the table the CLI validates against:
///
/// ```
/// kmodel_harness::params! {
///     /// The knobs of my model.
///     pub struct Knobs {
///         nr_vmas: usize = 2, 1..=4, "private anonymous VMAs in the victim's mm";
///         reader_stealing: bool = false, 0..=1, "new readers may pass a waiting writer";
///     }
/// }
/// assert_eq!(Knobs::PARAMS[0].name, "nr_vmas");
/// ```
///
/// `Knobs` implements [`ParamSet`] (the model's `type Params`): `Knobs::PARAMS` is the table the
/// CLI validates against, `Knobs::DEFAULT` every default (`Knobs { lazy: true, ..Knobs::DEFAULT
/// }` names a parameter set, e.g. for declared parameter verdicts), `Knobs::from(&p)` reads a
/// validated [`Params`].
#[macro_export]
macro_rules! params {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $field:ident : $ty:ty = $default:expr, $min:literal ..= $max:literal, $help:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis struct $name {
            $( #[doc = $help] pub $field: $ty, )*
        }

        impl $name {
            /// The parameter table: name, default, range, meaning.
            pub const PARAMS: &'static [$crate::Param] = &[
                $( $crate::Param {
                    name: stringify!($field),
                    default: $default as u32,
                    min: $min,
                    max: $max,
                    help: $help,
                }, )*
            ];

            /// Every parameter at its default.
            pub const DEFAULT: Self = $name { $( $field: $default, )* };
        }

        impl $crate::param::ParamSet for $name {
            const PARAMS: &'static [$crate::Param] = $name::PARAMS;
            const DEFAULT: Self = $name::DEFAULT;

            fn read(p: &$crate::Params) -> Self {
                $name {
                    $( $field: <$ty as $crate::param::ParamValue>::from_param(
                        p.get(stringify!($field)),
                    ), )*
                }
            }

            fn values(&self) -> $crate::Params {
                $crate::Params(::std::collections::BTreeMap::from([
                    $( (
                        stringify!($field).to_string(),
                        $crate::param::ParamValue::to_param(&self.$field),
                    ), )*
                ]))
            }
        }

        impl From<&$crate::Params> for $name {
            fn from(p: &$crate::Params) -> Self {
                <$name as $crate::param::ParamSet>::read(p)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::DEFAULT
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::params! {
        struct Knobs {
            cpus: usize = 3, 1..=8, "CPUs";
            lazy: bool = false, 0..=1, "lazy";
        }
    }

    #[test]
    fn defaults_resolve_and_read_back() {
        let p = resolve("m", Knobs::PARAMS, &BTreeMap::new()).unwrap();
        assert_eq!(Knobs::from(&p), Knobs::default());
        assert!(p.is_default(Knobs::PARAMS));
    }

    #[test]
    fn out_of_range_and_unknown_are_refused() {
        let over = BTreeMap::from([("cpus".to_string(), 9)]);
        let e = resolve("m", Knobs::PARAMS, &over).unwrap_err();
        assert_eq!(
            e.to_string(),
            "parameter cpus=9 is out of range 1..=8 (CPUs)"
        );
        let unknown = BTreeMap::from([("cpu".to_string(), 1)]);
        let e = resolve("m", Knobs::PARAMS, &unknown).unwrap_err();
        assert!(e.to_string().contains("has no parameter cpu"), "{e}");
        let ok = BTreeMap::from([("lazy".to_string(), 1)]);
        let p = resolve("m", Knobs::PARAMS, &ok).unwrap();
        assert!(Knobs::from(&p).lazy);
        assert_eq!(p.non_default(Knobs::PARAMS), "lazy=1");
    }
}
