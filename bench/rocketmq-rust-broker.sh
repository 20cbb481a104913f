#!/usr/bin/env bash
# Install (once) and start/stop the rocketmq-rust 1.0.0 name server + broker (crates.io
# `rocketmq-namesrv` / `rocketmq-broker`, binaries rocketmq-namesrv-rust / rocketmq-broker-rust)
# on loopback, for the side-by-side benchmark (bench/compare.sh --target rocketmq-rust:ASYNC_FLUSH).
#
#   bench/rocketmq-rust-broker.sh install   # cargo install into RMQRUST_ROOT (skipped when present)
#   bench/rocketmq-rust-broker.sh start     # installs if needed; prints NAMESRV=127.0.0.1:<port> when ready
#   bench/rocketmq-rust-broker.sh stop
#   bench/rocketmq-rust-broker.sh status
#
# Environment (all optional):
#   RMQRUST_ROOT        install root (bin/ holds the two binaries; default <repo>/target/bench-rmqrust)
#   RMQRUST_TARGET_DIR  cargo target dir for the one-time build (default: a temporary one)
#   RMQRUST_VERSION     crate version (default 1.0.0)
#   RMQRUST_HOME        scratch dir for ROCKETMQ_HOME, HOME, store, logs, pids (default /tmp/rmq-rust)
#   NAMESRV_PORT        name server port (default 39876)
#   BROKER_PORT         broker listenPort (default 40911; the broker also opens PORT-2, HA on PORT+1)
#   FLUSH               ASYNC_FLUSH (default) | SYNC_FLUSH
#   FRESH               1 (default) = wipe store and name server state before start; 0 = keep it
#   RMQRUST_LOG         RUST_LOG filter for both processes (default info)
#   RMQRUST_DISK_SHIM   1 (default) = run the broker with an LD_PRELOAD shim that reports
#                       statvfs f_bavail = f_bfree (see below); 0 = off
#   BROKER_EXTRA        extra TOML lines for the [broker] table of broker.toml (newline separated)
#   STORE_EXTRA         extra TOML lines for its [store] table (MessageStoreConfig keys)
#
# Disk-usage check: rocketmq-store 1.0 computes disk use as (total - f_bavail) / total and marks
# the store not writable above 90 % (a ratio it clamps, so it cannot be configured higher); the
# broker then aborts startup with only "Service lifecycle operation failed". On this machine's
# root filesystem f_bavail is far below f_bfree (e.g. 10 GB vs 183 GB of 270 GB: 96 % "used"
# vs 32 %), while Apache's broker uses File.getFreeSpace() = f_bfree and starts. The shim (C,
# built with cc into RMQRUST_ROOT/lib) makes the Rust broker see f_bfree like Java; nothing else.
#
# The build is slow (44 min on the shared 2-core machine: namesrv 17, broker 27): it runs
# `nice -n 15`, with CARGO_BUILD_JOBS defaulting to 1. The binaries are reused afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RMQRUST_ROOT="${RMQRUST_ROOT:-$ROOT/target/bench-rmqrust}"
RMQRUST_VERSION="${RMQRUST_VERSION:-1.0.0}"
RMQRUST_HOME="${RMQRUST_HOME:-/tmp/rmq-rust}"
NAMESRV_PORT="${NAMESRV_PORT:-39876}"
BROKER_PORT="${BROKER_PORT:-40911}"
FLUSH="${FLUSH:-ASYNC_FLUSH}"
FRESH="${FRESH:-1}"
NAMESRV_BIN="$RMQRUST_ROOT/bin/rocketmq-namesrv-rust"
BROKER_BIN="$RMQRUST_ROOT/bin/rocketmq-broker-rust"
H="$RMQRUST_HOME"

die() { echo "rocketmq-rust-broker: $*" >&2; exit 1; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_one() { # pidfile
  local pf="$1"
  if pid_alive "$pf"; then
    local pid; pid="$(cat "$pf")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pf"
}

installed() { # both binaries present and of RMQRUST_VERSION (each prints version=X for --version)
  local b
  for b in "$NAMESRV_BIN" "$BROKER_BIN"; do
    [[ -x "$b" ]] && "$b" --version 2>/dev/null | grep -qx "version=$RMQRUST_VERSION" || return 1
  done
}

install() {
  installed && return 0
  mkdir -p "$RMQRUST_ROOT"
  local log="$RMQRUST_ROOT/install.log" t0; t0="$(date +%s)"
  echo "rocketmq-rust-broker: building rocketmq-namesrv/rocketmq-broker $RMQRUST_VERSION into $RMQRUST_ROOT (log $log; takes 20-45 min)" >&2
  # without RMQRUST_TARGET_DIR cargo install builds in a temporary dir and deletes it (~1.3 GB)
  if [[ -n "${RMQRUST_TARGET_DIR:-}" ]]; then export CARGO_TARGET_DIR="$RMQRUST_TARGET_DIR"; fi
  export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
  cargo_install() {
    nice -n 15 cargo install "$@" --version "$RMQRUST_VERSION" --root "$RMQRUST_ROOT" \
      rocketmq-namesrv rocketmq-broker
  }
  # cargo install goes on with the other crate when one fails, and skips one already installed
  if ! cargo_install --locked > "$log" 2>&1; then
    echo "rocketmq-rust-broker: --locked install failed, retrying without --locked" >&2
    cargo_install >> "$log" 2>&1 || { tail -30 "$log" >&2; die "cargo install failed (see $log)"; }
  fi
  installed || die "binaries missing after install (see $log)"
  echo "rocketmq-rust-broker: installed in $(( $(date +%s) - t0 )) s" >&2
}

SHIM="$RMQRUST_ROOT/lib/statvfs-bfree.so"
build_shim() {
  [[ -f "$SHIM" ]] && return 0
  mkdir -p "$RMQRUST_ROOT/lib"
  cat > "$RMQRUST_ROOT/lib/statvfs-bfree.c" <<'CSRC'
/* LD_PRELOAD: statvfs() reports f_bavail = f_bfree (what Java's File.getFreeSpace() sees). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/statvfs.h>
int statvfs(const char *path, struct statvfs *buf) {
  static int (*real)(const char *, struct statvfs *);
  if (!real) real = (int (*)(const char *, struct statvfs *))dlsym(RTLD_NEXT, "statvfs");
  int rc = real(path, buf);
  if (rc == 0) buf->f_bavail = buf->f_bfree;
  return rc;
}
CSRC
  cc -O2 -shared -fPIC -o "$SHIM.tmp" "$RMQRUST_ROOT/lib/statvfs-bfree.c" -ldl && mv "$SHIM.tmp" "$SHIM"
}

start() {
  case "$FLUSH" in ASYNC_FLUSH|SYNC_FLUSH) ;; *) die "FLUSH must be ASYNC_FLUSH or SYNC_FLUSH";; esac
  install
  mkdir -p "$H/home" "$H/logs" "$H/namesrv"
  pid_alive "$H/namesrv.pid" && die "already running (pid $(cat "$H/namesrv.pid")); stop first"
  port_open "$NAMESRV_PORT" && die "port $NAMESRV_PORT already in use"
  port_open "$BROKER_PORT" && die "port $BROKER_PORT already in use"
  if [[ "$FRESH" == 1 ]]; then
    rm -rf "$H/store" "$H/home" "$H/namesrv"; mkdir -p "$H/home" "$H/namesrv"
  fi

  # Name server: TOML config (paths only; port/bind address on the command line). It must bind
  # loopback: without a security profile a non-loopback listener is refused.
  cat > "$H/namesrv.toml" <<EOF
rocketmqHome = "$H"
kvConfigPath = "$H/namesrv/kvConfig.json"
configStorePath = "$H/namesrv/namesrv.properties"
EOF
  # Broker: canonical TOML schema of rocketmq-broker 1.0. Unknown or misplaced keys are rejected
  # with only "ERROR core.service.failed: Service lifecycle operation failed" (exit 70); e.g. a
  # top-level broker.defaultTopicQueueNums (it lives in a nested table; its default is 8 anyway).
  cat > "$H/broker.toml" <<EOF
[broker]
brokerIp1 = "127.0.0.1"
listenPort = $BROKER_PORT
namesrvAddr = "127.0.0.1:$NAMESRV_PORT"
storePathRootDir = "$H/store"
autoCreateTopicEnable = true
autoCreateSubscriptionGroup = true
${BROKER_EXTRA:-}

[broker.brokerServerConfig]
bindAddress = "127.0.0.1"

[broker.brokerIdentity]
brokerName = "broker-a"
brokerClusterName = "DefaultCluster"
brokerId = 0

[store]
brokerRole = "ASYNC_MASTER"
flushDiskType = "$FLUSH"
haListenAddress = "127.0.0.1"
haListenPort = $((BROKER_PORT + 1))
storePathRootDir = "$H/store"
deleteWhen = "04"
fileReservedTime = 48
${STORE_EXTRA:-}
EOF
  local envs=(env -u NAMESRV_ADDR "ROCKETMQ_HOME=$H" "HOME=$H/home" "RUST_LOG=${RMQRUST_LOG:-info}"
              ROCKETMQ_SHUTDOWN_TIMEOUT_SECONDS=5 NO_COLOR=1)
  local broker_envs=("${envs[@]}")
  if [[ "${RMQRUST_DISK_SHIM:-1}" == 1 ]]; then
    build_shim || { stop; die "could not build the statvfs shim (needs cc); RMQRUST_DISK_SHIM=0 runs without"; }
    broker_envs+=("LD_PRELOAD=$SHIM")
  fi

  (cd "$H" && exec "${envs[@]}" "$NAMESRV_BIN" -c "$H/namesrv.toml" --listenPort "$NAMESRV_PORT" \
      --bindAddress 127.0.0.1 > "$H/logs/namesrv.out" 2>&1 < /dev/null) &
  echo $! > "$H/namesrv.pid"
  for _ in $(seq 1 300); do
    port_open "$NAMESRV_PORT" && break
    pid_alive "$H/namesrv.pid" || { tail -20 "$H/logs/namesrv.out" >&2; die "name server died"; }
    sleep 0.1
  done
  port_open "$NAMESRV_PORT" || { stop; die "name server did not listen on $NAMESRV_PORT in 30 s"; }

  (cd "$H" && exec "${broker_envs[@]}" "$BROKER_BIN" -c "$H/broker.toml" \
      > "$H/logs/broker.out" 2>&1 < /dev/null) &
  echo $! > "$H/broker.pid"
  for _ in $(seq 1 600); do
    port_open "$BROKER_PORT" && break
    pid_alive "$H/broker.pid" || { tail -20 "$H/logs/broker.out" >&2; stop; die "broker died"; }
    sleep 0.1
  done
  port_open "$BROKER_PORT" || { tail -20 "$H/logs/broker.out" >&2; stop; die "broker did not listen on $BROKER_PORT in 60 s"; }
  # Ready when the name server routes TBW102 (auto-create template) to the registered broker.
  if ! python3 "$ROOT/interop/python/route_probe.py" -n "127.0.0.1:$NAMESRV_PORT" -t TBW102 --timeout 60 \
       > "$H/logs/route-probe.log" 2>&1; then
    tail -20 "$H/logs/broker.out" >&2; tail -3 "$H/logs/route-probe.log" >&2
    stop; die "broker did not register TBW102 with the name server in 60 s"
  fi
  echo "NAMESRV=127.0.0.1:$NAMESRV_PORT"
}

stop() {
  stop_one "$H/broker.pid"
  stop_one "$H/namesrv.pid"
}

status() {
  pid_alive "$H/namesrv.pid" && echo "namesrv running pid $(cat "$H/namesrv.pid")" || echo "namesrv stopped"
  pid_alive "$H/broker.pid" && echo "broker running pid $(cat "$H/broker.pid")" || echo "broker stopped"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
