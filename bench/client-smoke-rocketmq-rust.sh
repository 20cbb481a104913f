#!/usr/bin/env bash
# Runs our client's end-to-end smoke subset (send modes, push concurrent/orderly, tag filter,
# lite pull, compressed bodies) against the rocketmq-rust 1.0.0 broker from crates.io, so the
# client is not only tested against our own broker. Not in CI: installing rocketmq-rust takes
# about 45 minutes on a 2-core machine (bench/rocketmq-rust-broker.sh install caches it).
#
#   bench/client-smoke-rocketmq-rust.sh            # ASYNC_FLUSH broker on 39876/40911
#   FLUSH=SYNC_FLUSH bench/client-smoke-rocketmq-rust.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export RMQRUST_HOME="${RMQRUST_HOME:-$ROOT/target/client-smoke-rmqrust}"
export NAMESRV_PORT="${NAMESRV_PORT:-39876}"
trap '"$ROOT/bench/rocketmq-rust-broker.sh" stop >/dev/null 2>&1 || true' EXIT
"$ROOT/bench/rocketmq-rust-broker.sh" install
"$ROOT/bench/rocketmq-rust-broker.sh" start
cd "$ROOT"
CLIENT_E2E_NAMESRV="127.0.0.1:$NAMESRV_PORT" cargo test -p client --test e2e -- \
  producer::send_sync_async_oneway_and_batch producer::large_bodies_are_compressed_and_inflated \
  consumer::push_concurrent_clustering consumer::orderly_listener consumer::tag_subscription_filters \
  consumer::lite_pull_assign_seek_poll_commit
