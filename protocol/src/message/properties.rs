//! Message properties: `name \u{1} value \u{2}` repeated; **every** pair, the last one too,
//! ends with `\u{2}` (`MessageDecoder.messageProperties2String`).
//!
//! ```text
//! +------+------+-------+------+------+------+-------+------+
//! | name | 0x01 | value | 0x02 | name | 0x01 | value | 0x02 | ...
//! +------+------+-------+------+------+------+-------+------+
//! ```
//!
//! Parsing is lenient like Java's `string2messageProperties`: a segment shorter than three
//! characters, or whose first `\u{1}` is not strictly inside it, is skipped; a later duplicate
//! key replaces the earlier value.

/// Separates a name from its value.
pub const NAME_VALUE_SEPARATOR: char = '\u{1}';
/// Ends every name/value pair.
pub const PROPERTY_SEPARATOR: char = '\u{2}';

/// Property keys that matter to the broker (`MessageConst.java`).
pub mod keys {
    /// Space-separated business keys, indexed for query by key.
    pub const KEYS: &str = "KEYS";
    /// The tag; its Java hash is the consume-queue tags code.
    pub const TAGS: &str = "TAGS";
    /// `"true"` (default) = the producer waits for the store; the broker strips it.
    pub const WAIT: &str = "WAIT";
    /// Delay level 1..=18.
    pub const DELAY: &str = "DELAY";
    /// Client-made unique id, the client-visible msgId.
    pub const UNIQ_KEY: &str = "UNIQ_KEY";
    /// Original topic of a delayed / transactional / timer message.
    pub const REAL_TOPIC: &str = "REAL_TOPIC";
    /// Original queue id of a delayed / transactional / timer message.
    pub const REAL_QID: &str = "REAL_QID";
    /// `"true"` on a transactional half message.
    pub const TRAN_MSG: &str = "TRAN_MSG";
    /// Producer group of a transactional message.
    pub const PGROUP: &str = "PGROUP";
    /// Original topic of a retried message.
    pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
    /// Message id of the original message of a retry.
    pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
    /// Maximum reconsume times requested by the client.
    pub const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
    /// Reconsume times (set on retried messages).
    pub const RECONSUME_TIME: &str = "RECONSUME_TIME";
    /// Minimum queue offset, client-added on pull.
    pub const MIN_OFFSET: &str = "MIN_OFFSET";
    /// Maximum queue offset, client-added on pull.
    pub const MAX_OFFSET: &str = "MAX_OFFSET";
    /// How many times a half message was checked.
    pub const TRANSACTION_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
    /// First check of a half message not before this many seconds.
    pub const CHECK_IMMUNITY_TIME_IN_SECONDS: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
    /// Queue offset of the half message a commit refers to.
    pub const TRAN_PREPARED_QUEUE_OFFSET: &str = "TRAN_PREPARED_QUEUE_OFFSET";
    /// Transaction id.
    pub const TRANSACTION_ID: &str = "__transactionId__";
    /// Region of the message.
    pub const MSG_REGION: &str = "MSG_REGION";
    /// Message trace switch.
    pub const TRACE_ON: &str = "TRACE_ON";
    /// Cluster name.
    pub const CLUSTER: &str = "CLUSTER";
    /// Message type.
    pub const MSG_TYPE: &str = "MSG_TYPE";
    /// Sharding key of an ordered message.
    pub const SHARDING_KEY: &str = "__SHARDINGKEY";
    /// Timer message: absolute deliver time (ms).
    pub const TIMER_DELIVER_MS: &str = "TIMER_DELIVER_MS";
    /// Timer message: relative delay (s).
    pub const TIMER_DELAY_SEC: &str = "TIMER_DELAY_SEC";
    /// Timer message: relative delay (ms).
    pub const TIMER_DELAY_MS: &str = "TIMER_DELAY_MS";
    /// Timer message: deliver time rounded to the timer precision (ms).
    pub const TIMER_OUT_MS: &str = "TIMER_OUT_MS";
    /// Timer message: enqueue time (ms).
    pub const TIMER_ENQUEUE_MS: &str = "TIMER_ENQUEUE_MS";
    /// Timer message: dequeue time (ms).
    pub const TIMER_DEQUEUE_MS: &str = "TIMER_DEQUEUE_MS";
    /// Timer message: how often it rolled in the wheel.
    pub const TIMER_ROLL_TIMES: &str = "TIMER_ROLL_TIMES";
    /// Timer message: unique key of a deleted timer message.
    pub const TIMER_DEL_UNIQKEY: &str = "TIMER_DEL_UNIQKEY";
    /// Number of messages in an inner batch.
    pub const INNER_NUM: &str = "INNER_NUM";
    /// Base queue offset of an inner batch.
    pub const INNER_BASE: &str = "INNER_BASE";
    /// Original topic of a dead-lettered message.
    pub const DLQ_ORIGIN_TOPIC: &str = "DLQ_ORIGIN_TOPIC";
    /// Original message id of a dead-lettered message.
    pub const DLQ_ORIGIN_MESSAGE_ID: &str = "DLQ_ORIGIN_MESSAGE_ID";
    /// Born host as a property.
    pub const BORN_HOST: &str = "__BORNHOST";
    /// Born timestamp as a property.
    pub const BORN_TIMESTAMP: &str = "BORN_TIMESTAMP";
    /// Appended CRC property (`enabledAppendPropCRC`).
    pub const CRC32: &str = "__CRC32#";
}

/// Java `String.hashCode()`: `h = 31 * h + c` over the UTF-16 code units, wrapping.
/// `java_string_hash("TagA") == 2_598_919`.
#[must_use]
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The consume-queue tags code of a tag: its Java hash widened to i64, 0 without a tag.
#[must_use]
pub fn tags_code(tags: Option<&str>) -> i64 {
    match tags {
        Some(tag) if !tag.is_empty() => i64::from(java_string_hash(tag)),
        _ => 0,
    }
}

/// Iterates over the valid `(name, value)` pairs of a properties string, in order, with
/// Java's lenient rules (duplicates are yielded as they appear).
pub fn pairs(properties: &str) -> impl Iterator<Item = (&str, &str)> {
    properties.split(PROPERTY_SEPARATOR).filter_map(|segment| {
        // Java counts UTF-16 units; a segment of >= 3 bytes with a separator strictly inside
        // has a non-empty name and a non-empty value either way.
        if segment.len() < 3 {
            return None;
        }
        let separator = segment.find(NAME_VALUE_SEPARATOR)?;
        if separator == 0 || separator + 1 >= segment.len() {
            return None;
        }
        Some((&segment[..separator], &segment[separator + 1..]))
    })
}

/// The value of `key` in a serialized properties string without allocating (the last
/// occurrence wins, as in Java's map).
#[must_use]
pub fn find<'a>(properties: &'a str, key: &str) -> Option<&'a str> {
    pairs(properties)
        .filter(|(name, _)| *name == key)
        .last()
        .map(|(_, value)| value)
}

/// An ordered property map (insertion order kept; the broker has few properties per message,
/// so a vector beats a hash map).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<(String, String)>,
}

impl Properties {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a serialized properties string leniently (never fails).
    #[must_use]
    pub fn parse(properties: &str) -> Self {
        let mut map = Self::new();
        for (name, value) in pairs(properties) {
            map.insert(name, value);
        }
        map
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    /// Sets `key` to `value`, replacing an existing value in place.
    pub fn insert(&mut self, key: &str, value: &str) {
        if let Some(entry) = self.entries.iter_mut().find(|(name, _)| name == key) {
            value.clone_into(&mut entry.1);
        } else {
            self.entries.push((key.to_owned(), value.to_owned()));
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.entries.iter().position(|(name, _)| name == key)?;
        Some(self.entries.remove(index).1)
    }

    /// Number of pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True without pairs.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Bytes of the serialized form.
    #[must_use]
    pub fn encoded_size(&self) -> usize {
        self.entries
            .iter()
            .map(|(k, v)| k.len() + v.len() + 2)
            .sum()
    }

    /// Appends the serialized form to `dst`. Pairs whose name or value is empty (which Java
    /// would drop on parse) are written anyway; callers should not insert them.
    pub fn encode(&self, dst: &mut String) {
        dst.reserve(self.encoded_size());
        for (name, value) in &self.entries {
            dst.push_str(name);
            dst.push(NAME_VALUE_SEPARATOR);
            dst.push_str(value);
            dst.push(PROPERTY_SEPARATOR);
        }
    }

    /// The serialized form.
    #[must_use]
    pub fn to_wire_string(&self) -> String {
        let mut out = String::with_capacity(self.encoded_size());
        self.encode(&mut out);
        out
    }

    /// The space-separated `KEYS` values.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.get(keys::KEYS)
            .unwrap_or("")
            .split(' ')
            .filter(|key| !key.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn java_hash_golden_values() {
        assert_eq!(java_string_hash("TagA"), 2_598_919);
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        // "hello".hashCode() == 99162322; wraps for long strings like Java.
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        // A non-BMP char is two UTF-16 units: "\u{1F600}".hashCode() == 1772899.
        assert_eq!(java_string_hash("\u{1F600}"), 1_772_899);
        assert_eq!(tags_code(Some("TagA")), 2_598_919);
        assert_eq!(tags_code(None), 0);
    }

    #[test]
    fn parse_golden_string() {
        let wire = "KEYS\u{1}k1 k2\u{2}TAGS\u{1}TagA\u{2}WAIT\u{1}true\u{2}";
        let map = Properties::parse(wire);
        assert_eq!(map.get(keys::TAGS), Some("TagA"));
        assert_eq!(map.keys().collect::<Vec<_>>(), ["k1", "k2"]);
        assert_eq!(map.to_wire_string(), wire);
        assert_eq!(find(wire, keys::WAIT), Some("true"));
        assert_eq!(find(wire, "NOPE"), None);
    }

    #[test]
    fn parse_is_lenient() {
        // No trailing separator, short segments, empty name, empty value, no separator.
        let wire = "a\u{1}b\u{2}\u{2}x\u{2}\u{1}vv\u{2}kk\u{1}\u{2}noseparator\u{2}c\u{1}d";
        let map = Properties::parse(wire);
        assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "b"), ("c", "d")]);
        // Duplicate: the later value wins.
        let map = Properties::parse("k\u{1}1\u{2}k\u{1}2\u{2}");
        assert_eq!(map.get("k"), Some("2"));
        assert_eq!(find("k\u{1}1\u{2}k\u{1}2\u{2}", "k"), Some("2"));
        // A value may contain the name/value separator.
        assert_eq!(
            Properties::parse("k\u{1}a\u{1}b\u{2}").get("k"),
            Some("a\u{1}b")
        );
    }

    #[test]
    fn insert_remove() {
        let mut map = Properties::new();
        map.insert("A", "1");
        map.insert("B", "2");
        map.insert("A", "3");
        assert_eq!(map.to_wire_string(), "A\u{1}3\u{2}B\u{1}2\u{2}");
        assert_eq!(map.remove("A").as_deref(), Some("3"));
        assert_eq!(map.len(), 1);
        assert_eq!(map.encoded_size(), map.to_wire_string().len());
    }

    proptest! {
        #[test]
        fn round_trip(pairs in proptest::collection::vec(("[A-Za-z_]{1,8}", "[ -~]{1,12}"), 0..8)) {
            let mut map = Properties::new();
            for (k, v) in &pairs {
                map.insert(k, v);
            }
            let wire = map.to_wire_string();
            prop_assert_eq!(Properties::parse(&wire), map);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,64}") {
            let _ = Properties::parse(&s);
        }
    }
}
