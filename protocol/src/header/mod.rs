//! Typed request and response headers, decoded from and encoded into the ext-field map.
//!
//! [`fields`] holds the lenient value parsers and the [`CommandHeader`] trait every header
//! implements.

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
