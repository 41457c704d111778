//! Numbers, strings and booleans as gateways send them: `100`, `"100"` or `true`.

use serde::Deserialize;

/// A JSON scalar that a gateway may send as a number or as a string (`100` or `"100"`),
/// or as a boolean.
///
/// Deserialized by hand rather than as `#[serde(untagged)]`: an untagged enum buffers
/// every value and builds an error message for each variant it tries first, which made
/// decoding a verify answer several times slower than the rest of the callback pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scalar {
    /// A JSON integer.
    Int(i64),
    /// A JSON integer above `i64::MAX`.
    UInt(u64),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON string.
    Str(String),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Scalar;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer, a string or a boolean")
            }

            fn visit_i64<E>(self, n: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(n))
            }

            fn visit_u64<E>(self, n: u64) -> Result<Scalar, E> {
                Ok(i64::try_from(n).map_or(Scalar::UInt(n), Scalar::Int))
            }

            fn visit_bool<E>(self, b: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(b))
            }

            fn visit_str<E>(self, s: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(s.to_owned()))
            }

            fn visit_string<E>(self, s: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(s))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

impl Scalar {
    /// The value as a signed integer, from a number or a string of digits.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::Int(n) => Some(*n),
            Scalar::UInt(n) => i64::try_from(*n).ok(),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Bool(_) => None,
        }
    }

    /// The value as an unsigned integer, from a number or a string of digits.
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Scalar::Int(n) => u64::try_from(*n).ok(),
            Scalar::UInt(n) => Some(*n),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Bool(_) => None,
        }
    }

    /// The value as a boolean: `true`/`false`, `1`/`0`, or those as strings.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            Scalar::Int(1) | Scalar::UInt(1) => Some(true),
            Scalar::Int(0) | Scalar::UInt(0) => Some(false),
            Scalar::Str(s) => match s.trim() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value as text (numbers in decimal); `None` for an empty string. A string that
    /// needs no trimming is moved out, not copied.
    pub(crate) fn text(self) -> Option<String> {
        let text = match self {
            Scalar::Int(n) => n.to_string(),
            Scalar::UInt(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Str(s) if s.trim().len() == s.len() => s,
            Scalar::Str(s) => s.trim().to_owned(),
        };
        (!text.is_empty()).then_some(text)
    }

    /// Whether the value, read as [`text`](Self::text), is a reference other than
    /// `expected`: present, not empty, and different. This is how an answer about another
    /// payment is told apart, without copying a string.
    pub(crate) fn names_other_than(&self, expected: &str) -> bool {
        match self {
            Scalar::Str(s) => {
                let s = s.trim();
                !s.is_empty() && s != expected
            }
            // Numbers are rare in the fields compared; their text is built.
            Scalar::Int(n) => n.to_string() != expected,
            Scalar::UInt(n) => n.to_string() != expected,
            Scalar::Bool(b) => expected != if *b { "true" } else { "false" },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_numbers_and_strings() {
        let parse = |s: &str| serde_json::from_str::<Scalar>(s).unwrap();
        assert_eq!(parse("100").as_i64(), Some(100));
        assert_eq!(parse("\"100\"").as_i64(), Some(100));
        assert_eq!(parse("-16").as_i64(), Some(-16));
        assert_eq!(parse("-16").as_u64(), None);
        assert_eq!(parse("\"10000\"").as_u64(), Some(10_000));
        assert_eq!(parse("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(parse("\"x\"").as_i64(), None);
        assert_eq!(parse("true").as_bool(), Some(true));
        assert_eq!(parse("\"false\"").as_bool(), Some(false));
        assert_eq!(parse("\"\"").text(), None);
        assert_eq!(parse("\" 12 \"").text().as_deref(), Some("12"));
        assert!(!parse("\" 12 \"").names_other_than("12"));
        assert!(!parse("12").names_other_than("12"));
        assert!(parse("12").names_other_than("012"));
        assert!(parse("\"13\"").names_other_than("12"));
        assert!(!parse("\" \"").names_other_than("12"));
        assert!(!parse("true").names_other_than("true"));
        assert_eq!(parse("447515262").text().as_deref(), Some("447515262"));
        assert!(serde_json::from_str::<Scalar>("1.5").is_err());
        assert!(serde_json::from_str::<Scalar>("null").is_err());
        assert!(serde_json::from_str::<Scalar>("[1]").is_err());
        assert_eq!(parse("100"), Scalar::Int(100));
        assert_eq!(parse("18446744073709551615"), Scalar::UInt(u64::MAX));
        assert_eq!(parse("\"1\""), Scalar::Str("1".into()));
        assert_eq!(
            Scalar::deserialize(&serde_json::json!(-3)).unwrap(),
            Scalar::Int(-3)
        );
        #[derive(Deserialize)]
        struct Form {
            status: Scalar,
        }
        let form: Form = serde_urlencoded::from_str("status=1").unwrap();
        assert_eq!(form.status, Scalar::Str("1".into()));
    }
}
