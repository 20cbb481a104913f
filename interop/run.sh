#!/usr/bin/env bash
# Interop suite: drives UNCHANGED third-party RocketMQ clients against a broker on loopback.
#
#   interop/run.sh [--target apache|ours] [--only REGEX] [--no-install] [--keep]
#
#   --target apache  (default) Apache RocketMQ 5.3.3 name server + broker from Maven Central jars
#                    (bench/apache-broker.sh), ASYNC_FLUSH, autoCreateTopicEnable=true.
#   --target ours    our binaries:
#                      name server: $NAMESRV_BIN (default target/release/namesrv) started as
#                        `namesrv --listen-port NS_PORT`; if that file does not exist (or
#                        OURS_EMBEDDED_NAMESRV=1) the broker's embedded name server is used,
#                        which listens on 127.0.0.1:9876.
#                      broker: $BROKER_BIN (default target/release/broker) started as
#                        `broker -c RUN_DIR/broker.conf --listen-port BROKER_PORT --store RUN_DIR/store
#                         [-n 127.0.0.1:NS_PORT]`
#                      broker.conf uses the standard RocketMQ keys (see write_broker_conf below).
#   --only REGEX     run only tests whose name matches (bash regex), e.g. '^java5:' or 'rust'
#   --no-install     do not call interop/install.sh first (it is idempotent and quick when built)
#   --keep           keep the scratch dir (logs, store) even when everything passed
#
# Output: one line per test, `PASS name` or `FAIL name: reason`, then exactly `N passed, M failed`.
# Exit status 0 only if nothing failed. Everything started here is killed on exit. Per-test logs
# are in the scratch dir (INTEROP_WORKDIR, default a fresh /tmp/interop.XXXXXX), printed on failure.
# Ports: NS_PORT (default 29876) and BROKER_PORT (default 30911; the Apache broker also opens
# BROKER_PORT-2 and BROKER_PORT+1). Total time is bounded by INTEROP_BUDGET seconds (default 900).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TARGET=apache
ONLY=""
INSTALL=1
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) TARGET="${2:-}"; shift 2 ;;
    --target=*) TARGET="${1#*=}"; shift ;;
    --only) ONLY="${2:-}"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$TARGET" in apache|ours) ;; *) echo "run.sh: --target must be apache or ours" >&2; exit 2 ;; esac

START_TS=$(date +%s)
BUDGET="${INTEROP_BUDGET:-900}"
NS_PORT="${NS_PORT:-29876}"
BROKER_PORT="${BROKER_PORT:-30911}"
RUN_DIR="${INTEROP_WORKDIR:-$(mktemp -d /tmp/interop.XXXXXX)}"
mkdir -p "$RUN_DIR/logs" "$RUN_DIR/home"
PASSED=0
FAILED=0
CUR_PID=""
STARTED_PIDS=()

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CUR_PID" ]]; then kill "$CUR_PID" 2>/dev/null; wait "$CUR_PID" 2>/dev/null; fi
  if [[ "$TARGET" == apache ]]; then
    APACHE_HOME="$RUN_DIR/apache" "$ROOT/bench/apache-broker.sh" stop >/dev/null 2>&1
  fi
  local p
  for p in "${STARTED_PIDS[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  if [[ $KEEP == 0 && $FAILED == 0 && $rc == 0 ]]; then
    rm -rf "$RUN_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }

finish() {
  [[ $FAILED -gt 0 ]] && echo "logs: $RUN_DIR/logs"
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
  exit $?
}

# ----------------------------------------------------------------------- build
if [[ $INSTALL == 1 ]]; then
  if ! "$HERE/install.sh" > "$RUN_DIR/logs/install.log" 2>&1; then
    fail install "interop/install.sh failed: $(grep -m1 'FAILED\|ERROR' "$RUN_DIR/logs/install.log" || tail -n1 "$RUN_DIR/logs/install.log")"
    finish
  fi
fi

# ----------------------------------------------------------------------- target
for p in "$NS_PORT" "$BROKER_PORT"; do
  if port_open "$p"; then fail startup "port $p already in use (set NS_PORT / BROKER_PORT)"; finish; fi
done

# Transactional check-back rounds every 5 s instead of 30 s on both targets, so a half message left
# UNKNOW is checked 6-11 s after its send (transactionTimeOut stays at its 6 s default) and
# java*:transaction / rust:transaction take ~20 s, not ~40 s. Not shorter: Apache 5.3.3 writes the
# op records of END_TRANSACTION in batches every 3 s (transactionOpBatchInterval), so a round that
# comes sooner after a commit checks that message again, and the second commit delivers it twice.
CHECK_BACK_CONF="transactionCheckInterval=5000"
# java5:trace: clients with message trace on write to RMQ_SYS_TRACE_TOPIC, which both brokers
# create at startup only with traceTopicEnable=true (default false on both).
TRACE_CONF="traceTopicEnable=true"

# shellcheck source=../bench/lib/broker-conf.sh
source "$ROOT/bench/lib/broker-conf.sh"
write_broker_conf() { # $1 = file
  write_ours_broker_conf "$1" ASYNC_FLUSH "$NS_PORT" "$BROKER_PORT" "$RUN_DIR/store" \
    "deleteWhen=04
fileReservedTime=48
$CHECK_BACK_CONF
$TRACE_CONF"
}

if [[ "$TARGET" == apache ]]; then
  # waitTimeMillsInSendQueue: Apache answers SYSTEM_BUSY ("[TIMEOUT_CLEAN_QUEUE]broker busy") once a
  # send waited 200 ms in its queue, which happens on a loaded 2-core CI machine; the interop run
  # checks compatibility, not Apache's flow control, so it allows 1 s. (bench/ keeps the default.)
  if ! out=$(APACHE_HOME="$RUN_DIR/apache" NAMESRV_PORT="$NS_PORT" BROKER_PORT="$BROKER_PORT" FLUSH=ASYNC_FLUSH \
        BROKER_EXTRA="waitTimeMillsInSendQueue=1000
$CHECK_BACK_CONF
$TRACE_CONF" \
        "$ROOT/bench/apache-broker.sh" start 2>&1); then
    fail startup "apache broker did not start: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
    finish
  fi
else
  BROKER_BIN="${BROKER_BIN:-$ROOT/target/release/broker}"
  NAMESRV_BIN="${NAMESRV_BIN:-$ROOT/target/release/namesrv}"
  if [[ ! -x "$BROKER_BIN" ]]; then
    fail startup "broker binary not found: $BROKER_BIN (cargo build --release -p broker, or set BROKER_BIN)"
    finish
  fi
  mkdir -p "$RUN_DIR/store"
  write_broker_conf "$RUN_DIR/broker.conf"
  NS_ARGS=()
  if [[ -x "$NAMESRV_BIN" && "${OURS_EMBEDDED_NAMESRV:-0}" != 1 ]]; then
    "$NAMESRV_BIN" --listen-port "$NS_PORT" > "$RUN_DIR/logs/namesrv.out" 2>&1 < /dev/null &
    STARTED_PIDS+=($!)
    NS_ARGS=(-n "127.0.0.1:$NS_PORT")
  else
    NS_PORT=9876 # the embedded name server's fixed address
    sed -i "s/^namesrvAddr=.*/#namesrvAddr= (embedded name server on 127.0.0.1:9876)/" "$RUN_DIR/broker.conf"
  fi
  "$BROKER_BIN" -c "$RUN_DIR/broker.conf" --listen-port "$BROKER_PORT" --store "$RUN_DIR/store" "${NS_ARGS[@]}" \
    > "$RUN_DIR/logs/broker.out" 2>&1 < /dev/null &
  STARTED_PIDS+=($!)
  for _ in $(seq 1 300); do
    port_open "$BROKER_PORT" && port_open "$NS_PORT" && break
    for p in "${STARTED_PIDS[@]}"; do
      if ! kill -0 "$p" 2>/dev/null; then
        fail startup "our broker/name server exited: $(tail -n 3 "$RUN_DIR/logs/"*.out | tr '\n' ' ')"
        finish
      fi
    done
    sleep 0.1
  done
fi
NS="127.0.0.1:$NS_PORT"

# The broker must have registered (TBW102 route visible) before clients start.
if ! python3 "$HERE/python/route_probe.py" -n "$NS" -t TBW102 --timeout 60 > "$RUN_DIR/logs/route-probe.log" 2>&1; then
  fail startup "no TBW102 route from $NS: $(tail -n 1 "$RUN_DIR/logs/route-probe.log")"
  finish
fi

# ----------------------------------------------------------------------- tests
RUN_ID="$(date +%s)$$"
export HOME_FOR_CLIENTS="$RUN_DIR/home"
JOPTS=(-Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "-Duser.home=$RUN_DIR/home"
  -Dlogback.statusListenerClass=org.apache.rocketmq.logging.ch.qos.logback.core.status.NopStatusListener)
JAVA5=(java "${JOPTS[@]}" -cp "$HERE/java/target/interop-java.jar:$HERE/java/target/lib/*")
JAVA4=(java "${JOPTS[@]}" -cp "$HERE/java/target-4.9.8/interop-java.jar:$HERE/java/target-4.9.8/lib/*")
JAVA5_BENCH=(java -Xms512m -Xmx512m "-Duser.home=$RUN_DIR/home"
  -Dlogback.statusListenerClass=org.apache.rocketmq.logging.ch.qos.logback.core.status.NopStatusListener
  -cp "$HERE/java/target/interop-java.jar:$HERE/java/target/lib/*")

# run_cmd NAME TIMEOUT CMD...: run in the background (so the trap can stop it), log to logs/NAME.log;
# sets RC and LOG.
run_cmd() {
  local name="$1" tmo="$2"; shift 2
  LOG="$RUN_DIR/logs/${name//[:\/]/_}.log"
  (cd "$RUN_DIR/home" && HOME="$RUN_DIR/home" exec timeout -k 5 "$tmo" "$@") > "$LOG" 2>&1 < /dev/null &
  CUR_PID=$!
  wait "$CUR_PID"
  RC=$?
  CUR_PID=""
}

# reason from a log: the program's own "FAIL: ..." line, else the exit code and last line
reason() {
  local r
  r="$(sed 's/\x1b\[[0-9;]*m//g' "$LOG" | grep -a -m1 '^FAIL: ' | sed 's/^FAIL: //')"
  if [[ -z "$r" ]]; then
    case "$RC" in
      124|137) r="timed out (killed after $1 s)" ;;
      *) r="exit code $RC: $(sed 's/\x1b\[[0-9;]*m//g' "$LOG" | grep -a -v '^\s*$' | tail -n 1 | cut -c1-300)" ;;
    esac
  fi
  echo "$r"
}

selected() { [[ -z "$ONLY" || "$1" =~ $ONLY ]]; }

# budget-capped timeout for the next test, or empty if the budget is gone
tmo_for() {
  local want="$1" left=$(( BUDGET - ($(date +%s) - START_TS) ))
  if (( left < 10 )); then echo ""; elif (( left < want )); then echo "$left"; else echo "$want"; fi
}

# t NAME TIMEOUT CMD...: generic test; passes iff exit 0
t() {
  local name="$1" want="$2"; shift 2
  selected "$name" || return 0
  local tmo; tmo="$(tmo_for "$want")"
  if [[ -z "$tmo" ]]; then fail "$name" "not run: total time budget of ${BUDGET}s used up"; return 0; fi
  run_cmd "$name" "$tmo" "$@"
  if [[ $RC == 0 ]]; then pass "$name"; else fail "$name" "$(reason "$tmo")"; fi
}

# --- Apache Java client 5.3.3 and 4.9.8
for jt in send-sync send-async send-oneway send-batch push-concurrent push-orderly lite-pull tag-filter group-restart; do
  t "java5:$jt" 90 "${JAVA5[@]}" interop.Main "$jt" -n "$NS"
done
for jt in send-sync send-async send-oneway send-batch push-concurrent push-orderly lite-pull tag-filter group-restart; do
  t "java4:$jt" 90 "${JAVA4[@]}" interop.Main "$jt" -n "$NS"
done

# delay levels (1 s / 5 s / 10 s), consumer retry + %DLQ% (maxReconsumeTimes 2, broker-chosen level 3 and
# level 1 retries), transactional commit / rollback / check-back: each 15-25 s.
# timer: 5.x timer messages (setDelayTimeMs / setDelayTimeSec / setDeliverTimeMs); not in 4.9.8.
for jt in delay timer retry-dlq transaction; do
  t "java5:$jt" 90 "${JAVA5[@]}" interop.Main "$jt" -n "$NS"
done
for jt in delay retry-dlq transaction; do
  t "java4:$jt" 90 "${JAVA4[@]}" interop.Main "$jt" -n "$NS"
done

# --- benchmark Producer/Consumer clones (binary ROCKETMQ headers, SEND_MESSAGE_V2)
BT="it_bench_$RUN_ID"
if selected "java5:bench-producer"; then
  tmo="$(tmo_for 60)"
  if [[ -z "$tmo" ]]; then fail java5:bench-producer "not run: total time budget used up"; else
    run_cmd java5:bench-producer "$tmo" "${JAVA5_BENCH[@]}" interop.benchmark.Producer -n "$NS" -t "$BT" -w 8 -s 1024 -x 10 -ri 5000
    complete="$(grep -a '^\[Complete\]' "$LOG" | tail -n 1)"
    BENCH_TOTAL="$(echo "$complete" | sed -n 's/.*Send Total: \([0-9]*\).*/\1/p')"
    if [[ $RC == 0 && -n "$BENCH_TOTAL" && "$BENCH_TOTAL" -gt 0 && "$complete" == *"Send Failed: 0 | Response Failed: 0"* ]]; then
      pass java5:bench-producer
    else
      fail java5:bench-producer "${complete:-$(reason "$tmo")} (exit $RC)"
      BENCH_TOTAL=""
    fi
  fi
fi
if selected "java5:bench-consumer"; then
  tmo="$(tmo_for 60)"
  if [[ -z "$tmo" ]]; then fail java5:bench-consumer "not run: total time budget used up"
  elif [[ -z "${BENCH_TOTAL:-}" ]]; then fail java5:bench-consumer "needs a successful java5:bench-producer run first"
  else
    run_cmd java5:bench-consumer "$tmo" "${JAVA5_BENCH[@]}" interop.benchmark.Consumer -n "$NS" -t "$BT" -g "itg_bench_$RUN_ID" \
      -cf CONSUME_FROM_FIRST_OFFSET -qn "$BENCH_TOTAL" -x 45 -ri 5000
    if [[ $RC == 0 ]]; then pass java5:bench-consumer
    else fail java5:bench-consumer "did not consume the $BENCH_TOTAL benchmark messages: $(grep -a '^\[Complete\]' "$LOG" | tail -n 1) (exit $RC)"; fi
  fi
fi
# async mode (-y true): one thread, up to 10 000 callbacks pending; sends time out client-side after
# 3 s, so keep the volume small (the machine is shared) and reuse the topic created above (a
# brand-new topic makes every queued async send look its route up first).
t java5:bench-producer-async 60 "${JAVA5_BENCH[@]}" interop.benchmark.Producer -n "$NS" -t "$BT" -y true -s 1024 -q 1000 -x 30 -ri 5000

# --- Go client (rocketmq-client-go/v2): single sends (code 10) and batches (code 320)
t go:send-consume 90 "$HERE/go/interop-go" -n "$NS" -c 1000
t go:batch-consume 90 "$HERE/go/interop-go" -n "$NS" -c 1000 -batch 50

# --- C++ client from the rocketmq-client-python 0.5.0rc2 wheel
t cpp:send-consume 90 python3 "$HERE/python/cpp_client_test.py" -n "$NS" -c 1000

# --- rocketmq-client-rust 1.0.0
RUSTBIN="$HERE/rust/target/debug/interop-rust-client"
t rust:send-consume 90 "$RUSTBIN" send-consume -n "$NS" -c 1000
t rust:orderly 90 "$RUSTBIN" orderly -n "$NS" -c 400
t rust:tags-postsub 90 "$RUSTBIN" tags -n "$NS" -c 200 --post-sub true
# Default client config: the broker must filter with the heartbeat subscription, whose codeSet
# rocketmq-client-rust 1.0.0 hashes from untrimmed tags ("TagA ", " TagC"). The Java broker
# trusts those codes and delivers nothing (a client bug); ours must trim and re-hash the
# subscription string. So on apache this test is expected to fail with "never delivered".
if selected rust:tags-heartbeat; then
  tmo="$(tmo_for 50)"
  if [[ -z "$tmo" ]]; then fail rust:tags-heartbeat "not run: total time budget used up"; else
    if [[ "$TARGET" == apache ]]; then
      run_cmd rust:tags-heartbeat "$tmo" "$RUSTBIN" tags -n "$NS" -c 40 --timeout 15
      if [[ $RC != 0 ]] && grep -aq 'never delivered' "$LOG"; then
        pass "rust:tags-heartbeat (expected failure on apache reproduced: client posts untrimmed tag hash codes)"
      elif [[ $RC == 0 ]]; then
        fail rust:tags-heartbeat "expected the apache broker to deliver nothing (client bug), but it passed: re-check the note in run.sh"
      else
        fail rust:tags-heartbeat "$(reason "$tmo")"
      fi
    else
      run_cmd rust:tags-heartbeat "$tmo" "$RUSTBIN" tags -n "$NS" -c 200 --timeout 30
      if [[ $RC == 0 ]]; then pass rust:tags-heartbeat; else fail rust:tags-heartbeat "$(reason "$tmo")"; fi
    fi
  fi
fi

# delay levels 1/2/3, ReconsumeLater -> %RETRY% (broker-chosen level 3, 10 s) -> %DLQ% with
# max_reconsume_times 1, transactional commit / rollback / check-back: each ~15-20 s.
t rust:delay 90 "$RUSTBIN" delay -n "$NS"
t rust:retry 90 "$RUSTBIN" retry -n "$NS"
t rust:transaction 90 "$RUSTBIN" transaction -n "$NS"

# --- mqadmin (rocketmq-tools 5.3.3)
MQADMIN=(env "MQADMIN_HOME=$RUN_DIR/home" "$HERE/java/mqadmin.sh")
if selected mqadmin:clusterList; then
  tmo="$(tmo_for 60)"
  if [[ -z "$tmo" ]]; then fail mqadmin:clusterList "not run: total time budget used up"; else
    run_cmd mqadmin:clusterList "$tmo" "${MQADMIN[@]}" clusterList -n "$NS"
    if [[ $RC == 0 ]] && grep -aq "broker-a .*127.0.0.1:$BROKER_PORT" "$LOG"; then pass mqadmin:clusterList
    else fail mqadmin:clusterList "broker-a 127.0.0.1:$BROKER_PORT not listed (exit $RC): $(grep -av '^\s*$' "$LOG" | tail -n 1 | cut -c1-200)"; fi
  fi
fi
if selected mqadmin:updateTopic; then
  tmo="$(tmo_for 60)"
  AT="it_admin_$RUN_ID"
  if [[ -z "$tmo" ]]; then fail mqadmin:updateTopic "not run: total time budget used up"; else
    run_cmd mqadmin:updateTopic "$tmo" "${MQADMIN[@]}" updateTopic -n "$NS" -c DefaultCluster -t "$AT" -r 6 -w 6
    if [[ $RC != 0 ]] || ! grep -aq "create topic to 127.0.0.1:$BROKER_PORT success" "$LOG"; then
      fail mqadmin:updateTopic "updateTopic failed (exit $RC): $(grep -av '^\s*$' "$LOG" | tail -n 1 | cut -c1-200)"
    elif ! python3 "$HERE/python/route_probe.py" -n "$NS" -t "$AT" --timeout 10 > "$LOG.route" 2>&1 \
         || ! grep -q '"writeQueueNums":6' "$LOG.route"; then
      fail mqadmin:updateTopic "route of $AT after updateTopic lacks 6 write queues: $(head -c 300 "$LOG.route")"
    else
      pass mqadmin:updateTopic
    fi
  fi
fi

# mqadmin over seeded data: `interop.Main admin-seed` sends 25 keyed messages to $MT and consumes
# the first 20 with group $MG (offsets committed), so lag is 5.
MT="it_adm_$RUN_ID"
MG="itg_adm_$RUN_ID"
SEED_LOG=""
if selected mqadmin:seed || selected mqadmin:topicStatus || selected mqadmin:consumerProgress \
   || selected mqadmin:queryMsg || selected mqadmin:topicList || selected mqadmin:topicRoute \
   || selected mqadmin:brokerStatus; then
  tmo="$(tmo_for 90)"
  if [[ -z "$tmo" ]]; then fail mqadmin:seed "not run: total time budget used up"; else
    run_cmd mqadmin:seed "$tmo" "${JAVA5[@]}" interop.Main admin-seed -n "$NS" -t "$MT" -g "$MG"
    if [[ $RC == 0 ]] && grep -aq "^SEED topic=$MT" "$LOG"; then pass mqadmin:seed; SEED_LOG="$LOG"
    else fail mqadmin:seed "$(reason "$tmo")"; fi
  fi
fi
# seeded FIELD [N]: field of the Nth (default 3rd) SEEDED line
seeded() { grep -a '^SEEDED ' "$SEED_LOG" | sed -n "${2:-3}p" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# admin_check NAME CHECK MQADMIN-ARGS...: runs mqadmin, then CHECK (a shell function reading $LOG
# that sets WHY and returns non-zero on a wrong answer). Needs the seed.
admin_check() {
  local name="$1" check="$2"; shift 2
  selected "$name" || return 0
  if [[ -z "$SEED_LOG" ]]; then fail "$name" "needs a successful mqadmin:seed"; return 0; fi
  local tmo; tmo="$(tmo_for 60)"
  if [[ -z "$tmo" ]]; then fail "$name" "not run: total time budget used up"; return 0; fi
  run_cmd "$name" "$tmo" "${MQADMIN[@]}" "$@" -n "$NS"
  WHY=""
  if [[ $RC != 0 ]]; then fail "$name" "exit $RC: $(grep -av '^\s*$' "$LOG" | tail -n 1 | cut -c1-200)"
  elif "$check"; then pass "$name"
  else fail "$name" "$WHY"; fi
}
# sum of column $1 over the rows whose column $2 is broker-a
col_sum() { awk -v c="$1" -v b="$2" '$b == "broker-a" { s += $c } END { print s + 0 }' "$LOG"; }

chk_topic_list() { grep -axq "$MT" "$LOG" || { WHY="$MT not listed"; return 1; }; }
admin_check mqadmin:topicList chk_topic_list topicList

chk_topic_route() {
  grep -aq '"brokerName":"broker-a"' "$LOG" && grep -aq "127.0.0.1:$BROKER_PORT" "$LOG" \
    && grep -aq '"writeQueueNums":[1-9]' "$LOG" || { WHY="route lacks broker-a at 127.0.0.1:$BROKER_PORT: $(tr -d '\n\t' < "$LOG" | cut -c1-200)"; return 1; }
}
admin_check mqadmin:topicRoute chk_topic_route topicRoute -t "$MT"

chk_topic_status() {
  local max; max="$(col_sum 4 1)"
  [[ "$max" == 25 ]] || { WHY="max offsets sum to $max, expected 25"; return 1; }
  [[ "$(col_sum 3 1)" == 0 ]] || { WHY="min offsets are not all 0"; return 1; }
}
admin_check mqadmin:topicStatus chk_topic_status topicStatus -t "$MT"

chk_progress() {
  local broker consumer
  broker="$(col_sum 4 2)"; consumer="$(col_sum 5 2)"
  [[ "$broker" == 25 && "$consumer" == 20 ]] || { WHY="broker offsets sum $broker (want 25), consumer offsets sum $consumer (want 20)"; return 1; }
  grep -aq '^Consume Diff Total: 5$' "$LOG" || { WHY="no 'Consume Diff Total: 5': $(grep -a 'Diff Total' "$LOG")"; return 1; }
}
admin_check mqadmin:consumerProgress chk_progress consumerProgress -g "$MG"

chk_by_key() {
  local id; id="$(seeded msgId)"
  grep -aq "^$id " "$LOG" || { WHY="msgId $id of key $(seeded key) not in the answer: $(tail -n 2 "$LOG" | tr '\n' ' ')"; return 1; }
}
[[ -n "$SEED_LOG" ]] && admin_check mqadmin:queryMsgByKey chk_by_key queryMsgByKey -t "$MT" -k "$(seeded key)"

chk_by_id() {
  grep -aq "^Topic: *$MT\$" "$LOG" && grep -aq "^Keys: *\[$(seeded key)\]\$" "$LOG" \
    && grep -aq "^Queue ID: *$(seeded queue)\$" "$LOG" && grep -aq "^Queue Offset: *$(seeded offset)\$" "$LOG" \
    || { WHY="wrong message: $(grep -a '^\(Topic\|Keys\|Queue\)' "$LOG" | tr '\n' ' ')"; return 1; }
}
[[ -n "$SEED_LOG" ]] && admin_check mqadmin:queryMsgById-offset chk_by_id queryMsgById -t "$MT" -i "$(seeded offsetMsgId)"
[[ -n "$SEED_LOG" ]] && admin_check mqadmin:queryMsgById-unique chk_by_id queryMsgById -t "$MT" -i "$(seeded msgId)"

chk_broker_status() {
  local put; put="$(sed -n 's/^msgPutTotalTodayNow *: *\([0-9]*\).*/\1/p' "$LOG")"
  [[ -n "$put" && "$put" -ge 25 ]] || { WHY="msgPutTotalTodayNow is '$put', expected >= 25"; return 1; }
  grep -aq '^brokerVersionDesc *: *V' "$LOG" || { WHY="no brokerVersionDesc"; return 1; }
  grep -aq '^commitLogMaxOffset *: *[1-9]' "$LOG" || { WHY="no commitLogMaxOffset"; return 1; }
}
admin_check mqadmin:brokerStatus chk_broker_status brokerStatus -b "127.0.0.1:$BROKER_PORT"

if selected mqadmin:updateSubGroup; then
  tmo="$(tmo_for 60)"
  if [[ -z "$tmo" ]]; then fail mqadmin:updateSubGroup "not run: total time budget used up"; else
    run_cmd mqadmin:updateSubGroup "$tmo" "${MQADMIN[@]}" updateSubGroup -n "$NS" -c DefaultCluster -g "${MG}_sub" -r 3
    if [[ $RC == 0 ]] && grep -aq "create subscription group to 127.0.0.1:$BROKER_PORT success" "$LOG"; then
      pass mqadmin:updateSubGroup
    else fail mqadmin:updateSubGroup "exit $RC: $(grep -av '^\s*$' "$LOG" | tail -n 1 | cut -c1-200)"; fi
  fi
fi

if selected mqadmin:deleteTopic; then
  tmo="$(tmo_for 60)"
  DT="it_adm_del_$RUN_ID"
  if [[ -z "$tmo" ]]; then fail mqadmin:deleteTopic "not run: total time budget used up"; else
    run_cmd mqadmin:deleteTopic "$tmo" "${MQADMIN[@]}" updateTopic -n "$NS" -c DefaultCluster -t "$DT" -r 2 -w 2
    if [[ $RC != 0 ]]; then fail mqadmin:deleteTopic "updateTopic $DT failed (exit $RC)"
    else
      run_cmd mqadmin:deleteTopic "$tmo" "${MQADMIN[@]}" deleteTopic -n "$NS" -c DefaultCluster -t "$DT"
      if [[ $RC != 0 ]] || ! grep -aq "delete topic \[$DT\] from cluster \[DefaultCluster\] success" "$LOG"; then
        fail mqadmin:deleteTopic "exit $RC: $(grep -av '^\s*$' "$LOG" | tail -n 1 | cut -c1-200)"
      elif python3 "$HERE/python/route_probe.py" -n "$NS" -t "$DT" --timeout 3 > "$LOG.route" 2>&1; then
        fail mqadmin:deleteTopic "the name server still routes $DT after deleteTopic"
      else pass mqadmin:deleteTopic; fi
    fi
  fi
fi

if selected mqadmin:updateBrokerConfig; then
  tmo="$(tmo_for 60)"
  if [[ -z "$tmo" ]]; then fail mqadmin:updateBrokerConfig "not run: total time budget used up"; else
    run_cmd mqadmin:updateBrokerConfig "$tmo" "${MQADMIN[@]}" updateBrokerConfig -n "$NS" -b "127.0.0.1:$BROKER_PORT" -k maxMessageSize -v 4194000
    if [[ $RC != 0 ]] || ! grep -aq "update broker config success" "$LOG"; then
      fail mqadmin:updateBrokerConfig "exit $RC: $(grep -av '^\s*$' "$LOG" | tail -n 1 | cut -c1-200)"
    else
      run_cmd mqadmin:updateBrokerConfig "$tmo" "${MQADMIN[@]}" getBrokerConfig -n "$NS" -b "127.0.0.1:$BROKER_PORT"
      if [[ $RC == 0 ]] && grep -aEq '^maxMessageSize *= *4194000 *$' "$LOG"; then pass mqadmin:updateBrokerConfig
      else fail mqadmin:updateBrokerConfig "getBrokerConfig does not show maxMessageSize = 4194000: $(grep -a maxMessageSize "$LOG" | head -n 1)"; fi
    fi
  fi
fi

# consumerStatus asks the broker, which forwards GET_CONSUMER_RUNNING_INFO (307) to the live
# consumer (a Java push consumer here) and relays its answer.
if selected mqadmin:consumerStatus; then
  tmo="$(tmo_for 90)"
  LG="${MG}_live"
  if [[ -z "$tmo" ]]; then fail mqadmin:consumerStatus "not run: total time budget used up"; else
    HOLD_LOG="$RUN_DIR/logs/mqadmin_consumerStatus.hold.log"
    (cd "$RUN_DIR/home" && HOME="$RUN_DIR/home" exec timeout -k 5 "$tmo" "${JAVA5[@]}" interop.Main consume-hold -n "$NS" -t "$MT" -g "$LG" -c 60) \
      > "$HOLD_LOG" 2>&1 < /dev/null &
    HOLD_PID=$!
    STARTED_PIDS+=("$HOLD_PID")
    CID=""
    for _ in $(seq 1 300); do
      CID="$(sed -n 's/^READY clientId=//p' "$HOLD_LOG" | head -n 1)"
      [[ -n "$CID" ]] && break
      kill -0 "$HOLD_PID" 2>/dev/null || break
      sleep 0.1
    done
    if [[ -z "$CID" ]]; then fail mqadmin:consumerStatus "the Java consumer did not start: $(tail -n 1 "$HOLD_LOG")"
    else
      sleep 2 # its first heartbeat
      run_cmd mqadmin:consumerStatus "$tmo" "${MQADMIN[@]}" consumerStatus -n "$NS" -g "$LG" -i "$CID"
      if [[ $RC == 0 ]] && grep -aq "$MT" "$LOG" && grep -aq "PROP_CONSUME_TYPE" "$LOG"; then pass mqadmin:consumerStatus
      else fail mqadmin:consumerStatus "no running info of $CID (exit $RC): $(grep -av '^\s*$' "$LOG" | tail -n 1 | cut -c1-200)"; fi
      # queryMsgById -g -d: the broker forwards CONSUME_MESSAGE_DIRECTLY (309) with the stored
      # record to the same live consumer, whose listener consumes it and answers CR_SUCCESS.
      if selected mqadmin:consumeDirectly; then
        if [[ -z "$SEED_LOG" ]]; then fail mqadmin:consumeDirectly "needs a successful mqadmin:seed"
        else
          run_cmd mqadmin:consumeDirectly "$tmo" "${MQADMIN[@]}" queryMsgById -n "$NS" -t "$MT" -i "$(seeded offsetMsgId)" -g "$LG" -d "$CID"
          if [[ $RC == 0 ]] && grep -aq "consumeResult=CR_SUCCESS" "$LOG"; then pass mqadmin:consumeDirectly
          else fail mqadmin:consumeDirectly "no CR_SUCCESS from $CID (exit $RC): $(grep -a 'ConsumeMessageDirectlyResult\|Exception' "$LOG" | head -n 1 | cut -c1-200)"; fi
        fi
      fi
    fi
    kill "$HOLD_PID" 2>/dev/null
  fi
fi

# message trace (Java client 5.3.3 with enableMsgTrace): every send leaves a trace record
t java5:trace 90 "${JAVA5[@]}" interop.Main trace -n "$NS"

finish
