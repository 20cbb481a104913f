#!/usr/bin/env bash
# Side-by-side send benchmark with the Apache benchmark Producer clone
# (interop/java: interop.benchmark.Producer = Apache's tool: binary ROCKETMQ headers,
# SEND_MESSAGE_V2, closed loop, ms-resolution RT) at several sender-thread counts.
#
#   bench/compare.sh [--target SPEC]... [-d SECONDS] [-w "1 4 16 64"] [-s 1024] [--warmup SECONDS]
#
#   SPEC is one of
#     apache:ASYNC_FLUSH | apache:SYNC_FLUSH   start the Apache 5.3.3 broker + name server from the
#                                             Maven jars (bench/apache-broker.sh) on loopback ports
#                                             BENCH_NS_PORT/BENCH_BROKER_PORT (39876/40911), run,
#                                             stop it again (fresh store each time)
#     rocketmq-rust:ASYNC_FLUSH | rocketmq-rust:SYNC_FLUSH
#                                             the same with the rocketmq-rust 1.0.0 name server +
#                                             broker (bench/rocketmq-rust-broker.sh; the first use
#                                             builds them with cargo install, 20-45 min)
#     ours:ASYNC_FLUSH | ours:SYNC_FLUSH       our release binaries (target/release/namesrv + broker,
#                                             built with cargo build --release if missing) the same way
#     LABEL=HOST:PORT                         an already running name server (ours, rocketmq-rust, ...)
#   Default: --target apache:ASYNC_FLUSH. -d is the run time per step (default 60), -s the body size.
#   Each step uses a fresh topic (auto-created from TBW102: 4 queues, the producer default).
#
# Prints a markdown table: threads, Send TPS of the last 10 s window (Apache's [Complete] line),
# overall TPS (all sends / run time), average RT, max RT (ms), sends, failures.
# Raw outputs go to BENCH_OUT (default /tmp/bench-compare.XXXXXX).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/broker-conf.sh
source "$ROOT/bench/lib/broker-conf.sh"
TARGETS=()
DURATION=60
THREADS="1 4 16 64"
SIZE=1024
WARMUP=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) TARGETS+=("$2"); shift 2 ;;
    -n) TARGETS+=("target=$2"); shift 2 ;;
    -d) DURATION="$2"; shift 2 ;;
    -w) THREADS="$2"; shift 2 ;;
    -s) SIZE="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(apache:ASYNC_FLUSH)
THREADS="${THREADS//,/ }"

JAR="$ROOT/interop/java/target/interop-java.jar"
[[ -f "$JAR" ]] || "$ROOT/interop/install.sh" apache java
OUT="${BENCH_OUT:-$(mktemp -d /tmp/bench-compare.XXXXXX)}"
mkdir -p "$OUT/home"
NSP="${BENCH_NS_PORT:-39876}"
BRP="${BENCH_BROKER_PORT:-40911}"
RUNNING="" # apache | rocketmq-rust | ours: the broker this script started
OURS_PIDS=()

stop_broker() {
  case "$RUNNING" in
    apache)
      APACHE_HOME="$OUT/apache" "$ROOT/bench/apache-broker.sh" stop >/dev/null 2>&1 || true
      rm -rf "$OUT/apache/store" ;; # commit-log files are 1 GiB each; keep only the logs
    ours)
      for p in "${OURS_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
      for p in "${OURS_PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
      done
      OURS_PIDS=()
      rm -rf "$OUT/ours/store" ;;
    rocketmq-rust)
      RMQRUST_HOME="$OUT/rocketmq-rust" "$ROOT/bench/rocketmq-rust-broker.sh" stop >/dev/null 2>&1 || true
      rm -rf "$OUT/rocketmq-rust/store" ;;
  esac
  RUNNING=""
  sleep 2 # let the ports go before the next target binds them
}
trap stop_broker EXIT
trap 'exit 130' INT TERM

producer() { # NS TOPIC THREADS SECONDS LOG
  java -Xms1g -Xmx1g -XX:+UseG1GC "-Duser.home=$OUT/home" \
    -Dlogback.statusListenerClass=org.apache.rocketmq.logging.ch.qos.logback.core.status.NopStatusListener \
    -cp "$JAR:$ROOT/interop/java/target/lib/*" interop.benchmark.Producer \
    -n "$1" -t "$2" -w "$3" -s "$SIZE" -x "$4" -ri 10000 > "$5" 2>&1 < /dev/null || true
}

ROWS=()
# skip LABEL REASON: a target that could not run gets a row saying why; the others still run.
skip() {
  ROWS+=("| $1 | - | - | - | - | - | - | $2 |")
  echo "compare.sh: $1 $2" >&2
  stop_broker
}
for spec in "${TARGETS[@]}"; do
  if [[ "$spec" == apache:* ]]; then
    flush="${spec#apache:}"
    label="apache-5.3.3 $flush"
    RUNNING=apache
    if ! APACHE_HOME="$OUT/apache" NAMESRV_PORT="$NSP" BROKER_PORT="$BRP" FLUSH="$flush" \
         "$ROOT/bench/apache-broker.sh" start > "$OUT/apache-start.log" 2>&1; then
      skip "$label" "did not start: $(grep -a -m1 'Exception\|died\|ERROR' "$OUT/apache-start.log")"
      continue
    fi
    ns="127.0.0.1:$NSP"
  elif [[ "$spec" == ours:* ]]; then
    flush="${spec#ours:}"
    label="ours $flush"
    if [[ ! -x "$ROOT/target/release/broker" || ! -x "$ROOT/target/release/namesrv" ]]; then
      (cd "$ROOT" && cargo build --release -p broker -p namesrv) || exit 1
    fi
    RUNNING=ours
    mkdir -p "$OUT/ours/store"
    write_ours_broker_conf "$OUT/ours/broker.conf" "$flush" "$NSP" "$BRP" "$OUT/ours/store"
    "$ROOT/target/release/namesrv" --listen-port "$NSP" > "$OUT/ours-namesrv.log" 2>&1 < /dev/null &
    OURS_PIDS+=($!)
    "$ROOT/target/release/broker" -c "$OUT/ours/broker.conf" > "$OUT/ours-broker.log" 2>&1 < /dev/null &
    OURS_PIDS+=($!)
    if ! python3 "$ROOT/interop/python/route_probe.py" -n "127.0.0.1:$NSP" -t TBW102 --timeout 60 > /dev/null 2>&1; then
      skip "$label" "did not register: $(tail -n 1 "$OUT/ours-broker.log")"
      continue
    fi
    ns="127.0.0.1:$NSP"
  elif [[ "$spec" == rocketmq-rust:* ]]; then
    flush="${spec#rocketmq-rust:}"
    label="rocketmq-rust-1.0.0 $flush"
    "$ROOT/bench/rocketmq-rust-broker.sh" install || exit 1 # one-time cargo install, visible
    RUNNING=rocketmq-rust
    if ! RMQRUST_HOME="$OUT/rocketmq-rust" NAMESRV_PORT="$NSP" BROKER_PORT="$BRP" FLUSH="$flush" \
         "$ROOT/bench/rocketmq-rust-broker.sh" start > "$OUT/rocketmq-rust-start.log" 2>&1; then
      skip "$label" "did not start: $(tail -n 1 "$OUT/rocketmq-rust-start.log")"
      continue
    fi
    ns="127.0.0.1:$NSP"
  else
    label="${spec%%=*}"
    ns="${spec#*=}"
  fi
  run="$(date +%s)"
  if [[ "$WARMUP" -gt 0 ]]; then
    producer "$ns" "bench_warmup_$run" 4 "$WARMUP" "$OUT/${label// /_}-warmup.log"
  fi
  for w in $THREADS; do
    log="$OUT/${label// /_}-w$w.log"
    producer "$ns" "bench_w${w}_$run" "$w" "$DURATION" "$log"
    line="$(grep -a '^\[Complete\]' "$log" | tail -n 1 || true)"
    if [[ -z "$line" ]]; then
      ROWS+=("| $label | $w | - | - | - | - | - | no [Complete] line, see $log |")
      continue
    fi
    total="$(sed -n 's/.*Send Total: \([0-9]*\).*/\1/p' <<< "$line")"
    tps="$(sed -n 's/.*Send TPS: \([0-9]*\).*/\1/p' <<< "$line")"
    maxrt="$(sed -n 's/.*Max RT(ms): \([0-9]*\).*/\1/p' <<< "$line")"
    avgrt="$(sed -n 's/.*Average RT(ms): *\([0-9.NaN]*\).*/\1/p' <<< "$line")"
    sfail="$(sed -n 's/.*Send Failed: \([0-9]*\).*/\1/p' <<< "$line")"
    rfail="$(sed -n 's/.*Response Failed: \([0-9]*\).*/\1/p' <<< "$line")"
    overall=$(( ${total:-0} / DURATION ))
    ROWS+=("| $label | $w | $tps | $overall | $avgrt | $maxrt | $total | $(( ${sfail:-0} + ${rfail:-0} )) |")
  done
  stop_broker
done

echo
echo "Apache benchmark Producer clone, body $SIZE B, $DURATION s per step (warm-up ${WARMUP} s), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| target | threads | send TPS (last 10 s) | overall TPS | avg RT (ms) | max RT (ms) | sends | failed |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for r in "${ROWS[@]}"; do echo "$r"; done
echo
echo "raw logs: $OUT"
