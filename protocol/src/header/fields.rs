//! Typed access to ext-field values, lenient the way real clients need: numbers and
//! booleans arrive as strings, booleans as `"true"/"false"` or `"0"/"1"`, and a missing
//! required (`@CFNotNull`) field is an error naming the field.

use crate::command::ExtFields;
use crate::WireError;

/// A typed header carried in the ext-field map of a [`crate::RemotingCommand`].
pub trait CommandHeader: Sized {
    /// Decodes the header; a missing required field is [`WireError::MissingField`].
    ///
    /// # Errors
    /// Missing required fields or unparsable values.
    fn decode(fields: &ExtFields) -> Result<Self, WireError>;

    /// Writes every present field as a string value.
    fn encode(&self, fields: &mut ExtFields);

    /// Decodes from an optional map (absent map = empty map).
    ///
    /// # Errors
    /// As [`CommandHeader::decode`].
    fn decode_optional(fields: Option<&ExtFields>) -> Result<Self, WireError> {
        static EMPTY: ExtFields = ExtFields::empty();
        Self::decode(fields.unwrap_or(&EMPTY))
    }
}

/// A required string field.
///
/// # Errors
/// [`WireError::MissingField`] if absent.
pub fn required_str<'a>(fields: &'a ExtFields, name: &'static str) -> Result<&'a str, WireError> {
    fields.get(name).ok_or(WireError::MissingField(name))
}

/// An optional string field, owned.
#[must_use]
pub fn optional_string(fields: &ExtFields, name: &'static str) -> Option<String> {
    fields.get(name).map(str::to_owned)
}

/// Parses a numeric field value (surrounding whitespace tolerated).
///
/// # Errors
/// [`WireError::InvalidField`] if not a number of type `T`.
pub fn parse_number<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, WireError> {
    value.trim().parse().map_err(|_| WireError::InvalidField {
        field: name,
        value: value.to_owned(),
        reason: "not a number of the expected width",
    })
}

/// Parses a boolean the lenient way: `true/false` (any case) or `1/0`.
///
/// # Errors
/// [`WireError::InvalidField`] for anything else.
pub fn parse_bool(name: &'static str, value: &str) -> Result<bool, WireError> {
    let value_trimmed = value.trim();
    if value_trimmed.eq_ignore_ascii_case("true") || value_trimmed == "1" {
        Ok(true)
    } else if value_trimmed.eq_ignore_ascii_case("false") || value_trimmed == "0" {
        Ok(false)
    } else {
        Err(WireError::InvalidField {
            field: name,
            value: value.to_owned(),
            reason: "not a boolean (true/false/1/0)",
        })
    }
}

/// A required numeric field.
///
/// # Errors
/// Missing or unparsable.
pub fn required_number<T: std::str::FromStr>(
    fields: &ExtFields,
    name: &'static str,
) -> Result<T, WireError> {
    parse_number(name, required_str(fields, name)?)
}

/// An optional numeric field.
///
/// # Errors
/// Present but unparsable.
pub fn optional_number<T: std::str::FromStr>(
    fields: &ExtFields,
    name: &'static str,
) -> Result<Option<T>, WireError> {
    fields
        .get(name)
        .map(|value| parse_number(name, value))
        .transpose()
}

/// A required boolean field.
///
/// # Errors
/// Missing or unparsable.
pub fn required_bool(fields: &ExtFields, name: &'static str) -> Result<bool, WireError> {
    parse_bool(name, required_str(fields, name)?)
}

/// An optional boolean field.
///
/// # Errors
/// Present but unparsable.
pub fn optional_bool(fields: &ExtFields, name: &'static str) -> Result<Option<bool>, WireError> {
    fields
        .get(name)
        .map(|value| parse_bool(name, value))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_values() {
        let fields: ExtFields = [
            ("a".to_owned(), " 42 ".to_owned()),
            ("b".to_owned(), "1".to_owned()),
            ("c".to_owned(), "FALSE".to_owned()),
            ("d".to_owned(), "yes".to_owned()),
        ]
        .into_iter()
        .collect();
        assert_eq!(required_number::<i32>(&fields, "a"), Ok(42));
        assert_eq!(required_bool(&fields, "b"), Ok(true));
        assert_eq!(optional_bool(&fields, "c"), Ok(Some(false)));
        assert!(optional_bool(&fields, "d").is_err());
        assert_eq!(
            required_str(&fields, "topic"),
            Err(WireError::MissingField("topic"))
        );
        assert_eq!(optional_number::<i64>(&fields, "zz"), Ok(None));
        assert!(required_number::<i16>(&fields, "d").is_err());
    }
}
