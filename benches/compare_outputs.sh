#!/usr/bin/env bash
# Did a change leave the outputs as they were? Runs `deskpulse report` on the bundled sample,
# the UCI event log (March 2016 and its whole range) and a generated million-ticket export, and
# keeps kpis.json, report.md, report.html, ledger.csv and rejects.csv of each run.
#
#   benches/compare_outputs.sh save DIR     # before the change: the reference outputs
#   benches/compare_outputs.sh check DIR    # after it: byte for byte against DIR; exit 1 on a difference
#
# Set BIN to compare another build (default: the release build). SMALL=1 skips the million
# tickets (read three times: in UTC, in Europe/Amsterdam, where some rows are rejected, and as
# ten overlapping slices). STORE=1 checks the reports made from a ticket store that holds the same exports
# (`ingest --store`, then `report --store`); the `--store DIR` their explain command carries
# is left out of the comparison. The generated export is kept in $BENCH_DIR (default /tmp/deskpulse-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
ref="${2:-}"
if [[ "$mode" != save && "$mode" != check || -z "$ref" ]]; then
    echo "usage: $0 save|check DIR" >&2
    exit 2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deskpulse-target}"
if [[ -z "${BIN:-}" ]]; then
    cargo build --release --quiet
    BIN="$CARGO_TARGET_DIR/release/deskpulse"
fi
work="${BENCH_DIR:-${TMPDIR:-/tmp}/deskpulse-bench}"
mkdir -p "$work/uci"

# The UCI log ships zipped; its one member is extracted once.
uci="$work/uci/incident_event_log.csv"
if [[ ! -s "$uci" ]]; then
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
        tests/data/uci-incident-event-log/incident_event_log.zip "$work/uci"
fi
cat > "$work/uci/deskpulse.toml" <<'TOML'
[report]
title = "UCI incident event log"
timezone = "America/Sao_Paulo"

[[sources]]
path = "incident_event_log.csv"
profile = "servicenow"
timezone = "America/Sao_Paulo"
TOML

million="${MILLION:-$work/incidents-1000000.csv}"
if [[ -z "${SMALL:-}" ]]; then
    [[ -s "$million" ]] || python3 benches/gen_export.py 1000000 "$million"
    cat > "$work/deskpulse.toml" <<TOML
[report]
timezone = "UTC"
[[sources]]
path = "$(basename "$million")"
profile = "servicenow"
TOML
    # The same export read as Amsterdam's local times: its times in the spring-forward gap
    # are rejected rows, the path every export with a bad row takes.
    sed 's|"UTC"|"Europe/Amsterdam"|' "$work/deskpulse.toml" > "$work/amsterdam.toml"
    # The same export as ten slices of 100,000 rows, each repeating the 20,000 rows before it,
    # as exports that overlap arrive: the repeated tickets are merged, the later file's kept.
    # Cut again whenever the export they were cut from is not this one, as it was then.
    made_from="$(stat -c '%n %s %Y' "$million")"
    if [[ ! -s "$work/slices/slice-09.csv" \
          || "$(cat "$work/slices/made-from" 2>/dev/null)" != "$made_from" ]]; then
        mkdir -p "$work/slices"
        python3 - "$million" "$work/slices" <<'PY'
import sys
with open(sys.argv[1]) as f:
    header, lines = f.readline(), f.readlines()
for k in range(10):
    with open(f"{sys.argv[2]}/slice-{k:02d}.csv", "w") as out:
        out.write(header)
        out.writelines(lines[max(0, k * 100000 - 20000):(k + 1) * 100000])
PY
        printf '%s\n' "$made_from" > "$work/slices/made-from"
    fi
    printf '[report]\ntimezone = "UTC"\n[[sources]]\npath = "slices/*.csv"\nprofile = "servicenow"\n' \
        > "$work/slices.toml"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0

# name, then the arguments of `deskpulse report` before --out
run() {
    local name="$1"
    shift
    local store=()
    if [[ -n "${STORE:-}" ]]; then
        store=(--store "$out/$name.store")
        "$BIN" ingest "$1" "${store[@]}" --quiet
    fi
    "$BIN" report "$@" "${store[@]}" --out "$out/$name" --quiet
    for file in kpis.json report.md report.html ledger.csv rejects.csv; do
        local have="$out/$name/$file" want="$ref/$name/$file"
        if [[ -n "${STORE:-}" ]]; then
            local path="$out/$name.store" in_html
            in_html="$(printf '%s' "$path" | sed 's|/|\&#x2f;|g')"
            sed -i -e "s| --store $path||g" -e "s| --store $in_html||g" "$have"
        fi
        if [[ "$mode" == save ]]; then
            mkdir -p "$ref/$name"
            cp "$have" "$want"
        elif ! cmp -s "$have" "$want"; then
            echo "DIFFERS: $name/$file"
            diff <(head -c 2000000 "$want") <(head -c 2000000 "$have") | head -20 || true
            status=1
        fi
    done
    echo "$mode: $name"
}

run sample sample_data
run uci-2016-03 "$work/uci/deskpulse.toml" --period 2016-03
run uci-all "$work/uci/deskpulse.toml" --from 2016-01-01 --to 2017-07-01
if [[ -z "${SMALL:-}" ]]; then
    run million "$work/deskpulse.toml" --period 2026-10
    run million-amsterdam "$work/amsterdam.toml" --period 2026-10
    run million-slices "$work/slices.toml" --period 2026-10
fi
if [[ "$mode" == check && "$status" == 0 ]]; then
    echo "every output is byte-identical to $ref"
fi
exit "$status"
