//! Lenient serde field readers for the client and admin bodies: numbers may arrive as JSON
//! strings (Go writes `codeSet` elements and sometimes `subVersion` that way), booleans as
//! `true`, `"true"`, `1` or `"1"`, collections as `null` (Go's nil slices), and Java enums
//! by name (any ASCII case) or by ordinal.
//!
//! 64-bit integers are parsed from the text, never through `f64`: Go's `subVersion` is in
//! nanoseconds (19 digits, above 2^53).

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// A JSON scalar as a lenient peer sends it.
pub(crate) enum Scalar {
    Integer(i64),
    Bool(bool),
    Text(String),
    Null,
    Other,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, boolean, string or null")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                i64::try_from(v)
                    .map(Scalar::Integer)
                    .map_err(|_| E::custom("integer out of the long range"))
            }
            fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Text(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    match Scalar::deserialize(deserializer)? {
        Scalar::Integer(value) => Ok(value),
        Scalar::Null => Ok(0),
        Scalar::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("not an integer: {text:?}"))),
        Scalar::Bool(_) | Scalar::Other => Err(de::Error::custom("expected an integer")),
    }
}

/// An `int`: a number or a numeric string; `null` = 0.
pub(crate) fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    i32::try_from(integer(deserializer)?)
        .map_err(|_| de::Error::custom("integer out of the int range"))
}

/// A `long`: a number or a numeric string; `null` = 0.
pub(crate) fn long<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    integer(deserializer)
}

/// A `boolean`: `true/false`, `"true"/"false"` (any case), `1/0`, `"1"/"0"`; `null` = false.
pub(crate) fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Scalar::deserialize(deserializer)? {
        Scalar::Bool(value) => Ok(value),
        Scalar::Null | Scalar::Integer(0) => Ok(false),
        Scalar::Integer(1) => Ok(true),
        Scalar::Text(text) => crate::header::fields::parse_bool("boolean", &text)
            .map_err(|_| de::Error::custom(format!("not a boolean: {text:?}"))),
        Scalar::Integer(_) | Scalar::Other => Err(de::Error::custom("expected a boolean")),
    }
}

/// A `boolean` whose absent/`null` value is `true` (Java initializer `= true`).
pub(crate) fn boolean_default_true<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<bool, D::Error> {
    match Scalar::deserialize(deserializer)? {
        Scalar::Null => Ok(true),
        Scalar::Bool(value) => Ok(value),
        Scalar::Integer(0) => Ok(false),
        Scalar::Integer(1) => Ok(true),
        Scalar::Text(text) => crate::header::fields::parse_bool("boolean", &text)
            .map_err(|_| de::Error::custom(format!("not a boolean: {text:?}"))),
        Scalar::Integer(_) | Scalar::Other => Err(de::Error::custom("expected a boolean")),
    }
}

/// A `double`: a number or a numeric string; `null` = 0.
pub(crate) fn double<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    struct DoubleVisitor;
    impl Visitor<'_> for DoubleVisitor {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number")
        }
        #[allow(clippy::cast_precision_loss)]
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        #[allow(clippy::cast_precision_loss)]
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format!("not a number: {v:?}")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
            Ok(0.0)
        }
    }
    deserializer.deserialize_any(DoubleVisitor)
}

/// Any defaultable field where `null` means the default (empty list, map or string).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// An `int` element of a collection (numbers or numeric strings).
struct IntElement(i32);

impl<'de> Deserialize<'de> for IntElement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        int(deserializer).map(IntElement)
    }
}

/// A `Set<Integer>` whose elements may be numbers or numeric strings; `null` = empty.
pub(crate) fn int_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i32>, D::Error> {
    let elements: Option<Vec<IntElement>> = Option::deserialize(deserializer)?;
    Ok(elements
        .unwrap_or_default()
        .into_iter()
        .map(|element| element.0)
        .collect())
}

/// Declares a Java enum carried in JSON bodies: written by name, read by name (any ASCII
/// case) or by ordinal (number or numeric string).
macro_rules! json_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            /// Every variant in Java ordinal order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Java enum name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses the Java enum name, ignoring ASCII case.
            #[must_use]
            pub fn from_name(name: &str) -> Option<$name> {
                let name = name.trim();
                Self::ALL.iter().copied().find(|value| value.as_str().eq_ignore_ascii_case(name))
            }

            /// The variant with Java ordinal `ordinal`.
            #[must_use]
            pub fn from_ordinal(ordinal: i64) -> Option<$name> {
                usize::try_from(ordinal).ok().and_then(|index| Self::ALL.get(index).copied())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                match <$crate::body::lenient::Scalar as serde::Deserialize>::deserialize(deserializer)? {
                    $crate::body::lenient::Scalar::Integer(ordinal) => $name::from_ordinal(ordinal)
                        .ok_or_else(|| D::Error::custom(format!(
                            "{} has no ordinal {ordinal}", stringify!($name)
                        ))),
                    $crate::body::lenient::Scalar::Text(text) => $name::from_name(&text)
                        .or_else(|| text.trim().parse().ok().and_then($name::from_ordinal))
                        .ok_or_else(|| D::Error::custom(format!(
                            "{} has no name {text:?}", stringify!($name)
                        ))),
                    _ => Err(D::Error::custom(concat!("expected a ", stringify!($name)))),
                }
            }
        }
    };
}

pub(crate) use json_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Sample {
        #[serde(default, deserialize_with = "int")]
        a: i32,
        #[serde(default, deserialize_with = "long")]
        b: i64,
        #[serde(default, deserialize_with = "boolean")]
        c: bool,
        #[serde(default, deserialize_with = "int_list")]
        d: Vec<i32>,
        #[serde(default, deserialize_with = "double")]
        e: f64,
        #[serde(default = "yes", deserialize_with = "boolean_default_true")]
        f: bool,
    }

    fn yes() -> bool {
        true
    }

    #[test]
    fn numbers_as_strings_and_big_longs() {
        let sample: Sample = serde_json::from_str(
            r#"{"a":"7","b":"1712345678901234567","c":"1","d":["1",2," 3 "],"e":"2.5","f":null}"#,
        )
        .unwrap();
        assert_eq!(sample.a, 7);
        assert_eq!(sample.b, 1_712_345_678_901_234_567);
        assert!(sample.c);
        assert_eq!(sample.d, vec![1, 2, 3]);
        assert!((sample.e - 2.5).abs() < f64::EPSILON);
        assert!(sample.f);
        let sample: Sample =
            serde_json::from_str(r#"{"b":1712345678901234567,"d":null,"c":false}"#).unwrap();
        assert_eq!(sample.b, 1_712_345_678_901_234_567);
        assert!(sample.d.is_empty() && !sample.c && sample.f);
    }

    #[test]
    fn bad_scalars_are_errors() {
        for text in [
            r#"{"a":2147483648}"#,
            r#"{"a":1.5}"#,
            r#"{"b":18446744073709551615}"#,
            r#"{"c":"maybe"}"#,
            r#"{"c":2}"#,
            r#"{"d":[true]}"#,
            r#"{"a":[]}"#,
        ] {
            assert!(serde_json::from_str::<Sample>(text).is_err(), "{text}");
        }
    }
}
