//! Subscriptions: a tag expression (`*`, `TagA || TagB`) or an SQL92 expression, as the
//! heartbeat carries them (`SubscriptionData`) and as the client re-filters pulled messages.

use protocol::body::heartbeat::SubscriptionData;
use protocol::message::java_string_hash;

use crate::message::MessageExt;

/// What a consumer subscribes to in one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// `*` or tags joined with `||` (each tag trimmed).
    Tag(String),
    /// An SQL92 filter over message properties (needs `enablePropertyFilter` on the broker).
    Sql92(String),
}

impl Expression {
    /// Every message of the topic.
    #[must_use]
    pub fn all() -> Expression {
        Expression::Tag("*".to_owned())
    }
}

/// One topic's subscription, ready for the heartbeat and the pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub topic: String,
    pub expression: Expression,
    /// Tags of a tag subscription (empty = all).
    pub tags: Vec<String>,
    pub codes: Vec<i32>,
    /// Version stamp (creation time in ms), as Java's `subVersion`.
    pub version: i64,
}

impl Subscription {
    /// Builds the subscription; an empty tag expression means `*`.
    #[must_use]
    pub fn new(topic: &str, expression: Expression) -> Subscription {
        let (expression, tags) = match expression {
            Expression::Tag(text) => {
                let tags: Vec<String> = text
                    .split("||")
                    .map(str::trim)
                    .filter(|tag| !tag.is_empty() && *tag != "*")
                    .map(str::to_owned)
                    .collect();
                let all = text.trim().is_empty() || text.trim() == "*" || tags.is_empty();
                if all {
                    (Expression::all(), Vec::new())
                } else {
                    (Expression::Tag(text), tags)
                }
            }
            sql @ Expression::Sql92(_) => (sql, Vec::new()),
        };
        Subscription {
            topic: topic.to_owned(),
            codes: tags.iter().map(|tag| java_string_hash(tag)).collect(),
            tags,
            expression,
            version: crate::message::now_ms(),
        }
    }

    /// The expression string (`subString`).
    #[must_use]
    pub fn sub_string(&self) -> &str {
        match &self.expression {
            Expression::Tag(text) | Expression::Sql92(text) => text,
        }
    }

    /// `TAG` or `SQL92`.
    #[must_use]
    pub fn expression_type(&self) -> &'static str {
        match self.expression {
            Expression::Tag(_) => "TAG",
            Expression::Sql92(_) => "SQL92",
        }
    }

    /// Client-side re-check of a tag subscription (hash collisions on the broker).
    #[must_use]
    pub fn matches(&self, message: &MessageExt) -> bool {
        match self.expression {
            Expression::Sql92(_) => true,
            Expression::Tag(_) if self.tags.is_empty() => true,
            Expression::Tag(_) => message
                .tags()
                .is_some_and(|tag| self.tags.iter().any(|wanted| wanted == tag)),
        }
    }

    /// The heartbeat form.
    #[must_use]
    pub fn to_wire(&self) -> SubscriptionData {
        SubscriptionData {
            class_filter_mode: false,
            topic: self.topic.clone(),
            sub_string: self.sub_string().to_owned(),
            tags_set: self.tags.clone(),
            code_set: self.codes.clone(),
            sub_version: self.version,
            expression_type: self.expression_type().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_expressions() {
        let sub = Subscription::new("T", Expression::Tag(" TagA ||TagB|| ".into()));
        assert_eq!(sub.tags, ["TagA", "TagB"]);
        assert_eq!(sub.codes[0], 2_598_919);
        assert_eq!(sub.expression_type(), "TAG");
        let all = Subscription::new("T", Expression::Tag(String::new()));
        assert_eq!(all.sub_string(), "*");
        assert!(all.tags.is_empty());
        let sql = Subscription::new("T", Expression::Sql92("a > 5".into()));
        assert_eq!(sql.to_wire().expression_type, "SQL92");
    }
}
