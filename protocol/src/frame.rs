//! The remoting frame, check-then-parse.
//!
//! ```text
//! +----------------+-----------------------------------+--------------+------------+
//! | length: i32 BE | serializeType (8) | headerLen (24) | header bytes | body bytes |
//! | = 4 + hdr + bd | one i32 BE word                    | headerLen    | the rest   |
//! +----------------+-----------------------------------+--------------+------------+
//! ```
//!
//! `length` counts everything after itself. A reader first calls [`check`]: it answers
//! [`FrameCheck::Incomplete`] (read more bytes, a normal outcome) or [`FrameCheck::Complete`]
//! with the total size of the frame, or an error for a frame that can never become valid
//! (too large, too short, header length past the frame end). Only then is the frame parsed.

use crate::WireError;

/// Java peers cap frames at 16 MiB (`com.rocketmq.remoting.frameMaxLength`).
pub const FRAME_BYTES_MAX_DEFAULT: usize = 16 * 1024 * 1024;

/// Bytes of the `length` prefix.
pub const LENGTH_PREFIX_BYTES: usize = 4;

/// Bytes of the serialize-type/header-length word.
pub const HEADER_WORD_BYTES: usize = 4;

/// The largest header length the 24-bit field can carry.
pub const HEADER_BYTES_MAX: usize = 0x00FF_FFFF;

const _: () = assert!(FRAME_BYTES_MAX_DEFAULT > HEADER_BYTES_MAX);

/// Outcome of [`check`] on the bytes received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameCheck {
    /// More bytes are needed; `frame_bytes` is known once the length prefix has arrived.
    Incomplete { frame_bytes: Option<usize> },
    /// A whole frame of `frame_bytes` (including the length prefix) is at the start of the buffer.
    Complete { frame_bytes: usize },
}

/// The parts of one complete frame, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameParts<'a> {
    pub serialize_type: u8,
    pub header: &'a [u8],
    pub body: &'a [u8],
}

/// Checks whether `buffer` starts with a complete, well-formed frame of at most
/// `frame_bytes_max` bytes after the length prefix.
///
/// # Errors
/// [`WireError::FrameTooLarge`], [`WireError::FrameTooShort`] or
/// [`WireError::HeaderLengthInvalid`]; the connection should then be closed.
pub fn check(buffer: &[u8], frame_bytes_max: usize) -> Result<FrameCheck, WireError> {
    let Some(prefix) = buffer.get(..LENGTH_PREFIX_BYTES) else {
        return Ok(FrameCheck::Incomplete { frame_bytes: None });
    };
    let length_bytes = read_length(prefix);
    if length_bytes > frame_bytes_max {
        return Err(WireError::FrameTooLarge {
            length_bytes,
            frame_bytes_max,
        });
    }
    if length_bytes < HEADER_WORD_BYTES {
        return Err(WireError::FrameTooShort { length_bytes });
    }
    let frame_bytes = LENGTH_PREFIX_BYTES + length_bytes;
    if buffer.len() >= LENGTH_PREFIX_BYTES + HEADER_WORD_BYTES {
        let word = read_word(&buffer[LENGTH_PREFIX_BYTES..]);
        let header_bytes = (word & 0x00FF_FFFF) as usize;
        if header_bytes > length_bytes - HEADER_WORD_BYTES {
            return Err(WireError::HeaderLengthInvalid {
                header_bytes,
                length_bytes,
            });
        }
    }
    if buffer.len() < frame_bytes {
        return Ok(FrameCheck::Incomplete {
            frame_bytes: Some(frame_bytes),
        });
    }
    Ok(FrameCheck::Complete { frame_bytes })
}

/// Splits a complete frame (as reported by [`check`]) into serialize type, header and body.
///
/// # Errors
/// The same errors as [`check`], and [`WireError::Truncated`] if `frame` is not complete.
pub fn split(frame: &[u8], frame_bytes_max: usize) -> Result<FrameParts<'_>, WireError> {
    let frame_bytes = match check(frame, frame_bytes_max)? {
        FrameCheck::Complete { frame_bytes } => frame_bytes,
        FrameCheck::Incomplete { .. } => return Err(WireError::Truncated { field: "frame" }),
    };
    let word = read_word(&frame[LENGTH_PREFIX_BYTES..]);
    let serialize_type = (word >> 24) as u8;
    let header_bytes = (word & 0x00FF_FFFF) as usize;
    let header_start = LENGTH_PREFIX_BYTES + HEADER_WORD_BYTES;
    let body_start = header_start + header_bytes;
    Ok(FrameParts {
        serialize_type,
        header: &frame[header_start..body_start],
        body: &frame[body_start..frame_bytes],
    })
}

/// The serialize-type/header-length word.
#[must_use]
pub fn header_word(serialize_type: u8, header_bytes: usize) -> u32 {
    debug_assert!(header_bytes <= HEADER_BYTES_MAX);
    (u32::from(serialize_type) << 24) | (header_bytes as u32 & 0x00FF_FFFF)
}

fn read_length(prefix: &[u8]) -> usize {
    // A negative Java int reads as a huge u32 and is refused as too large.
    read_word(prefix) as usize
}

fn read_word(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_until_whole_frame() {
        let frame = [0, 0, 0, 6, 1, 0, 0, 1, b'x', b'y'];
        for cut in 0..frame.len() {
            let result = check(&frame[..cut], 100).unwrap();
            assert!(matches!(result, FrameCheck::Incomplete { .. }), "cut {cut}");
        }
        assert_eq!(
            check(&frame, 100).unwrap(),
            FrameCheck::Complete { frame_bytes: 10 }
        );
        let parts = split(&frame, 100).unwrap();
        assert_eq!(parts.serialize_type, 1);
        assert_eq!(parts.header, b"x");
        assert_eq!(parts.body, b"y");
    }

    #[test]
    fn oversized_short_and_bad_header_length_are_errors() {
        assert_eq!(
            check(&[0, 0, 1, 0], 255),
            Err(WireError::FrameTooLarge {
                length_bytes: 256,
                frame_bytes_max: 255
            })
        );
        assert_eq!(
            check(&[0xFF, 0xFF, 0xFF, 0xFF], FRAME_BYTES_MAX_DEFAULT),
            Err(WireError::FrameTooLarge {
                length_bytes: 0xFFFF_FFFF,
                frame_bytes_max: FRAME_BYTES_MAX_DEFAULT
            })
        );
        assert_eq!(
            check(&[0, 0, 0, 3], 255),
            Err(WireError::FrameTooShort { length_bytes: 3 })
        );
        assert_eq!(
            check(&[0, 0, 0, 5, 0, 0, 0, 2], 255),
            Err(WireError::HeaderLengthInvalid {
                header_bytes: 2,
                length_bytes: 5
            })
        );
    }

    #[test]
    fn split_refuses_incomplete() {
        assert!(split(&[0, 0, 0, 6, 1, 0, 0, 1], 100).is_err());
    }
}
