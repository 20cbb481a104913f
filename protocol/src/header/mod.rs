//! Typed request and response headers, decoded from and encoded into the ext-field map.
//!
//! Every custom header field travels as a string in `extFields`, keyed by its Java field
//! name. A typed header is declared once with `schema::command_header!`, which writes the
//! struct, its [`CommandHeader`] impl (one pass over the map; a missing `@CFNotNull` field
//! is `WireError::MissingField("key")`; unknown keys ignored; booleans `true/false/1/0`,
//! numbers with surrounding whitespace) and its [`HeaderSchema`] key list. Field types are
//! the wire widths (`i32` queue ids, `i64` offsets); the broker converts at its edge.
//!
//! # Layout
//!
//! - [`fields`]: the [`CommandHeader`] trait and the lenient value parsers.
//! - [`schema`]: the declaration macro, [`HeaderSchema`], `WireValue`.
//! - [`send`]: `SEND_MESSAGE` (10, long keys), `SEND_MESSAGE_V2`/`SEND_BATCH_MESSAGE`
//!   (310/320, keys `a`..`n`) with `From` both ways, the send response.
//! - [`pull`]: `PULL_MESSAGE` request/response and the `PullSysFlag` bits.
//! - [`offset`]: consumer offsets (14, 15), search by time (29), max/min offset (30, 31),
//!   earliest store time (32).
//! - [`query`]: `QUERY_MESSAGE` (12, incl. `_UNIQUE_KEY_QUERY`), `VIEW_MESSAGE_BY_ID` (33).
//! - [`client`]: heartbeat response ext, unregister (35), send back (36), consumer list
//!   (38), and broker→client 40, 307, 309.
//! - [`transaction`]: `END_TRANSACTION` (37), `CHECK_TRANSACTION_STATE` (39).
//! - [`topic`]: create (17) / delete (215) topic, perm bits, `TopicFilterType`, topic and
//!   group name validation, system topics.
//! - [`admin`]: the `mqadmin` codes (26, 21, 202, 203, 204, 207, 208, 212/220/222, 300).
//! - [`request`]: [`RequestHeader`], the typed header chosen by request code.
//! - [`namesrv`]: the name-server codes (owned with the name server).

pub mod admin;
pub mod client;
pub mod fields;
pub mod namesrv;
pub mod offset;
pub mod pull;
pub mod query;
pub mod request;
pub mod schema;
pub mod send;
pub mod topic;
pub mod transaction;

pub use fields::CommandHeader;
pub use request::RequestHeader;
pub use schema::HeaderSchema;
