#!/usr/bin/env bash
# Start/stop the reference Apache RocketMQ 5.3.3 name server + broker (jars from Maven Central,
# fetched by interop/install.sh into interop/apache/lib) on loopback.
#
#   bench/apache-broker.sh start     # prints NAMESRV=127.0.0.1:<port> when both are up
#   bench/apache-broker.sh stop
#   bench/apache-broker.sh status
#
# Environment (all optional):
#   APACHE_HOME   scratch dir for ROCKETMQ_HOME, user.home, store, logs, pids (default /tmp/rmq-apache)
#   NAMESRV_PORT  name server port (default 9876)
#   BROKER_PORT   broker listenPort (default 10911; the broker also opens PORT-2 and PORT+1)
#   FLUSH         ASYNC_FLUSH (default) | SYNC_FLUSH
#   HEAP          JVM heap for the broker, -Xms=-Xmx (default 1g; name server gets 256m)
#   FRESH         1 (default) = wipe the store before start; 0 = keep it
#   BROKER_EXTRA  extra broker.conf lines (newline separated)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB="${APACHE_LIB:-$ROOT/interop/apache/lib}"
APACHE_HOME="${APACHE_HOME:-/tmp/rmq-apache}"
NAMESRV_PORT="${NAMESRV_PORT:-9876}"
BROKER_PORT="${BROKER_PORT:-10911}"
FLUSH="${FLUSH:-ASYNC_FLUSH}"
HEAP="${HEAP:-1g}"
FRESH="${FRESH:-1}"

die() { echo "apache-broker: $*" >&2; exit 1; }

JAVA_OPTS_COMMON=(-server -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow
  --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-exports java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED
  "-Duser.home=$APACHE_HOME/home" "-Drocketmq.home.dir=$APACHE_HOME"
  -Dlogback.statusListenerClass=org.apache.rocketmq.logging.ch.qos.logback.core.status.NopStatusListener)

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_one() { # pidfile name
  local pf="$1"
  if pid_alive "$pf"; then
    local pid; pid="$(cat "$pf")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pf"
}

start() {
  [[ -f "$LIB/rocketmq-broker-5.3.3.jar" ]] || die "missing jars in $LIB: run interop/install.sh"
  case "$FLUSH" in ASYNC_FLUSH|SYNC_FLUSH) ;; *) die "FLUSH must be ASYNC_FLUSH or SYNC_FLUSH";; esac
  mkdir -p "$APACHE_HOME/home" "$APACHE_HOME/logs"
  pid_alive "$APACHE_HOME/namesrv.pid" && die "already running (pid $(cat "$APACHE_HOME/namesrv.pid")); stop first"
  port_open "$NAMESRV_PORT" && die "port $NAMESRV_PORT already in use"
  port_open "$BROKER_PORT" && die "port $BROKER_PORT already in use"
  if [[ "$FRESH" == 1 ]]; then rm -rf "$APACHE_HOME/store" "$APACHE_HOME/home"; mkdir -p "$APACHE_HOME/home"; fi

  cat > "$APACHE_HOME/namesrv.conf" <<EOF
listenPort=$NAMESRV_PORT
EOF
  cat > "$APACHE_HOME/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
brokerRole=ASYNC_MASTER
flushDiskType=$FLUSH
namesrvAddr=127.0.0.1:$NAMESRV_PORT
brokerIP1=127.0.0.1
listenPort=$BROKER_PORT
storePathRootDir=$APACHE_HOME/store
storePathCommitLog=$APACHE_HOME/store/commitlog
autoCreateTopicEnable=true
autoCreateSubscriptionGroup=true
defaultTopicQueueNums=8
deleteWhen=04
fileReservedTime=48
enablePropertyFilter=true
${BROKER_EXTRA:-}
EOF
  (cd "$APACHE_HOME" && ROCKETMQ_HOME="$APACHE_HOME" exec java -Xms256m -Xmx256m "${JAVA_OPTS_COMMON[@]}" \
      -cp "$LIB/*" org.apache.rocketmq.namesrv.NamesrvStartup -c "$APACHE_HOME/namesrv.conf" \
      > "$APACHE_HOME/logs/namesrv.out" 2>&1 < /dev/null) &
  echo $! > "$APACHE_HOME/namesrv.pid"
  for _ in $(seq 1 300); do
    grep -q "boot success" "$APACHE_HOME/logs/namesrv.out" 2>/dev/null && break
    pid_alive "$APACHE_HOME/namesrv.pid" || { tail -20 "$APACHE_HOME/logs/namesrv.out" >&2; die "name server died"; }
    sleep 0.1
  done
  grep -q "boot success" "$APACHE_HOME/logs/namesrv.out" || die "name server did not start in 30 s"

  (cd "$APACHE_HOME" && ROCKETMQ_HOME="$APACHE_HOME" exec java "-Xms$HEAP" "-Xmx$HEAP" -XX:MaxDirectMemorySize=1g \
      "${JAVA_OPTS_COMMON[@]}" -cp "$LIB/*" org.apache.rocketmq.broker.BrokerStartup -c "$APACHE_HOME/broker.conf" \
      > "$APACHE_HOME/logs/broker.out" 2>&1 < /dev/null) &
  echo $! > "$APACHE_HOME/broker.pid"
  for _ in $(seq 1 600); do
    grep -q "boot success" "$APACHE_HOME/logs/broker.out" 2>/dev/null && break
    pid_alive "$APACHE_HOME/broker.pid" || { tail -20 "$APACHE_HOME/logs/broker.out" >&2; stop; die "broker died"; }
    sleep 0.1
  done
  grep -q "boot success" "$APACHE_HOME/logs/broker.out" || { stop; die "broker did not start in 60 s"; }
  echo "NAMESRV=127.0.0.1:$NAMESRV_PORT"
}

stop() {
  stop_one "$APACHE_HOME/broker.pid"
  stop_one "$APACHE_HOME/namesrv.pid"
}

status() {
  pid_alive "$APACHE_HOME/namesrv.pid" && echo "namesrv running pid $(cat "$APACHE_HOME/namesrv.pid")" || echo "namesrv stopped"
  pid_alive "$APACHE_HOME/broker.pid" && echo "broker running pid $(cat "$APACHE_HOME/broker.pid")" || echo "broker stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
