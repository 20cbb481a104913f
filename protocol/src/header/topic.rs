//! Topic administration: `UPDATE_AND_CREATE_TOPIC` (17) and `DELETE_TOPIC_IN_BROKER` (215)
//! headers, plus the topic vocabulary every component shares: [`perm`] bits
//! (`PermName.java`), [`TopicFilterType`], topic and group name validation and the system
//! topics (`TopicValidator.java`, `MixAll.java`).

use super::schema::{command_header, ValueKind, WireValue};
use crate::WireError;

pub use crate::body::route::perm;
pub use crate::body::route::TopicFilterType;
pub use crate::body::route::AUTO_CREATE_TOPIC_KEY_TOPIC as AUTO_CREATE_TOPIC_KEY;

/// `PermName.isValid`: 0..=7 (no priority bit, nothing above it).
#[must_use]
pub fn is_valid_perm(perm: i32) -> bool {
    (0..perm::PRIORITY).contains(&perm)
}

impl WireValue for TopicFilterType {
    const KIND: ValueKind = ValueKind::OneOf(&["SINGLE_TAG", "MULTI_TAG"]);

    fn parse(_name: &'static str, value: &str) -> Result<Self, WireError> {
        TopicFilterType::from_name(value.trim())
    }

    fn to_wire(&self) -> String {
        self.name().to_owned()
    }
}

command_header! {
    /// `UPDATE_AND_CREATE_TOPIC` (17) request header (`CreateTopicRequestHeader.java`).
    pub struct CreateTopicRequestHeader {
        /// `topic`.
        required topic: String = "topic",
        /// `defaultTopic`.
        required default_topic: String = "defaultTopic",
        /// `readQueueNums`.
        required read_queue_count: i32 = "readQueueNums",
        /// `writeQueueNums`.
        required write_queue_count: i32 = "writeQueueNums",
        /// `perm`: `perm` bits.
        required perm: i32 = "perm",
        /// `topicFilterType`.
        required topic_filter_type: TopicFilterType = "topicFilterType",
        /// `topicSysFlag`.
        optional topic_sys_flag: i32 = "topicSysFlag",
        /// `order`.
        required order: bool = "order",
        /// `attributes`: `+key=value,...`.
        optional attributes: String = "attributes",
        /// `force`.
        defaulted(false) force: bool = "force",
    }
}

command_header! {
    /// `DELETE_TOPIC_IN_BROKER` (215) request header (`DeleteTopicRequestHeader.java`).
    pub struct DeleteTopicRequestHeader {
        /// `topic`.
        required topic: String = "topic",
    }
}

command_header! {
    /// `GET_TOPIC_CONFIG` (351) request header (`GetTopicConfigRequestHeader.java`).
    pub struct GetTopicConfigRequestHeader {
        /// `topic`.
        required topic: String = "topic",
        /// `lo`: also return the logic-queue mapping (static topics; none here).
        optional logic: bool = "lo",
    }
}

/// Delay-level messages wait here (`RMQ_SYS_SCHEDULE_TOPIC`).
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";
/// Transaction half messages.
pub const TRANS_HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
/// Transaction op (commit/rollback) records.
pub const TRANS_OP_HALF_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
/// Half messages checked too often.
pub const TRANS_CHECK_MAX_TIME_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";
/// Broker self test.
pub const SELF_TEST_TOPIC: &str = "SELF_TEST_TOPIC";
/// Offset-moved events.
pub const OFFSET_MOVED_EVENT: &str = "OFFSET_MOVED_EVENT";
/// Benchmark topic (system, but sendable).
pub const BENCHMARK_TOPIC: &str = "BenchmarkTest";
/// Message-trace topic (system, but sendable).
pub const TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";
/// RocksDB offset checkpoints (5.x).
pub const ROCKSDB_OFFSET_TOPIC: &str = "CHECKPOINT_TOPIC";
/// Every topic starting with this is a system topic.
pub const SYSTEM_TOPIC_PREFIX: &str = "rmq_sys_";
/// `%RETRY%{group}`.
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
/// `%DLQ%{group}`.
pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";

/// Topics a producer may never send to: the broker answers `NO_PERMISSION`
/// (`TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET`).
pub const SEND_REFUSED_TOPICS: &[&str] = &[
    SCHEDULE_TOPIC,
    TRANS_HALF_TOPIC,
    TRANS_OP_HALF_TOPIC,
    TRANS_CHECK_MAX_TIME_TOPIC,
    SELF_TEST_TOPIC,
    OFFSET_MOVED_EVENT,
];

/// Named system topics (`TopicValidator.SYSTEM_TOPIC_SET`); names with
/// [`SYSTEM_TOPIC_PREFIX`] are system topics too.
pub const SYSTEM_TOPICS: &[&str] = &[
    AUTO_CREATE_TOPIC_KEY,
    SCHEDULE_TOPIC,
    BENCHMARK_TOPIC,
    TRANS_HALF_TOPIC,
    TRACE_TOPIC,
    TRANS_OP_HALF_TOPIC,
    TRANS_CHECK_MAX_TIME_TOPIC,
    SELF_TEST_TOPIC,
    OFFSET_MOVED_EVENT,
    ROCKSDB_OFFSET_TOPIC,
];

/// Longest ordinary topic name, in characters.
pub const TOPIC_CHARS_MAX: usize = 127;
/// Longest retry or DLQ topic name, in characters.
pub const RETRY_OR_DLQ_TOPIC_CHARS_MAX: usize = 255;
/// Longest group name, in characters (so `%RETRY%`/`%DLQ%` + group fits 127 + prefix).
pub const GROUP_CHARS_MAX: usize = 120;

const _: () = assert!(GROUP_CHARS_MAX + RETRY_GROUP_TOPIC_PREFIX.len() <= TOPIC_CHARS_MAX);

/// Why a topic or group name is refused; the `Display` text is the Java broker's remark.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameInvalid {
    #[error("The specified {what} is blank.")]
    Blank { what: &'static str },
    #[error("The specified {what}: {name}, contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$")]
    IllegalCharacter { what: &'static str, name: String },
    #[error("The specified {what}: {name}, is longer than {what} max length: {chars_max}")]
    TooLong {
        what: &'static str,
        name: String,
        chars_max: usize,
    },
}

fn is_legal_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'%' | b'|' | b'_' | b'-')
}

/// True if `name` matches `^[%|a-zA-Z0-9_-]+$` (`TopicValidator.isTopicOrGroupIllegal`
/// negated, plus non-empty).
#[must_use]
pub fn is_legal_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_legal_name_byte)
}

/// True for `%RETRY%…` and `%DLQ%…` topics.
#[must_use]
pub fn is_retry_or_dlq_topic(topic: &str) -> bool {
    topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) || topic.starts_with(DLQ_GROUP_TOPIC_PREFIX)
}

/// `TopicValidator.validateTopic`: non-blank, legal characters, at most 127 characters
/// (255 for retry and DLQ topics).
///
/// # Errors
/// The reason, whose `Display` is the Java remark.
pub fn validate_topic(topic: &str) -> Result<(), NameInvalid> {
    validate_name(
        "topic",
        topic,
        if is_retry_or_dlq_topic(topic) {
            RETRY_OR_DLQ_TOPIC_CHARS_MAX
        } else {
            TOPIC_CHARS_MAX
        },
    )
}

/// `TopicValidator.validateGroup`: non-blank, legal characters, at most 120 characters.
///
/// # Errors
/// The reason, whose `Display` is the Java remark.
pub fn validate_group(group: &str) -> Result<(), NameInvalid> {
    validate_name("group", group, GROUP_CHARS_MAX)
}

fn validate_name(what: &'static str, name: &str, chars_max: usize) -> Result<(), NameInvalid> {
    if name.trim().is_empty() {
        return Err(NameInvalid::Blank { what });
    }
    if !is_legal_name(name) {
        return Err(NameInvalid::IllegalCharacter {
            what,
            name: name.to_owned(),
        });
    }
    // Legal names are ASCII, so bytes = characters.
    if name.len() > chars_max {
        return Err(NameInvalid::TooLong {
            what,
            name: name.to_owned(),
            chars_max,
        });
    }
    Ok(())
}

/// True for a named system topic or one starting with `rmq_sys_`.
#[must_use]
pub fn is_system_topic(topic: &str) -> bool {
    SYSTEM_TOPICS.contains(&topic) || topic.starts_with(SYSTEM_TOPIC_PREFIX)
}

/// True if producers may not send to `topic` (the broker answers `NO_PERMISSION`).
#[must_use]
pub fn is_send_refused(topic: &str) -> bool {
    SEND_REFUSED_TOPICS.contains(&topic)
}

/// `%RETRY%{group}`.
#[must_use]
pub fn retry_topic(group: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}")
}

/// `%DLQ%{group}`.
#[must_use]
pub fn dlq_topic(group: &str) -> String {
    format!("{DLQ_GROUP_TOPIC_PREFIX}{group}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perm_bits_match_perm_name() {
        assert_eq!(perm::to_letters(6), "RW-");
        assert_eq!(perm::to_letters(7), "RWX");
        assert_eq!(perm::to_letters(perm::PRIORITY), "---");
        assert!(is_valid_perm(7) && !is_valid_perm(8) && !is_valid_perm(-1));
    }

    #[test]
    fn topic_names_follow_the_validator() {
        assert_eq!(validate_topic("TopicTest"), Ok(()));
        assert_eq!(validate_topic("a|b%c_d-e9"), Ok(()));
        assert_eq!(
            validate_topic(""),
            Err(NameInvalid::Blank { what: "topic" })
        );
        assert_eq!(
            validate_topic("  "),
            Err(NameInvalid::Blank { what: "topic" })
        );
        assert!(matches!(
            validate_topic("a b"),
            Err(NameInvalid::IllegalCharacter { .. })
        ));
        assert!(matches!(
            validate_topic("tópico"),
            Err(NameInvalid::IllegalCharacter { .. })
        ));
        assert_eq!(validate_topic(&"t".repeat(127)), Ok(()));
        assert_eq!(
            validate_topic(&"t".repeat(128)),
            Err(NameInvalid::TooLong {
                what: "topic",
                name: "t".repeat(128),
                chars_max: 127
            })
        );
        let long_retry = retry_topic(&"g".repeat(248));
        assert_eq!(long_retry.len(), 255);
        assert_eq!(validate_topic(&long_retry), Ok(()));
        assert!(validate_topic(&dlq_topic(&"g".repeat(251))).is_err());
        assert!(validate_group(&"g".repeat(120)).is_ok());
        assert!(validate_group(&"g".repeat(121)).is_err());
        assert_eq!(
            validate_topic("a b").unwrap_err().to_string(),
            "The specified topic: a b, contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
        );
    }

    #[test]
    fn system_topics_refuse_sends() {
        for topic in SEND_REFUSED_TOPICS {
            assert!(is_send_refused(topic));
            assert!(is_system_topic(topic));
        }
        assert!(!is_send_refused(AUTO_CREATE_TOPIC_KEY));
        assert!(is_system_topic(AUTO_CREATE_TOPIC_KEY));
        assert!(is_system_topic("rmq_sys_wheel_timer"));
        assert!(!is_system_topic("TopicTest"));
        assert_eq!(retry_topic("g"), "%RETRY%g");
        assert!(is_retry_or_dlq_topic("%DLQ%g"));
    }

    #[test]
    fn topic_filter_type_names() {
        assert_eq!(
            TopicFilterType::parse("topicFilterType", "MULTI_TAG"),
            Ok(TopicFilterType::MultiTag)
        );
        assert!(TopicFilterType::parse("topicFilterType", "X").is_err());
        assert_eq!(TopicFilterType::SingleTag.to_wire(), "SINGLE_TAG");
    }
}
