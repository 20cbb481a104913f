//! The codec's error type. Every decoder returns [`WireError`] for malformed input and
//! never panics; "not enough bytes yet" is not an error (see [`crate::frame::FrameCheck`]).

use thiserror::Error;

/// A malformed or unsupported wire value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The frame's declared length exceeds the configured maximum.
    #[error("frame of {length_bytes} bytes exceeds the maximum of {frame_bytes_max} bytes")]
    FrameTooLarge {
        length_bytes: usize,
        frame_bytes_max: usize,
    },
    /// The frame's declared length cannot hold the serialize-type/header-length word.
    #[error("frame length {length_bytes} is shorter than the 4-byte header-length word")]
    FrameTooShort { length_bytes: usize },
    /// The header length does not fit in the frame.
    #[error("header length {header_bytes} does not fit in a frame of {length_bytes} bytes")]
    HeaderLengthInvalid {
        header_bytes: usize,
        length_bytes: usize,
    },
    /// The serialize-type byte is neither JSON (0) nor ROCKETMQ (1).
    #[error("unknown serialize type {0}")]
    UnknownSerializeType(u8),
    /// The binary header ended before a field was complete.
    #[error("binary header truncated in field `{field}`")]
    Truncated { field: &'static str },
    /// A string field is not valid UTF-8.
    #[error("field `{field}` is not valid UTF-8")]
    InvalidUtf8 { field: &'static str },
    /// The JSON header or body could not be parsed.
    #[error("invalid JSON in {what}: {reason}")]
    InvalidJson { what: &'static str, reason: String },
    /// A required (`@CFNotNull`) header field is missing.
    #[error("the header field `{0}` is missing")]
    MissingField(&'static str),
    /// A header field is present but its value cannot be parsed.
    #[error("the header field `{field}` has an invalid value {value:?}: {reason}")]
    InvalidField {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    /// A value is too long for its length prefix when encoding.
    #[error("`{field}` of {length_bytes} bytes is too long for its length prefix")]
    TooLong {
        field: &'static str,
        length_bytes: usize,
    },
    /// A binary body or record is malformed.
    #[error("malformed {what}: {reason}")]
    Malformed {
        what: &'static str,
        reason: &'static str,
    },
}
