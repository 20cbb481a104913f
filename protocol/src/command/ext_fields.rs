//! [`ExtFields`]: the `extFields` map of a [`super::RemotingCommand`].

use std::fmt;

/// The `extFields` map: small, so pairs in arrival order with linear lookups (these beat
/// hashing at ≤ 20 entries). Keys and values live in one string buffer, so decoding a
/// header costs two allocations rather than two per pair. Keys are unique;
/// [`ExtFields::insert`] replaces.
#[derive(Clone, Default)]
pub struct ExtFields {
    /// Every key and value, concatenated. A replaced or removed entry leaves dead bytes,
    /// dropped by [`ExtFields::compact_if_sparse`] once they outweigh the live ones.
    text: String,
    /// One per entry, in arrival order: byte ranges of the key and the value in `text`.
    spans: Vec<Span>,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    key_start: usize,
    key_end: usize,
    value_start: usize,
    value_end: usize,
}

impl ExtFields {
    #[must_use]
    pub fn new() -> ExtFields {
        ExtFields::empty()
    }

    /// An empty map usable in `static`s.
    #[must_use]
    pub const fn empty() -> ExtFields {
        ExtFields {
            text: String::new(),
            spans: Vec::new(),
        }
    }

    #[must_use]
    pub fn with_capacity(capacity: usize) -> ExtFields {
        ExtFields::with_capacity_bytes(capacity, capacity.saturating_mul(24))
    }

    pub(super) fn with_capacity_bytes(entries: usize, text_bytes: usize) -> ExtFields {
        ExtFields {
            text: String::with_capacity(text_bytes),
            spans: Vec::with_capacity(entries),
        }
    }

    fn key_of(&self, span: &Span) -> &str {
        &self.text[span.key_start..span.key_end]
    }

    fn value_of(&self, span: &Span) -> &str {
        &self.text[span.value_start..span.value_end]
    }

    /// Compares bytes, not `str` slices (no char-boundary checks), and rejects on the
    /// length and first byte before calling `memcmp`: keys are short and differ early.
    fn has_key(&self, span: &Span, key: &[u8]) -> bool {
        let text = self.text.as_bytes();
        span.key_end - span.key_start == key.len()
            && key
                .first()
                .is_none_or(|first| text.get(span.key_start) == Some(first))
            && text.get(span.key_start..span.key_end) == Some(key)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.spans
            .iter()
            .position(|span| self.has_key(span, key.as_bytes()))
    }

    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.spans
            .iter()
            .find(|span| self.has_key(span, key.as_bytes()))
            .map(|span| self.value_of(span))
    }

    /// Inserts or replaces `key`.
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        let (key, value) = (key.as_ref(), value.as_ref());
        let value_start = |text: &mut String| {
            let start = text.len();
            text.push_str(value);
            (start, text.len())
        };
        if let Some(index) = self.position(key) {
            let (start, end) = value_start(&mut self.text);
            self.spans[index].value_start = start;
            self.spans[index].value_end = end;
            self.compact_if_sparse();
        } else {
            let key_start = self.text.len();
            self.text.push_str(key);
            let key_end = self.text.len();
            let (start, end) = value_start(&mut self.text);
            self.spans.push(Span {
                key_start,
                key_end,
                value_start: start,
                value_end: end,
            });
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.position(key)?;
        let span = self.spans.remove(index);
        let value = self.value_of(&span).to_owned();
        self.compact_if_sparse();
        Some(value)
    }

    /// Rewrites `text` without dead bytes once they outweigh the live ones.
    fn compact_if_sparse(&mut self) {
        let live: usize = self
            .spans
            .iter()
            .map(|span| span.key_end - span.key_start + span.value_end - span.value_start)
            .sum();
        if self.text.len() <= live.saturating_mul(2).saturating_add(64) {
            return;
        }
        let old = std::mem::replace(&mut self.text, String::with_capacity(live));
        for span in &mut self.spans {
            let key_start = self.text.len();
            self.text.push_str(&old[span.key_start..span.key_end]);
            let value_start = self.text.len();
            self.text.push_str(&old[span.value_start..span.value_end]);
            *span = Span {
                key_start,
                key_end: value_start,
                value_start,
                value_end: self.text.len(),
            };
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans
            .iter()
            .map(|span| (self.key_of(span), self.value_of(span)))
    }
}

impl PartialEq for ExtFields {
    /// Same pairs in the same order (dead bytes do not count).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for ExtFields {}

impl fmt::Debug for ExtFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(String, String)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut fields = ExtFields::new();
        for (key, value) in iter {
            fields.insert(key, value);
        }
        fields
    }
}
