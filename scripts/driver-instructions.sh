#!/usr/bin/env bash
# Instructions per message on the driver's own path (ws-sim's `driver_messages` bench: the
# real driver over an in-memory runtime, no sockets), counted by callgrind.
#
#   scripts/driver-instructions.sh              # echo, send and receive; binary and text; 20 B
#   N=50000 SIZE=1024 scripts/driver-instructions.sh echo
#   KEEP=/tmp/driver-cg scripts/driver-instructions.sh echo   # keep the callgrind files
#
# Each figure is (I(2N) - I(N)) / N: two runs that differ only in the number of messages, so
# the set-up (options, connect, warm-up) cancels out. The count is deterministic: the same
# build gives the same figure on a loaded machine.
set -euo pipefail

cd "$(dirname "$0")/.."
N=${N:-20000}
SIZE=${SIZE:-20}
KINDS=${KINDS:-"binary text"}
MODES=${*:-"echo send receive"}

command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }

exe=$(cargo bench -p ws-sim --bench driver_messages --no-run --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*driver_messages[^"]*"' | cut -d'"' -f4 | tail -n 1)
[ -x "$exe" ] || { echo "could not build the driver_messages bench" >&2; exit 1; }

dir=${KEEP:-$(mktemp -d)}
mkdir -p "$dir"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT

instructions() { # mode kind count
    local out="$dir/callgrind.$1.$2.$SIZE.$3"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$exe" \
        --mode "$1" --kind "$2" --size "$SIZE" --messages "$3" --reps 1 >/dev/null 2>&1
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

printf '%-8s %-7s %6s  %s\n' mode kind size 'instructions/message'
for mode in $MODES; do
    for kind in $KINDS; do
        one=$(instructions "$mode" "$kind" "$N")
        two=$(instructions "$mode" "$kind" $((2 * N)))
        printf '%-8s %-7s %5sB  %d\n' "$mode" "$kind" "$SIZE" $(((two - one) / N))
    done
done
[ -z "${KEEP:-}" ] || echo "callgrind files in $dir (callgrind_annotate --inclusive=yes FILE)"
