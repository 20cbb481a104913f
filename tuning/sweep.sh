#!/usr/bin/env bash
# Runs `loadgen tune` once per broker preset, launching the broker with each config, and
# prints the side-by-side comparison. Loopback only.
#
#   tuning/sweep.sh                      # our broker (target/release/broker), all presets
#   PRESETS="throughput durability" tuning/sweep.sh
#   BROKER_CMD='/path/to/broker -c {conf}' tuning/sweep.sh
#
# Environment: LOADGEN (default target/release/loadgen), BROKER_CMD (default: loadgen's
# "{bin_dir}/broker -c {conf}"), OUT (default tuning/results), PRESETS, TUNE_ARGS (extra
# flags for loadgen tune, e.g. "--step-secs 5 --hold-secs 20 -s 1024").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOADGEN="${LOADGEN:-$ROOT/target/release/loadgen}"
OUT="${OUT:-$ROOT/tuning/results}"
PRESETS="${PRESETS:-throughput latency durability}"
TUNE_ARGS="${TUNE_ARGS:-}"
mkdir -p "$OUT"
reports=()
for preset in $PRESETS; do
  conf="$ROOT/tuning/presets/$preset.conf"
  [[ -f "$conf" ]] || { echo "sweep: no preset $conf" >&2; exit 1; }
  args=(tune --launch "$conf" --out "$OUT")
  [[ -n "${BROKER_CMD:-}" ]] && args+=(--broker-cmd "$BROKER_CMD")
  # shellcheck disable=SC2206
  args+=($TUNE_ARGS)
  echo "== $preset: $LOADGEN ${args[*]}"
  "$LOADGEN" "${args[@]}" | tee "$OUT/$preset.log"
  reports+=("$(sed -n 's/^report: //p' "$OUT/$preset.log" | tail -1)")
done
if (( ${#reports[@]} > 1 )); then
  "$LOADGEN" compare "${reports[@]}"
fi
