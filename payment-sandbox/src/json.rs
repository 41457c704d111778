//! A tiny ordered JSON builder, so response bodies keep the key order of the documents.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON value whose objects keep their insertion order.
#[derive(Debug, Clone)]
pub(crate) enum J {
    /// A string.
    S(String),
    /// An unsigned integer.
    U(u64),
    /// A signed integer.
    I(i64),
    /// A boolean.
    B(bool),
    /// `null`.
    N,
    /// An array.
    A(Vec<J>),
    /// An object, in order.
    O(Vec<(&'static str, J)>),
}

impl J {
    /// Serializes to a compact JSON string.
    pub(crate) fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Shorthand for a string value.
pub(crate) fn s(v: impl Into<String>) -> J {
    J::S(v.into())
}

/// Shorthand for an object.
pub(crate) fn o<const N: usize>(fields: [(&'static str, J); N]) -> J {
    J::O(fields.into())
}

/// The field that labels an answer whose code the sandbox made up.
pub(crate) const NOTE_FIELD: &str = "sandbox_note";
/// Its value where the gateway's document has no code table at all (CanPay, GardeshPay).
pub(crate) const INVENTED: &str = "invented code: the document gives none";

/// An empty array, the `data: []` of several gateways.
pub(crate) fn empty_array() -> J {
    J::A(Vec::new())
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            J::S(v) => ser.serialize_str(v),
            J::U(v) => ser.serialize_u64(*v),
            J::I(v) => ser.serialize_i64(*v),
            J::B(v) => ser.serialize_bool(*v),
            J::N => ser.serialize_unit(),
            J::A(items) => {
                let mut seq = ser.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            J::O(fields) => {
                let mut map = ser.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}
