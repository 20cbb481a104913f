//! JSON bodies of the remoting protocol (filled in by the body work).
pub mod consumer;
pub mod fastjson;
pub mod heartbeat;
mod lenient;
pub mod lock;
pub mod message_queue;
pub mod route;
pub mod stats;
pub mod subscription;
