//! How typed headers are declared: one `command_header!` invocation per header gives the
//! struct, its [`CommandHeader`](super::CommandHeader) impl and its [`HeaderSchema`] (the
//! key list that tests, fuzzers and tooling walk).
//!
//! Field kinds follow the Java annotations:
//!
//! - `required`: `@CFNotNull`; absent → [`WireError::MissingField`] naming the key.
//! - `optional`: a nullable boxed field; absent → `None`, and `None` is not written.
//! - `defaulted(expr)`: a Java primitive (or boxed field with an initializer); absent →
//!   the Java default, always written (Java writes primitives unconditionally).
//!
//! Values are parsed leniently by [`WireValue`]: numbers tolerate surrounding whitespace,
//! booleans accept `true/false` (any case) and `1/0`. Unknown keys are ignored.

use crate::WireError;

use super::fields::{parse_bool, parse_number};

/// The wire kind of a header value (for generated tests and tooling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Any string.
    Text,
    /// A Java `int`.
    Int,
    /// A Java `long`.
    Long,
    /// A Java `boolean`.
    Bool,
    /// One of the listed names (a Java enum written with `toString()`).
    OneOf(&'static [&'static str]),
}

/// One ext-field key of a typed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The ext-map key (the Java field name).
    pub key: &'static str,
    /// `@CFNotNull`: decoding fails with [`WireError::MissingField`] when absent.
    pub required: bool,
    /// How the value string is parsed.
    pub kind: ValueKind,
}

/// The keys of a typed header, in the Java declaration order.
pub trait HeaderSchema {
    /// Every key the header reads and writes.
    const FIELDS: &'static [FieldSpec];
}

/// A value that travels as a string in the ext map.
pub trait WireValue: Sized {
    /// The kind reported in [`FieldSpec::kind`].
    const KIND: ValueKind;

    /// Parses the ext value of key `name`.
    ///
    /// # Errors
    /// [`WireError::InvalidField`] if the text is not a value of this type.
    fn parse(name: &'static str, value: &str) -> Result<Self, WireError>;

    /// The ext value, as Java's `toString()` writes it.
    fn to_wire(&self) -> String;
}

impl WireValue for String {
    const KIND: ValueKind = ValueKind::Text;

    fn parse(_name: &'static str, value: &str) -> Result<Self, WireError> {
        Ok(value.to_owned())
    }

    fn to_wire(&self) -> String {
        self.clone()
    }
}

impl WireValue for i32 {
    const KIND: ValueKind = ValueKind::Int;

    fn parse(name: &'static str, value: &str) -> Result<Self, WireError> {
        parse_number(name, value)
    }

    fn to_wire(&self) -> String {
        self.to_string()
    }
}

impl WireValue for i64 {
    const KIND: ValueKind = ValueKind::Long;

    fn parse(name: &'static str, value: &str) -> Result<Self, WireError> {
        parse_number(name, value)
    }

    fn to_wire(&self) -> String {
        self.to_string()
    }
}

impl WireValue for bool {
    const KIND: ValueKind = ValueKind::Bool;

    fn parse(name: &'static str, value: &str) -> Result<Self, WireError> {
        parse_bool(name, value)
    }

    fn to_wire(&self) -> String {
        if *self { "true" } else { "false" }.to_owned()
    }
}

/// Declares a typed header: the struct, [`CommandHeader`](super::CommandHeader) and
/// [`HeaderSchema`]. See the module docs for the field kinds.
macro_rules! command_header {
    (@type required $ty:ty) => { $ty };
    (@type optional $ty:ty) => { Option<$ty> };
    (@type defaulted $ty:ty) => { $ty };

    (@required required) => { true };
    (@required $other:ident) => { false };

    (@decode $slot:ident required $ty:ty, $key:literal) => {
        match $slot {
            Some(value) => <$ty as $crate::header::schema::WireValue>::parse($key, value)?,
            None => return Err($crate::WireError::MissingField($key)),
        }
    };
    (@decode $slot:ident optional $ty:ty, $key:literal) => {
        match $slot {
            Some(value) => Some(<$ty as $crate::header::schema::WireValue>::parse($key, value)?),
            None => None,
        }
    };
    (@decode $slot:ident defaulted ($default:expr) $ty:ty, $key:literal) => {
        match $slot {
            Some(value) => <$ty as $crate::header::schema::WireValue>::parse($key, value)?,
            None => $default,
        }
    };

    (@encode $fields:ident $value:expr, optional, $key:literal) => {
        if let Some(value) = &$value {
            $fields.insert($key, $crate::header::schema::WireValue::to_wire(value));
        }
    };
    (@encode $fields:ident $value:expr, $kind:ident, $key:literal) => {
        $fields.insert($key, $crate::header::schema::WireValue::to_wire(&$value));
    };

    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                $kind:ident $(($default:expr))? $field:ident : $ty:ty = $key:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: $crate::header::schema::command_header!(@type $kind $ty),
            )*
        }

        impl $crate::header::schema::HeaderSchema for $name {
            const FIELDS: &'static [$crate::header::schema::FieldSpec] = &[
                $(
                    $crate::header::schema::FieldSpec {
                        key: $key,
                        required: $crate::header::schema::command_header!(@required $kind),
                        kind: <$ty as $crate::header::schema::WireValue>::KIND,
                    },
                )*
            ];
        }

        impl $crate::header::CommandHeader for $name {
            fn decode(
                fields: &$crate::command::ExtFields,
            ) -> Result<Self, $crate::WireError> {
                // One pass over the map (keys are unique), then parse each slot in
                // declaration order, so the first missing required field is reported.
                $( let mut $field: Option<&str> = None; )*
                for (key, value) in fields.iter() {
                    match key {
                        $( $key => $field = Some(value), )*
                        _ => {}
                    }
                }
                Ok($name {
                    $(
                        $field: $crate::header::schema::command_header!(
                            @decode $field $kind $(($default))? $ty, $key
                        ),
                    )*
                })
            }

            fn encode(&self, fields: &mut $crate::command::ExtFields) {
                $(
                    $crate::header::schema::command_header!(
                        @encode fields self.$field, $kind, $key
                    );
                )*
            }
        }
    };
}

pub(crate) use command_header;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_parse_leniently_and_write_java_forms() {
        assert_eq!(i32::parse("q", " -7 "), Ok(-7));
        assert!(i32::parse("q", "2147483648").is_err());
        assert_eq!(i64::parse("o", "9223372036854775807"), Ok(i64::MAX));
        assert_eq!(bool::parse("b", "1"), Ok(true));
        assert_eq!(bool::parse("b", "False"), Ok(false));
        assert!(bool::parse("b", "yes").is_err());
        assert_eq!(true.to_wire(), "true");
        assert_eq!(String::parse("s", " x "), Ok(" x ".to_owned()));
    }
}
