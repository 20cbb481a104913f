//! Consumer-offset and queue-offset headers: `QUERY_CONSUMER_OFFSET` (14),
//! `UPDATE_CONSUMER_OFFSET` (15), `SEARCH_OFFSET_BY_TIMESTAMP` (29), `GET_MAX_OFFSET` (30),
//! `GET_MIN_OFFSET` (31), `GET_EARLIEST_MSG_STORETIME` (32).
//!
//! `UPDATE_CONSUMER_OFFSET` arrives oneway (flag 2) from some clients and two-way from others;
//! that is the frame's business, not the header's.

use super::schema::{command_header, ValueKind, WireValue};
use crate::WireError;

command_header! {
    /// `QUERY_CONSUMER_OFFSET` (14) request header.
    pub struct QueryConsumerOffsetRequestHeader {
        /// `consumerGroup`.
        required consumer_group: String = "consumerGroup",
        /// `topic`.
        required topic: String = "topic",
        /// `queueId`.
        required queue_id: i32 = "queueId",
        /// `setZeroIfNotFound`: `false` makes an unknown offset `QUERY_NOT_FOUND`.
        optional set_zero_if_not_found: bool = "setZeroIfNotFound",
    }
}

command_header! {
    /// `QUERY_CONSUMER_OFFSET` response header.
    pub struct QueryConsumerOffsetResponseHeader {
        /// `offset`.
        required offset: i64 = "offset",
    }
}

command_header! {
    /// `UPDATE_CONSUMER_OFFSET` (15) request header; no response header.
    pub struct UpdateConsumerOffsetRequestHeader {
        /// `consumerGroup`.
        required consumer_group: String = "consumerGroup",
        /// `topic`.
        required topic: String = "topic",
        /// `queueId`.
        required queue_id: i32 = "queueId",
        /// `commitOffset`.
        required commit_offset: i64 = "commitOffset",
    }
}

/// Which offset `SEARCH_OFFSET_BY_TIMESTAMP` returns when several messages share the
/// timestamp (`BoundaryType.java`). Written as `LOWER`/`UPPER` (the Java enum's
/// `toString()`); read like `BoundaryType.getType`: `upper` in any case is
/// [`BoundaryType::Upper`], anything else [`BoundaryType::Lower`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BoundaryType {
    #[default]
    Lower,
    Upper,
}

impl WireValue for BoundaryType {
    const KIND: ValueKind = ValueKind::OneOf(&["LOWER", "UPPER"]);

    fn parse(_name: &'static str, value: &str) -> Result<Self, WireError> {
        Ok(if value.trim().eq_ignore_ascii_case("upper") {
            BoundaryType::Upper
        } else {
            BoundaryType::Lower
        })
    }

    fn to_wire(&self) -> String {
        match self {
            BoundaryType::Lower => "LOWER",
            BoundaryType::Upper => "UPPER",
        }
        .to_owned()
    }
}

command_header! {
    /// `SEARCH_OFFSET_BY_TIMESTAMP` (29) request header.
    pub struct SearchOffsetRequestHeader {
        /// `topic`.
        required topic: String = "topic",
        /// `queueId`.
        required queue_id: i32 = "queueId",
        /// `timestamp` (ms).
        required timestamp_ms: i64 = "timestamp",
        /// `boundaryType`: absent = lower.
        optional boundary_type: BoundaryType = "boundaryType",
    }
}

command_header! {
    /// `SEARCH_OFFSET_BY_TIMESTAMP` response header.
    pub struct SearchOffsetResponseHeader {
        /// `offset`.
        required offset: i64 = "offset",
    }
}

command_header! {
    /// `GET_MAX_OFFSET` (30) request header.
    pub struct GetMaxOffsetRequestHeader {
        /// `topic`.
        required topic: String = "topic",
        /// `queueId`.
        required queue_id: i32 = "queueId",
        /// `committed`: only offsets visible to consumers (default true).
        defaulted(true) committed: bool = "committed",
    }
}

command_header! {
    /// `GET_MAX_OFFSET` response header.
    pub struct GetMaxOffsetResponseHeader {
        /// `offset`.
        required offset: i64 = "offset",
    }
}

command_header! {
    /// `GET_MIN_OFFSET` (31) request header.
    pub struct GetMinOffsetRequestHeader {
        /// `topic`.
        required topic: String = "topic",
        /// `queueId`.
        required queue_id: i32 = "queueId",
    }
}

command_header! {
    /// `GET_MIN_OFFSET` response header.
    pub struct GetMinOffsetResponseHeader {
        /// `offset`.
        required offset: i64 = "offset",
    }
}

command_header! {
    /// `GET_EARLIEST_MSG_STORETIME` (32) request header.
    pub struct GetEarliestMsgStoretimeRequestHeader {
        /// `topic`.
        required topic: String = "topic",
        /// `queueId`.
        required queue_id: i32 = "queueId",
    }
}

command_header! {
    /// `GET_EARLIEST_MSG_STORETIME` response header.
    pub struct GetEarliestMsgStoretimeResponseHeader {
        /// `timestamp` (ms).
        required timestamp_ms: i64 = "timestamp",
    }
}
