#!/usr/bin/env bash
# Apache RocketMQ 5.3.3 `mqadmin` (org.apache.rocketmq.tools.command.MQAdminStartup) from the
# Maven Central jars that interop/install.sh puts in interop/apache/lib.
#
#   interop/java/mqadmin.sh clusterList -n 127.0.0.1:9876
#   interop/java/mqadmin.sh updateTopic -n 127.0.0.1:9876 -c DefaultCluster -t T -r 8 -w 8
#   interop/java/mqadmin.sh topicStatus -n 127.0.0.1:9876 -t T
#
# Env: NAMESRV_ADDR (used by mqadmin when -n is absent), MQADMIN_HOME (scratch dir for its
# logs; default /tmp/mqadmin-home), MQADMIN_HEAP (default 256m).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB="${APACHE_LIB:-$ROOT/apache/lib}"
[[ -f "$LIB/rocketmq-tools-5.3.3.jar" ]] || { echo "mqadmin: missing $LIB/rocketmq-tools-5.3.3.jar (run interop/install.sh)" >&2; exit 2; }
MQADMIN_HOME="${MQADMIN_HOME:-/tmp/mqadmin-home}"
mkdir -p "$MQADMIN_HOME"
HEAP="${MQADMIN_HEAP:-256m}"
export ROCKETMQ_HOME="$MQADMIN_HOME"
exec java "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  "-Duser.home=$MQADMIN_HOME" "-Drocketmq.home.dir=$MQADMIN_HOME" \
  -Dlogback.statusListenerClass=org.apache.rocketmq.logging.ch.qos.logback.core.status.NopStatusListener \
  -cp "$LIB/*" org.apache.rocketmq.tools.command.MQAdminStartup "$@"
