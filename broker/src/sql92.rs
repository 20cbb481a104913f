//! SQL92 property filter (`expressionType=SQL92`): a parser and evaluator of our own for
//! the subset RocketMQ documents: comparisons `= <> != < <= > >=`, `[NOT] BETWEEN a AND b`,
//! `[NOT] IN (..)`, `IS [NOT] NULL`, `AND`/`OR`/`NOT`, parentheses, string (`'..'`, `''`
//! escapes a quote), integer, decimal and boolean (`TRUE`/`FALSE`) literals, and identifiers
//! naming message properties.
//!
//! Evaluation is three-valued as in SQL (and ActiveMQ's selector that RocketMQ uses): a
//! comparison with a missing property is *unknown*, `NOT unknown` is unknown, and only a
//! *true* result selects the message. Properties are strings; against a number literal they
//! are parsed as numbers (an unparsable value compares false, as Java's
//! `NumberFormatException` path), against a boolean literal they are parsed as booleans.
//!
//! Limits: expressions at most [`SQL_BYTES_MAX`] bytes and nesting at most
//! [`SQL_DEPTH_MAX`], so a hostile subscription cannot exhaust the stack.

use std::fmt;

/// Longest expression accepted.
pub const SQL_BYTES_MAX: usize = 4_096;
/// Deepest nesting of parentheses / NOT accepted.
pub const SQL_DEPTH_MAX: usize = 64;

/// A parse failure (the broker answers SUBSCRIPTION_PARSE_FAILED with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SQL92 expression at byte {position}: {reason}")]
pub struct SqlError {
    pub position: usize,
    pub reason: String,
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

/// An operand: a property or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Property(String),
    Literal(Literal),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(CompareOp, Operand, Operand),
    Between {
        value: Operand,
        low: Operand,
        high: Operand,
        negated: bool,
    },
    In {
        value: Operand,
        list: Vec<Literal>,
        negated: bool,
    },
    IsNull {
        value: Operand,
        negated: bool,
    },
    /// A bare boolean literal (`TRUE`) or property (`flag`).
    Operand(Operand),
}

/// A compiled SQL92 filter with its source text (equality and display use the source).
#[derive(Debug, Clone)]
pub struct Sql92 {
    pub source: String,
    pub expr: Expr,
}

impl PartialEq for Sql92 {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Sql92 {}

impl fmt::Display for Sql92 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Sql92 {
    /// Parses an expression.
    ///
    /// # Errors
    /// The first syntax error, or an expression over the limits.
    pub fn parse(source: &str) -> Result<Sql92, SqlError> {
        if source.len() > SQL_BYTES_MAX {
            return Err(SqlError {
                position: SQL_BYTES_MAX,
                reason: format!("longer than {SQL_BYTES_MAX} bytes"),
            });
        }
        let tokens = tokenize(source)?;
        let mut parser = Parser {
            tokens,
            at: 0,
            depth: 0,
        };
        let expr = parser.or()?;
        if let Some((position, token)) = parser.tokens.get(parser.at) {
            return Err(SqlError {
                position: *position,
                reason: format!("unexpected {token:?}"),
            });
        }
        Ok(Sql92 {
            source: source.to_owned(),
            expr,
        })
    }

    /// True if the message with these properties is selected.
    pub fn matches<'a>(&'a self, property: &dyn Fn(&str) -> Option<&'a str>) -> bool {
        eval(&self.expr, property) == Some(true)
    }
}

// ------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Keyword(&'static str),
    Str(String),
    Num(f64),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

const KEYWORDS: [&str; 10] = [
    "AND", "OR", "NOT", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE", "LIKE",
];

fn tokenize(source: &str) -> Result<Vec<(usize, Token)>, SqlError> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    let error = |position: usize, reason: &str| SqlError {
        position,
        reason: reason.to_owned(),
    };
    while at < bytes.len() {
        let start = at;
        let byte = bytes[at];
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                at += 1;
                continue;
            }
            b'(' => {
                tokens.push((start, Token::Open));
                at += 1;
            }
            b')' => {
                tokens.push((start, Token::Close));
                at += 1;
            }
            b',' => {
                tokens.push((start, Token::Comma));
                at += 1;
            }
            b'=' => {
                tokens.push((start, Token::Op("=")));
                at += 1;
            }
            b'<' | b'>' | b'!' => {
                let next = bytes.get(at + 1).copied();
                let op = match (byte, next) {
                    (b'<', Some(b'>')) => "<>",
                    (b'<', Some(b'=')) => "<=",
                    (b'>', Some(b'=')) => ">=",
                    (b'!', Some(b'=')) => "<>",
                    (b'<', _) => "<",
                    (b'>', _) => ">",
                    _ => return Err(error(start, "unexpected `!`")),
                };
                at += if op.len() == 2 || byte == b'!' { 2 } else { 1 };
                tokens.push((start, Token::Op(op)));
            }
            b'\'' => {
                let mut text = String::new();
                at += 1;
                loop {
                    let Some(relative) = source[at..].find('\'') else {
                        return Err(error(start, "unterminated string"));
                    };
                    text.push_str(&source[at..at + relative]);
                    at += relative + 1;
                    if bytes.get(at) == Some(&b'\'') {
                        text.push('\'');
                        at += 1;
                    } else {
                        break;
                    }
                }
                tokens.push((start, Token::Str(text)));
            }
            b'0'..=b'9' | b'-' | b'.' => {
                at += 1;
                while at < bytes.len()
                    && (bytes[at].is_ascii_digit()
                        || matches!(bytes[at], b'.' | b'e' | b'E')
                        || (matches!(bytes[at], b'+' | b'-')
                            && matches!(bytes[at - 1], b'e' | b'E')))
                {
                    at += 1;
                }
                let text = &source[start..at];
                let text = text.strip_suffix(['L', 'l']).unwrap_or(text);
                let value: f64 = text
                    .parse()
                    .map_err(|_| error(start, &format!("bad number `{text}`")))?;
                tokens.push((start, Token::Num(value)));
            }
            _ if byte.is_ascii_alphabetic() || byte == b'_' || byte == b'$' => {
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric()
                        || matches!(bytes[at], b'_' | b'$' | b'.'))
                {
                    at += 1;
                }
                let word = &source[start..at];
                let upper = word.to_ascii_uppercase();
                match KEYWORDS.iter().find(|keyword| **keyword == upper) {
                    Some(keyword) => tokens.push((start, Token::Keyword(keyword))),
                    None => tokens.push((start, Token::Ident(word.to_owned()))),
                }
            }
            _ => {
                return Err(error(
                    start,
                    &format!("unexpected character `{}`", byte as char),
                ))
            }
        }
    }
    Ok(tokens)
}

// ------------------------------------------------------------------------------------
// Parser (recursive descent: or → and → not → predicate)

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, token)| token)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.at).map_or_else(
            || self.tokens.last().map_or(0, |(p, _)| *p + 1),
            |(p, _)| *p,
        )
    }

    fn fail<T>(&self, reason: impl Into<String>) -> Result<T, SqlError> {
        Err(SqlError {
            position: self.position(),
            reason: reason.into(),
        })
    }

    fn keyword(&mut self, keyword: &str) -> bool {
        if matches!(self.peek(), Some(Token::Keyword(k)) if *k == keyword) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &Token, what: &str) -> Result<(), SqlError> {
        if self.peek() == Some(token) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(format!("expected {what}"))
        }
    }

    fn deeper(&mut self) -> Result<(), SqlError> {
        self.depth += 1;
        if self.depth > SQL_DEPTH_MAX {
            return self.fail(format!("nested deeper than {SQL_DEPTH_MAX}"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, SqlError> {
        if self.keyword("NOT") {
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, SqlError> {
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            self.deeper()?;
            let inner = self.or()?;
            self.depth -= 1;
            self.expect(&Token::Close, "`)`")?;
            return Ok(inner);
        }
        let value = self.operand()?;
        if let Some(Token::Op(op)) = self.peek() {
            let op = match *op {
                "=" => CompareOp::Eq,
                "<>" => CompareOp::Ne,
                "<" => CompareOp::Lt,
                "<=" => CompareOp::Le,
                ">" => CompareOp::Gt,
                _ => CompareOp::Ge,
            };
            self.at += 1;
            let right = self.operand()?;
            return Ok(Expr::Compare(op, value, right));
        }
        if self.keyword("IS") {
            let negated = self.keyword("NOT");
            if !self.keyword("NULL") {
                return self.fail("expected NULL");
            }
            return Ok(Expr::IsNull { value, negated });
        }
        let negated = self.keyword("NOT");
        if self.keyword("BETWEEN") {
            let low = self.operand()?;
            if !self.keyword("AND") {
                return self.fail("expected AND in BETWEEN");
            }
            let high = self.operand()?;
            return Ok(Expr::Between {
                value,
                low,
                high,
                negated,
            });
        }
        if self.keyword("IN") {
            self.expect(&Token::Open, "`(` after IN")?;
            let mut list = Vec::new();
            loop {
                match self.operand()? {
                    Operand::Literal(literal) => list.push(literal),
                    Operand::Property(_) => return self.fail("IN takes literals"),
                }
                if self.peek() == Some(&Token::Comma) {
                    self.at += 1;
                } else {
                    break;
                }
            }
            self.expect(&Token::Close, "`)` after IN list")?;
            return Ok(Expr::In {
                value,
                list,
                negated,
            });
        }
        if negated {
            return self.fail("expected BETWEEN or IN after NOT");
        }
        match value {
            Operand::Literal(Literal::Bool(_)) | Operand::Property(_) => Ok(Expr::Operand(value)),
            _ => self.fail("expected a comparison"),
        }
    }

    fn operand(&mut self) -> Result<Operand, SqlError> {
        let operand = match self.peek() {
            Some(Token::Ident(name)) => Operand::Property(name.clone()),
            Some(Token::Str(text)) => Operand::Literal(Literal::Str(text.clone())),
            Some(Token::Num(value)) => Operand::Literal(Literal::Num(*value)),
            Some(Token::Keyword("TRUE")) => Operand::Literal(Literal::Bool(true)),
            Some(Token::Keyword("FALSE")) => Operand::Literal(Literal::Bool(false)),
            Some(other) => return self.fail(format!("expected a value, found {other:?}")),
            None => return self.fail("unexpected end of expression"),
        };
        self.at += 1;
        Ok(operand)
    }
}

// ------------------------------------------------------------------------------------
// Evaluation

#[derive(Debug, Clone, PartialEq)]
enum Value<'a> {
    Str(&'a str),
    Num(f64),
    Bool(bool),
}

fn resolve<'a>(
    operand: &'a Operand,
    property: &dyn Fn(&str) -> Option<&'a str>,
) -> Option<Value<'a>> {
    match operand {
        Operand::Property(name) => property(name).map(Value::Str),
        Operand::Literal(Literal::Str(text)) => Some(Value::Str(text)),
        Operand::Literal(Literal::Num(value)) => Some(Value::Num(*value)),
        Operand::Literal(Literal::Bool(value)) => Some(Value::Bool(*value)),
    }
}

/// Orders two values; `Err(())` when the types cannot be compared (answers false).
fn order(left: &Value<'_>, right: &Value<'_>) -> Result<std::cmp::Ordering, ()> {
    let number = |text: &str| text.trim().parse::<f64>().map_err(|_| ());
    let boolean = |text: &str| match text.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(()),
    };
    let floats = |a: f64, b: f64| a.partial_cmp(&b).ok_or(());
    match (left, right) {
        (Value::Num(a), Value::Num(b)) => floats(*a, *b),
        (Value::Str(a), Value::Num(b)) => floats(number(a)?, *b),
        (Value::Num(a), Value::Str(b)) => floats(*a, number(b)?),
        (Value::Str(a), Value::Str(b)) => Ok(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Ok(a.cmp(b)),
        (Value::Str(a), Value::Bool(b)) => Ok(boolean(a)?.cmp(b)),
        (Value::Bool(a), Value::Str(b)) => Ok(a.cmp(&boolean(b)?)),
        (Value::Num(_), Value::Bool(_)) | (Value::Bool(_), Value::Num(_)) => Err(()),
    }
}

fn compare(op: CompareOp, left: &Value<'_>, right: &Value<'_>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Ok(ordering) = order(left, right) else {
        return false;
    };
    match op {
        CompareOp::Eq => ordering == Equal,
        CompareOp::Ne => ordering != Equal,
        CompareOp::Lt => ordering == Less,
        CompareOp::Le => ordering != Greater,
        CompareOp::Gt => ordering == Greater,
        CompareOp::Ge => ordering != Less,
    }
}

fn literal_value(literal: &Literal) -> Value<'_> {
    match literal {
        Literal::Str(text) => Value::Str(text),
        Literal::Num(value) => Value::Num(*value),
        Literal::Bool(value) => Value::Bool(*value),
    }
}

/// `Some(true)` selects; `None` is SQL's unknown.
fn eval<'a>(expr: &'a Expr, property: &dyn Fn(&str) -> Option<&'a str>) -> Option<bool> {
    match expr {
        Expr::And(left, right) => match (eval(left, property), eval(right, property)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Expr::Or(left, right) => match (eval(left, property), eval(right, property)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Expr::Not(inner) => eval(inner, property).map(|value| !value),
        Expr::Compare(op, left, right) => {
            let left = resolve(left, property)?;
            let right = resolve(right, property)?;
            Some(compare(*op, &left, &right))
        }
        Expr::Between {
            value,
            low,
            high,
            negated,
        } => {
            let value = resolve(value, property)?;
            let low = resolve(low, property)?;
            let high = resolve(high, property)?;
            let inside =
                compare(CompareOp::Ge, &value, &low) && compare(CompareOp::Le, &value, &high);
            Some(inside != *negated)
        }
        Expr::In {
            value,
            list,
            negated,
        } => {
            let value = resolve(value, property)?;
            let found = list
                .iter()
                .any(|literal| compare(CompareOp::Eq, &value, &literal_value(literal)));
            Some(found != *negated)
        }
        Expr::IsNull { value, negated } => Some(resolve(value, property).is_none() != *negated),
        Expr::Operand(operand) => match resolve(operand, property)? {
            Value::Bool(value) => Some(value),
            Value::Str(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            Value::Num(_) => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expression: &str, properties: &[(&str, &str)]) -> bool {
        let filter =
            Sql92::parse(expression).unwrap_or_else(|error| panic!("{expression}: {error}"));
        let lookup = |name: &str| {
            properties
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| *value)
        };
        filter.matches(&lookup)
    }

    #[test]
    fn comparisons_numbers_strings_booleans() {
        let p = [("a", "3"), ("b", "abc"), ("flag", "true"), ("x", "2.5")];
        assert!(check("a = 3", &p));
        assert!(check("a <> 4", &p));
        assert!(check("a != 4", &p));
        assert!(check("a > 2 AND a >= 3 AND a < 4 AND a <= 3", &p));
        assert!(check("x > 2.4", &p));
        assert!(check("b = 'abc'", &p));
        assert!(!check("b = 'ab'", &p));
        assert!(check("flag = TRUE", &p));
        assert!(check("flag", &p));
        assert!(check("TRUE", &p));
        assert!(!check("FALSE", &p));
        assert!(!check("b > 1", &p), "non-numeric vs number is false");
        assert!(check("3 = a", &p));
        assert!(check("'it''s' = 'it''s'", &p));
    }

    #[test]
    fn between_in_null_and_logic() {
        let p = [("a", "3"), ("region", "hz")];
        assert!(check("a BETWEEN 0 AND 3", &p));
        assert!(!check("a BETWEEN 4 AND 9", &p));
        assert!(check("a NOT BETWEEN 4 AND 9", &p));
        assert!(check("region IN ('sh', 'hz')", &p));
        assert!(!check("region NOT IN ('sh', 'hz')", &p));
        assert!(check("a IN (1, 2, 3)", &p));
        assert!(check("missing IS NULL", &p));
        assert!(check("a IS NOT NULL", &p));
        assert!(!check("a IS NULL", &p));
        assert!(check("(a > 5 OR region = 'hz') AND NOT (a < 1)", &p));
        assert!(
            check("a > 5 or region = 'hz'", &p),
            "keywords are case-insensitive"
        );
        // Unknown: a missing property in a comparison selects nothing, negated or not.
        assert!(!check("missing = 1", &p));
        assert!(!check("NOT (missing = 1)", &p));
        assert!(!check("missing BETWEEN 1 AND 2", &p));
        assert!(!check("missing IN ('x')", &p));
        assert!(check("missing = 1 OR a = 3", &p));
        assert!(!check("missing = 1 AND a = 3", &p));
    }

    #[test]
    fn bad_expressions_fail_to_parse() {
        for bad in [
            "",
            "a >",
            "a = 'open",
            "a BETWEEN 1",
            "a IN ()",
            "a IN (b)",
            "(a = 1",
            "a = 1)",
            "a == 1 AND",
            "a # 1",
            "NOT",
            "a NOT 3",
            "3",
            "a = 1 b = 2",
        ] {
            assert!(Sql92::parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = format!(
            "{}a = 1{}",
            "(".repeat(SQL_DEPTH_MAX + 1),
            ")".repeat(SQL_DEPTH_MAX + 1)
        );
        assert!(Sql92::parse(&deep).is_err());
        assert!(Sql92::parse(&"a".repeat(SQL_BYTES_MAX + 1)).is_err());
        let error = Sql92::parse("a = 'x' AND").expect_err("trailing AND");
        assert!(error.to_string().contains("invalid SQL92 expression"));
    }
}
