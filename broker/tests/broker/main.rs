//! In-process broker tests over real TCP with raw frames: one broker (2 shards, embedded
//! name server) per test, on port 0.

mod admin;
mod admin_client;
mod admin_group;
mod admin_offset;
mod admin_stats;
mod clients;
mod common;
mod delay;
mod filter;
mod offsets;
mod pull;
mod query;
mod restart;
mod robustness;
mod send;
mod timer;
mod transaction;
