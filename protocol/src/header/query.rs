//! Message lookup headers: `QUERY_MESSAGE` (12, by key or unique key) and
//! `VIEW_MESSAGE_BY_ID` (33, by commit-log offset). Both answer with stored records
//! (`crate::message::record`) as the body.

use super::schema::command_header;

/// The ext key that turns `QUERY_MESSAGE` into a unique-key (`UNIQ_KEY`) lookup.
pub const UNIQUE_KEY_QUERY_KEY: &str = "_UNIQUE_KEY_QUERY";

command_header! {
    /// `QUERY_MESSAGE` (12) request header. The ext key `_UNIQUE_KEY_QUERY=true` (not part
    /// of the Java header class, added beside it) asks for a unique-key lookup.
    pub struct QueryMessageRequestHeader {
        /// `topic`.
        required topic: String = "topic",
        /// `key`: a `KEYS` entry or a `UNIQ_KEY`.
        required key: String = "key",
        /// `maxNum`.
        required max_count: i32 = "maxNum",
        /// `beginTimestamp` (ms).
        required begin_timestamp_ms: i64 = "beginTimestamp",
        /// `endTimestamp` (ms).
        required end_timestamp_ms: i64 = "endTimestamp",
        /// `_UNIQUE_KEY_QUERY`.
        optional unique_key_query: bool = "_UNIQUE_KEY_QUERY",
    }
}

impl QueryMessageRequestHeader {
    /// True for a unique-key lookup (`_UNIQUE_KEY_QUERY=true`).
    #[must_use]
    pub fn is_unique_key_query(&self) -> bool {
        self.unique_key_query == Some(true)
    }
}

command_header! {
    /// `QUERY_MESSAGE` response header.
    pub struct QueryMessageResponseHeader {
        /// `indexLastUpdateTimestamp` (ms).
        required index_last_update_timestamp_ms: i64 = "indexLastUpdateTimestamp",
        /// `indexLastUpdatePhyoffset`.
        required index_last_update_physical_offset: i64 = "indexLastUpdatePhyoffset",
    }
}

command_header! {
    /// `VIEW_MESSAGE_BY_ID` (33) request header (`ViewMessageRequestHeader.java`). The client
    /// decodes the offset message id into (broker address, commit-log offset) itself.
    pub struct ViewMessageByIdRequestHeader {
        /// `offset`: the commit-log offset.
        required offset: i64 = "offset",
        /// `topic` (5.x).
        optional topic: String = "topic",
    }
}
