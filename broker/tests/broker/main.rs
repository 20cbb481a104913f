//! In-process broker tests over real TCP with raw frames: one broker (2 shards, embedded
//! name server) per test, on port 0.

mod admin;
mod clients;
mod common;
mod offsets;
mod pull;
mod restart;
mod robustness;
mod send;
