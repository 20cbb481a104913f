//! Tag subscriptions (`"*"`, `"A || B"`) as a store filter: match by tag hash on the
//! consume-queue entry, then recheck the exact tag on the record (hash collisions).
//! SQL92 subscriptions ([`crate::sql92`]) accept every consume-queue entry and evaluate the
//! expression against the record's properties; whether they may be used at all
//! (`enablePropertyFilter`) is the pull handler's decision.

use protocol::message::java_string_hash;
use protocol::message::properties::{self, keys};
use protocol::message::record::RecordView;

use crate::store::MessageFilter;

/// The expression types a subscription may carry.
pub const EXPRESSION_TAG: &str = "TAG";
pub const EXPRESSION_SQL92: &str = "SQL92";

/// A parsed tag subscription. `Send`, so it travels to the queue's owner shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    /// `*`: every message matches.
    pub all: bool,
    /// Java hashes of the tags.
    pub codes: Vec<i32>,
    /// The trimmed tags.
    pub tags: Vec<String>,
    /// A SQL92 subscription (then `all` is false and `codes`/`tags` are empty).
    pub sql: Option<Box<crate::sql92::Sql92>>,
}

/// A subscription expression that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("The broker does not support consumer to filter message by {0}")]
    UnsupportedExpressionType(String),
    #[error("subscription expression {0:?} has no tag")]
    NoTag(String),
    #[error("{0}")]
    Sql(#[from] crate::sql92::SqlError),
}

impl TagFilter {
    /// Every message.
    #[must_use]
    pub fn all() -> TagFilter {
        TagFilter {
            all: true,
            codes: Vec::new(),
            tags: Vec::new(),
            sql: None,
        }
    }

    /// Parses a subscription; `expression_type` `None` or `TAG` (any case) is a tag filter.
    ///
    /// # Errors
    /// SQL92 (not supported) or an expression made of separators only.
    pub fn parse(
        expression: &str,
        expression_type: Option<&str>,
    ) -> Result<TagFilter, FilterError> {
        if let Some(kind) = expression_type.filter(|kind| !kind.trim().is_empty()) {
            if kind.trim().eq_ignore_ascii_case(EXPRESSION_SQL92) {
                return Ok(TagFilter {
                    all: false,
                    codes: Vec::new(),
                    tags: Vec::new(),
                    sql: Some(Box::new(crate::sql92::Sql92::parse(expression)?)),
                });
            }
            if !kind.trim().eq_ignore_ascii_case(EXPRESSION_TAG) {
                return Err(FilterError::UnsupportedExpressionType(kind.to_owned()));
            }
        }
        let trimmed = expression.trim();
        if trimmed.is_empty() || trimmed == "*" {
            return Ok(TagFilter::all());
        }
        let mut filter = TagFilter {
            all: false,
            codes: Vec::new(),
            tags: Vec::new(),
            sql: None,
        };
        for tag in trimmed
            .split("||")
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
        {
            if !filter.tags.iter().any(|known| known == tag) {
                filter.codes.push(java_string_hash(tag));
                filter.tags.push(tag.to_owned());
            }
        }
        if filter.tags.is_empty() {
            return Err(FilterError::NoTag(expression.to_owned()));
        }
        Ok(filter)
    }
}

impl MessageFilter for TagFilter {
    fn matches_tags_code(&self, tags_code: i64) -> bool {
        if self.all || self.sql.is_some() {
            return true;
        }
        // The consume queue widens the i32 hash to i64; compare as Java's `(int) tagsCode`.
        #[allow(clippy::cast_possible_truncation)]
        let code = tags_code as i32;
        self.codes.contains(&code)
    }

    fn matches_record(&self, record: &[u8]) -> bool {
        if self.all {
            return true;
        }
        if let Some(sql) = &self.sql {
            return match RecordView::decode(record) {
                Ok((view, _)) => sql.matches(&|name| properties::find(view.properties, name)),
                Err(_) => true,
            };
        }
        match RecordView::decode(record) {
            Ok((view, _)) => properties::find(view.properties, keys::TAGS)
                .is_some_and(|tag| self.tags.iter().any(|wanted| wanted == tag)),
            // An undecodable record is the consumer's to judge, not silently dropped.
            Err(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_trimmed_tags() {
        let filter = TagFilter::parse(" TagA || TagC ||", None).expect("parses");
        assert_eq!(filter.tags, vec!["TagA", "TagC"]);
        assert!(filter.matches_tags_code(2_598_919));
        assert!(!filter.matches_tags_code(0));
        assert!(TagFilter::parse("*", Some("TAG")).expect("all").all);
        assert!(TagFilter::parse("", None).expect("all").all);
        assert!(TagFilter::parse("a > 1", Some("SQL92"))
            .expect("sql")
            .sql
            .is_some());
        assert!(matches!(
            TagFilter::parse("a >", Some("SQL92")),
            Err(FilterError::Sql(_))
        ));
        assert!(TagFilter::parse("a", Some("CLASS")).is_err());
        assert!(TagFilter::parse("||", None).is_err());
    }
}
