# Sourced by bench/compare.sh and interop/run.sh: the broker.conf both start our broker with.
#
#   write_ours_broker_conf FILE FLUSH NAMESRV_PORT BROKER_PORT STORE_DIR [EXTRA_LINES]
#
# Standard RocketMQ keys only, so the same file also reads as an Apache broker.conf.
write_ours_broker_conf() {
  local file="$1" flush="$2" ns_port="$3" broker_port="$4" store="$5" extra="${6:-}"
  cat > "$file" <<CONF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
brokerRole=ASYNC_MASTER
flushDiskType=$flush
namesrvAddr=127.0.0.1:$ns_port
brokerIP1=127.0.0.1
listenPort=$broker_port
storePathRootDir=$store
autoCreateTopicEnable=true
defaultTopicQueueNums=8
CONF
  if [[ -n "$extra" ]]; then printf '%s\n' "$extra" >> "$file"; fi
}
