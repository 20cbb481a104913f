//! End-to-end tests of the client over TCP (see `cluster.rs` for where the broker comes from).

mod cluster;
mod consumer;
mod failover;
mod flow;
mod producer;
mod rebalance;
