//! RocketMQ remoting protocol as a pure codec: no I/O, no async, no runtime.
//!
//! # Layout
//!
//! - [`frame`]: the length-prefixed frame (`length | serializeType+headerLength | header | body`),
//!   check-then-parse, "incomplete" as a normal value.
//! - [`command`]: [`command::RemotingCommand`], the decoded frame with both header encodings
//!   (JSON = 0, ROCKETMQ binary = 1); responses answer in the request's encoding.
//! - [`code`]: request codes, response codes, language codes.
//! - [`header`]: typed request/response headers decoded from / encoded into the ext-field map.
//! - [`body`]: the JSON bodies (route data, cluster info, heartbeat, register-broker, ...).
//! - [`message`]: message properties, message ids, the stored-message record and batch bodies.
//!
//! Wire types are converted to domain types at the broker/client edge; nothing here knows
//! about shards, files or sockets.

#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod body;
pub mod code;
pub mod command;
pub mod error;
pub mod frame;
pub mod header;
pub mod message;

pub use command::{RemotingCommand, SerializeType};
pub use error::WireError;
