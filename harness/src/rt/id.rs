//! [`PropertyId`]: the typed name of a property, as models declare it (`properties!`), checks
//! record it and traces and reports carry it (a plain string in JSON).

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The id of a property: kebab-case, unique in its model (`"no-spurious-esrch"`). Models declare
/// theirs once with `properties!`; nothing else builds one from a literal.
/// It serializes as the bare string; one read from a file is interned (one allocation per
/// distinct id, kept for the process).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PropertyId(&'static str);

impl PropertyId {
    /// A declared id (what `properties!` expands to).
    pub const fn new(id: &'static str) -> Self {
        PropertyId(id)
    }

    /// The id of a name read at run time (a trace, a report, the command line).
    pub fn intern(id: &str) -> Self {
        static SEEN: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
        let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&s) = seen.get(id) {
            return PropertyId(s);
        }
        let s: &'static str = Box::leak(id.to_owned().into_boxed_str());
        seen.insert(s);
        PropertyId(s)
    }

    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl Borrow<str> for PropertyId {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl PartialEq<str> for PropertyId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for PropertyId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for PropertyId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for PropertyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(PropertyId::intern(&s))
    }
}

impl schemars::JsonSchema for PropertyId {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PropertyId".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_ids_equal_declared_ones() {
        const A: PropertyId = PropertyId::new("a-claim");
        let read: PropertyId = serde_json::from_str("\"a-claim\"").unwrap();
        assert_eq!(read, A);
        assert_eq!(serde_json::to_string(&read).unwrap(), "\"a-claim\"");
        assert!(std::ptr::eq(
            PropertyId::intern("x-y").as_str(),
            PropertyId::intern("x-y").as_str()
        ));
    }
}
