#!/usr/bin/env bash
# End-to-end benchmark: deskpulse on a generated ServiceNow export of N tickets (default 1M,
# about 240 MB), against DuckDB alone and pandas computing the same KPIs, when those are
# installed (pip install duckdb pandas). Wall time (median of RUNS) and peak memory per command.
#
#   benches/bench.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
runs="${2:-5}"
work="${BENCH_DIR:-${TMPDIR:-/tmp}/deskpulse-bench}"
mkdir -p "$work"
export="$work/incidents-$n.csv"
[ -s "$export" ] || python3 benches/gen_export.py "$n" "$export"
cat > "$work/deskpulse.toml" <<TOML
[report]
timezone = "UTC"
[[sources]]
path = "$(basename "$export")"
profile = "servicenow"
TOML

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deskpulse-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/deskpulse"

measure() { # name, command...
  local name="$1"; shift
  local times=() peak=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > /dev/null 2> "$work/stderr.txt" || {
      echo "$name failed:"; cat "$work/stderr.txt"; return 1; }
    read -r secs kb < "$work/time.txt"
    times+=("$secs"); [ "$kb" -gt "$peak" ] && peak="$kb"
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-28s median %6.2f s   peak %6d MiB   (%s)\n' "$name" "$median" "$((peak / 1024))" "${times[*]}"
}

echo "export: $export ($(du -h "$export" | cut -f1)), $runs runs each"
measure "deskpulse kpis (json)" "$bin" kpis --config "$work/deskpulse.toml" --period 2026-06 --format json --quiet
measure "deskpulse report" "$bin" report --config "$work/deskpulse.toml" --period 2026-06 --out "$work/report" --quiet
if python3 -c "import duckdb" 2>/dev/null; then
  measure "DuckDB alone (baseline)" python3 benches/baseline_duckdb.py "$export" 2026-06-01 2026-07-01
fi
if python3 -c "import pandas" 2>/dev/null; then
  measure "pandas (baseline)" python3 benches/baseline_pandas.py "$export" 2026-06-01 2026-07-01
fi
