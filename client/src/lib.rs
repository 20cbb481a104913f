//! RocketMQ-compatible client on tokio: producer, push consumer, lite pull consumer and the
//! admin requests `mqadmin` needs. Depends on `protocol` only.
//!
//! # Layout
//!
//! - [`remoting`]: pipelined connections (writer task + reader task per socket, responses
//!   matched by `opaque`, per-request timeouts, oneway) and the per-address pool.
//! - [`config`]: [`ClientConfig`] and the name server address sources.
//! - [`instance`]: [`ClientInstance`], shared by one producer/consumer: name server calls,
//!   route cache (refreshed every 30 s), heartbeats (every 30 s), broker → client requests.
//! - [`producer`]: [`Producer`] and [`producer::transaction::TransactionProducer`].
//! - [`consumer`]: [`consumer::PushConsumer`], [`consumer::LitePullConsumer`], rebalance
//!   strategies, process queues, offset stores.
//! - [`admin`]: [`admin::AdminClient`], the admin requests behind `mqadmin`.
//! - [`message`]: [`Message`], [`MessageExt`], [`MessageQueue`].
//! - `wire`: ext-field helpers and the JSON body codec edge (the bodies are `protocol`'s).
//!
//! Wire types stay in `protocol`; this crate converts them to the domain types above.

#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod config;
pub mod consumer;
pub mod error;
pub mod instance;
pub mod message;
pub mod producer;
pub mod remoting;
pub mod wire;

pub use config::ClientConfig;
pub use error::{ClientError, Result};
pub use instance::ClientInstance;
pub use message::{Message, MessageExt, MessageQueue};
pub use producer::{Producer, ProducerOptions, SendResult, SendStatus};
