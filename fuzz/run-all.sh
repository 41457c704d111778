#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 240), two at a time, with the seeds and the
# JSON dictionary where they exist. Logs go to fuzz/logs/, crashes to fuzz/artifacts/.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); nightly features through RUSTC_BOOTSTRAP.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-240}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build
mkdir -p logs
run() {
  local t="$1" extra=()
  mkdir -p "corpus/$t"
  [ -d "seeds/$t" ] && extra+=("seeds/$t")
  case "$t" in decode_*) dict=(-dict=dicts/json.dict) ;; *) dict=() ;; esac
  local start=$SECONDS
  if cargo fuzz run "$t" "corpus/$t" "${extra[@]}" -- "${dict[@]}" \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 >"logs/$t.log" 2>&1; then
    echo "$t: ok after $((SECONDS - start)) s, $(grep -o 'Done [0-9]* runs' "logs/$t.log" | tail -1)"
  else
    echo "$t: FAILED after $((SECONDS - start)) s (see fuzz/logs/$t.log)"
  fi
}
i=0
for t in "${targets[@]}"; do
  run "$t" &
  i=$((i + 1))
  if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait
