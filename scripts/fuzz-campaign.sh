#!/usr/bin/env bash
# A fuzzing campaign over every cargo-fuzz target, from the committed corpus.
#
#   scripts/fuzz-campaign.sh [SECONDS] [TARGET...]
#
# For each target (default: supervisor config driver), SECONDS of fuzzing (default 600) on the
# stable toolchain (`--sanitizer none`, see fuzz/README.md), starting from fuzz/corpus/<target>,
# with new units written to a scratch folder; then the scratch units are merged back and the
# corpus minimised (libFuzzer's -merge=1 into a fresh folder, which replaces the corpus). Prints
# executions, coverage (libFuzzer's `cov:` edges and `ft:` features) and corpus size per target,
# before and after. A crash is reported with its artifact and the campaign goes on with the next
# target; the exit status is 1 if any target crashed.
#
# Commit fuzz/corpus/ afterwards; copy a crash into fuzz/regressions/<target>/ once it is fixed.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(supervisor config driver)
fi
max_len=${FUZZ_MAX_LEN:-2048}

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet

# `cov: N ft: M` of the last stats line libFuzzer printed into the log $1.
coverage() {
  grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$1" | tail -n 1 | awk '{print $2, $4}'
}

# Loads the corpus of target $1 without fuzzing, into the log $2 (for its coverage).
measure() {
  cargo fuzz run --sanitizer none "$1" "corpus/$1" -- -runs=0 -max_len="$max_len" >"$2" 2>&1
}

files() {
  find "$1" -maxdepth 1 -type f | wc -l
}

report=()
status=0
for target in "${targets[@]}"; do
  echo "== $target: building and measuring the committed corpus"
  mkdir -p "corpus/$target"
  logs=$(mktemp -d)
  scratch=$(mktemp -d)
  merged=$(mktemp -d)
  cargo fuzz build --sanitizer none "$target" >"$logs/build" 2>&1 || {
    cat "$logs/build"
    exit 2
  }
  measure "$target" "$logs/before"
  read -r cov_before ft_before < <(coverage "$logs/before")
  size_before=$(files "corpus/$target")

  echo "== $target: fuzzing for ${seconds}s (new units into $scratch)"
  cargo fuzz run --sanitizer none "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -print_final_stats=1 \
    >"$logs/run" 2>&1
  run_status=$?
  execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$logs/run" | awk '{print $2}')
  read -r cov_run ft_run < <(coverage "$logs/run")
  if [ "$run_status" -ne 0 ]; then
    status=1
    echo "!! $target crashed (exit $run_status):"
    grep -E 'panicked|Test unit written|SUMMARY' "$logs/run" | head -n 20
  fi
  new_units=$(files "$scratch")

  echo "== $target: merging $new_units new units and minimising"
  cargo fuzz run --sanitizer none "$target" "$merged" "corpus/$target" "$scratch" -- \
    -merge=1 -max_len="$max_len" >"$logs/merge" 2>&1 || {
    tail -n 20 "$logs/merge"
    exit 2
  }
  if [ "$(files "$merged")" -gt 0 ]; then
    find "corpus/$target" -maxdepth 1 -type f -delete
    cp "$merged"/* "corpus/$target/"
  fi
  measure "$target" "$logs/after"
  read -r cov_after ft_after < <(coverage "$logs/after")
  size_after=$(files "corpus/$target")

  line=$(printf '%-11s %12s  cov %6s -> %-6s  ft %6s -> %-6s  corpus %5s -> %-5s  (fuzzing reached cov %s ft %s; %s new units)' \
    "$target" "${execs:-?}" "${cov_before:-?}" "${cov_after:-?}" "${ft_before:-?}" "${ft_after:-?}" \
    "$size_before" "$size_after" "${cov_run:-?}" "${ft_run:-?}" "$new_units")
  echo "$line"
  report+=("$line")
  rm -rf "$scratch" "$merged" "$logs"
done

echo
echo "== campaign: ${seconds}s per target (executions, coverage and corpus size before -> after)"
printf '%-11s %12s\n' target executions
for line in "${report[@]}"; do
  echo "$line"
done
exit "$status"
