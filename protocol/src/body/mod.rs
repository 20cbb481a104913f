//! JSON bodies of the remoting protocol.
//!
//! Written the way fastjson writes them: keys in alphabetical order (struct fields are
//! declared in that order), nulls omitted, no whitespace; maps keyed by `MessageQueue` use
//! fastjson's object keys, which is what the Java tools read. Read leniently: any key order,
//! unknown keys, numbers as strings, `null` for empty collections, enum names or ordinals,
//! a trailing newline, and fastjson's non-string keys (see [`fastjson`]). Every body
//! implements [`route::JsonBody`] (`encode` / `to_bytes` / `decode`).
//!
//! # Layout
//!
//! - [`route`]: name-server bodies (routes, cluster info, topic lists, KV tables, data
//!   versions, topic configs, register-broker), owned with the name server.
//! - [`heartbeat`]: `HeartbeatData` and its consumer/producer/subscription data and enums.
//! - [`lock`]: `LOCK_BATCH_MQ` / `UNLOCK_BATCH_MQ` request and response bodies.
//! - [`consumer`]: consumer id list, consumer/producer connections, group list.
//! - [`subscription`]: `SubscriptionGroupConfig` and its wrapper.
//! - [`stats`]: `ConsumeStats`, `TopicStatsTable`, `ResetOffsetBody` (object keys) and the
//!   consumer-offset wrapper.
//! - [`message_queue`]: the `MessageQueue` of lock and stats bodies.
//! - [`fastjson`]: reading and writing fastjson's non-standard keys.
pub mod consumer;
pub mod fastjson;
pub mod heartbeat;
mod lenient;
pub mod lock;
pub mod message_queue;
pub mod route;
pub mod stats;
pub mod subscription;
